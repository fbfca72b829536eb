#!/usr/bin/env python3
"""The ladder's fresh lane: data kept across a redeploy (persistence), a backup
and restore that bring it back (backup_restore), and a teardown that leaves
nothing on the server (clean_teardown) -- each passed by a good recipe and
failed by a change that breaks it, always torn down."""

import json
import re
import shutil

from support import GENERIC_PLUGIN, RECIPES, TEST_PLUGINS, TEST_RECIPES, SandboxTestCase, git, main
import state  # support puts tests/fake_abra on the path
from sandbox import Sandbox


class Ladder(SandboxTestCase):
    def change(self, fake=None, compose=None, recipe="custom-html"):
        """A maintainer's checkout of `recipe` with `fake` lines added to
        its .fake and `compose` (old, new) replaced in compose.yml."""
        checkout = self.folder / "change"
        git(self.folder, "clone", "--quiet", str(self.sandbox.catalogue / recipe), str(checkout))
        if fake:
            with open(checkout / ".fake", "a") as out:
                out.write("".join(f"{key}={value}\n" for key, value in fake.items()))
        if compose:
            path = checkout / "compose.yml"
            text = path.read_text()
            self.assertIn(compose[0], text)
            path.write_text(text.replace(compose[0], compose[1]))
        return ["--recipe-dir", f"{recipe}={checkout}"]

    def rungs(self, run, recipe="custom-html"):
        return {r["name"]: r for r in run.recipe(recipe)["rungs"]}

    def test_a_good_recipe_passes_persistence_backup_restore_and_clean_teardown(self):
        run = self.cc_ci("run", "custom-html")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rungs = self.rungs(run)
        for name in ("persistence", "backup_restore", "clean_teardown"):
            self.assertEqual(rungs[name]["status"], "passed", rungs[name])
        # Both restores proved something: the data was really damaged, then
        # really gone, before each; and the first went into the running app.
        for name in ("the seeded data is damaged before the restore", "app restore (into the running app)",
                     "the seeded data is gone before the restore", "app restore (onto the emptied volumes)"):
            self.assertEqual(run.step("custom-html", name)["status"], "passed", name)
        # One lane: one app new and one app rm, however often it redeploys.
        argv = [c["argv"][1:] for c in self.calls()]
        self.assertEqual(sum(a[:2] == ["app", "new"] for a in argv), 1)
        self.assertEqual(sum(a[:2] == ["app", "rm"] for a in argv), 1)
        self.assertEqual(sum(a[:2] == ["app", "deploy"] for a in argv), 3)
        self.assert_nothing_left()

    def test_data_kept_outside_a_volume_fails_persistence(self):
        run = self.cc_ci("run", "custom-html", *self.change(fake={"volume": "none"}))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual((recipe["status"], recipe["level"]), ("failed", 3))
        rung = self.rungs(run)["persistence"]
        self.assertEqual(rung["status"], "failed")
        self.assertIn("the written page is served", rung["reason"])
        self.assertIn("level 4 (keeps its data across undeploy and redeploy) is failed", recipe["level_reason"])
        self.assert_nothing_left()

    def test_a_backup_that_misses_the_data_fails_backup_restore(self):
        run = self.cc_ci("run", "custom-html", *self.change(fake={"backup_skips": "cc-ci-seed.html"}))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rungs = self.rungs(run)
        self.assertEqual(rungs["persistence"]["status"], "passed")
        self.assertEqual(rungs["backup_restore"]["status"], "failed")
        self.assertIn("the written page is served", rungs["backup_restore"]["reason"])
        self.assertEqual(run.recipe("custom-html")["status"], "failed")
        self.assert_nothing_left()

    def test_a_damage_the_app_still_hides_fails_backup_restore_before_any_restore(self):
        # nginx with a cache in its container keeps serving the page deleted
        # from the volume: a restore now would prove nothing, and says so.
        run = self.cc_ci("run", "custom-html", env={"FAKE_APP_MODE": "cached"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rungs = self.rungs(run)
        self.assertEqual(rungs["persistence"]["status"], "passed")
        self.assertEqual(rungs["backup_restore"]["status"], "failed")
        self.assertIn("the seeded data is damaged before the restore", rungs["backup_restore"]["reason"])
        self.assertIn("verify_seeded() still passes after damage()", rungs["backup_restore"]["reason"])
        self.assertFalse([c for c in self.calls() if c["argv"][1:3] == ["app", "restore"]], "restored anyway")
        self.assert_nothing_left()

    def test_a_server_without_a_backupbot_leaves_backup_restore_unverified(self):
        # As on a Co-op Cloud server where backup-bot-two was never deployed:
        # abra says it found no backupbot, so nothing about the app's backups
        # was checked -- unverified, neither passed nor the recipe's failure.
        self.sandbox.stop()
        self.sandbox = Sandbox(self.folder / "no-backupbot", extra_recipes=TEST_RECIPES, backupbot=False).start()
        run = self.cc_ci("run", "custom-html")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        rung = self.rungs(run)["backup_restore"]
        self.assertEqual(rung["status"], "unverified", rung)
        self.assertIn("the server has no backupbot", rung["reason"])
        self.assertIn("FATA no backupbot discovered, is it deployed?", rung["reason"])
        self.assertEqual(recipe["status"], "passed")
        self.assertEqual(self.rungs(run)["persistence"]["status"], "passed")
        self.assertEqual(self.rungs(run)["clean_teardown"]["status"], "passed")
        step = run.step("custom-html", "app backup create")
        self.assertEqual(step["status"], "skipped", step)
        # Nothing was destroyed for a restore that could not happen.
        self.assertFalse([s for s in run.recipe("custom-html")["steps"] if s["name"].startswith("app volume remove")])
        self.assert_nothing_left()

    def test_backups_labelled_as_real_recipes_write_them_are_climbed(self):
        # Real recipes: `backupbot.backup=${ENABLE_BACKUPS:-true}`, on unless the operator turns it off.
        run = self.cc_ci("run", "custom-html", *self.change(
            compose=('"backupbot.backup=true"', '"backupbot.backup=${ENABLE_BACKUPS:-true}"')))
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assertEqual(self.rungs(run)["backup_restore"]["status"], "passed")
        # ...and one turned off by default is not a backup surface.
        shutil.rmtree(self.folder / "change")
        run = self.cc_ci("run", "custom-html", *self.change(
            compose=('"backupbot.backup=true"', '"backupbot.backup=${ENABLE_BACKUPS:-false}"')))
        self.assertEqual(self.rungs(run)["backup_restore"]["status"], "not_applicable")
        self.assert_nothing_left()

    def test_a_recipe_without_backup_labels_has_no_backup_rung_to_climb(self):
        run = self.cc_ci("run", "custom-html", *self.change(compose=('        - "backupbot.backup=true"\n', "")))
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rung = self.rungs(run)["backup_restore"]
        self.assertEqual(rung["status"], "not_applicable")
        self.assertIn("no backupbot.backup=true label", rung["reason"])
        self.assertFalse([c for c in self.calls() if c["argv"][1:3] == ["app", "backup"]], "backed up anyway")
        self.assert_nothing_left()

    def test_a_teardown_that_leaves_a_volume_fails_clean_teardown_and_names_it(self):
        run = self.cc_ci("run", "custom-html", *self.change(fake={"leaky_volume": "cache"}))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        stack = recipe["domain"].replace(".", "_")
        rung = self.rungs(run)["clean_teardown"]
        self.assertEqual(rung["status"], "failed")
        self.assertIn(f"volume {stack}_cache", rung["reason"])
        self.assertEqual(recipe["status"], "failed")
        # The leak is the recipe's, and cc-ci named it; everything else of the app went.
        self.assertEqual(self.sandbox.leftovers(), [f"volume {stack}_cache"])
        shutil.rmtree(state.swarm_dir(self.sandbox.abra_dir / "servers" / "default") / "volumes" / f"{stack}_cache")
        self.assert_nothing_left()

    def test_a_plugin_without_a_seed_hook_leaves_the_data_rungs_unverified(self):
        run = self.cc_ci("run", "fault-test", plugins=[TEST_PLUGINS / "fault"])
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rungs = self.rungs(run, "fault-test")
        self.assertEqual(rungs["persistence"]["status"], "unverified")
        self.assertIn("no seed hook", rungs["persistence"]["reason"])
        self.assertEqual(rungs["backup_restore"]["status"], "unverified")
        self.assertEqual(run.recipe("fault-test")["level"], 3)
        self.assertFalse([c for c in self.calls() if c["argv"][1:3] == ["app", "backup"]])
        self.assert_nothing_left()

    def test_without_a_docker_cli_the_clean_teardown_is_unverified_never_passed(self):
        run = self.cc_ci("run", "custom-html", "--docker", "")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rung = self.rungs(run)["clean_teardown"]
        self.assertEqual(rung["status"], "unverified")
        self.assertIn("--docker", rung["reason"])
        self.assert_nothing_left()

    def test_a_docker_that_cannot_answer_errors_the_clean_teardown(self):
        run = self.cc_ci("run", "custom-html", "--docker", str(self.folder / "no-such-docker"))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(self.rungs(run)["clean_teardown"]["status"], "errored")
        self.assertEqual(run.recipe("custom-html")["status"], "errored")
        self.assert_nothing_left()

    def test_the_plan_lists_the_data_phases_and_the_inspection_in_order(self):
        plan = self.cc_ci("plan", "custom-html")
        self.assertEqual(plan.code, 0, plan.stderr)
        out = plan.stdout
        order = ["  deploy (timeout", "  probe (timeout", "  persistence (timeout", "check: the written page is served",
                 "  backup_restore (timeout", "expect gone: the written page is served",
                 "  teardown (timeout", "check: nothing of the app is left on the server"]
        positions = [out.find(fragment) for fragment in order]
        self.assertNotIn(-1, positions, out)
        self.assertEqual(positions, sorted(positions), out)
        self.assertIn("app backup create", out)
        self.assertIn("app volume remove", out)
        self.assertIn("app restore", out)
        self.assertIn('  GET /volumes?filters={"name":{"cust-', out)
        self.assertIn("  (Docker's API, through ", out)
        self.assertEqual(self.calls(), [], "the plan ran abra")

    # ------------------------------------------------------------ the upgrade lane

    def deploys(self):
        wanted = (["app", "deploy"], ["app", "upgrade"], ["app", "new"])
        return [c["argv"][1:] for c in self.calls() if c["argv"][1:3] in wanted]

    def test_the_upgrade_lane_moves_the_previous_release_to_the_latest_keeping_its_data(self):
        previous, latest = self.sandbox.releases["custom-html"][-2:]
        run = self.cc_ci("run", "custom-html", "--lanes", "upgrade")
        # Only what was asked for ran, and passed; the fresh lane's rungs stay unverified.
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual((self.rungs(run)["deploys"]["status"], run.recipe("custom-html")["level"]), ("unverified", 0))
        rung = self.rungs(run)["upgrade"]
        self.assertEqual(rung["status"], "passed", rung)
        [lane] = run.recipe("custom-html")["lanes"][1:2]
        self.assertEqual((lane["lane"], lane["from"], lane["status"]), ("upgrade", previous, "passed"))
        self.assertEqual((lane["abra_calls"]["app new"], lane["abra_calls"]["app upgrade"],
                          lane["abra_calls"]["app rm"]), (1, 1, 1))
        new, deploy, upgrade = self.deploys()
        self.assertEqual(new[3:4], [previous])
        self.assertEqual(upgrade[2:4], [run.recipe("custom-html")["lanes"][1]["domain"], latest])
        names = [s["name"] for s in run.recipe("custom-html")["steps"] if s["lane"] == "upgrade"]
        self.assertLess(names.index("write a page into the content volume"), names.index(f"app upgrade to {latest}"))
        self.assertLess(names.index(f"app upgrade to {latest}"), names.index("the written page is served"))
        self.assertIn("index page is served as HTML", names)  # the recipe checks, on the target
        self.assert_nothing_left()

    def test_an_unreleased_change_is_reached_by_a_chaos_redeploy_of_its_checkout(self):
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh,upgrade", *self.change(fake={"note": "edited"}))
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(self.rungs(run)["upgrade"]["status"], "passed")
        upgrade_domain = run.recipe("custom-html")["lanes"][1]["domain"]
        moves = [a for a in self.deploys() if a[:3] == ["app", "deploy", upgrade_domain]]
        self.assertEqual(len(moves), 2)
        self.assertNotIn("--chaos", moves[0])  # the previous release, by version
        self.assertIn("--chaos", moves[1])
        self.assertIn("--force", moves[1])
        self.assert_nothing_left()

    def test_the_release_an_upgrade_starts_from_is_read_as_itself(self):
        # The previous release's compose file does not read; the change under
        # test mends it. The fresh lane deploys the change and passes; the
        # upgrade lane, which would first deploy that release, says so and
        # deploys nothing.
        change = self.change(recipe="custom-html")
        checkout = self.folder / "change"
        good = (checkout / "compose.yml").read_text()
        (checkout / "compose.yml").write_text("services:\n  app: [unclosed\n")
        git(checkout, "commit", "--quiet", "--all", "--message", "a release with a broken compose file")
        git(checkout, "tag", "--annotate", "9.9.9+1.0.0", "--message", "a broken release")
        (checkout / "compose.yml").write_text(good)
        plan = self.cc_ci("plan", "custom-html", "--lanes", "fresh,upgrade", *change)
        self.assertEqual(plan.code, 0, plan.stderr)
        self.assertIn("  previous release 9.9.9+1.0.0\n", plan.stdout)
        self.assertIn("custom-html, upgrade lane: fails at once: the recipe's compose files of 9.9.9+1.0.0 "
                      "cannot be read as abra reads them: ", plan.stdout)
        self.assertNotIn("fresh lane: fails at once", plan.stdout)
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh,upgrade", *change)
        self.assert_valid_report(run)
        rungs = self.rungs(run)
        self.assertEqual(rungs["backup_restore"]["status"], "passed", rungs["backup_restore"])
        self.assertEqual(rungs["upgrade"]["status"], "errored", rungs["upgrade"])
        self.assertIn("the previous release could not be deployed to upgrade from: \"read the recipe's compose "
                      "files\" failed: the recipe's compose files of 9.9.9+1.0.0 cannot be read as abra reads "
                      "them: compose.yml line 3", rungs["upgrade"]["reason"])
        self.assertEqual(sum(a[:2] == ["app", "new"] for a in self.deploys()), 1, "the upgrade lane deployed")
        self.assert_nothing_left()

    def test_a_release_whose_files_lead_out_of_its_checkout_fails_only_its_upgrade_lane(self):
        # A tag no change can mend: its hostile COMPOSE_FILE fails the lane
        # that would deploy it, named, and the rest of the run goes on.
        change = self.change(recipe="custom-html")
        checkout = self.folder / "change"
        sample = (checkout / ".env.sample").read_text()
        (checkout / ".env.sample").write_text(sample + "COMPOSE_FILE=compose.yml:../../outside.yml\n")
        git(checkout, "commit", "--quiet", "--all", "--message", "a release that reads outside its checkout")
        git(checkout, "tag", "--annotate", "9.9.9+1.0.0", "--message", "a hostile release")
        (checkout / ".env.sample").write_text(sample)
        plan = self.cc_ci("plan", "custom-html", "--lanes", "fresh,upgrade", *change)
        self.assertEqual(plan.code, 0, plan.stdout + plan.stderr)
        self.assertIn("custom-html, upgrade lane: fails at once: the recipe's compose files of 9.9.9+1.0.0 "
                      "cannot be read as abra reads them: the recipe's file \"../../outside.yml\": not a file "
                      "inside the recipe's checkout", plan.stdout)
        self.assertNotIn("fresh lane: fails at once", plan.stdout)

    def test_a_change_whose_migration_fails_fails_the_upgrade_rung(self):
        # A broken app answers 500 until readiness gives up: short phases keep the test short.
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh,upgrade", "--timeout-deploy", "10",
                         "--timeout-probe", "5", *self.change(fake={"migration": "fail"}))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rungs = self.rungs(run)
        self.assertEqual(rungs["persistence"]["status"], "passed")  # a fresh install is fine
        self.assertEqual(rungs["upgrade"]["status"], "failed")
        self.assertIn("HTTP 500", rungs["upgrade"]["reason"])
        self.assertEqual(run.recipe("custom-html")["level"], 4)
        self.assert_nothing_left()

    def test_without_a_previous_release_the_upgrade_rung_is_unverified_and_says_why(self):
        oldest = self.sandbox.releases["custom-html"][0]
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh,upgrade", "--ref", f"custom-html={oldest}")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rung = self.rungs(run)["upgrade"]
        self.assertEqual(rung["status"], "unverified")
        self.assertIn(f"no release of custom-html before {oldest}", rung["reason"])
        self.assertEqual(run.recipe("custom-html")["level"], 4)
        self.assertEqual(sum(a[:2] == ["app", "new"] for a in self.deploys()), 1, "an upgrade lane deployed")
        self.assert_nothing_left()

    # ------------------------------------------------------------ the lint lane

    def test_the_lint_lane_passes_a_clean_recipe_and_deploys_nothing(self):
        run = self.cc_ci("run", "custom-html", "--lanes", "lint")
        self.assert_valid_report(run)
        self.assertEqual(self.rungs(run)["lint"]["status"], "passed")
        self.assertEqual([c["argv"][1:3] for c in self.calls()], [["recipe", "lint"]])
        self.assert_nothing_left()

    def test_a_failed_error_severity_lint_rule_fails_the_lint_rung_and_names_it(self):
        run = self.cc_ci("run", "custom-html", "--lanes", "lint", *self.change(fake={"lint_fail": "R010,R003"}))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rung = self.rungs(run)["lint"]
        self.assertEqual(rung["status"], "failed")
        self.assertIn("R010 traefik routing enabled", rung["reason"])
        self.assertNotIn("R003", rung["reason"])  # a warning is logged, not failed
        self.assert_nothing_left()

    def test_all_lanes_take_a_recipe_to_level_8_and_the_plan_shows_each(self):
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh,upgrade,lint")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual((recipe["level"], recipe["level_reason"]), (8, "the top of the ladder"))
        self.assertIn("custom-html: passed, level 8", run.stdout)
        plan = self.cc_ci("plan", "custom-html", "--lanes", "fresh,upgrade,lint")
        self.assertEqual(plan.code, 0, plan.stderr)
        for fragment in ("custom-html, fresh lane on server default", "custom-html, upgrade lane on server default",
                         "custom-html, lint lane (deploys nothing)", "recipe lint custom-html", "app upgrade "):
            self.assertIn(fragment, plan.stdout)
        self.assert_nothing_left()

    # ------------------------------------------------------------ convergence

    def test_a_stack_that_never_converges_fails_the_deploys_rung_and_is_torn_down(self):
        # abra is told not to wait (-c); the host asks Docker until the deploy phase ends.
        run = self.cc_ci("run", "custom-html", "--timeout-deploy", "3", *self.change(fake={"converge": "never"}))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual((self.rungs(run)["deploys"]["status"], recipe["level"]), ("failed", 0))
        step = run.step("custom-html", "every service of the stack runs its replicas")
        self.assertEqual(step["status"], "failed")
        self.assertRegex(step["message"], r"did not converge within the deploy phase \(3s, \d+ looks\): "
                                          r"cust-[0-9a-f]{6}_cc-ci_test_app 0/1")
        self.assertIn("does not deploy", self.rungs(run)["deploys"]["reason"])
        self.assertEqual(run.step("custom-html", "app rm")["status"], "passed")
        plan = self.cc_ci("plan", "custom-html")
        self.assertIn("check: every service of the stack runs its replicas\n", plan.stdout)
        self.assertIn('  polled until the deploy phase ends: GET /services?status=true&filters='
                      '{"label":{"com.docker.stack.namespace=cust-', plan.stdout)
        self.assertIn(f"  (Docker's API, through {self.sandbox_docker()} --context default system dial-stdio)",
                      plan.stdout)
        self.assert_nothing_left()

    def sandbox_docker(self):
        return json.loads(self.sandbox.config.read_text())["docker"]

    # ------------------------------------------------------------ the compose overlay

    def test_a_plugins_compose_overlay_joins_chaos_deploys_and_never_a_release(self):
        # matrix-synapse ships matrix-synapse.compose.yml beside its plugin. An
        # unreleased change takes both roads: the upgrade lane deploys the
        # previous release by version (from a clean checkout, without the
        # overlay: abra refuses local changes, and the fake counts a file
        # only .git/info/exclude hides), then moves to the change with --chaos.
        deploy_log = self.folder / "deploys.jsonl"
        change = self.change(fake={"note": "edited"}, recipe="matrix-synapse")
        git(self.folder / "change", "commit", "--quiet", "--all", "--message", "a committed change")
        run = self.cc_ci("run", "matrix-synapse", "--lanes", "fresh,upgrade", *change,
                         env={"FAKE_ABRA_DEPLOY_LOG": str(deploy_log)})
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(self.rungs(run, "matrix-synapse")["upgrade"]["status"], "passed")
        deploys = [json.loads(line) for line in deploy_log.read_text().splitlines()]
        upgrade_domain = run.recipe("matrix-synapse")["lanes"][1]["domain"]
        self.assertEqual([d["chaos"] for d in deploys if d["domain"] == upgrade_domain], [False, True])
        for deploy in deploys:
            if deploy["chaos"]:
                self.assertEqual(deploy["compose_files"], ["compose.yml", "compose.cc-ci.yml"], deploy)
            else:
                self.assertEqual(deploy["compose_files"], ["compose.yml"], deploy)
                self.assertFalse(deploy["dirty"], deploy)
        names = [s["name"] for s in run.recipe("matrix-synapse")["steps"]]
        self.assertEqual(names.count("add the CI compose overlay to COMPOSE_FILE"), 1)  # the fresh lane's
        plan = self.cc_ci("plan", "matrix-synapse", "--lanes", "fresh,upgrade", *change)
        self.assertEqual(plan.code, 0, plan.stderr)
        self.assertIn("append compose.cc-ci.yml to COMPOSE_FILE in ", plan.stdout)
        # The plan reads each revision as it will be deployed: the change with
        # the overlay; the upgrade lane's previous release without, then the change with.
        fresh, upgrade = plan.stdout.split(", upgrade lane")
        self.assertIn("  compose  compose.yml, compose.cc-ci.yml (COMPOSE_FILE)\n", fresh)
        previous = re.search(r"  from     (\S+) \(app new at it\)", upgrade)[1]
        self.assertIn(f"  compose  compose.yml (COMPOSE_FILE of {previous})\n", upgrade)
        self.assertRegex(upgrade, r"  then     compose.yml, compose.cc-ci.yml \(COMPOSE_FILE of unreleased "
                                  r"[0-9a-f]{8}\), services app\n")
        self.assert_nothing_left()

    def test_the_overlay_joins_a_compose_file_chain_as_recipes_write_it(self):
        # Real recipes quote COMPOSE_FILE and build it in steps; the overlay is
        # chained after whatever the env file ends with, and the plan says the same.
        deploy_log = self.folder / "deploys.jsonl"
        change = self.change(recipe="matrix-synapse")
        sample = self.folder / "change" / ".env.sample"
        sample.write_text(sample.read_text() + 'COMPOSE_FILE="compose.yml"\n#COMPOSE_FILE="$COMPOSE_FILE:compose.smtp.yml"\n')
        run = self.cc_ci("run", "matrix-synapse", *change, env={"FAKE_ABRA_DEPLOY_LOG": str(deploy_log)})
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        deploys = [json.loads(line) for line in deploy_log.read_text().splitlines()]
        self.assertTrue(deploys)
        for deploy in deploys:
            self.assertEqual(deploy["compose_files"], ["compose.yml", "compose.cc-ci.yml"], deploy)
        plan = self.cc_ci("plan", "matrix-synapse", *change)
        self.assertIn("  compose  compose.yml, compose.cc-ci.yml (COMPOSE_FILE)\n", plan.stdout)
        self.assert_nothing_left()

    def test_a_release_is_deployed_without_the_overlay_and_the_log_says_so(self):
        deploy_log = self.folder / "deploys.jsonl"
        run = self.cc_ci("run", "matrix-synapse", env={"FAKE_ABRA_DEPLOY_LOG": str(deploy_log)})
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        deploys = [json.loads(line) for line in deploy_log.read_text().splitlines()]
        self.assertTrue(deploys)
        for deploy in deploys:
            self.assertEqual((deploy["chaos"], deploy["compose_files"], deploy["dirty"]),
                             (False, ["compose.yml"], False), deploy)
        self.assertNotIn("add the CI compose overlay to COMPOSE_FILE", run.step_names("matrix-synapse"))
        log = (self.report_dir / run.recipe("matrix-synapse")["log"]).read_text()
        self.assertIn("the CI compose overlay matrix-synapse.compose.yml is not used", log)
        plan = self.cc_ci("plan", "matrix-synapse")
        self.assertIn("  compose  compose.yml (COMPOSE_FILE)\n", plan.stdout)
        self.assert_nothing_left()

    def test_a_plugin_whose_compose_overlay_is_missing_is_refused_in_one_line(self):
        alone = self.folder / "alone"
        alone.mkdir()
        shutil.copy(RECIPES / "matrix-synapse" / "matrix-synapse.so", alone)
        run = self.cc_ci("run", "matrix-synapse", plugins=[alone])
        self.assertEqual(run.code, 2, run.stdout + run.stderr)
        [line] = run.stderr.strip().splitlines()
        self.assertIn('compose overlay "matrix-synapse.compose.yml" is not beside the plugin', line)
        self.assertEqual(self.calls(), [], "a refused plugin ran abra")
        self.assert_nothing_left()

    # ------------------------------------------------------------ the generic plugin

    def test_a_recipe_without_a_plugin_climbs_the_generic_ladder(self):
        plugins = [RECIPES, GENERIC_PLUGIN]
        listing = self.cc_ci("list", plugins=plugins)
        self.assertEqual(listing.code, 0, listing.stderr)
        self.assertIn("any other recipe  (" + str(GENERIC_PLUGIN / "generic.so"), listing.stdout)
        self.assertIn("\n  test-app\n", listing.stdout)
        run = self.cc_ci("run", "test-app", "--lanes", "fresh,upgrade,lint", plugins=plugins)
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("test-app")
        self.assertEqual(recipe["level"], 8, recipe["level_reason"])
        self.assertEqual(run.step("test-app", "write a marker file into app:/usr/share/nginx/html")["status"],
                         "passed")
        # The restores are proven: the marker was removed in the running app,
        # then gone with the volumes, before each, and back after each.
        self.assertEqual(run.step("test-app", "remove the marker file from app:/usr/share/nginx/html")["status"],
                         "passed")
        self.assertEqual(run.step("test-app", "the seeded data is damaged before the restore")["status"], "passed")
        self.assertEqual(run.step("test-app", "the seeded data is gone before the restore")["status"], "passed")
        self.assert_nothing_left()

    def test_the_generic_plugin_refuses_what_is_not_a_recipe_name(self):
        run = self.cc_ci("run", "../escape", plugins=[RECIPES, GENERIC_PLUGIN])
        self.assert_one_line_error(run, "\"../escape\" is not a recipe name")
        self.assertEqual(self.calls(), [])

    def test_the_generic_plugin_names_a_recipe_missing_from_the_catalogue(self):
        run = self.cc_ci("run", "no-such-recipe", plugins=[RECIPES, GENERIC_PLUGIN])
        self.assertEqual(run.code, 2, run.stdout + run.stderr)
        self.assertIn("no-such-recipe", run.stderr)
        self.assertEqual(self.calls(), [])

    def test_a_broken_recipe_fails_the_generic_ladder_and_is_torn_down(self):
        run = self.cc_ci("run", "test-app", "--lanes", "fresh", plugins=[RECIPES, GENERIC_PLUGIN],
                         env={"FAKE_ABRA_FAULTS": "app.restore=fail"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        rungs = self.rungs(run, "test-app")
        self.assertEqual(rungs["persistence"]["status"], "passed")
        self.assertEqual(rungs["backup_restore"]["status"], "failed")
        self.assertIn("app restore", rungs["backup_restore"]["reason"])
        self.assert_nothing_left()


if __name__ == "__main__":
    import sys
    sys.exit(main(Ladder))
