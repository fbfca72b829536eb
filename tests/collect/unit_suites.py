#!/usr/bin/env python3
"""The doctest suites of tests/unit, so that every one of them runs.

    unit_suites.py list FILE...
        the suite names the files declare (TEST_SUITE or TEST_SUITE_BEGIN), one
        a line: tests/meson.build registers one Meson test per name
    unit_suites.py check --binary UNIT_TESTS --sources DIR NAME...
        fails, naming what is wrong, unless the registered NAMEs are exactly
        the suites: every suite declared in DIR's sources is registered, every
        NAME matches test cases in UNIT_TESTS, and together they match all of
        them once (a TEST_CASE outside any TEST_SUITE would never run)

Meson reconfigures when a listed source changes (run_command's arguments are
build definition files), so `list` keeps the registration current; `check`,
a test of its own, catches the rest: a source file added to the directory
but not to the build, a suite written some other way, a stale configuration."""

import argparse
import re
import subprocess
import sys
from pathlib import Path

DECLARED = re.compile(r'\bTEST_SUITE(?:_BEGIN)?\s*\(\s*"((?:[^"\\]|\\.)*)"')
COUNT = re.compile(r"test cases passing the current filters: (\d+)")
# doctest reads these in a --test-suite filter as wildcards or a separator.
FILTER_SYNTAX = re.compile(r"[*?,\\]")


def declared(paths):
    """{suite: [file, …]} over the given C++ files."""
    suites = {}
    for path in paths:
        for name in DECLARED.findall(Path(path).read_text(encoding="utf-8")):
            suites.setdefault(name, []).append(str(path))
    return suites


def count(binary, *filters):
    output = subprocess.run([binary, "--count", "--no-intro", *filters], capture_output=True, text=True,
                            check=True).stdout
    found = COUNT.search(output)
    if found is None:
        raise RuntimeError(f"{binary} --count said nothing countable: {output!r}")
    return int(found[1])


def problems(binary, sources, registered):
    found = []
    files = sorted(p for p in Path(sources).iterdir() if p.suffix in (".cpp", ".hpp"))
    for name, where in sorted(declared(files).items()):
        if name not in registered:
            found.append(f"TEST_SUITE(\"{name}\") in {', '.join(where)} is not registered: reconfigure "
                         f"(meson setup --reconfigure), and check that tests/meson.build lists the file")
    total = 0
    for name in registered:
        if FILTER_SYNTAX.search(name):
            found.append(f"suite \"{name}\": doctest would read its * ? , or \\ as a filter; rename it")
            continue
        cases = count(binary, f"--test-suite={name}")
        if cases == 0:
            found.append(f"suite \"{name}\" is registered but matches no test case in {binary}")
        total += cases
    everything = count(binary)
    if total != everything:
        found.append(f"the registered suites match {total} test cases, {binary} has {everything}: a TEST_CASE "
                     f"outside any TEST_SUITE, or suites whose names differ only in case, never run as registered")
    return found


def main(arguments):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list")
    listing.add_argument("files", nargs="+")
    checking = commands.add_parser("check")
    checking.add_argument("--binary", required=True)
    checking.add_argument("--sources", required=True)
    checking.add_argument("registered", nargs="*")
    options = parser.parse_args(arguments)
    if options.command == "list":
        suites = declared(options.files)
        if not suites:
            print("unit_suites: no TEST_SUITE in the files given", file=sys.stderr)
            return 1
        print("\n".join(sorted(suites)))
        return 0
    found = problems(options.binary, options.sources, options.registered)
    for line in found:
        print(f"unit_suites: {line}", file=sys.stderr)
    if not found:
        print(f"unit_suites: {len(options.registered)} suites registered, every test case in one of them")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
