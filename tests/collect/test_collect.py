#!/usr/bin/env python3
"""Collecting the tests says what runs: the names Meson registers from a test
file's syntax tree are the ones the file itself lists, collecting imports
nothing, and the unit suites' check fails on a suite that would never run.

    test_collect.py --list | NAME [TEST_FILE...]

TEST_FILEs are the Python test files tests/meson.build registers."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = Path(os.environ.get("CC_CI_SOURCE", HERE.parents[1]))
LIST_TESTS = HERE / "list_tests.py"
UNIT_SUITES = HERE / "unit_suites.py"
UNIT_TESTS = Path(os.environ.get("MESON_BUILD_ROOT", SOURCE / "build")) / "tests" / "unit-tests"
TEST_FILES = []


def python(*args):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True)


class Collect(unittest.TestCase):
    def setUp(self):
        self.folder = Path(tempfile.mkdtemp(prefix="cc-ci-collect-"))

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def unit_suites(self, *args):
        return python(UNIT_SUITES, *args)

    def registered(self):
        listed = self.unit_suites("list", *sorted((SOURCE / "tests" / "unit").glob("*.cpp")))
        self.assertEqual(listed.returncode, 0, listed.stderr)
        return listed.stdout.split("\n")[:-1]

    def test_every_test_file_lists_what_its_syntax_tree_says(self):
        self.assertTrue(TEST_FILES, "give the test files tests/meson.build registers")
        for path in [*TEST_FILES, __file__]:
            own = python(path, "--list")
            self.assertEqual(own.returncode, 0, f"{path} --list: {own.stderr}")
            read = python(LIST_TESTS, path)
            self.assertEqual(read.returncode, 0, f"list_tests.py {path}: {read.stderr}")
            self.assertEqual(read.stdout.split(), sorted(own.stdout.split()), path)

    def test_collecting_imports_none_of_a_test_files_dependencies(self):
        planted = self.folder / "test_planted.py"
        planted.write_text("import no_such_module_anywhere\nimport unittest\n\n\n"
                           "class Base(unittest.TestCase):\n    def test_inherited(self):\n        pass\n\n\n"
                           "class Planted(Base):\n    def test_own(self):\n        pass\n\n    def helper(self):\n"
                           "        pass\n\n\nclass NotATest:\n    def test_ignored(self):\n        pass\n")
        self.assertNotEqual(python(planted).returncode, 0, "the planted import should fail when run")
        read = python(LIST_TESTS, planted)
        self.assertEqual((read.returncode, read.stdout.split()), (0, ["test_inherited", "test_own"]), read.stderr)

    def test_every_suite_in_the_sources_is_registered_and_runs(self):
        check = self.unit_suites("check", "--binary", UNIT_TESTS, "--sources", SOURCE / "tests" / "unit",
                                 *self.registered())
        self.assertEqual(check.returncode, 0, check.stderr)

    def test_a_planted_unregistered_suite_fails_the_check(self):
        registered = self.registered()
        sources = self.folder / "unit"
        shutil.copytree(SOURCE / "tests" / "unit", sources)
        with open(sources / "test_process.cpp", "a") as source:
            source.write('\nTEST_SUITE("planted") {\nTEST_CASE("never registered") {}\n}\n')
        check = self.unit_suites("check", "--binary", UNIT_TESTS, "--sources", sources, *registered)
        self.assertEqual(check.returncode, 1, check.stdout + check.stderr)
        self.assertIn('TEST_SUITE("planted") in', check.stderr)
        self.assertIn("test_process.cpp is not registered", check.stderr)
        # Configuring again registers it: the list is read from the sources.
        self.assertIn("planted", self.unit_suites("list", *sorted(sources.glob("*.cpp"))).stdout.split("\n"))

    def test_a_registered_name_that_matches_no_test_case_fails_the_check(self):
        check = self.unit_suites("check", "--binary", UNIT_TESTS, "--sources", SOURCE / "tests" / "unit",
                                 *self.registered(), "no such suite")
        self.assertEqual(check.returncode, 1, check.stdout + check.stderr)
        self.assertIn('suite "no such suite" is registered but matches no test case', check.stderr)

    def test_a_test_case_outside_every_suite_fails_the_check(self):
        # A stand-in for unit-tests answering --count as doctest does: two cases
        # in suite "a", and one more that no suite holds.
        binary = self.folder / "unit-tests"
        binary.write_text("#!/bin/sh\ncase \"$*\" in\n  *--test-suite=a*) n=2 ;;\n  *) n=3 ;;\nesac\n"
                          "echo \"[doctest] unskipped test cases passing the current filters: $n\"\n")
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
        sources = self.folder / "unit"
        sources.mkdir()
        (sources / "test_a.cpp").write_text('TEST_SUITE("a") {\nTEST_CASE("one") {}\nTEST_CASE("two") {}\n}\n'
                                            'TEST_CASE("in no suite") {}\n')
        check = self.unit_suites("check", "--binary", binary, "--sources", sources, "a")
        self.assertEqual(check.returncode, 1, check.stdout + check.stderr)
        self.assertIn("the registered suites match 2 test cases", check.stderr)
        self.assertIn("has 3", check.stderr)


def main(arguments):
    if arguments == ["--list"]:
        print("\n".join(sorted(unittest.defaultTestLoader.getTestCaseNames(Collect))))
        return 0
    if not arguments:
        print("give a test name (see --list)", file=sys.stderr)
        return 2
    TEST_FILES.extend(arguments[1:])
    result = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite([Collect(arguments[0])]))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
