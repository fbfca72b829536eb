#!/usr/bin/env python3
"""End-to-end tests of the bundled recipe plugins: each passes against its fake
app, and each fails for the right reason when its app misbehaves.

    test_recipes.py --list | NAME...
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import SandboxTestCase, main  # noqa: E402

RECIPES = ["custom-html", "gitea", "hedgedoc", "keycloak", "matrix-synapse", "nextcloud"]


class Recipes(SandboxTestCase):
    def run_recipe(self, recipe, mode="", *extra):
        env = {"FAKE_APP_MODE": mode} if mode else {}
        run = self.cc_ci("run", recipe, *extra, env=env)
        self.assert_valid_report(run)
        self.assert_nothing_left()
        return run

    def assert_fails_at(self, run, recipe, check, *fragments, also_failed=()):
        """`check` failed with each fragment in its message; every other step passed, but
        those in `also_failed` (checks that need what `check` could not give, and the seed
        hook that uses the app the same way)."""
        self.assertEqual(run.code, 1, run.stdout)
        result = run.recipe(recipe)
        self.assertEqual(result["status"], "failed")
        self.assertEqual(result["level"], 2)
        failed = run.step(recipe, check)
        self.assertEqual(failed["status"], "failed")
        for fragment in fragments:
            self.assertIn(fragment, failed["message"])
        for step in result["steps"]:
            if step["lane"] != "fresh":
                continue  # the other lanes were not asked for (--lanes fresh)
            if step["name"] == "seed()" and step["status"] == "skipped":
                continue  # a recipe without data hooks says so, and its data rungs stay unverified
            if step["name"] != check and step["name"] not in also_failed:
                self.assertEqual(step["status"], "passed", step)

    def test_every_bundled_recipe_climbs_the_whole_ladder(self):
        run = self.cc_ci("run", "--jobs", "2", "--lanes", "fresh,upgrade,lint")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(sorted(r["recipe"] for r in run.results["recipes"]), RECIPES)
        for recipe in run.results["recipes"]:
            # Each keeps its data across a redeploy, an upgrade and a restore, lints clean and
            # leaves nothing behind.
            self.assertEqual((recipe["recipe"], recipe["status"], recipe["level"]), (recipe["recipe"], "passed", 8))
            self.assertEqual({r["status"] for r in recipe["rungs"]}, {"passed"}, recipe["recipe"])
            lanes = {lane["lane"]: lane for lane in recipe["lanes"]}
            self.assertEqual(sorted(lanes), ["fresh", "lint", "upgrade"])
            for name in ("fresh", "upgrade"):  # one app each, created once and removed once
                self.assertEqual((lanes[name]["abra_calls"]["app new"], lanes[name]["abra_calls"]["app rm"]), (1, 1))
            self.assertNotIn("app new", lanes["lint"]["abra_calls"])
            checks = [s for s in recipe["steps"] if s["kind"] == "check"]
            self.assertGreaterEqual(len(checks), 2, recipe["recipe"])
            # The backup went back into the running app after the app itself
            # undid the data -- except where the app offers no way to (HedgeDoc
            # deletes a note only in its owner's browser session), which the log says.
            names = {s["name"]: s["status"] for s in recipe["steps"]}
            log = (run.report_dir / recipe["log"]).read_text()
            if recipe["recipe"] == "hedgedoc":
                self.assertNotIn("app restore (into the running app)", names)
                self.assertIn("the restore into the running app is not tried: the recipe's test has no damage()",
                              log)
            else:
                self.assertEqual(names.get("the seeded data is damaged before the restore"), "passed", names)
                self.assertEqual(names.get("app restore (into the running app)"), "passed", names)
        self.assert_nothing_left()

    def test_recipe_secrets_stay_out_of_logs_and_reports(self):
        secret_log = self.folder / "secrets.txt"
        run = self.cc_ci("run", "gitea", "keycloak", "nextcloud", env={"FAKE_ABRA_SECRET_LOG": str(secret_log)})
        self.assertEqual(run.code, 0, run.stdout)
        values = secret_log.read_text().split()
        self.assertEqual(len(values), 9)  # gitea 4, keycloak 2, nextcloud 3
        written = run.stdout + run.stderr + "".join(
            p.read_text(errors="replace") for p in run.report_dir.rglob("*") if p.is_file())
        for value in values:
            self.assertNotIn(value, written)
        # The password gitea generated inside its container is redacted too.
        self.assertNotIn("generated random password is '", written.replace("is '[REDACTED]'", ""))
        self.assert_nothing_left()

    # ---------------------------------------------------------------- gitea

    def test_gitea_that_never_turns_healthy_stops_at_level_1(self):
        run = self.run_recipe("gitea", "unhealthy", "--timeout-probe", "2")
        result = run.recipe("gitea")
        self.assertEqual(result["level"], 1)
        readiness = next(s for s in result["steps"] if s["kind"] == "readiness")
        self.assertIn("HTTP 500", readiness["message"])

    def test_gitea_refusing_pushes_fails_the_push_check(self):
        run = self.run_recipe("gitea", "push-rejected")
        self.assert_fails_at(run, "gitea", "a repository is created over the API and a commit is pushed to it",
                             "git push", "403",
                             also_failed=["a user pushes a commit to a new repository"])
        self.assertEqual(run.step("gitea", "the API answers /api/v1/version with that token")["status"], "passed")

    # ---------------------------------------------------------------- nextcloud

    def test_nextcloud_in_maintenance_is_not_ready(self):
        run = self.run_recipe("nextcloud", "maintenance", "--timeout-probe", "2")
        result = run.recipe("nextcloud")
        self.assertEqual(result["level"], 1)
        readiness = next(s for s in result["steps"] if s["kind"] == "readiness")
        self.assertIn("HTTP 503", readiness["message"])

    def test_nextcloud_with_broken_webdav_fails_the_upload_check(self):
        run = self.run_recipe("nextcloud", "dav-broken")
        self.assert_fails_at(run, "nextcloud", "the admin uploads a file over WebDAV and reads it back",
                             "WebDAV PUT", "HTTP 507", also_failed=["the admin uploads a file over WebDAV"])

    # ---------------------------------------------------------------- keycloak

    def test_keycloak_refusing_the_admin_fails_token_and_rest_checks(self):
        run = self.run_recipe("keycloak", "bad-admin")
        self.assert_fails_at(run, "keycloak", "the admin gets a token with the password grant",
                             "expected status 200, got 401", "invalid_grant",
                             also_failed=["the admin REST API lists the realms with that token",
                                          "the admin creates a realm with a user"])
        self.assertEqual(run.step("keycloak", "the admin REST API lists the realms with that token")["status"],
                         "failed")

    # ---------------------------------------------------------------- hedgedoc

    def test_hedgedoc_without_anonymous_notes_fails_the_new_note_check(self):
        run = self.run_recipe("hedgedoc", "no-anonymous")
        self.assert_fails_at(run, "hedgedoc", "/new redirects to a new note that then serves",
                             "expected a redirect, got status 403", also_failed=["a new note is created"])

    # ---------------------------------------------------------------- matrix-synapse

    def test_synapse_without_federation_fails_the_federation_check(self):
        run = self.run_recipe("matrix-synapse", "no-federation")
        self.assert_fails_at(run, "matrix-synapse", "the federation API names Synapse", "got 404")

    def test_synapse_registration_is_opened_in_the_env_file(self):
        run = self.run_recipe("matrix-synapse")
        self.assertEqual(run.code, 0, run.stdout)
        log = (run.report_dir / "logs" / "matrix-synapse.log").read_text()
        self.assertIn("set ENABLE_REGISTRATION=true in", log)
        self.assertEqual(run.step("matrix-synapse", "open registration and allow a slow start")["status"], "passed")


if __name__ == "__main__":
    sys.exit(main(Recipes))
