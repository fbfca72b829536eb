#!/usr/bin/env python3
"""End-to-end tests of scheduling: server pools and their capacity, --fail-fast,
the whole-run --timeout, --retries and flaky checks, and --history ordering.

    test_scheduling.py --list | NAME...
"""

import json
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import CC_CI, RECIPES, SandboxTestCase, handmade_results, main  # noqa: E402


class Scheduling(SandboxTestCase):
    def busy_intervals(self):
        """{domain: (server, first call, last call)} from the fake's call log."""
        spans = {}
        for call in self.calls():
            argv = call["argv"][1:]
            if len(argv) < 3 or argv[0] != "app":
                continue
            if "--domain" in argv:
                domain = argv[argv.index("--domain") + 1]
            else:
                domain = argv[3] if argv[1] in ("secret", "backup", "volume") else argv[2]
            server = argv[argv.index("--server") + 1] if "--server" in argv else None
            first, last = spans.get(domain, (None, call["time"], call["time"]))[1:]
            spans[domain] = (server or spans.get(domain, (None,))[0], min(first, call["time"]), max(last, call["time"]))
        return spans

    def assert_capacity(self, capacity):
        spans = self.busy_intervals()
        for domain, (server, start, end) in spans.items():
            overlapping = [d for d, (s, a, b) in spans.items() if s == server and a < end and b > start]
            self.assertLessEqual(len(overlapping), capacity, f"{server} ran {overlapping} at once")
        return spans

    def test_a_server_never_runs_more_than_its_capacity(self):
        run = self.cc_ci("run", "--jobs", "3", "--server", "default:1", "custom-html", "hedgedoc", "keycloak")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        spans = self.assert_capacity(1)
        self.assertEqual(len(spans), 3)
        self.assert_nothing_left()

    def test_a_pool_spreads_recipes_over_its_servers(self):
        self.assertEqual(self.sandbox.fake_abra("server", "add", "swarm-2").returncode, 0)
        run = self.cc_ci("run", "--jobs", "2", "--server", "default:1", "--server", "swarm-2:1",
                         "custom-html", "hedgedoc", "keycloak", "nextcloud")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        servers = {recipe["server"] for recipe in run.results["recipes"]}
        self.assertEqual(servers, {"default", "swarm-2"})
        self.assert_capacity(1)
        self.assert_nothing_left()

    def test_fail_fast_starts_nothing_after_a_failure(self):
        run = self.cc_ci("run", "--fail-fast", "custom-html", "hedgedoc", "keycloak",
                         env={"FAKE_ABRA_FAULTS": "app.new=fail"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        statuses = [r["status"] for r in run.results["recipes"]]
        self.assertEqual(statuses, ["failed", "skipped", "skipped"])
        skipped = run.step("hedgedoc", "not started")
        self.assertIn("--fail-fast, and custom-html did not pass", skipped["message"])
        self.assert_nothing_left()

    def test_the_run_timeout_stops_and_tears_down(self):
        run = self.cc_ci("run", "--timeout", "2", "custom-html", "hedgedoc",
                         env={"FAKE_ABRA_FAULTS": "app.deploy=converge-slow:30"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        self.assertFalse(run.results["interrupted"])
        self.assertIn("--timeout of 2s ran out", run.step("custom-html", "deploy interrupted")["message"])
        self.assertEqual(run.step("custom-html", "host: app undeploy")["status"], "passed")
        self.assertEqual(run.recipe("hedgedoc")["status"], "skipped")
        self.assert_nothing_left()

    def test_a_check_that_passes_on_retry_is_flaky_not_passed(self):
        run = self.cc_ci("run", "--retries", "2", "custom-html", env={"FAKE_APP_MODE": "flaky-404"})
        self.assertEqual(run.code, 0, run.stdout)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "flaky")
        self.assertEqual(recipe["level"], 4)  # flaky counts as a pass; the upgrade lane did not run
        step = run.step("custom-html", "unknown path is nginx's own 404")
        self.assertEqual(step["status"], "flaky")
        self.assertIn("passed on attempt 2 of 3; first attempt:", step["message"])
        self.assertEqual(run.results["summary"]["flaky"], 1)
        self.assertIn("1 flaky", run.stdout)
        self.assert_nothing_left()

    def test_without_retries_the_same_check_fails(self):
        run = self.cc_ci("run", "custom-html", env={"FAKE_APP_MODE": "flaky-404"})
        self.assertEqual(run.code, 1)
        self.assertEqual(run.step("custom-html", "unknown path is nginx's own 404")["status"], "failed")
        self.assert_nothing_left()

    def test_history_starts_the_longest_recipe_first(self):
        history = self.folder / "previous"
        history.mkdir()
        (history / "results.json").write_text(json.dumps(handmade_results([
            {"recipe": "custom-html", "duration_ms": 100},
            {"recipe": "hedgedoc", "duration_ms": 9000},
            {"recipe": "keycloak", "duration_ms": 3000}])))
        run = self.cc_ci("run", "--history", str(history), "custom-html", "hedgedoc", "keycloak")
        self.assertEqual(run.code, 0, run.stdout)
        started = [line.split("]")[0][1:] for line in run.stdout.splitlines() if " deploy on " in line]
        self.assertEqual(started, ["hedgedoc", "keycloak", "custom-html"])
        # The report keeps the plan's order.
        self.assertEqual([r["recipe"] for r in run.results["recipes"]], ["custom-html", "hedgedoc", "keycloak"])
        bad = self.cc_ci("run", "--history", str(self.folder / "nowhere"), "custom-html")
        self.assert_one_line_error(bad, "--history", "no readable results.json")
        self.assert_nothing_left()

    # ---------------------------------------------------------------- janitor

    def start_slow_run(self):
        process = self.start_cc_ci("run", "custom-html", env={"FAKE_ABRA_FAULTS": "app.deploy=converge-slow:60"})
        self.wait_for(lambda: any(s.startswith("stack") for s in self.sandbox.leftovers()), what="the deploy")
        return process

    def janitor(self, *args):
        return subprocess.run([CC_CI, "janitor", *args], env=self.environment(), capture_output=True,
                              text=True, cwd=self.folder, timeout=300)

    def test_janitor_removes_what_a_killed_run_left(self):
        process = self.start_slow_run()
        process.send_signal(signal.SIGKILL)  # no teardown can happen
        process.communicate(timeout=30)
        left = self.sandbox.leftovers()
        self.assertTrue(any(item.startswith("stack") for item in left), left)
        dry = self.janitor("--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr)
        self.assertRegex(dry.stdout, r"would remove cust-[0-9a-f]{6}\.cc-ci\.test on default")
        self.assertNotEqual(self.sandbox.leftovers(), [])
        swept = self.janitor()
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertRegex(swept.stdout, r"removed cust-[0-9a-f]{6}\.cc-ci\.test on default \(it was still deployed\)")
        # The killed run's marker goes too, so markers never pile up.
        self.assertRegex(swept.stdout, r"removed the stale running marker of cust-[0-9a-f]{6}\.cc-ci\.test")
        self.assertEqual(list((self.sandbox.root / "state" / "running").iterdir()), [])
        self.assert_nothing_left()
        self.assertIn("nothing left behind", self.janitor().stdout)

    def test_janitor_leaves_live_runs_and_foreign_apps_alone(self):
        domain = "mine.cc-ci.test"  # not named like cc-ci names apps
        self.assertEqual(self.sandbox.fake_abra("app", "new", "custom-html", "-s", "default", "-D", domain).returncode, 0)
        process = self.start_slow_run()
        try:
            swept = self.janitor()
            self.assertEqual(swept.returncode, 0, swept.stderr)
            self.assertIn("nothing left behind", swept.stdout)
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=300)
        self.assertEqual(process.returncode, 130)
        self.assertEqual(self.sandbox.fake_abra("app", "rm", domain, "-f").returncode, 0)
        self.assert_nothing_left()

    # ---------------------------------------------------------------- what the terminal shows

    def run_in_terminal(self, extra_env):
        """Runs cc-ci with a pseudo-terminal as stdout; returns (exit code, everything it printed)."""
        import os
        import pty
        env = self.environment(extra_env)
        for name in ("CI", "NO_COLOR"):
            env.pop(name, None)
        env.update(extra_env)
        env["TERM"] = "xterm"
        primary, secondary = pty.openpty()
        process = subprocess.Popen([CC_CI, "run", "custom-html", "hedgedoc", "--jobs", "2", "--report-dir",
                                    str(self.report_dir), "--plugins", str(RECIPES)],
                                   env=env, stdout=secondary, stderr=secondary, cwd=self.folder)
        os.close(secondary)
        output = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        process.wait(timeout=300)
        os.close(primary)
        return process.returncode, output.decode(errors="replace")

    def test_a_terminal_gets_a_live_view(self):
        code, output = self.run_in_terminal({})
        self.assertEqual(code, 0, output)
        self.assertIn("\x1b[", output)                       # redrawn in place
        self.assertRegex(output, r"cc-ci: [01]/2 done, [12] running")
        self.assertRegex(output, r"custom-html\s+(deploy|probe|persistence|teardown)\s+\d+\.\ds  on default")
        self.assertRegex(output, r"custom-html upgrade\s+\w+\s+\d+\.\ds  on default")  # each lane its line
        self.assertIn("[hedgedoc] passed, level 8", output)   # finished recipes stay on screen
        self.assertIn("summary: 2 passed", output)
        self.assert_nothing_left()

    def test_ci_or_no_color_get_plain_lines_even_on_a_terminal(self):
        for setting in ({"CI": "true"}, {"NO_COLOR": "1"}):
            code, output = self.run_in_terminal(setting)
            self.assertEqual(code, 0, output)
            self.assertNotIn("\x1b[", output, setting)
            self.assertIn("[custom-html]   passed  app deploy", output)
        self.assert_nothing_left()


if __name__ == "__main__":
    sys.exit(main(Scheduling))
