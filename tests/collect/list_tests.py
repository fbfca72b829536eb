#!/usr/bin/env python3
"""Prints the test names a test file defines, one a line, without running it.

    list_tests.py FILE

Meson registers one test per name at configure time. Reading the file's syntax
tree instead of importing it means collecting tests needs Python alone: a test
file's own imports (markdown, yaml, cryptography, jsonschema…) are what
tools/test installs, and `meson setup` must work before that (tools/demo).

The names are the test* methods of each class in FILE that derives, within
FILE, from a class named *TestCase; a base class imported from elsewhere
(support.SandboxTestCase) must define no tests of its own.
test_collect.py checks that this list equals the file's own `--list`."""

import ast
import sys


def base_names(node):
    for base in node.bases:
        if isinstance(base, ast.Name):
            yield base.id
        elif isinstance(base, ast.Attribute):  # unittest.TestCase
            yield base.attr


def test_names(source, filename="<test file>"):
    classes = {node.name: node for node in ast.parse(source, filename).body if isinstance(node, ast.ClassDef)}

    def is_test_case(name, seen=()):
        if name.endswith("TestCase"):
            return True
        node = classes.get(name)
        return node is not None and name not in seen and any(is_test_case(b, (*seen, name)) for b in base_names(node))

    def methods(name):
        node = classes.get(name)
        if node is None:
            return set()
        own = {item.name for item in node.body
               if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test")}
        return own.union(*(methods(base) for base in base_names(node)))

    return sorted(set().union(*(methods(name) for name in classes if is_test_case(name))))


def main(arguments):
    if len(arguments) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(arguments[0], encoding="utf-8") as handle:
        names = test_names(handle.read(), arguments[0])
    if not names:
        print(f"list_tests: no tests in {arguments[0]}", file=sys.stderr)
        return 1
    print("\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
