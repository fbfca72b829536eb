#!/usr/bin/env python3
"""The SDK end to end: install cc-ci into a temporary root, scaffold a recipe
test with `cc-ci new-recipe`, build it out of tree with pkg-config, and run it
with the installed cc-ci against the fake abra.

    test_sdk.py --list | NAME...
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import SOURCE, Run, SandboxTestCase, main  # noqa: E402


def only(paths, what):
    found = list(paths)
    if len(found) != 1:
        raise AssertionError(f"expected one {what}, found {found}")
    return found[0]


class Sdk(SandboxTestCase):
    def install(self):
        root = self.folder / "root"
        subprocess.run(["meson", "install", "-C", os.environ["MESON_BUILD_ROOT"], "--destdir", str(root),
                        "--no-rebuild", "--quiet"], check=True, capture_output=True)
        cc_ci = only(root.rglob("bin/cc-ci"), "installed cc-ci")
        library = only(root.rglob("libcc-ci-harness.so"), "installed harness library").parent
        pkgconfig = only(root.rglob("cc-ci-harness.pc"), "pkg-config file").parent
        header = only(root.rglob("include/ccci/plugin.hpp"), "installed ABI header")
        # The SDK is what a plugin needs, no more: cc-ci's abra client, process and
        # redaction internals are not installed (a plugin asks the host through
        # the Context and its Abra, for its own app).
        installed = sorted(p.name for p in header.parent.iterdir())
        self.assertEqual(installed, ["command_error.hpp", "expect.hpp", "git.hpp", "harness.hpp", "http.hpp",
                                     "plugin.hpp", "readiness.hpp", "text.hpp", "webdav.hpp"])
        env = dict(os.environ, LD_LIBRARY_PATH=str(library), PKG_CONFIG_PATH=str(pkgconfig),
                   PKG_CONFIG_SYSROOT_DIR=str(root))
        return cc_ci, env

    def build(self, project, env):
        for command in (["meson", "setup", "build"], ["ninja", "-C", "build"]):
            result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_a_scaffolded_recipe_builds_out_of_tree_and_runs(self):
        cc_ci, env = self.install()
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "cc-ci-harness"], env=env, capture_output=True,
                               text=True, check=True).stdout
        self.assertIn("-lcc-ci-harness", flags)
        # The SDK is versioned as a whole: kAbiVersion, the pkg-config variable and the SONAME agree.
        abi = subprocess.run(["pkg-config", "--variable=abi_version", "cc-ci-harness"], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        header = (SOURCE / "core" / "include" / "ccci" / "plugin.hpp").read_text()
        self.assertIn(f"inline constexpr int kAbiVersion = {abi};", header)
        library = Path(env["LD_LIBRARY_PATH"]) / "libcc-ci-harness.so"
        dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True, check=True).stdout
        self.assertIn(f"Library soname: [libcc-ci-harness.so.{abi}]", dynamic)

        scaffold = subprocess.run([str(cc_ci), "new-recipe", "probe-app", "--dir", str(self.folder / "sdk")],
                                  env=env, capture_output=True, text=True)
        self.assertEqual(scaffold.returncode, 0, scaffold.stderr)
        project = self.folder / "sdk" / "probe-app"
        self.assertEqual(sorted(p.name for p in project.iterdir()), ["README.md", "meson.build", "probe_app.cpp"])
        # The file a maintainer starts from is laid out as this project's own code is.
        formatted = subprocess.run(["clang-format", "--dry-run", "--Werror",
                                    f"--style=file:{SOURCE / '.clang-format'}", str(project / "probe_app.cpp")],
                                   capture_output=True, text=True)
        self.assertEqual(formatted.returncode, 0, formatted.stderr)
        self.build(project, env)

        def run_it():
            command = [str(cc_ci), "run", "probe-app", "--plugins", str(project / "build"),
                       "--report-dir", str(self.report_dir)]
            process = subprocess.run(command, env={**self.environment(), **env}, capture_output=True, text=True,
                                     cwd=self.folder)
            return Run(process, process.stdout, process.stderr, self.report_dir)

        # As scaffolded: it deploys and serves, and the placeholder check says what to do.
        run = run_it()
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(run.step("probe-app", "the home page is served")["status"], "passed")
        todo = run.step("probe-app", "TODO: check what the app does for its users")
        self.assertEqual(todo["status"], "failed")
        self.assertIn("TODO: write this check (log in, create something, read it back)", todo["message"])
        self.assert_nothing_left()

        # Once the maintainer writes the check, it passes.
        source = project / "probe_app.cpp"
        text = source.read_text()
        text = text.replace('ctx.check("TODO: check what the app does for its users", [&] {\n'
                            '      throw ccci::CheckFailure(',
                            'ctx.check("nginx answers for missing pages", [&] {\n'
                            '      ccci::expect_http(ctx, "/missing").status(404).body_contains("nginx");\n'
                            '      (void)(')
        source.write_text(text)
        self.build(project, env)
        run = run_it()
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assertEqual(run.recipe("probe-app")["level"], 3)
        self.assert_nothing_left()

    def test_new_recipe_refuses_bad_names_and_existing_folders(self):
        cc_ci = os.environ["CC_CI"]
        bad = subprocess.run([cc_ci, "new-recipe", "Not_A_Name", "--dir", str(self.folder)], capture_output=True,
                             text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("is not valid", bad.stderr)
        first = subprocess.run([cc_ci, "new-recipe", "twice", "--dir", str(self.folder)], capture_output=True, text=True)
        self.assertEqual(first.returncode, 0, first.stderr)
        again = subprocess.run([cc_ci, "new-recipe", "twice", "--dir", str(self.folder)], capture_output=True,
                               text=True)
        self.assertEqual(again.returncode, 2)
        self.assertEqual(len(again.stderr.strip().splitlines()), 1)
        self.assertIn("already exists", again.stderr)


if __name__ == "__main__":
    sys.exit(main(Sdk))
