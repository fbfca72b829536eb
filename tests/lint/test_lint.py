#!/usr/bin/env python3
"""The lint gate bites: a planted finding of each kind makes tools/lint fail and
name the file; the same tree without them passes."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SOURCE = Path(os.environ.get("CC_CI_SOURCE", Path(__file__).resolve().parents[2]))
LINT = SOURCE / "tools" / "lint"


class LintGate(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="cc-ci-lint-"))
        shutil.copy(SOURCE / ".clang-format", self.root)
        shutil.copy(SOURCE / ".flake8", self.root)
        (self.root / "build").mkdir()
        (self.root / "build" / "compile_commands.json").write_text(json.dumps([]))
        (self.root / "core").mkdir()
        (self.root / "tools").mkdir()
        (self.root / "core" / "fine.cpp").write_text("int answer() {\n  return 42;\n}\n")
        (self.root / "tools" / "fine").write_text('#!/bin/sh\nset -eu\necho "$1"\n')
        (self.root / "tools" / "fine.py").write_text("import sys\n\nprint(sys.argv)\n")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def lint(self):
        command = [sys.executable, str(LINT), "--root", str(self.root), "--build", str(self.root / "build")]
        return subprocess.run(command, capture_output=True, text=True)

    def test_a_clean_tree_passes(self):
        result = self.lint()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("lint: 0 findings", result.stdout)

    def test_each_planted_finding_fails_with_its_file_named(self):
        (self.root / "core" / "ugly.cpp").write_text("int   ugly( ){return 1 ;}\n")
        (self.root / "tools" / "unquoted").write_text('#!/bin/sh\nrm -rf $1\n')
        (self.root / "tools" / "unused.py").write_text("import os\n")
        result = self.lint()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        lines = result.stdout.splitlines()
        self.assertTrue(any(line.startswith("core/ugly.cpp:1: clang-format:") for line in lines), lines)
        self.assertTrue(any(line.startswith("tools/unquoted:2: shellcheck:") and "SC2086" in line for line in lines),
                        lines)
        self.assertTrue(any(line.startswith("tools/unused.py:1: flake8: F401") for line in lines), lines)
        self.assertEqual(lines[-1].split(" in ")[0], "lint: 3 findings")

    def test_clang_tidy_reads_each_target_as_one_unit_and_still_names_the_file(self):
        # Without --build, tools/lint configures ROOT/build-lint in unity mode:
        # a bug in the second source of a target is found and named by its own
        # path, and the generated unity source itself is never a finding.
        shutil.copy(SOURCE / ".clang-tidy", self.root)
        (self.root / "meson.build").write_text(
            "project('planted', 'cpp', default_options: ['cpp_std=c++20'])\n"
            "executable('planted', 'core/fine.cpp', 'core/moved.cpp', 'core/main.cpp')\n")
        (self.root / "core" / "moved.cpp").write_text(
            "#include <string>\n#include <utility>\n\n"
            "std::string moved(std::string text) {\n"
            "  std::string taken = std::move(text);\n"
            "  return taken + text;\n"
            "}\n")
        (self.root / "core" / "main.cpp").write_text("int answer();\n\nint main() {\n  return answer();\n}\n")
        result = subprocess.run([sys.executable, str(LINT), "--root", str(self.root)], capture_output=True, text=True)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        lines = result.stdout.splitlines()
        self.assertTrue(any(line.startswith("core/moved.cpp:6: clang-tidy:") and "bugprone-use-after-move" in line
                            for line in lines), lines)
        self.assertEqual(lines[-1].split(" in ")[0], "lint: 1 finding", lines)
        self.assertTrue(list((self.root / "build-lint").glob("**/*unity*.cpp")), "no unity source was made")


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(sorted(unittest.defaultTestLoader.getTestCaseNames(LintGate))))
        sys.exit(0)
    suite = unittest.TestSuite(LintGate(name) for name in sys.argv[1:])
    sys.exit(0 if unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful() else 1)
