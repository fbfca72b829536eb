"""What the end-to-end tests share: a sandbox per test, running the real
cc-ci binary in it, and the assertions every test makes (nothing left behind,
a valid report)."""

import json
import os
import shutil
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
GENERIC_PLUGIN = Path(os.environ.get("CC_CI_GENERIC_PLUGIN", ""))
SCHEMA = json.loads((SOURCE / "docs" / "results-v1.schema.json").read_text())
# Test plugins' recipes, and the catalogue fixture each is a copy of.
TEST_RECIPES = {"crash-test": "test-app", "hang-test": "test-app", "throw-test": "test-app",
                "secret-test": "secret-app", "probe-app": "test-app", "fault-test": "test-app"}


RUNGS = ("deploys", "serves", "checks", "persistence", "upgrade", "backup_restore", "lint", "clean_teardown")


def handmade_results(recipes, run_id="handmade"):
    """A results.json that cc-ci reads whole (every field v1 requires), for
    tests that write one by hand: each of `recipes` gives the fields it cares
    about over a recipe that was not tested; the summary counts them."""
    full = [{"server": "", "domain": "", "status": "skipped", "level": 0, "level_reason": "", "duration_ms": 0,
             "log": "", "steps": [], **recipe} for recipe in recipes]
    statuses = ("passed", "failed", "errored", "skipped", "flaky")
    return {"schema": "cc-ci/results/v1", "run_id": run_id, "started_at": "2026-12-01T10:00:00.000Z",
            "finished_at": "2026-12-01T10:00:00.000Z", "duration_ms": 0, "interrupted": False,
            "summary": {status: sum(r.get("status") == status for r in full) for status in statuses},
            "recipes": full}


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


class SandboxTestCase(unittest.TestCase):
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

    def cc_ci(self, *args, plugins=None, env=None, timeout=900):
        """Runs `cc-ci ARGS` in the sandbox; returns a Run."""
        command = [CC_CI, *args]
        if args and args[0] in ("run", "plan") and "--report-dir" not in args:
            command += ["--report-dir", str(self.report_dir)]
        # The tests of one behaviour run the fresh lane only; those of the
        # ladder's lanes (and the full bundled run) ask for lanes themselves.
        if args and args[0] in ("run", "plan") and "--lanes" not in args:
            command += ["--lanes", "fresh"]
        # Pictures take a browser's seconds: the tests of screenshots ask for them.
        if args and args[0] in ("run", "plan") and "--browser" not in args:
            command += ["--browser", ""]
        if args and args[0] in ("run", "plan", "list"):
            for path in plugins or [RECIPES]:
                command += ["--plugins", str(path)]
        process = subprocess.run(command, env=self.environment(env), capture_output=True, text=True,
                                 timeout=timeout, cwd=self.folder)
        return Run(process, process.stdout, process.stderr, self.report_dir)

    def start_cc_ci(self, *args, env=None):
        command = [CC_CI, *args, "--report-dir", str(self.report_dir), "--plugins", str(RECIPES)]
        if "--lanes" not in args:
            command += ["--lanes", "fresh"]
        if "--browser" not in args:
            command += ["--browser", ""]
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
            self.assertIn(recipe["status"], ("passed", "failed", "errored", "skipped", "flaky"))

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


def git(folder, *args):
    """git in `folder` with a fixed identity and no system or user config; returns its stdout."""
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def main(test_case):
    """`--list` prints the test names (Meson registers each); otherwise runs the named tests."""
    if sys.argv[1:] == ["--list"]:
        for name in sorted(unittest.defaultTestLoader.getTestCaseNames(test_case)):
            print(name)
        return 0
    suite = unittest.TestSuite(test_case(name) for name in sys.argv[1:])
    if suite.countTestCases() == 0:
        print("give a test name (see --list)", file=sys.stderr)
        return 2
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1
