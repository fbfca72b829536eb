#!/usr/bin/env python3
"""cc-ci on a real Docker Swarm: the fake abra drives the Docker engine behind
DOCKER_HOST (stacks, secrets, volumes, overlay networks, real nginx), the
Traefik stand-in routes to the tasks, and every test ends by asserting that no
stack, service, container, secret, volume, config or network of its run is
left on the engine.

Needs a running engine in swarm mode and the images of images.py, named by
CC_CI_SWARM_IMAGES (a JSON file); tools/test provides both.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from support import CC_CI, TEST_PLUGINS, TEST_RECIPES, Run, SandboxTestCase, git, main  # noqa: E402
from sandbox import Sandbox  # noqa: E402  (support put tests/fake_abra on the path)
from real_swarm import RealSwarm  # noqa: E402
import docker_swarm  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from png import colours  # noqa: E402


class Swarm(SandboxTestCase):
    def setUp(self):
        images = os.environ.get("CC_CI_SWARM_IMAGES")
        self.assertTrue(images, "CC_CI_SWARM_IMAGES is not set: run the swarm suite through tools/test")
        self.folder = Path(tempfile.mkdtemp(prefix="cc-ci-swarm-"))
        self.sandbox = Sandbox(self.folder / "sandbox", extra_recipes=TEST_RECIPES,
                               swarm=RealSwarm(json.loads(Path(images).read_text())))
        self.addCleanup(self.sandbox.stop)  # the proxy stack goes even when start() fails half-way
        self.sandbox.start()
        self.report_dir = self.folder / "report"
        self.call_log = self.folder / "abra-calls.jsonl"

    def started_containers(self, since):
        """The app containers the engine started since `since` (what really ran)."""
        mark = f"_{self.sandbox.domain_suffix.replace('.', '_')}_"
        events = docker_swarm.lines("events", "--since", str(int(since)), "--until", str(int(time.time()) + 1),
                                    "--filter", "type=container", "--filter", "event=start",
                                    "--format", "{{.Actor.Attributes.name}}")
        return [name for name in events if mark in name]

    def rungs(self, run, recipe="custom-html"):
        return {r["name"]: r["status"] for r in run.recipe(recipe)["rungs"]}

    def snapshots(self, run, recipe):
        """The restic snapshots of the recipe's fresh-lane app in the backupbot's
        repository (restic in the bot's container reads the password itself)."""
        domain = next(lane["domain"] for lane in run.recipe(recipe)["lanes"] if lane["lane"] == "fresh")
        stack = domain.replace(".", "_")
        container = self.sandbox.swarm.backupbot_container()
        self.assertTrue(container, "no backupbot runs on the engine")
        listed = docker_swarm.docker("exec", container, "restic", "snapshots", "--json", "--tag", stack)
        return stack, json.loads(listed.stdout.decode() or "[]")

    def change(self, old, new):
        """A maintainer's change to custom-html's compose.yml, committed."""
        checkout = self.folder / "change"
        git(self.folder, "clone", "--quiet", str(self.sandbox.catalogue / "custom-html"), str(checkout))
        compose = checkout / "compose.yml"
        text = compose.read_text()
        self.assertIn(old, text)
        compose.write_text(text.replace(old, new))
        git(checkout, "commit", "--quiet", "--all", "--message", "a change")
        return ["--recipe-dir", f"custom-html={checkout}"]

    def test_custom_html_climbs_the_whole_ladder_on_real_nginx(self):
        started = time.time()
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh,upgrade,lint", "--browser", "chromium")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual((recipe["level"], recipe["status"]), (8, "passed"), self.rungs(run))
        # Headless Chromium shot real nginx's page over verified TLS, through the task's published port.
        self.assertEqual(recipe["screenshot"], {"file": "screenshots/custom-html.png"})
        self.assertGreater(len(colours(run.report_dir / "screenshots" / "custom-html.png")), 2)
        # Real containers served it: the fresh lane's deploy, its redeploy
        # (persistence) and its deploy on empty volumes (backup_restore), and
        # the upgrade lane's deploy of the previous release.
        fresh, upgrade = (lane["domain"].split(".")[0] for lane in recipe["lanes"][:2])
        containers = self.started_containers(started)
        self.assertEqual(len([c for c in containers if c.startswith(fresh + "_")]), 3, containers)
        self.assertGreaterEqual(len([c for c in containers if c.startswith(upgrade + "_")]), 1, containers)
        self.assertEqual(self.rungs(run)["clean_teardown"], "passed")
        # The backup was restic's, in the backupbot: one snapshot of the app's content volume.
        stack, snapshots = self.snapshots(run, "custom-html")
        self.assertEqual([s["paths"] for s in snapshots], [[f"/var/lib/docker/volumes/{stack}_content/_data"]])
        self.assert_nothing_left()

    def test_every_bundled_recipe_climbs_the_whole_ladder_on_the_real_swarm(self):
        # The other recipes' fixture apps run in containers of their own
        # (tests/swarm/images/tools/app_server.py), with Docker secrets and
        # volumes: gitea's push goes through git in its container.
        recipes = ["gitea", "hedgedoc", "keycloak", "matrix-synapse", "nextcloud"]
        run = self.cc_ci("run", "--jobs", "2", "--lanes", "fresh,upgrade,lint", *recipes, timeout=1800)
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        for recipe in recipes:
            with self.subTest(recipe=recipe):
                self.assertEqual(run.recipe(recipe)["level"], 8, self.rungs(run, recipe))
                self.assertEqual(self.rungs(run, recipe)["backup_restore"], "passed")
                # Backed up and restored through the restic backupbot: its snapshot of the app's volume.
                stack, snapshots = self.snapshots(run, recipe)
                self.assertEqual(len(snapshots), 1, snapshots)
                for path in snapshots[0]["paths"]:
                    self.assertTrue(path.startswith(f"/var/lib/docker/volumes/{stack}_"), path)
        self.assert_nothing_left()

    def test_the_backupbot_follows_backup_labels_as_real_recipes_write_them(self):
        # As a database recipe does it: the pre-hook dumps the data into the
        # volume, only the dump is backed up (a path relative to the volume),
        # and the restore post-hook loads it back. The seeded page comes back
        # only if the bot honoured all three, in the live app.
        html = "/usr/share/nginx/html"
        labels = ('        - "backupbot.backup=${ENABLE_BACKUPS:-true}"\n'
                  f'        - "backupbot.backup.pre-hook=cp {html}/cc-ci-seed.html {html}/dump.html"\n'
                  '        - "backupbot.backup.volumes.content.path=dump.html"\n'
                  f'        - "backupbot.restore.post-hook=cp {html}/dump.html {html}/cc-ci-seed.html"\n')
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh", *self.change(
            '        - "backupbot.backup=true"\n        - "backupbot.backup.path=/usr/share/nginx/html"\n', labels))
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(self.rungs(run)["backup_restore"], "passed")
        self.assertEqual(run.step("custom-html", "the seeded data is gone before the restore")["status"], "passed")
        stack, snapshots = self.snapshots(run, "custom-html")
        self.assertEqual([s["paths"] for s in snapshots],
                         [[f"/var/lib/docker/volumes/{stack}_content/_data/dump.html"]])
        self.assert_nothing_left()

    def test_a_server_without_a_backupbot_leaves_backup_restore_unverified_on_the_real_engine(self):
        # abra finds no service labelled as the backupbot and says so; cc-ci
        # then has checked nothing: unverified, neither passed nor failed.
        self.sandbox.swarm.stop_backupbot()  # this sandbox's lease goes; no one else's bot may run meanwhile
        with self.sandbox.swarm.without_backupbot():
            run = self.cc_ci("run", "custom-html", "--lanes", "fresh")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        rung = next(r for r in recipe["rungs"] if r["name"] == "backup_restore")
        self.assertEqual(rung["status"], "unverified", rung)
        self.assertIn("the server has no backupbot", rung["reason"])
        self.assertIn("no backupbot discovered, is it deployed?", rung["reason"])
        self.assertEqual((recipe["status"], self.rungs(run)["persistence"]), ("passed", "passed"))
        self.assertEqual(run.step("custom-html", "app backup create")["status"], "skipped")
        self.assert_nothing_left()

    def test_a_service_that_never_starts_fails_deploy_and_leaves_nothing(self):
        # No image of that name exists here and none is pulled: Docker rejects
        # the task again and again, and the stack never converges.
        run = self.cc_ci("run", "custom-html", "--timeout-deploy", "20",
                         *self.change("image: nginx:1.25", "image: nginx:0.0-not-built-here"))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(run.recipe("custom-html")["level"], 0)
        step = run.step("custom-html", "every service of the stack runs its replicas")
        self.assertEqual(step["status"], "failed")
        self.assertRegex(step["message"], r"did not converge .*cust-[0-9a-f]{6}_s[0-9a-f]{6}_test_app 0/1")
        self.assertEqual(run.step("custom-html", "app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_a_healthcheck_that_stays_starting_never_converges_and_is_torn_down(self):
        # The task runs, but Docker counts it only once healthy: inside its
        # start_period a failing check leaves it `starting`, replicas 0/1.
        healthcheck = ("    image: nginx:1.25\n    healthcheck:\n      test: [\"CMD\", \"false\"]\n"
                       "      interval: 2s\n      start_period: 10m\n")
        run = self.cc_ci("run", "custom-html", "--timeout-deploy", "20",
                         *self.change("    image: nginx:1.25\n", healthcheck))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        step = run.step("custom-html", "every service of the stack runs its replicas")
        self.assertEqual(step["status"], "failed")
        self.assertIn("_app 0/1", step["message"])
        self.assertEqual(run.recipe("custom-html")["level"], 0)
        self.assertEqual(run.step("custom-html", "app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_an_app_slow_to_start_is_waited_for_and_passes(self):
        # The container runs at once, nginx only seconds later: the proxy says
        # 502 meanwhile, which readiness takes as "not yet", never as a pass.
        slow = "    image: nginx:1.25\n    command: [\"sh\", \"-c\", \"sleep 6; exec nginx -g 'daemon off;'\"]\n"
        run = self.cc_ci("run", "custom-html", *self.change("    image: nginx:1.25\n", slow))
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(run.recipe("custom-html")["status"], "passed")
        self.assertEqual(self.rungs(run)["persistence"], "passed")
        self.assert_nothing_left()

    def test_a_page_that_is_not_html_fails_a_check_on_real_nginx(self):
        # Real nginx answers / with 200, so the app is ready; but what it serves
        # is not the page the check asks for.
        plain = ("    image: nginx:1.25\n    command: [\"sh\", \"-c\", \"echo plain words > "
                 "/usr/share/nginx/html/index.html; exec nginx -g 'daemon off;'\"]\n")
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh", *self.change("    image: nginx:1.25\n", plain))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual((recipe["status"], recipe["level"]), ("failed", 2), self.rungs(run))
        check = run.step("custom-html", "index page is served as HTML")
        self.assertEqual(check["status"], "failed")
        self.assertIn('body does not contain "<html" (body "plain words', check["message"])
        # nginx itself answered: its own 404 for an unknown path.
        self.assertEqual(run.step("custom-html", "unknown path is nginx's own 404")["status"], "passed")
        self.assertEqual(run.step("custom-html", "app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_data_kept_in_the_container_not_a_volume_fails_persistence_on_real_nginx(self):
        # The seeded page is written into the container's own filesystem: the
        # redeploy starts a new container, and the page is gone.
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh",
                         *self.change("    volumes:\n      - content:/usr/share/nginx/html\n", ""))
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual((recipe["status"], recipe["level"]), ("failed", 3), self.rungs(run))
        self.assertEqual(self.rungs(run)["persistence"], "failed")
        self.assertEqual(run.step("custom-html", "write a page into the content volume")["status"], "passed")
        self.assertEqual(run.step("custom-html", "the written page is served")["status"], "failed")
        self.assertIn("level 4 (keeps its data across undeploy and redeploy) is failed", recipe["level_reason"])
        self.assert_nothing_left()

    def test_a_deploy_that_hangs_once_its_stack_runs_is_cut_and_torn_down(self):
        # abra never returns although Docker runs the stack: the deploy phase's
        # limit ends abra, and teardown finds a real stack to remove.
        started = time.time()
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh", "--timeout-deploy", "30",
                         env={"FAKE_ABRA_FAULTS": "app.deploy=converge-hang"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(run.recipe("custom-html")["status"], "errored")
        self.assertIn("timed out", run.step("custom-html", "app deploy")["message"])
        self.assertTrue(self.started_containers(started), "the stack never ran: nothing real was torn down")
        self.assertEqual(run.step("custom-html", "app undeploy")["status"], "passed")
        self.assertEqual(run.step("custom-html", "app rm")["status"], "passed")
        self.assert_nothing_left()

    def app_containers(self):
        return [item for item in self.sandbox.swarm.leftovers() if item.startswith("container ")]

    def test_an_undeploy_that_never_returns_is_finished_by_the_host_on_the_real_engine(self):
        # abra hangs before it removes anything: cc-ci removes the real stack
        # through the server's Docker context, waits for its containers and
        # networks, then `app rm` removes its volumes and secrets.
        # A recipe without data hooks: its only undeploy is teardown's.
        run = self.cc_ci("run", "fault-test", "--lanes", "fresh", "--timeout-teardown", "60",
                         plugins=[TEST_PLUGINS / "fault"], env={"FAKE_ABRA_FAULTS": "app.undeploy=hang"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertIn("timed out", run.step("fault-test", "app undeploy")["message"])
        self.assertEqual(run.step("fault-test", "docker stack rm (teardown did not finish)")["status"], "passed")
        self.assertEqual(run.step("fault-test", "app rm (after docker stack rm)")["status"], "passed")
        self.assertEqual(run.step("fault-test", "nothing of the app is left on the server")["status"], "passed")
        self.assertEqual(self.rungs(run, "fault-test")["clean_teardown"], "failed")
        self.assert_nothing_left()

    def test_a_deploy_that_fails_once_the_stack_exists_is_torn_down(self):
        run = self.cc_ci("run", "custom-html", env={"FAKE_ABRA_FAULTS": "app.deploy=fail-after-stack"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual((run.step("custom-html", "app deploy")["status"], run.recipe("custom-html")["level"]),
                         ("failed", 0))
        # The real stack was there to undeploy: undeploy found it, and waited for it to go.
        self.assertEqual(run.step("custom-html", "app undeploy")["status"], "passed")
        self.assert_nothing_left()

    def test_sigint_during_a_real_deploy_tears_down_and_exits_130(self):
        process = self.start_cc_ci("run", "custom-html", env={"FAKE_ABRA_FAULTS": "app.deploy=converge-slow:120"})
        try:
            self.wait_for(lambda: self.app_containers(), timeout=300, what="a container of the app")
        finally:
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=300)
        self.assertEqual(process.returncode, 130, stdout + stderr)
        run = Run(process, stdout, stderr, self.report_dir)
        self.assert_valid_report(run)
        self.assertTrue(run.results["interrupted"])
        self.assertEqual(run.step("custom-html", "host: app undeploy")["status"], "passed")
        self.assert_nothing_left()

    def test_a_plugin_that_crashes_mid_probe_is_errored_and_its_real_app_torn_down(self):
        run = self.cc_ci("run", "crash-test", plugins=[TEST_PLUGINS / "crash"])
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(run.recipe("crash-test")["status"], "errored")
        self.assertIn("signal 11", run.step("crash-test", "test process crashed")["message"])
        self.assertEqual(run.step("crash-test", "host: app undeploy")["status"], "passed")
        self.assertEqual(run.step("crash-test", "host: app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_the_janitor_clears_a_real_stack_a_killed_run_left(self):
        process = self.start_cc_ci("run", "custom-html")
        try:
            self.wait_for(lambda: self.app_containers(), timeout=300, what="a running container of the app")
        finally:
            process.send_signal(signal.SIGKILL)  # no teardown can happen
            process.communicate(timeout=60)
        self.assertNotEqual(self.sandbox.swarm.leftovers(), [])
        swept = subprocess.run([CC_CI, "janitor"], env=self.environment(), capture_output=True, text=True,
                               cwd=self.folder, timeout=600)
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertRegex(swept.stdout, r"removed cust-[0-9a-f]{6}\.s[0-9a-f]{6}\.test on default")
        self.assert_nothing_left()


if __name__ == "__main__":
    sys.exit(main(Swarm))
