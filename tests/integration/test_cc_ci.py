#!/usr/bin/env python3
"""End-to-end tests: the real cc-ci binary and real plugins against the fake
abra and its TLS proxy on 127.0.0.1.

    test_cc_ci.py --list        the test names, one a line (Meson registers each)
    test_cc_ci.py NAME          run one test

Every test that runs cc-ci also proves that nothing is left behind in the
fake's state, and that results.json (when written) validates against
docs/results-v1.schema.json.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path

SOURCE = Path(os.environ.get("CC_CI_SOURCE", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE / "tests" / "fake_abra"))
from sandbox import Sandbox  # noqa: E402

CC_CI = os.environ.get("CC_CI")
RECIPES = Path(os.environ.get("CC_CI_RECIPES", ""))
TEST_PLUGINS = Path(os.environ.get("CC_CI_TEST_PLUGINS", ""))
SCHEMA = json.loads((SOURCE / "docs" / "results-v1.schema.json").read_text())
# Test plugins' recipes, and the catalogue fixture each is a copy of.
TEST_RECIPES = {"crash-test": "test-app", "hang-test": "test-app", "throw-test": "test-app",
                "secret-test": "secret-app"}


class Run:
    def __init__(self, process, stdout, stderr, report_dir):
        self.code = process.returncode
        self.stdout = stdout
        self.stderr = stderr
        self.report_dir = report_dir
        path = report_dir / "results.json"
        self.results = json.loads(path.read_text()) if path.exists() else None

    def recipe(self, name):
        return next(r for r in self.results["recipes"] if r["recipe"] == name)

    def step(self, recipe, name):
        return next(s for s in self.recipe(recipe)["steps"] if s["name"] == name)

    def step_names(self, recipe):
        return [s["name"] for s in self.recipe(recipe)["steps"]]


class CcCi(unittest.TestCase):
    def setUp(self):
        self.assertTrue(CC_CI, "CC_CI is not set: run the tests through meson test")
        self.folder = Path(tempfile.mkdtemp(prefix="cc-ci-it-"))
        self.sandbox = Sandbox(self.folder / "sandbox", extra_recipes=TEST_RECIPES).start()
        self.report_dir = self.folder / "report"
        self.call_log = self.folder / "abra-calls.jsonl"

    def tearDown(self):
        self.sandbox.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def environment(self, extra=None):
        env = self.sandbox.environment()
        env["FAKE_ABRA_CALL_LOG"] = str(self.call_log)
        env.update(extra or {})
        return env

    def cc_ci(self, *args, plugins=None, env=None, timeout=120):
        """Runs `cc-ci ARGS` in the sandbox; returns a Run."""
        command = [CC_CI, *args]
        if args and args[0] in ("run", "plan") and "--report-dir" not in args:
            command += ["--report-dir", str(self.report_dir)]
        for path in plugins or [RECIPES]:
            command += ["--plugins", str(path)]
        process = subprocess.run(command, env=self.environment(env), capture_output=True, text=True,
                                 timeout=timeout, cwd=self.folder)
        return Run(process, process.stdout, process.stderr, self.report_dir)

    def start_cc_ci(self, *args, env=None):
        command = [CC_CI, *args, "--report-dir", str(self.report_dir), "--plugins", str(RECIPES)]
        return subprocess.Popen(command, env=self.environment(env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.folder)

    def assert_nothing_left(self):
        self.assertEqual(self.sandbox.leftovers(), [], "the fake's state still holds an app")

    def assert_valid_report(self, run):
        self.assertIsNotNone(run.results, f"no results.json; stderr: {run.stderr}")
        import jsonschema
        jsonschema.validate(run.results, SCHEMA)
        junit = ElementTree.parse(run.report_dir / "junit.xml").getroot()
        self.assertEqual(junit.tag, "testsuites")
        self.assertEqual(len(junit.findall("testsuite")), len(run.results["recipes"]))
        for recipe in run.results["recipes"]:
            self.assertIn(recipe["status"], ("passed", "failed", "errored", "skipped"))

    def assert_one_line_error(self, run, *fragments):
        self.assertEqual(run.code, 2, run.stdout + run.stderr)
        lines = run.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, run.stderr)
        self.assertTrue(lines[0].startswith("cc-ci: error: "), lines[0])
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def calls(self):
        if not self.call_log.exists():
            return []
        return [json.loads(line) for line in self.call_log.read_text().splitlines()]

    def wait_for(self, condition, timeout=30, what="condition"):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.fail(f"timed out waiting for {what}")
            time.sleep(0.05)

    # ------------------------------------------------------------ a passing run

    def test_passing_run(self):
        run = self.cc_ci("run")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "passed")
        self.assertEqual(recipe["level"], 3)
        self.assertRegex(recipe["domain"], r"^cust-[0-9a-f]{6}\.cc-ci\.test$")
        self.assertEqual(run.step_names("custom-html"), [
            "app new", "app secret generate", "app deploy",
            f"serves https://{recipe['domain']}/ over verified HTTPS",
            "index page is served as HTML", "unknown path is nginx's own 404",
            "app undeploy", "app rm"])
        self.assertEqual(run.results["summary"], {"passed": 1, "failed": 0, "errored": 0, "skipped": 0})
        self.assertIn("summary: 1 passed, 0 failed", run.stdout)
        log = (run.report_dir / recipe["log"]).read_text()
        self.assertIn("app deploy " + recipe["domain"], log)
        # Every abra call had a terminal, -n, and the recipe's own ABRA_DIR.
        calls = self.calls()
        self.assertEqual(len(calls), 5)
        for call in calls:
            self.assertTrue(call["tty"])
            self.assertEqual(call["argv"][0], "-n")
            self.assertEqual(call["abra_dir"], str(self.report_dir / "work" / "custom-html" / "abra"))
        self.assert_nothing_left()

    def test_jobs_and_server_pool_run_every_recipe(self):
        run = self.cc_ci("run", "--jobs", "2", "custom-html", "throw-test", plugins=[RECIPES, TEST_PLUGINS / "throw"])
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        self.assertEqual(run.recipe("custom-html")["status"], "passed")
        self.assertEqual(run.recipe("throw-test")["status"], "errored")
        self.assert_nothing_left()

    # ------------------------------------------------------------ failures of the app

    def test_deploy_failure_is_failed_and_torn_down(self):
        run = self.cc_ci("run", env={"FAKE_ABRA_FAULTS": "app.deploy=fail-after-stack"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "failed")
        self.assertEqual(recipe["level"], 0)
        self.assertIn("deploy failed", run.step("custom-html", "app deploy")["message"])
        self.assertEqual(run.step("custom-html", "readiness and checks")["status"], "skipped")
        # The half-deployed stack existed, so undeploy really had work to do.
        self.assertEqual(run.step("custom-html", "app undeploy")["status"], "passed")
        self.assertIn("undeploy succeeded", (run.report_dir / recipe["log"]).read_text())
        self.assert_nothing_left()

    def test_missing_abra_is_errored(self):
        run = self.cc_ci("run", "--abra", str(self.folder / "no-such-abra"))
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "errored")
        self.assertIn("cannot start", run.step("custom-html", "app new")["message"])
        self.assert_nothing_left()

    def test_probe_failure_keeps_level_2_and_tears_down(self):
        run = self.cc_ci("run", env={"FAKE_APP_MODE": "text-plain"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "failed")
        self.assertEqual(recipe["level"], 2)
        check = run.step("custom-html", "index page is served as HTML")
        self.assertEqual(check["status"], "failed")
        self.assertIn("header content-type is \"text/plain\"", check["message"])
        self.assertEqual(run.step("custom-html", "unknown path is nginx's own 404")["status"], "passed")
        self.assert_nothing_left()

    def test_slow_app_is_polled_until_ready(self):
        run = self.cc_ci("run", env={"FAKE_APP_READY_AFTER": "1.5"})
        self.assertEqual(run.code, 0, run.stdout)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["level"], 3)
        readiness = next(s for s in recipe["steps"] if s["kind"] == "readiness")
        self.assertGreaterEqual(readiness["duration_ms"], 1000)
        self.assertRegex((run.report_dir / recipe["log"]).read_text(), r"readiness: ([4-9]|\d\d) attempt")
        self.assert_nothing_left()

    def test_traefik_404_is_never_ready(self):
        run = self.cc_ci("run", "--timeout-probe", "2", env={"FAKE_APP_MODE": "traefik-404"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["level"], 1)
        readiness = next(s for s in recipe["steps"] if s["kind"] == "readiness")
        self.assertEqual(readiness["status"], "failed")
        self.assertIn("Traefik's 404 page not found", readiness["message"])
        self.assertEqual(run.step("custom-html", "recipe checks")["status"], "skipped")
        self.assert_nothing_left()

    def test_tls_is_verified(self):
        other = Sandbox(self.folder / "other-ca")  # a CA the app's certificate does not come from
        other.start()
        other.stop()
        run = self.cc_ci("run", "--timeout-probe", "2", "--ca-file", str(other.ca))
        self.assertEqual(run.code, 1)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["level"], 1)
        readiness = next(s for s in recipe["steps"] if s["kind"] == "readiness")
        self.assertIn("certificate", readiness["message"])
        self.assert_nothing_left()

    # ------------------------------------------------------------ failures of abra and plugins

    def test_hanging_deploy_times_out_and_is_torn_down(self):
        started = time.monotonic()
        run = self.cc_ci("run", "--timeout-deploy", "2", env={"FAKE_ABRA_FAULTS": "app.deploy=converge-hang"})
        self.assertLess(time.monotonic() - started, 60)
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "errored")
        self.assertIn("timed out", run.step("custom-html", "app deploy")["message"])
        # The stack existed when abra was killed, so undeploy had work to do.
        self.assertEqual(run.step("custom-html", "app undeploy")["status"], "passed")
        self.assertIn("undeploy succeeded", (run.report_dir / recipe["log"]).read_text())
        self.assert_nothing_left()

    def test_crashing_plugin_is_errored_and_the_run_goes_on(self):
        run = self.cc_ci("run", plugins=[RECIPES, TEST_PLUGINS / "crash"])
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        crashed = run.recipe("crash-test")
        self.assertEqual(crashed["status"], "errored")
        message = run.step("crash-test", "test process crashed")["message"]
        self.assertIn("signal 11", message)
        self.assertIn("during probe", message)
        # The host tore the app down from outside.
        self.assertEqual(run.step("crash-test", "host: app undeploy")["status"], "passed")
        self.assertEqual(run.step("crash-test", "host: app rm")["status"], "passed")
        self.assertEqual(run.recipe("custom-html")["status"], "passed")
        self.assert_nothing_left()

    def test_hanging_plugin_is_killed_by_the_watchdog(self):
        run = self.cc_ci("run", "--timeout-probe", "1", "hang-test", plugins=[TEST_PLUGINS / "hang"])
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("hang-test")
        self.assertEqual(recipe["status"], "errored")
        self.assertIn("the test process hung and was killed", run.step("hang-test", "probe interrupted")["message"])
        self.assertEqual(run.step("hang-test", "host: app undeploy")["status"], "passed")
        self.assert_nothing_left()

    def test_plugin_exception_is_errored_and_torn_down(self):
        run = self.cc_ci("run", "throw-test", plugins=[TEST_PLUGINS / "throw"])
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        step = run.step("throw-test", "probe()")
        self.assertEqual(step["status"], "errored")
        self.assertEqual(step["message"], "uncaught exception: the plugin gave up")
        self.assertEqual(run.step("throw-test", "app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_secrets_never_reach_logs_or_reports(self):
        secret_log = self.folder / "generated-secrets.txt"
        inserted = "inserted-S3cr3t-value-7f3a"
        run = self.cc_ci("run", "secret-test", plugins=[TEST_PLUGINS / "secret"],
                         env={"FAKE_ABRA_SECRET_LOG": str(secret_log), "CCCI_TEST_SECRET": inserted})
        self.assertEqual(run.code, 1)  # its second check fails on purpose
        self.assert_valid_report(run)
        values = secret_log.read_text().split()
        self.assertIn(inserted, values)
        self.assertEqual(len(values), 3)  # two generated, one inserted
        written = run.stdout + run.stderr
        for path in run.report_dir.rglob("*"):
            if path.is_file():
                written += path.read_text(errors="replace")
        for value in values:
            self.assertNotIn(value, written)
        self.assertIn("login with [REDACTED] was refused",
                      run.step("secret-test", "fails with the secret in its message")["message"])
        self.assertIn("the smtp password is [REDACTED]", (run.report_dir / "logs/secret-test.log").read_text())
        self.assert_nothing_left()

    # ------------------------------------------------------------ interruption and keep

    def interrupt_during_deploy(self, sig):
        process = self.start_cc_ci("run", env={"FAKE_ABRA_FAULTS": "app.deploy=converge-slow:30"})
        self.wait_for(lambda: any(s for s in self.sandbox.leftovers() if s.startswith("stack")), what="the deploy")
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 130, stdout + stderr)
        run = Run(process, stdout, stderr, self.report_dir)
        self.assert_valid_report(run)
        self.assertTrue(run.results["interrupted"])
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "errored")
        self.assertIn("interrupted by", run.step("custom-html", "deploy interrupted")["message"])
        self.assertEqual(run.step("custom-html", "host: app undeploy")["status"], "passed")
        self.assert_nothing_left()

    def test_sigint_during_deploy_tears_down_and_exits_130(self):
        self.interrupt_during_deploy(signal.SIGINT)

    def test_sigterm_during_deploy_tears_down_and_exits_130(self):
        self.interrupt_during_deploy(signal.SIGTERM)

    def test_keep_on_failure_keeps_the_app_and_says_so(self):
        run = self.cc_ci("run", "--keep", "on-failure", env={"FAKE_ABRA_FAULTS": "app.deploy=fail-after-stack"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertIn("kept", recipe["kept"])
        self.assertIn(f"abra app undeploy {recipe['domain']}", recipe["kept"])
        self.assertNotIn("app undeploy", run.step_names("custom-html"))
        self.assertTrue(any(item.startswith("stack") for item in self.sandbox.leftovers()))
        # Clean up as the notice says, and prove that was all.
        self.assertEqual(self.sandbox.fake_abra("app", "undeploy", recipe["domain"]).returncode, 0)
        self.assertEqual(self.sandbox.fake_abra("app", "rm", recipe["domain"], "-f").returncode, 0)
        self.assert_nothing_left()

    # ------------------------------------------------------------ plan, list, usage errors

    def test_plan_prints_every_command_and_runs_nothing(self):
        run = self.cc_ci("plan")
        self.assertEqual(run.code, 0, run.stderr)
        lines = [line.strip() for line in run.stdout.splitlines()]
        order = [next(i for i, line in enumerate(lines) if wanted in line) for wanted in (
            "app new custom-html --server default --domain cust-", "app secret generate", "app deploy",
            "wait until GET https://cust-", "check: index page is served as HTML", "app undeploy", "app rm")]
        self.assertEqual(order, sorted(order))
        self.assertEqual(self.calls(), [])
        self.assertFalse(self.report_dir.exists())
        self.assert_nothing_left()

    def test_list_shows_recipes_checks_and_tags(self):
        run = self.cc_ci("list", plugins=[RECIPES, TEST_PLUGINS / "throw"])
        self.assertEqual(run.code, 0, run.stderr)
        self.assertIn("custom-html", run.stdout)
        self.assertIn("tags: static, nginx", run.stdout)
        self.assertIn("check: unknown path is nginx's own 404", run.stdout)
        self.assertIn("throw-test", run.stdout)
        self.assertEqual(self.calls(), [])

    def test_plugin_that_is_not_a_library_exits_2(self):
        run = self.cc_ci("run", plugins=[TEST_PLUGINS / "bad-not-elf"])
        self.assert_one_line_error(run, "not-a-plugin.so", "not a loadable shared library")
        self.assertEqual(self.calls(), [])

    def test_plugin_without_entry_point_exits_2(self):
        run = self.cc_ci("run", plugins=[TEST_PLUGINS / "bad-no-entry"])
        self.assert_one_line_error(run, "no-entry.so", "missing entry point ccci_plugin_info")

    def test_plugin_abi_mismatch_exits_2(self):
        run = self.cc_ci("run", plugins=[TEST_PLUGINS / "bad-abi"])
        self.assert_one_line_error(run, "abi-mismatch.so", "ABI version 999 does not match", "ABI version 1")

    def test_two_plugins_for_one_recipe_exit_2(self):
        run = self.cc_ci("run", plugins=[RECIPES, TEST_PLUGINS / "duplicate"])
        self.assert_one_line_error(run, "custom-html.so", "custom-html-again.so", "both claim recipe custom-html")
        self.assert_nothing_left()

    def test_usage_errors_exit_2_with_one_line(self):
        self.assert_one_line_error(self.cc_ci("run", "no-such-recipe"), "no plugin tests recipe \"no-such-recipe\"")
        self.assert_one_line_error(self.cc_ci("run", "--jobs", "zero"), "--jobs")
        self.assert_one_line_error(self.cc_ci("run", "--keep", "sometimes"), "never, on-failure or always")
        self.assert_one_line_error(self.cc_ci("run", "--bogus"), "--bogus")
        self.assert_one_line_error(self.cc_ci("run", env={"CC_CI_CONFIG": str(self.folder / "none.json")}),
                                   "none.json does not exist")
        bare = {"CC_CI_CONFIG": ""}
        self.assert_one_line_error(self.cc_ci("run", env=bare), "no domain suffix")
        self.assertEqual(self.calls(), [])

    def test_help_explains_the_commands(self):
        run = self.cc_ci("run", "--help", plugins=[])
        self.assertEqual(run.code, 0)
        for option in ("--plugins", "--abra", "--server", "--domain-suffix", "--jobs", "--report-dir", "--ca-file",
                       "--connect-to", "--keep", "--timeout-deploy", "--timeout-probe", "--timeout-teardown"):
            self.assertIn(option, run.stdout)

    # ------------------------------------------------------------ the fake itself

    def test_fake_abra_is_faithful_where_the_harness_relies_on_it(self):
        fake = str(SOURCE / "tests" / "fake_abra" / "abra")
        env = self.sandbox.environment()
        no_tty = subprocess.run([fake, "-n", "app", "ls"], env=env, capture_output=True, text=True)
        self.assertEqual(no_tty.returncode, 1)
        self.assertIn("FATA inappropriate ioctl for device", no_tty.stderr)
        unknown = self.sandbox.fake_abra("app", "deploy", "x.cc-ci.test", "--bogus")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("FATA unknown flag: --bogus", unknown.stderr)
        missing = self.sandbox.fake_abra("app", "deploy", "x.cc-ci.test")
        self.assertIn("FATA app x.cc-ci.test does not exist", missing.stderr)
        domain = "test-000001.cc-ci.test"
        self.assertEqual(self.sandbox.fake_abra("app", "new", "test-app", "-s", "default", "-D", domain).returncode, 0)
        refused = self.sandbox.fake_abra("app", "deploy", domain)
        self.assertIn("FATA secret not generated: db_password", refused.stderr)
        self.assertEqual(self.sandbox.fake_abra("app", "rm", domain, "--force").returncode, 0)
        self.assert_nothing_left()


def main():
    if sys.argv[1:] == ["--list"]:
        for name in sorted(unittest.defaultTestLoader.getTestCaseNames(CcCi)):
            print(name)
        return 0
    suite = unittest.TestSuite(CcCi(name) for name in sys.argv[1:])
    if suite.countTestCases() == 0:
        print("give a test name (see --list)", file=sys.stderr)
        return 2
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
