#!/usr/bin/env python3
"""tools/abi bites: on a small SDK of the same shape (a harness library and
installed headers under ccci/), a change that breaks a plugin built against the
recorded ABI fails the check until kAbiVersion is bumped and the ABI recorded
again; an addition passes.

    test_abi.py --list | NAME..."""

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SOURCE = Path(os.environ.get("CC_CI_SOURCE", Path(__file__).resolve().parents[2]))
ABI = SOURCE / "tools" / "abi"

FILES = {
    "meson.build": """project('sdk', 'cpp', default_options : ['cpp_std=c++20'])
install_headers('core/include/ccci/plugin.hpp', 'harness/include/ccci/harness.hpp', subdir : 'ccci')
shared_library('cc-ci-harness', 'harness/src/harness.cpp',
  include_directories : include_directories('core/include', 'harness/include'), install : true)
""",
    "meson_options.txt": "option('tests', type : 'boolean', value : true)\n",
    "core/include/ccci/plugin.hpp": """#pragma once

#include <string>

namespace ccci {

inline constexpr int kAbiVersion = 1;

struct RecipeInfo {
  std::string screenshot = "/";
};

class Context {
 public:
  virtual ~Context() = default;
  virtual const std::string& domain() const = 0;
  virtual void log(const std::string& message) = 0;
};

}  // namespace ccci
""",
    "harness/include/ccci/harness.hpp": """#pragma once

#include "ccci/plugin.hpp"

namespace ccci {

std::string url(const Context& ctx, const std::string& path);

}  // namespace ccci
""",
    "harness/src/harness.cpp": """#include "ccci/harness.hpp"

namespace ccci {

std::string url(const Context& ctx, const std::string& path) { return "https://" + ctx.domain() + path; }

}  // namespace ccci
""",
}


class AbiCheck(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="cc-ci-abi-"))
        for name, text in FILES.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_text(text)
        self.assertEqual(self.abi("update").returncode, 0)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def abi(self, command):
        return subprocess.run([sys.executable, str(ABI), command, "--root", str(self.root)], capture_output=True,
                              text=True)

    def edit(self, name, old, new):
        path = self.root / name
        text = path.read_text()
        self.assertIn(old, text)
        path.write_text(text.replace(old, new))

    def assert_passes(self):
        check = self.abi("check")
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        return check

    def assert_fails(self, *fragments):
        check = self.abi("check")
        self.assertNotEqual(check.returncode, 0, check.stdout + check.stderr)
        for fragment in fragments:
            self.assertIn(fragment, check.stderr)
        return check

    def test_a_member_added_to_a_struct_fails_until_kabiversion_is_bumped(self):
        self.assert_passes()
        self.edit("core/include/ccci/plugin.hpp", '  std::string screenshot = "/";\n',
                  '  std::string screenshot = "/";\n  int planted = 0;\n')
        self.assert_fails("type struct ccci::RecipeInfo: Size of this type has been changed from 256 bits to 320 bits",
                          "Field planted has been added", "Bump kAbiVersion")
        self.edit("core/include/ccci/plugin.hpp", "kAbiVersion = 1;", "kAbiVersion = 2;")
        self.assert_fails("no ABI recorded for kAbiVersion 2", "tools/abi update")
        self.assertEqual(self.abi("update").returncode, 0)
        self.assert_passes()
        self.assertEqual(sorted(p.name for p in (self.root / "abi").iterdir()), ["cc-ci-harness-2.dump"])

    def test_a_virtual_function_added_to_an_interface_fails(self):
        self.edit("core/include/ccci/plugin.hpp", "  virtual const std::string& domain() const = 0;\n",
                  "  virtual const std::string& server() const = 0;\n  virtual const std::string& domain() const = 0;\n")
        self.assert_fails("type ccci::Context: Pure virtual method ccci::Context::server[abi:cxx11]() const has been added")

    def test_a_changed_library_function_fails(self):
        for name in ("harness/include/ccci/harness.hpp", "harness/src/harness.cpp"):
            self.edit(name, "const std::string& path)", "std::string_view path)")
        self.edit("harness/src/harness.cpp", '+ path; }', '+ std::string(path); }')
        self.assert_fails("removed symbol ccci::url(ccci::Context const&, std::__cxx11::basic_string")

    def test_where_a_function_keeps_an_argument_is_not_its_abi(self):
        # abi-dumper reads a parameter's place from the debug info of the
        # function's body; an edit of the body moves it, and breaks no caller.
        report = self.root / "report.xml"
        report.write_text("""<report><problems_with_symbols severity="High"><header name="h.hpp">
<library name="lib.so"><symbol name="f">
<problem id="Parameter_Changed_Register"><change target="domain" old_value="r13" new_value="rbp">The parameter
@target became passed in @new_value register instead of @old_value.</change></problem>
<problem id="Parameter_Type"><change target="domain">The parameter @target changed its type.</change></problem>
</symbol></library></header></problems_with_symbols></report>""")
        loader = importlib.machinery.SourceFileLoader("abi_tool", str(ABI))
        tool = importlib.util.module_from_spec(importlib.util.spec_from_loader("abi_tool", loader))
        loader.exec_module(tool)
        self.assertEqual(tool.problems(report), ["high: symbol f: The parameter domain changed its type."])

    def test_an_added_type_and_function_pass(self):
        self.edit("harness/include/ccci/harness.hpp", "\n}  // namespace ccci",
                  "struct Added {\n  int value;\n};\n\nint added(Added added);\n\n}  // namespace ccci")
        self.edit("harness/src/harness.cpp", "\n}  // namespace ccci", "\nint added(Added added) { return added.value; }\n\n"
                  "}  // namespace ccci")
        self.assert_passes()


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(sorted(unittest.defaultTestLoader.getTestCaseNames(AbiCheck))))
        sys.exit(0)
    suite = unittest.TestSuite(AbiCheck(name) for name in sys.argv[1:])
    sys.exit(0 if unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful() else 1)
