#!/usr/bin/env python3
"""The revision under test: the latest release by version, a ref or a local
checkout with --chaos, exactly that commit, each test on its own checkout; and
abra driven as real abra needs (no ACME, no DNS or convergence checks, Docker's
name cap, no secret on any command line)."""

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from support import RECIPES, TEST_PLUGINS, SandboxTestCase, git, main
from sandbox import FAKE_ABRA  # support puts tests/fake_abra on the path


class Target(SandboxTestCase):
    def setUp(self):
        super().setUp()
        self.deploy_log = self.folder / "deploys.jsonl"
        self.repository = self.sandbox.catalogue / "custom-html"

    def environment(self, extra=None):
        env = super().environment(extra)
        env["FAKE_ABRA_DEPLOY_LOG"] = str(self.deploy_log)
        return env

    def deploys(self):
        if not self.deploy_log.exists():
            return []
        return [json.loads(line) for line in self.deploy_log.read_text().splitlines()]

    def the_deploy(self):
        """What every deploy of the run put on the server (the fresh lane
        redeploys): one revision, or the test fails."""
        deploys = self.deploys()
        self.assertTrue(deploys, "nothing was deployed")
        revision = [{k: d[k] for k in ("version", "commit", "chaos", "dirty", "marker")} for d in deploys]
        self.assertEqual(revision, revision[:1] * len(revision), "the redeploys deployed another revision")
        return deploys[0]

    def argv_of(self, *words):
        return [c["argv"] for c in self.calls() if c["argv"][1:1 + len(words)] == list(words)]

    def assert_passed(self, run):
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assert_nothing_left()

    def test_without_a_ref_the_latest_release_is_created_and_deployed_by_version(self):
        run = self.cc_ci("run", "custom-html")
        self.assert_passed(run)
        latest = self.sandbox.releases["custom-html"][-1]
        target = run.recipe("custom-html")["target"]
        self.assertEqual(target["version"], latest)
        self.assertEqual(target["deployed_as"], "release")
        self.assertEqual(target["previous_release"], self.sandbox.releases["custom-html"][0])
        self.assertEqual(target["commit"], git(self.repository, "rev-parse", latest + "^{commit}"))
        [new] = self.argv_of("app", "new")
        self.assertEqual(new[:4], ["-n", "app", "new", "custom-html"])
        self.assertEqual(new[4], latest)
        self.assertNotIn("--chaos", new)
        for deploy in self.argv_of("app", "deploy"):
            self.assertNotIn("--chaos", deploy)
            self.assertIn("--no-domain-checks", deploy)
            self.assertIn("--no-converge-checks", deploy)
        deployed = self.the_deploy()
        self.assertEqual((deployed["version"], deployed["chaos"], deployed["marker"]), (latest, False, latest))
        # The recipe's LETS_ENCRYPT_ENV=production became empty: no ACME for a test domain.
        self.assertEqual(deployed["lets_encrypt_env"], "")

    def test_an_unreleased_ref_deploys_exactly_that_commit_with_chaos(self):
        head = git(self.repository, "rev-parse", "main")
        run = self.cc_ci("run", "custom-html", "--ref", "custom-html=main")
        self.assert_passed(run)
        target = run.recipe("custom-html")["target"]
        self.assertEqual((target["ref"], target["commit"], target["version"], target["deployed_as"]),
                         ("main", head, None, "chaos"))
        self.assertEqual(target["previous_release"], self.sandbox.releases["custom-html"][-1])
        deployed = self.the_deploy()
        self.assertTrue(deployed["chaos"])
        self.assertEqual(deployed["commit"], head)
        self.assertEqual(deployed["marker"], "unreleased-change")
        chaos_labels = [v for k, v in deployed["labels"].items() if k.endswith(".chaos-version")]
        self.assertEqual(chaos_labels, [head], "the stack is labelled with the commit, as abra's chaos deploy does")
        self.assertIn("--chaos", self.argv_of("app", "new")[0])
        self.assertIn("--chaos", self.argv_of("app", "deploy")[0])
        plan = self.cc_ci("plan", "custom-html", "--ref", "custom-html=main")
        self.assertEqual(plan.code, 0, plan.stderr)
        self.assertIn(f"target   unreleased {head[:8]} (ref main, commit {head})", plan.stdout)
        self.assertIn(f"previous release {self.sandbox.releases['custom-html'][-1]}", plan.stdout)
        self.assertIn("app deploy", plan.stdout)

    def test_an_older_release_by_tag_is_deployed_by_version(self):
        older = self.sandbox.releases["custom-html"][0]
        run = self.cc_ci("run", "custom-html", "--ref", f"custom-html={older}")
        self.assert_passed(run)
        self.assertEqual(run.recipe("custom-html")["target"]["previous_release"], None)
        deployed = self.the_deploy()
        self.assertEqual((deployed["version"], deployed["chaos"]), (older, False))

    def test_a_local_checkout_with_uncommitted_changes_is_deployed_as_it_is(self):
        checkout = self.folder / "pr-workspace"
        git(self.folder, "clone", "--quiet", str(self.repository), str(checkout))
        fake = checkout / ".fake"
        fake.write_text(fake.read_text().replace("marker=unreleased-change", "marker=edited-in-the-workspace"))
        (checkout / "added.txt").write_text("a new file\n")
        before = git(checkout, "status", "--porcelain")
        run = self.cc_ci("run", "custom-html", "--recipe-dir", f"custom-html={checkout}")
        self.assert_passed(run)
        target = run.recipe("custom-html")["target"]
        self.assertTrue(target["local_changes"])
        self.assertEqual(target["deployed_as"], "chaos")
        self.assertEqual(target["commit"], git(checkout, "rev-parse", "HEAD"))
        deployed = self.the_deploy()
        self.assertEqual(deployed["marker"], "edited-in-the-workspace")
        self.assertTrue(deployed["dirty"])
        self.assertEqual(git(checkout, "status", "--porcelain"), before, "the workspace was changed")

    def test_two_runs_test_one_recipe_at_two_revisions_at_once_each_on_its_own_checkout(self):
        older = self.sandbox.releases["custom-html"][0]
        env = self.environment({"FAKE_APP_READY_AFTER": "2"})
        runs = []
        for name, ref in (("old", older), ("head", "main")):
            # The fresh lane only: an upgrade lane would deploy the release before `main` too.
            command = [os.environ["CC_CI"], "run", "custom-html", "--ref", f"custom-html={ref}", "--lanes", "fresh",
                       "--report-dir", str(self.folder / name), "--plugins", str(RECIPES)]
            runs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, cwd=self.folder))
        for process in runs:
            out, err = process.communicate(timeout=600)
            self.assertEqual(process.returncode, 0, out + err)
        markers = sorted({d["marker"] for d in self.deploys()})
        self.assertEqual(markers, sorted([older, "unreleased-change"]))
        abra_dirs = {call["abra_dir"] for call in self.calls() if call["argv"][1:3] == ["app", "deploy"]}
        self.assertEqual(len(abra_dirs), 2, "both runs shared an ABRA_DIR")
        self.assert_nothing_left()

    def test_a_target_that_cannot_be_resolved_is_one_line_and_nothing_is_deployed(self):
        plain = self.folder / "not-a-checkout"
        plain.mkdir()
        (plain / "compose.yml").write_text("services: {}\n")
        cases = [
            (["--ref", "custom-html=no-such-branch"], ["custom-html=no-such-branch", "no such commit"]),
            (["--recipe-dir", f"custom-html={plain}"], ["not a git checkout"]),
            (["--recipe-dir", f"custom-html={self.folder / 'missing'}"], ["no such folder"]),
            (["--ref", "gitea=main"], ["does not test recipe \"gitea\""]),
            (["--ref", "custom-html=main", "--recipe-dir", f"custom-html={plain}"], ["already has a target"]),
            (["--ref", "custom-html"], ["expected RECIPE=REF"]),
        ]
        for extra, fragments in cases:
            with self.subTest(extra=extra):
                self.assert_one_line_error(self.cc_ci("run", "custom-html", *extra), *fragments)
        self.assertEqual(self.argv_of("app", "new"), [])

    def test_a_docker_name_over_64_characters_is_refused_before_anything_runs(self):
        # Stack names fit (the suffix passes its own check), but nextcloud's
        # longest secret would not: <stack>_db_root_password_v1.
        suffix = "abcdefghijklmnopqrstuvwxyz0123456789abcd.test"
        run = self.cc_ci("run", "nextcloud", "--domain-suffix", suffix)
        self.assert_one_line_error(run, "_db_root_password_v1", "characters; Docker allows 64")
        self.assertEqual(self.argv_of("app", "new"), [])

    @contextlib.contextmanager
    def command_lines(self):
        """Every command line on this machine, read every few milliseconds while the block runs."""
        seen, stop = set(), threading.Event()

        def watch():
            while not stop.is_set():
                for pid in os.listdir("/proc"):
                    if pid.isdigit():
                        try:
                            seen.add(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "))
                        except OSError:
                            pass
                stop.wait(0.005)
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            yield seen
        finally:
            stop.set()
            watcher.join()

    def test_the_command_line_watch_catches_a_secret_passed_as_an_argument(self):
        # What the next test relies on: a value given on argv, as `abra app
        # secret insert D NAME V VALUE` without -f would take it, is seen.
        # The call hangs (an injected fault), so it is there until it is seen, however slow the machine.
        env = self.environment({"FAKE_ABRA_FAULTS": "app.secret.insert=hang", "FAKE_ABRA_ALLOW_NO_TTY": "1"})
        with self.command_lines() as seen:
            process = subprocess.Popen([str(FAKE_ABRA), "-n", "app", "secret", "insert", "nope.cc-ci.test", "smtp",
                                        "v1", "argv-secret-4711"], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                self.wait_for(lambda: any(b"argv-secret-4711" in line for line in list(seen)), timeout=60,
                              what="the watch to see the hanging call's command line")
            finally:
                process.kill()
                process.wait()

    def test_no_secret_is_ever_on_a_process_command_line(self):
        # Every command line is read while the run goes on; none may hold a
        # secret the run generated or inserted.
        secret_log = self.folder / "secrets.log"
        with self.command_lines() as seen:
            run = self.cc_ci("run", "secret-test", "nextcloud", plugins=[TEST_PLUGINS / "secret", RECIPES],
                             env={"FAKE_ABRA_SECRET_LOG": str(secret_log), "FAKE_APP_READY_AFTER": "1"})
        # secret-test fails one check on purpose, with the secret in its message.
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assertEqual(run.recipe("nextcloud")["status"], "passed")
        secrets = [line for line in secret_log.read_text().splitlines() if line]
        self.assertGreaterEqual(len(secrets), 5)
        self.assertTrue(any(b"secret insert" in line for line in seen), "the watcher never saw abra run")
        for value in secrets:
            leaks = [line for line in seen if value.encode() in line]
            self.assertEqual(leaks, [], "a secret was on a command line")
        self.assert_nothing_left()


if __name__ == "__main__":
    sys.exit(main(Target))
