#!/usr/bin/env python3
"""Fail closed: a plugin or a run that ends in any abnormal way is never
reported as passed, and nothing of its app is left behind."""

import sys

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

    def test_deploy_that_records_no_step_is_errored(self):
        run = self.run_fault("deploy:nothing")
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("fault-test")
        self.assertEqual(recipe["status"], "errored")
        self.assertEqual(recipe["level"], 0)
        self.assertIn("recorded no step", run.step("fault-test", "deploy()")["message"])
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


if __name__ == "__main__":
    sys.exit(main(FailClosed))
