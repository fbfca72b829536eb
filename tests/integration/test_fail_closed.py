#!/usr/bin/env python3
"""Fail closed: a plugin or a run that ends in any abnormal way is never
reported as passed, and nothing of its app is left behind."""

import os
import subprocess
import sys
from pathlib import Path

from support import RECIPES, TEST_PLUGINS, SandboxTestCase, main

FAULT = TEST_PLUGINS / "fault"


class FailClosed(SandboxTestCase):
    def run_fault(self, fault, *args):
        return self.cc_ci("run", *args, "fault-test", plugins=[FAULT], env={"CCCI_TEST_FAULT": fault})

    def assert_errored_early(self, run, fragment):
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("fault-test")
        self.assertEqual(recipe["status"], "errored")
        self.assertEqual(run.results["summary"]["passed"], 0)
        message = run.step("fault-test", "test process ended early")["message"]
        self.assertIn(fragment, message)
        self.assertIn('these checks never ran: "second check", "third check"', message)
        self.assertEqual(run.step("fault-test", "host: app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_check_that_exits_nonzero_is_errored_and_names_the_missing_checks(self):
        run = self.run_fault("check2:exit1")
        self.assert_errored_early(run, "exited 1 during probe")
        self.assertEqual(run.step("fault-test", "first check")["status"], "passed")

    def test_check_that_exits_zero_is_errored_too(self):
        run = self.run_fault("check2:exit0")
        self.assert_errored_early(run, "exited 0 during probe without finishing the test")

    def test_configure_that_throws_stops_the_deploy_and_the_host_still_tears_down(self):
        run = self.run_fault("deploy:throw")
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("fault-test")
        self.assertEqual(recipe["status"], "errored")
        self.assertEqual(recipe["level"], 0)
        self.assertIn("thrown in deploy", run.step("fault-test", "configure()")["message"])
        names = [step["name"] for step in recipe["steps"]]
        self.assertNotIn("app deploy", names)  # the host deploys nothing a hook did not prepare
        self.assertEqual(run.step("fault-test", "app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_recipes_not_started_because_the_run_timed_out_fail_the_run(self):
        # The first test hangs past the run's limit; the second never starts.
        run = self.cc_ci("run", "--timeout", "1", "fault-test", "custom-html",
                         plugins=[FAULT, RECIPES], env={"CCCI_TEST_FAULT": "check2:hang"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(run.recipe("custom-html")["status"], "skipped")
        self.assertIn("did not run", run.stderr)
        self.assert_nothing_left()

    def test_a_hanging_undeploy_still_leaves_app_rm_its_turn(self):
        # The stack goes, then abra waits for Docker forever: undeploy is cut
        # at its share of the phase, and app rm still runs in the same teardown.
        # A recipe without data hooks: its only undeploy is teardown's.
        run = self.cc_ci("run", "fault-test", "--timeout-teardown", "30", plugins=[FAULT],
                         env={"FAKE_ABRA_FAULTS": "app.undeploy=converge-hang"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertIn("timed out", run.step("fault-test", "app undeploy")["message"])
        self.assertEqual(run.step("fault-test", "app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_an_undeploy_that_never_returns_is_finished_by_the_host_and_rung_8_fails(self):
        # abra hangs before it removes anything: past its share of the phase,
        # cc-ci removes the stack through the server's Docker context itself,
        # then `app rm`. Nothing is left for the janitor, and the clean-teardown
        # rung fails, saying that the recipe's teardown did not finish.
        run = self.cc_ci("run", "fault-test", "--timeout-teardown", "20", plugins=[FAULT],
                         env={"FAKE_ABRA_FAULTS": "app.undeploy=hang"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertIn("timed out", run.step("fault-test", "app undeploy")["message"])
        self.assertEqual(run.step("fault-test", "docker stack rm (teardown did not finish)")["status"], "passed")
        self.assertEqual(run.step("fault-test", "app rm (after docker stack rm)")["status"], "passed")
        self.assertEqual(run.step("fault-test", "nothing of the app is left on the server")["status"], "passed")
        rung = next(r for r in run.recipe("fault-test")["rungs"] if r["name"] == "clean_teardown")
        self.assertEqual(rung["status"], "failed")
        self.assertIn("the host removed the stack with docker stack rm", rung["reason"])
        self.assertIn("app undeploy", rung["reason"])
        self.assert_nothing_left()

    def test_a_full_disk_under_the_report_folder_still_tears_down_and_says_so(self):
        # The report folder is a 32 KiB tmpfs (in a private mount namespace),
        # and abra's megabytes of output fill it while the test runs: the app
        # is still torn down, the run says its report could not be written
        # and exits 1, and no half-written results.json is left to be trusted.
        self.report_dir.mkdir()
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount -t tmpfs -o size=32k cc-ci-full "$0" && exec "$@"', str(self.report_dir),
                   os.environ["CC_CI"], "run", "custom-html", "--report-dir", str(self.report_dir),
                   "--plugins", str(RECIPES)]
        process = subprocess.run(command, env=self.environment({"FAKE_ABRA_NOISE": "huge"}), capture_output=True,
                                 text=True, timeout=300, cwd=self.folder)
        self.assertNotIn("mount:", process.stderr, "this machine cannot mount a tmpfs: " + process.stderr)
        self.assertEqual(process.returncode, 1, process.stdout + process.stderr)
        self.assertIn("its report could not be written", process.stderr)
        self.assertIn("No space left on device", process.stderr)
        self.assertFalse((self.report_dir / "results.json").exists())  # the tmpfs went with its namespace
        self.assert_nothing_left()

    # ---------------------------------------------------------------- no plugin code in the host

    def test_a_plugin_that_crashes_or_exits_while_loading_is_one_clear_error(self):
        for fault, command, fragment in (("load:segv", "plan", "killed by signal 11"),
                                         ("load:exit0", "list", "without an answer"),
                                         ("info:segv", "plan", "killed by signal 11"),
                                         ("info:throw", "run", "info() failed: fault-test: thrown in info")):
            with self.subTest(fault=fault):
                recipes = [] if command == "list" else ["fault-test"]
                run = self.cc_ci(command, *recipes, plugins=[FAULT], env={"CCCI_TEST_FAULT": fault})
                self.assert_one_line_error(run, "fault-test.so", fragment)
        self.assertEqual(self.calls(), [])
        self.assert_nothing_left()

    def test_the_plugin_that_breaks_a_shared_child_is_the_one_named(self):
        # Every plugin is described in one child, and every lane walked dry in one:
        # the fault plugin comes after the bundled ones, which answered before it.
        for fault, command in (("load:segv", "list"), ("info:throw", "plan"), ("deploy:segv", "plan")):
            with self.subTest(fault=fault):
                run = self.cc_ci(command, plugins=[RECIPES, FAULT], env={"CCCI_TEST_FAULT": fault})
                self.assert_one_line_error(run, "fault-test.so")
                for bundled in ("custom-html.so", "gitea.so", "nextcloud.so"):
                    self.assertNotIn(bundled, run.stderr)
        self.assertEqual(self.calls(), [])
        self.assert_nothing_left()

    def test_a_plugin_that_hangs_while_planning_does_not_hang_cc_ci(self):
        # info() is fine; the dry walk of its deploy hangs, in a child the host ends.
        run = self.cc_ci("plan", "fault-test", plugins=[FAULT], env={"CCCI_TEST_FAULT": "deploy:hang"},
                         timeout=150)
        self.assert_one_line_error(run, "fault-test.so", "did not answer within 60s while planning")

    # ---------------------------------------------------------------- secrets

    def written(self, run):
        """Everything a run wrote that a person or a CI server could read."""
        text = run.stdout + run.stderr
        for path in run.report_dir.rglob("*"):
            if path.is_file():
                text += path.read_text(errors="replace")
        return text

    def test_a_coloured_secrets_table_is_read_and_its_values_redacted(self):
        secret_log = self.folder / "generated.txt"
        run = self.cc_ci("run", "nextcloud",
                         env={"FAKE_ABRA_SECRET_LOG": str(secret_log), "FAKE_ABRA_FORCE_COLOR": "1"})
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        values = secret_log.read_text().split()
        self.assertEqual(len(values), 3)
        written = self.written(run)
        for value in values:
            self.assertNotIn(value, written)
        self.assertNotIn("\x1b[", (run.report_dir / "logs/nextcloud.log").read_text())
        # abra was asked not to colour at all.
        self.assertTrue(all(c["no_color"] == "1" and c["term"] == "dumb" for c in self.calls()))
        self.assert_nothing_left()

    def test_a_secrets_table_that_cannot_be_read_whole_is_withheld_and_fails(self):
        secret_log = self.folder / "generated.txt"
        run = self.cc_ci("run", "nextcloud",
                         env={"FAKE_ABRA_SECRET_LOG": str(secret_log), "FAKE_ABRA_TABLE_WIDTH": "30"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        step = run.step("nextcloud", "app secret generate")
        self.assertEqual(step["status"], "failed")
        self.assertIn("could not read the generated secrets", step["message"])
        written = self.written(run)
        self.assertIn("output withheld", written)
        for value in secret_log.read_text().split():
            for piece in (value[:12], value[-12:]):  # neither half of a wrapped value
                self.assertNotIn(piece, written)
        self.assert_nothing_left()

    def test_an_inserted_secret_is_never_on_a_command_line_nor_printed(self):
        inserted = 'inserted-S3cr3t"value\\7f3a'
        run = self.cc_ci("run", "secret-test", plugins=[TEST_PLUGINS / "secret"],
                         env={"CCCI_TEST_SECRET": inserted})
        self.assertEqual(run.code, 1)  # a check fails on purpose
        insert = [c for c in self.calls() if c["argv"][1:4] == ["app", "secret", "insert"]]
        self.assertEqual(len(insert), 1)
        self.assertIn("-f", insert[0]["argv"])
        for call in self.calls():
            self.assertFalse(any(inserted in word for word in call["argv"]), call["argv"])
        # The file it came from is gone, and it was private while it existed.
        self.assertFalse(Path(insert[0]["argv"][-1]).exists())
        log = (run.report_dir / "logs/secret-test.log").read_text()
        self.assertIn("stdout: the smtp password is [REDACTED]", log)
        self.assertIn('stderr: {"password":"[REDACTED]"}', log)
        written = self.written(run)
        self.assertNotIn(inserted, written)
        self.assertNotIn('inserted-S3cr3t\\"value\\\\7f3a', written)  # its JSON-escaped form
        self.assert_nothing_left()


if __name__ == "__main__":
    sys.exit(main(FailClosed))
