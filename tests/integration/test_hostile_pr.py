#!/usr/bin/env python3
"""A pull request cannot steer its own verdict. Everything a PR controls (its
files, .env.sample, COMPOSE_FILE, tags, a committed `cc-ci-report/`) is
hostile input: each test here is one attack, run with the real binary against
the fake abra and the Gitea stand-in, asserting that the attack gets nothing
(no status, no comment, no file read or written outside the checkout, no byte
of markup or escape sequence where people read) and that nothing of the app
is left. docs/security.md names the boundary each one holds."""

import json
import os
import re
import shutil
import sys

from support import GENERIC_PLUGIN, RECIPES, RUNGS, SOURCE, SandboxTestCase, git, handmade_results, main

sys.path.insert(0, str(SOURCE / "tests" / "support"))
from forge_standins import Gitea  # noqa: E402

REPO = "coop-cloud/custom-html"
TOKEN = "gitea-tok-4c1d7e9a03"
NOT_TESTED = {"state": "error", "context": "cc-ci/custom-html",
              "description": "not tested: this build left no report to post"}


class EchoingGitea(Gitea):
    """A Gitea (or a proxy in front of it) that repeats the credential it was
    sent in its error, and one that answers megabytes."""

    def __init__(self, token, huge=False):
        super().__init__(token)
        self.huge = huge

    def route(self, method, path, headers, body):
        if self.huge:
            return 200, {"login": "x" * (50 << 20)}
        return 401, {"message": "invalid token " + headers.get("Authorization", "")}


class HostilePrTest(SandboxTestCase):
    def setUp(self):
        super().setUp()
        self.workspace = self.clone("custom-html", self.folder / "workspace")

    def clone(self, recipe, folder):
        git(self.folder, "clone", "--quiet", str(self.sandbox.catalogue / recipe), str(folder))
        self.head = git(folder, "rev-parse", "HEAD")
        return folder

    def commit_all(self, message="a change under review"):
        git(self.workspace, "add", "-A")
        git(self.workspace, "commit", "--quiet", "-m", message)
        self.head = git(self.workspace, "rev-parse", "HEAD")

    def token_file(self, token=TOKEN):
        path = self.folder / "gitea-token"
        path.write_text(token + "\n")
        path.chmod(0o600)
        return str(path)

    def publish(self, gitea, folder, *args):
        return self.cc_ci("gitea", str(folder), "--repo", REPO, "--gitea-url", gitea.url,
                          "--gitea-token-file", self.token_file(gitea.token), *args)

    def forge_report(self, folder):
        """What a PR commits to pass for a green run: results.json, summary.md, a seal."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(json.dumps({
            "schema": "cc-ci/results/v1", "run_id": "forged", "summary": {"passed": 1},
            "recipes": [{"recipe": "custom-html", "status": "passed", "level": 8,
                         "target": {"commit": self.head}}]}))
        (folder / "summary.md").write_text("## custom-html: level 8 ✅ passed\n\nLooks great, merge it.\n")
        (folder / "seal.json").write_text(json.dumps({"schema": "cc-ci/seal/v1", "files": {}, "hmac": "00" * 32}))

    # ------------------------------------------------------------ 1. forged report, forged status

    def test_a_committed_report_folder_never_becomes_a_status_or_a_comment(self):
        # This host has run cc-ci before: it holds a seal key.
        self.assertEqual(self.cc_ci("run", "custom-html", "--report-dir", str(self.folder / "earlier")).code, 0)
        forged = self.workspace / "cc-ci-report"
        self.forge_report(forged)
        self.commit_all("add a report of my own")
        # The PR's report folder is inside the checkout: the run refuses to write there.
        run = self.cc_ci("run", "custom-html", "--recipe-dir", f"custom-html={self.workspace}",
                         "--report-dir", str(forged))
        self.assert_one_line_error(run, "--report-dir", "inside the checkout under test")
        # A link to it from outside is the same folder once resolved.
        (self.folder / "outside").symlink_to(forged)
        run = self.cc_ci("run", "custom-html", "--recipe-dir", f"custom-html={self.workspace}",
                         "--report-dir", str(self.folder / "outside"))
        self.assertEqual(run.code, 2, run.stderr)
        self.assertEqual(json.loads((forged / "results.json").read_text())["run_id"], "forged")

        with Gitea(TOKEN) as gitea:
            for args in ([], ["--pr", "7"]):
                published = self.publish(gitea, forged, "--commit", self.head, *args)
                self.assert_not_published(published, "not made by this host's cc-ci")
            # Without a seal at all: the same.
            (forged / "seal.json").unlink()
            self.assert_not_published(self.publish(gitea, forged, "--commit", self.head), "not sealed")
            # The commit says what is true of it: not tested. Never success, never the PR's text.
            self.assertEqual(gitea.statuses, [(REPO, self.head, NOT_TESTED)] * 3)
            self.assertEqual(gitea.comments, {})
        self.assert_nothing_left()

    def assert_not_published(self, run, why):
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assertEqual(len(run.stderr.strip().splitlines()), 1, run.stderr)
        self.assertTrue(run.stderr.startswith("cc-ci: error: not publishing: "), run.stderr)
        self.assertIn(why, run.stderr)
        self.assertIn("set cc-ci/custom-html to error", run.stdout)

    def test_a_sealed_report_changed_after_its_run_is_not_published(self):
        run = self.cc_ci("run", "custom-html")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        commit = run.recipe("custom-html")["target"]["commit"]
        seal = json.loads((self.report_dir / "seal.json").read_text())
        self.assertIn("results.json", seal["files"])
        self.assertIn("summary.md", seal["files"])
        with Gitea(TOKEN) as gitea:
            for change in ("edit", "add", "remove"):
                copy = self.folder / f"copy-{change}"
                shutil.copytree(self.report_dir, copy)
                if change == "edit":
                    (copy / "summary.md").write_text("## custom-html: level 8 ✅ passed\n")
                elif change == "add":
                    (copy / "logs" / "extra.log").write_text("planted\n")
                else:
                    (copy / "junit.xml").unlink()
                published = self.publish(gitea, copy, "--commit", commit, "--pr", "3")
                self.assert_not_published(published, "after the run sealed it" if change != "remove"
                                          else "sealed but missing")
            # The key is this host's: another state folder has another key.
            other = self.publish(gitea, self.report_dir, "--commit", commit)
            self.assertEqual(other.code, 0, other.stderr)
            elsewhere = self.cc_ci("gitea", str(self.report_dir), "--repo", REPO, "--gitea-url", gitea.url,
                                   "--commit", commit, "--gitea-token-file", self.token_file(),
                                   env={"CC_CI_STATE_DIR": str(self.folder / "another-host")})
            self.assert_not_published(elsewhere, "no seal key")
            self.assertEqual([status["state"] for _, _, status in gitea.statuses],
                             ["error", "error", "error", "success", "error"])
            self.assertEqual(gitea.comments, {})
        # `cc-ci report` rewrites a sealed folder only while it is as sealed.
        self.assertEqual(self.cc_ci("report", str(self.report_dir)).code, 0)
        (self.report_dir / "results.json").write_text((self.report_dir / "results.json").read_text() + " ")
        self.assert_one_line_error(self.cc_ci("report", str(self.report_dir)), "changed after the run sealed it")
        self.assert_nothing_left()

    # ------------------------------------------------------------ 2. the report folder is cc-ci's own

    def test_the_report_folder_is_made_fresh_and_never_reached_through_a_link(self):
        elsewhere = self.folder / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "keep.txt").write_text("not cc-ci's\n")
        link = self.folder / "report-link"
        link.symlink_to(elsewhere)
        self.assert_one_line_error(self.cc_ci("run", "custom-html", "--report-dir", str(link)), "symbolic link")
        # A folder cc-ci did not make is never emptied.
        self.assert_one_line_error(self.cc_ci("run", "custom-html", "--report-dir", str(elsewhere)),
                                   "not a report folder cc-ci made")
        self.assertEqual(sorted(p.name for p in elsewhere.iterdir()), ["keep.txt"])

        # An earlier report with links planted in it: emptied, the links removed, never followed.
        first = self.cc_ci("run", "custom-html")
        self.assertEqual(first.code, 0, first.stderr)
        shutil.rmtree(self.report_dir / "logs")
        (self.report_dir / "logs").symlink_to(elsewhere)
        (self.report_dir / "badges").rename(self.folder / "old-badges")
        (self.report_dir / "badges").symlink_to(elsewhere)
        (self.report_dir / "planted.html").write_text("<script>alert(1)</script>")
        second = self.cc_ci("run", "custom-html")
        self.assertEqual(second.code, 0, second.stderr)
        self.assertEqual(sorted(p.name for p in elsewhere.iterdir()), ["keep.txt"])
        for folder in ("logs", "badges"):
            self.assertFalse((self.report_dir / folder).is_symlink())
        self.assertFalse((self.report_dir / "planted.html").exists())
        self.assertNotEqual(first.results["run_id"], second.results["run_id"])
        self.assert_nothing_left()

    # ------------------------------------------------------------ 3. reads of the checkout

    def test_compose_files_outside_the_checkout_or_not_plain_files_are_never_read(self):
        # The generic plugin reads the compose files for backupbot labels.
        self.workspace = self.clone("test-app", self.folder / "test-app")
        plugins = [RECIPES, GENERIC_PLUGIN]
        sample = (self.workspace / ".env.sample").read_text()
        cases = {
            "../../../../etc/passwd": "not a file inside the recipe's checkout",
            "outside.yml": "a link that leads out of the recipe's checkout",
            "fifo.yml": "not a regular file",
            "huge.yml": "larger than 1024 KiB",
        }
        (self.workspace / "outside.yml").symlink_to("/dev/zero")
        os.mkfifo(self.workspace / "fifo.yml")
        (self.workspace / "huge.yml").write_text("# " + "x" * (2 << 20) + "\n")
        for name, why in cases.items():
            (self.workspace / ".env.sample").write_text(sample + f'COMPOSE_FILE="compose.yml:{name}"\n')
            run = self.cc_ci("run", "test-app", "--recipe-dir", f"test-app={self.workspace}", plugins=plugins)
            self.assert_one_line_error(run, name, why)
        # An absolute name is joined to the recipe's folder, as abra joins it: /dev/zero is never opened.
        (self.workspace / ".env.sample").write_text(sample + 'COMPOSE_FILE="compose.yml:/dev/zero"\n')
        for name in ("outside.yml", "fifo.yml", "huge.yml"):
            (self.workspace / name).unlink()
        run = self.cc_ci("run", "test-app", "--recipe-dir", f"test-app={self.workspace}", "--lanes", "lint",
                         plugins=plugins)
        self.assertNotIn("dev/zero", run.stderr)
        self.assertNotEqual(run.code, 2, run.stderr)
        # A link in the change that leads out of it is never deployed: abra would follow it.
        (self.workspace / ".env.sample").write_text(sample)
        (self.workspace / "abra.sh").unlink()
        (self.workspace / "abra.sh").symlink_to("/etc/passwd")
        run = self.cc_ci("run", "test-app", "--recipe-dir", f"test-app={self.workspace}", plugins=plugins)
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assertIn("abra.sh", run.recipe("test-app")["level_reason"])
        self.assertIn("leads out of", run.recipe("test-app")["level_reason"])
        self.assertEqual([c for c in self.calls() if c["argv"][:2] == ["app", "deploy"]], [])
        self.assert_nothing_left()

    def test_compose_files_made_to_exhaust_the_host_fail_the_recipe_with_its_report(self):
        # What the change controls is read within budgets: values that double
        # forty times, aliases walked over and over, a name only the recipe chose
        # that Docker would refuse, an escape sequence for the operator's terminal.
        self.workspace = self.clone("custom-html", self.folder / "custom-html")
        sample = (self.workspace / ".env.sample").read_text()
        compose = (self.workspace / "compose.yml").read_text()
        labels = "x-l: &l\n" + "".join(f"  k{i}: v\n" for i in range(2000))
        cases = {
            "doubling": (sample + "A=xxxxxxxx\n" + "A=$A$A\n" * 40, compose, "would grow to"),
            "aliases": (sample, labels + "x-s: &s {deploy: {labels: *l}}\n" + compose.replace(
                "services:\n", "services:\n" + "".join(f"  s{i}: *s\n" for i in range(2000)), 1), "steps to read"),
            "long name": (sample, compose + "\nconfigs:\n  c:\n    name: \"\\e]0;owned\\a" + "a" * 70 + "\"\n"
                          "    file: compose.yml\n", "the recipe names a Docker config"),
        }
        for case, (env_sample, compose_file, why) in cases.items():
            with self.subTest(case):
                (self.workspace / ".env.sample").write_text(env_sample)
                (self.workspace / "compose.yml").write_text(compose_file)
                run = self.cc_ci("run", "custom-html", "--recipe-dir", f"custom-html={self.workspace}")
                self.assertEqual(run.code, 1, run.stdout + run.stderr)
                self.assert_valid_report(run)
                step = run.step("custom-html", "read the recipe's compose files")
                self.assertEqual(step["status"], "failed")
                self.assertIn(why, step["message"])
                self.assertNotIn("\x1b", run.stdout + run.stderr)
                self.assertEqual([c for c in self.calls() if c["argv"][:2] == ["app", "new"]], [])
                self.assert_nothing_left()

    def test_a_committed_compose_file_over_the_cap_is_refused_without_reading_it(self):
        repository = self.clone("test-app", self.folder / "recipes" / "test-app")
        sample = (repository / ".env.sample").read_text()
        (repository / ".env.sample").write_text(sample + 'COMPOSE_FILE="compose.yml:huge.yml"\n')
        (repository / "huge.yml").write_text("# " + "x" * (2 << 20) + "\n")
        self.workspace = repository
        self.commit_all()
        run = self.cc_ci("run", "test-app", "--ref", f"test-app={self.head}",
                         "--recipes-from", str(self.folder / "recipes"), plugins=[RECIPES, GENERIC_PLUGIN])
        self.assert_one_line_error(run, "huge.yml", "larger than 1024 KiB")
        self.assertEqual([c for c in self.calls() if c["argv"][:2] == ["app", "deploy"]], [])
        self.assert_nothing_left()

    # ------------------------------------------------------------ 4, 5. hostile results.json

    def test_markup_from_results_json_is_escaped_and_a_bad_field_is_refused(self):
        folder = self.folder / "handmade"
        folder.mkdir()
        hostile = '<img src=x onerror=alert(1)> ![](http://evil.example/x.png) | [link](http://evil.example)'
        rungs = [{"rung": number, "name": name, "reason": hostile,
                  "status": "passed" if number < 3 else "failed" if number == 3 else "unverified"}
                 for number, name in enumerate(RUNGS, 1)]
        results = handmade_results([{
            "recipe": "custom-html", "status": "failed", "level": 2, "level_reason": hostile, "rungs": rungs,
            "steps": [{"phase": "probe", "name": hostile, "status": "failed", "duration_ms": 0, "message": hostile}],
            "target": {"commit": "ab" * 20, "ref": hostile, "version": None, "local_changes": False,
                       "deployed_as": "chaos", "previous_release": hostile},
        }], run_id=hostile)
        (folder / "results.json").write_text(json.dumps(results))
        made = self.cc_ci("report", str(folder))
        self.assertEqual(made.code, 0, made.stderr)
        summary = (folder / "summary.md").read_text()
        self.assertNotIn("<img", summary)
        # Brackets and pipes only ever escaped: no image, no link, no new table cell.
        self.assertIsNone(re.search(r"(?<!\\)\]\(http://evil", summary), summary)
        self.assertIsNone(re.search(r"(?<!\\)\| (?<!\\)\[link", summary), summary)
        self.assertIn("!\\[\\](http://evil.example/x.png) \\| \\[link\\]", summary)
        page = (folder / "index.html").read_text()
        self.assertNotIn("<img src=x", page)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", page)

        # A status outside its list, or a field of the wrong type, is refused whole.
        bad_rungs = [dict(rung) for rung in rungs]
        bad_rungs[0]["status"] = "passed | ![](x)"
        for field, value, why in (("status", "<img src=x onerror=alert(1)>", "recipes[0].status"),
                                  ("level", "8", "recipes[0].level"),
                                  ("rungs", bad_rungs, "recipes[0].rungs[0].status")):
            bad = json.loads(json.dumps(results))
            bad["recipes"][0][field] = value
            (folder / "results.json").write_text(json.dumps(bad))
            self.assert_one_line_error(self.cc_ci("report", str(folder)), why)

    def test_the_dashboard_skips_a_bad_results_json_and_indexes_the_rest(self):
        run = self.cc_ci("run", "custom-html")
        self.assertEqual(run.code, 0, run.stderr)
        root = self.folder / "reports"
        shutil.copytree(self.report_dir, root / "custom-html" / "1")
        bad = root / "custom-html" / "2"
        shutil.copytree(self.report_dir, bad)
        results = json.loads((bad / "results.json").read_text())
        results["recipes"][0]["level"] = "8"
        (bad / "results.json").write_text(json.dumps(results))
        zero = root / "custom-html" / "3"
        zero.mkdir()
        (zero / "results.json").symlink_to("/dev/zero")
        dashboard = self.cc_ci("dashboard", str(root))
        self.assertEqual(dashboard.code, 0, dashboard.stderr)
        self.assertIn("recipes[0].level: not a whole number from 0 to 8", dashboard.stderr)
        self.assertIn("not a plain file", dashboard.stderr)
        index = (root / "index.html").read_text()
        self.assertIn('href="custom-html/1/index.html#custom-html"', index)
        self.assertNotIn("custom-html/2/", index)
        self.assert_nothing_left()

    # ------------------------------------------------------------ 6. huge tag lists

    def test_megabytes_of_tags_fail_closed_instead_of_dropping_the_upgrade_lane(self):
        # ~6 MiB of tag listing: lightweight tags written straight into packed-refs.
        names = [f"0.0.{i}+{'x' * 230}" for i in range(26000)]
        with open(self.workspace / ".git" / "packed-refs", "a") as refs:
            for name in names:
                refs.write(f"{self.head} refs/tags/{name}\n")
        run = self.cc_ci("run", "custom-html", "--recipe-dir", f"custom-html={self.workspace}",
                         "--lanes", "fresh,upgrade")
        self.assert_one_line_error(run, "git for-each-ref printed", "does not decide from a cut listing")
        self.assertEqual(self.calls(), [])
        self.assert_nothing_left()

    # ------------------------------------------------------------ 7. the token and Gitea's answers

    def test_the_gitea_token_is_never_printed_and_gitea_answers_are_bounded(self):
        run = self.cc_ci("run", "custom-html")
        self.assertEqual(run.code, 0, run.stderr)
        commit = run.recipe("custom-html")["target"]["commit"]
        with EchoingGitea(TOKEN) as gitea:
            echoed = self.publish(gitea, self.report_dir, "--commit", commit, "--pr", "2")
            self.assertEqual(echoed.code, 1)
            self.assertEqual(echoed.stderr.strip(),
                             "cc-ci: error: Gitea answered 401 to GET /user: invalid token token [redacted]")
            self.assertNotIn(TOKEN, echoed.stdout + echoed.stderr)
        with EchoingGitea(TOKEN, huge=True) as gitea:
            huge = self.publish(gitea, self.report_dir, "--commit", commit, "--pr", "2")
            self.assertEqual(huge.code, 1, huge.stderr)
            self.assertIn("larger than 16 MiB", huge.stderr)
        # Credentials in the URL would be printed: refused before anything is sent.
        with_password = self.cc_ci("gitea", str(self.report_dir), "--repo", REPO, "--commit", commit,
                                   "--gitea-url", "https://bot:hunter2-secret@git.example.org",
                                   "--gitea-token-file", self.token_file())
        self.assert_one_line_error(with_password, "--gitea-url", "user or password in the URL")
        self.assertNotIn("hunter2", with_password.stderr)
        self.assert_nothing_left()

    # ------------------------------------------------------------ terminals and logs

    def test_escape_sequences_and_invalid_bytes_never_reach_a_terminal_or_a_log(self):
        sample = (self.workspace / ".env.sample").read_text()
        (self.workspace / ".env.sample").write_text(
            sample + "SECRET_PWNED\x1b]0;owned\x07\x1b[2J_VERSION=v1\n")
        run = self.cc_ci("run", "custom-html", "--recipe-dir", f"custom-html={self.workspace}",
                         env={"FAKE_ABRA_NOISE": "utf8", "FAKE_ABRA_FORCE_COLOR": "1"})
        self.assertIn(run.code, (0, 1, 2), run.stderr)
        for text in (run.stdout, run.stderr):
            self.assertNotIn("\x1b", text)
            self.assertNotIn("\x07", text)
        for log in (self.report_dir / "logs").glob("*.log") if (self.report_dir / "logs").is_dir() else []:
            data = log.read_bytes()
            data.decode("utf-8")  # strict: no invalid byte is kept
            self.assertNotIn(b"\x1b", data, log.name)
            self.assertIsNone(re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", data), log.name)
        self.assert_nothing_left()


if __name__ == "__main__":
    sys.exit(main(HostilePrTest))
