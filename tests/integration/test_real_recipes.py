#!/usr/bin/env python3
"""Recipes as their maintainers really write them (tests/fixtures/real-recipes,
each modelled on a public recipe named in its fixture.json and in
docs/abra-fidelity.md): for each, `cc-ci plan` must name the release it
tests and the one an upgrade starts from (or say clearly why there is none),
the compose files COMPOSE_FILE builds, the services, what backupbot backs up,
where the generic plugin writes its data, and refuse a domain suffix that
would give one of the recipe's secrets or configs a name over Docker's 64
characters; its lint lane reads abra's lint table."""

import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import GENERIC_PLUGIN, SOURCE, SandboxTestCase, git, main  # noqa: E402

FIXTURES = SOURCE / "tests" / "fixtures" / "real-recipes"
# A plan line that lists a backed-up service: "  backups  db: /a (volume v) /b (in volume v); …".
BACKUP_LINE = re.compile(r"^(?:  backups  |           )(\S+): (.*)$")
BACKUP_PATH = re.compile(r"(/\S*)(?: \((volume|in volume) ([^)]+)\))?")


def domain_label(recipe):
    """The length of cc-ci's app label for `recipe`: <recipe[:4]>-<6 hex>."""
    return len(recipe[:4].rstrip("-")) + 7


class RealRecipes(SandboxTestCase):
    def repository(self, name):
        """The fixture as a recipe repository in the sandbox's catalogue, with
        its tags in the real recipe's form; returns the fixture's description."""
        fixture = json.loads((FIXTURES / name / "fixture.json").read_text())
        destination = self.sandbox.catalogue / name
        shutil.copytree(FIXTURES / name, destination, ignore=shutil.ignore_patterns("fixture.json"))
        git(destination, "init", "--quiet", "--initial-branch", "main")
        git(destination, "add", "--all")
        git(destination, "commit", "--quiet", "--message", "the recipe")
        for tag in fixture["tags"]:
            git(destination, "commit", "--quiet", "--allow-empty", "--message", f"release {tag}")
            if fixture["tag_kind"] == "annotated":
                git(destination, "tag", "--annotate", tag, "--message", f"Release {tag}")
            else:
                git(destination, "tag", tag)
        return fixture

    def plan(self, name, *args):
        return self.cc_ci("plan", name, "--lanes", "fresh,upgrade,lint", *args, plugins=[GENERIC_PLUGIN])

    def backups_in(self, plan):
        """{service: {(path, volume or "", whole volume?)}} from the plan's fresh lane."""
        fresh = plan.stdout.split(", upgrade lane")[0]
        found = {}
        in_backups = False
        for line in fresh.splitlines():
            in_backups = line.startswith("  backups  ") or (in_backups and line.startswith("           "))
            matched = BACKUP_LINE.match(line) if in_backups else None
            if matched:
                paths = matched[2].split(";")[0]
                found[matched[1]] = {(p[0], p[2], p[1] == "volume") for p in BACKUP_PATH.findall(paths)}
        return found

    @staticmethod
    def stack_of(run):
        return re.search(r"would be named ([a-z0-9]+-[0-9a-f]{6}_x+_test)", run.stderr)[1]

    def check_fixture(self, name):
        fixture = self.repository(name)
        expect = fixture["expect"]
        refs = []
        if expect["latest_release"] is None:
            # No release to test: one clear line that says why and what to give instead.
            refused = self.plan(name)
            self.assert_one_line_error(refused, f"recipe {name}", "has no release tag", "give --ref")
            if fixture["tags"]:  # the tags it has instead, named
                self.assertTrue(any(tag in refused.stderr for tag in fixture["tags"]), refused.stderr)
            else:
                self.assertIn("it has no tags at all", refused.stderr)
            refs = ["--ref", f"{name}=main"]
        plan = self.plan(name, *refs)
        self.assertEqual(plan.code, 0, plan.stdout + plan.stderr)
        out = plan.stdout

        # The target and the release an upgrade starts from.
        if expect["latest_release"]:
            self.assertIn(f"  target   {expect['latest_release']} ", out)
        else:
            self.assertRegex(out, r"  target   unreleased [0-9a-f]{8} ")
        previous = expect["previous_release"] or "none"
        self.assertIn(f"  previous release {previous}\n", out)
        if expect["previous_release"]:
            self.assertIn(f"{name}, upgrade lane on server", out)
            self.assertIn(f"  from     {expect['previous_release']} (app new at it)", out)
        else:
            self.assertIn(f"{name}, upgrade lane: not run: there is no release of {name} before", out)

        # COMPOSE_FILE as .env.sample builds it, and the services of those files.
        self.assertIn(f"  compose  {', '.join(expect['compose_files'])} (COMPOSE_FILE)\n", out)
        self.assertIn(f"  services {', '.join(expect['services'])}\n", out)

        # What backupbot backs up, service by service.
        backups = self.backups_in(plan)
        wanted = (expect["backup"] or {}).get("services", {})
        self.assertEqual(sorted(backups), sorted(wanted), out)
        for service, spec in wanted.items():
            got = backups[service]
            for path in spec.get("paths", []):  # the older backupbot.backup.path: container paths
                self.assertIn((path, "", False), got)
            for volume, how in spec.get("volumes", {}).items():
                in_volume = {p for p in got if p[1] == volume}
                if not how["backup"]:
                    self.assertEqual(in_volume, set(), f"{service}: volume {volume} is opted out")
                elif not how["paths"]:
                    self.assertEqual(len(in_volume), 1, got)
                    self.assertTrue(next(iter(in_volume))[2], f"{service}: all of {volume}")
                else:
                    self.assertEqual(sorted(p[0].rsplit("/", 1)[1] for p in in_volume),
                                     sorted(Path(p).name for p in how["paths"]))
            self.assertEqual(len(got), len(spec.get("paths", [])) + sum(
                max(1, len(how["paths"])) for how in spec.get("volumes", {}).values() if how["backup"]), got)
        if not wanted:
            self.assertIn("  backups  no service is labelled backupbot.backup=true: the backup rung does not apply",
                          out)

        # The generic plugin writes its marker into the first whole volume backupbot
        # backs up, else an older backup path; with neither, nowhere (its data rungs say so).
        choices = [(s, p[0]) for s in wanted for p in sorted(backups[s]) if p[2]] or \
                  [(s, p[0]) for s in wanted for p in sorted(backups[s]) if not p[1]]
        fresh = out.split(", upgrade lane")[0]
        # (A plan names the plugin's steps and runs none of them.)
        marker = re.search(r"step: write a marker file into ([^:\s]+):(\S+)$", fresh, re.M)
        if choices:
            self.assertIsNotNone(marker, fresh)
            self.assertIn((marker[1], marker[2]), choices)
        else:
            self.assertIsNone(marker, fresh)

        # Docker's 64 characters over secrets and configs: a suffix that makes the
        # recipe's longest name 65 characters is refused, naming it; one less passes.
        longest = expect["longest_docker_name"]
        if longest:
            rest = len(longest["name_template"]) - len("<stack>")
            suffix_length = 64 - rest - domain_label(name) - 1  # the stack: <label>_<suffix with . as _>
            for length, refused in ((suffix_length + 1, True), (suffix_length, False)):
                suffix = "x" * (length - 5) + ".test"
                run = self.plan(name, *refs, "--domain-suffix", suffix)
                if refused:
                    self.assert_one_line_error(run, f"recipe {name}: the app's ", " would be named",
                                               "(65 characters; Docker allows 64)")
                    if not expect["secrets"]:  # only a config can be the one
                        template = longest["name_template"].replace("<stack>", "")
                        self.assertIn(f"config would be named {self.stack_of(run)}{template} (65", run.stderr)
                else:
                    self.assertEqual(run.code, 0, run.stderr)

        # The lint lane reads abra's lint table (heavy style) and deploys nothing.
        lint = self.cc_ci("run", name, "--lanes", "lint", *refs, plugins=[GENERIC_PLUGIN])
        self.assert_valid_report(lint)
        rung = {r["name"]: r for r in lint.recipe(name)["rungs"]}["lint"]
        self.assertEqual(rung["status"], "passed", rung)
        self.assertEqual([c["argv"][1:3] for c in self.calls()], [["recipe", "lint"]])
        self.assert_nothing_left()

    def test_suffixed_release_tags_both_label_forms_and_abra_sh_versions(self):
        self.check_fixture("social-suffixed")

    def test_backup_labels_outside_deploy_do_not_count(self):
        self.check_fixture("search-container-labels")

    def test_lightweight_v_tags_are_not_releases_and_a_config_is_the_longest_name(self):
        self.check_fixture("proxy-vtag")

    def test_a_recipe_without_tags_is_tested_at_a_ref(self):
        self.check_fixture("room-untagged")

    def test_services_not_named_app_and_several_backed_up_services(self):
        self.check_fixture("hotline-multi")

    def test_annotated_v_tags_and_the_older_backup_path_label(self):
        self.check_fixture("cms-oldpath")

    def test_config_versions_only_in_abra_sh(self):
        self.check_fixture("php-stack")


if __name__ == "__main__":
    sys.exit(main(RealRecipes))
