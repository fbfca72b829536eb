#!/usr/bin/env python3
"""End-to-end tests of the host: the real cc-ci binary and plugins against the
fake abra and its TLS proxy on 127.0.0.1. Every test that runs cc-ci also
proves that nothing is left in the fake's state and that results.json (when
written) validates against docs/results-v1.schema.json.

    test_cc_ci.py --list | NAME...
"""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import (RECIPES, TEST_PLUGINS, SOURCE, Run, Sandbox, SandboxTestCase, handmade_results, main)  # noqa: E402

sys.path.insert(0, str(SOURCE / "tests" / "support"))
from browser import chromium  # noqa: E402
from png import colours, read_png  # noqa: E402
from static_server import StaticServer  # noqa: E402
import markdown  # noqa: E402  (Debian: python3-markdown)


class CcCi(SandboxTestCase):
    # ------------------------------------------------------------ a passing run

    def test_passing_run(self):
        run = self.cc_ci("run", "custom-html")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "passed")
        self.assertEqual(recipe["level"], 4)
        # Every rung is reported; what cc-ci does not test yet is unverified, never passed.
        self.assertEqual([(r["name"], r["status"]) for r in recipe["rungs"]],
                         [("deploys", "passed"), ("serves", "passed"), ("checks", "passed"),
                          ("persistence", "passed"), ("upgrade", "unverified"),
                          ("backup_restore", "passed"), ("lint", "unverified"),
                          ("clean_teardown", "passed")])
        self.assertIn("level 5 (upgrades from the previous release keeping its data) is unverified",
                      recipe["level_reason"])
        self.assertRegex(recipe["domain"], r"^cust-[0-9a-f]{6}\.cc-ci\.test$")
        serves = f"serves https://{recipe['domain']}/ over verified HTTPS"
        # The lanes not asked for say so, and their rungs stay unverified.
        self.assertEqual([(s["lane"], s["status"], s["message"]) for s in recipe["steps"] if s["lane"] != "fresh"],
                         [("upgrade", "skipped", "the upgrade lane was not run (--lanes)"),
                          ("lint", "skipped", "the lint lane was not run (--lanes)")])
        self.assertEqual([(s["phase"], s["name"]) for s in recipe["steps"] if s["lane"] == "fresh"], [
            ("deploy", "app new"), ("deploy", "app secret generate"), ("deploy", "app deploy"),
            ("deploy", "every service of the stack runs its replicas"),
            ("probe", serves), ("probe", "index page is served as HTML"),
            ("probe", "unknown path is nginx's own 404"),
            ("persistence", "write a page into the content volume"),
            ("persistence", "app undeploy (to redeploy)"), ("persistence", "app deploy (again, on the same volumes)"),
            ("persistence", serves), ("persistence", "the written page is served"),
            ("backup_restore", "app backup create"),
            ("backup_restore", "the page is deleted from the content volume"),
            ("backup_restore", "the seeded data is damaged before the restore"),
            ("backup_restore", "app restore (into the running app)"), ("backup_restore", serves),
            ("backup_restore", "the written page is served"),
            ("backup_restore", "app undeploy (to destroy the data)"),
            ("backup_restore", "app volume remove (the data is gone)"),
            ("backup_restore", "app deploy (on empty volumes)"), ("backup_restore", serves),
            ("backup_restore", "the seeded data is gone before the restore"),
            ("backup_restore", "app restore (onto the emptied volumes)"),
            ("backup_restore", serves), ("backup_restore", "the written page is served"),
            ("teardown", "app undeploy"), ("teardown", "app rm"),
            ("teardown", "nothing of the app is left on the server")])
        self.assertEqual(run.results["summary"], {"passed": 1, "failed": 0, "errored": 0, "skipped": 0, "flaky": 0})
        self.assertIn("summary: 1 passed, 0 failed", run.stdout)
        log = (run.report_dir / recipe["log"]).read_text()
        self.assertIn("app deploy " + recipe["domain"], log)
        # Every abra call had a terminal, -n, and the recipe's own ABRA_DIR.
        calls = self.calls()
        self.assertEqual([c["argv"][1:3] for c in calls], [
            ["app", "new"], ["app", "secret"], ["app", "deploy"],  # deploy
            ["app", "run"], ["app", "undeploy"], ["app", "deploy"],  # persistence
            ["app", "backup"], ["app", "run"], ["app", "restore"],  # backup, damage, restore into the app
            ["app", "undeploy"], ["app", "volume"], ["app", "deploy"], ["app", "restore"],  # onto empty volumes
            ["app", "undeploy"], ["app", "rm"]])  # teardown
        for call in calls:
            self.assertTrue(call["tty"])
            self.assertEqual(call["argv"][0], "-n")
            self.assertEqual(call["abra_dir"],
                             str(self.sandbox.root / "state" / "work" / run.results["run_id"] / "custom-html" / "abra"))
        # The private work folder is gone, and the report folder reaches nowhere outside itself.
        self.assertFalse((self.sandbox.root / "state" / "work" / run.results["run_id"]).exists())
        self.assertEqual([p for p in run.report_dir.rglob("*") if p.is_symlink()], [])
        self.assertFalse((run.report_dir / "work").exists())
        self.assert_nothing_left()

    def test_jobs_and_server_pool_run_every_recipe(self):
        run = self.cc_ci("run", "--jobs", "2", "custom-html", "throw-test", plugins=[RECIPES, TEST_PLUGINS / "throw"])
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        self.assertEqual(run.recipe("custom-html")["status"], "passed")
        self.assertEqual(run.recipe("throw-test")["status"], "errored")
        self.assert_nothing_left()

    # ------------------------------------------------------------ failures of the app

    def test_deploy_failure_is_failed_and_torn_down(self):
        run = self.cc_ci("run", "custom-html", env={"FAKE_ABRA_FAULTS": "app.deploy=fail-after-stack"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "failed")
        self.assertEqual(recipe["level"], 0)
        self.assertIn("deploy failed", run.step("custom-html", "app deploy")["message"])
        self.assertEqual(run.step("custom-html", "readiness and checks")["status"], "skipped")
        # The half-deployed stack existed, so undeploy really had work to do.
        self.assertEqual(run.step("custom-html", "app undeploy")["status"], "passed")
        self.assertIn("undeploy succeeded", (run.report_dir / recipe["log"]).read_text())
        self.assert_nothing_left()

    def test_missing_abra_is_errored(self):
        run = self.cc_ci("run", "custom-html", "--abra", str(self.folder / "no-such-abra"))
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "errored")
        self.assertIn("cannot start", run.step("custom-html", "app new")["message"])
        self.assert_nothing_left()

    def test_probe_failure_keeps_level_2_and_tears_down(self):
        run = self.cc_ci("run", "custom-html", env={"FAKE_APP_MODE": "text-plain"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "failed")
        self.assertEqual(recipe["level"], 2)
        check = run.step("custom-html", "index page is served as HTML")
        self.assertEqual(check["status"], "failed")
        self.assertIn("header content-type is \"text/plain\"", check["message"])
        self.assertEqual(run.step("custom-html", "unknown path is nginx's own 404")["status"], "passed")
        self.assert_nothing_left()

    def test_a_run_leaves_the_pr_comment_badges_and_card_beside_its_results(self):
        run = self.cc_ci("run", "custom-html", "--dashboard-url", "https://ci.example.org/runs/7",
                         env={"FAKE_APP_MODE": "text-plain"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        self.assert_valid_report(run)
        summary = (run.report_dir / "summary.md").read_text()
        self.assertIn("## custom-html: level 2 ❌ failed", summary)
        self.assertIn("| 3 | checks | ❌ failed |", summary)
        self.assertIn("- ❌ fresh · probe · **index page is served as HTML**", summary)
        self.assertIn('up to "index page is served as HTML" failed</summary>', summary)
        self.assertIn("![cc-ci: level 2](https://ci.example.org/runs/7/badges/custom-html.svg)", summary)
        self.assertIn("![cc-ci summary card](https://ci.example.org/runs/7/card.png)", summary)
        self.assertIn(">level 2</text>", (run.report_dir / "badges" / "custom-html.svg").read_text())
        self.assertIn(">level 2</text>", (run.report_dir / "badge.svg").read_text())
        self.assertTrue((run.report_dir / "card.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertNotIn("warning", run.stderr)
        page = (run.report_dir / "index.html").read_text()
        self.assertIn("<h2 id=\"custom-html\">custom-html <span class=\"level\"", page)
        self.assertIn('<a href="logs/custom-html.log">log</a>', page)
        self.assertIn("[Dashboard](https://ci.example.org/runs/7/index.html)", summary)

        # `cc-ci report` makes them again from results.json alone, here without links.
        (run.report_dir / "summary.md").unlink()
        again = self.cc_ci("report", str(run.report_dir))
        self.assertEqual(again.code, 0, again.stderr)
        self.assertIn("wrote index.html, summary.md, badge.svg, card.svg, card.png and badges/", again.stdout)
        summary = (run.report_dir / "summary.md").read_text()
        self.assertIn("## custom-html: level 2 ❌ failed", summary)
        self.assertNotIn("](", summary)
        self.assert_nothing_left()

    def test_a_run_shoots_the_landing_page_with_headless_chromium(self):
        # The browser a run takes when none is given (the full chromium: the other tests).
        run = self.cc_ci("run", "custom-html", "--browser", "chromium-headless-shell",
                         "--dashboard-url", "https://ci.example.org/runs/7")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assert_valid_report(run)
        self.assertEqual(run.recipe("custom-html")["screenshot"], {"file": "screenshots/custom-html.png"})
        width, height, rows = read_png(run.report_dir / "screenshots" / "custom-html.png")
        self.assertEqual((width, height), (1280, 800))
        # nginx's welcome page: dark text on white, so more than one colour, mostly white.
        pixels = [pixel[:3] for row in rows for pixel in row]
        self.assertGreater(len(set(pixels)), 2)
        self.assertGreater(pixels.count((255, 255, 255)), len(pixels) // 2)
        summary = (run.report_dir / "summary.md").read_text()
        self.assertIn("![custom-html's landing page](https://ci.example.org/runs/7/screenshots/custom-html.png)", summary)
        self.assertIn('<img src="screenshots/custom-html.png"', (run.report_dir / "index.html").read_text())
        log = (run.report_dir / "logs" / "custom-html.log").read_text()
        self.assertIn("screenshot of https://", log)
        self.assert_nothing_left()

    def test_a_blank_page_or_no_browser_is_no_screenshot_and_fails_nothing(self):
        run = self.cc_ci("run", "custom-html", "--browser", "chromium", env={"FAKE_APP_MODE": "blank"})
        self.assertEqual(run.code, 0, run.stdout + run.stderr)  # a picture is for people, not a check
        self.assertEqual(run.recipe("custom-html")["screenshot"],
                         {"missing": "the page was blank: every pixel is #ffffff after 3 tries"})
        self.assertFalse((run.report_dir / "screenshots" / "custom-html.png").exists())
        self.assertIn("No screenshot: the page was blank: every pixel is #ffffff after 3 tries",
                      (run.report_dir / "summary.md").read_text())
        self.assert_nothing_left()
        missing = self.cc_ci("run", "custom-html", "--browser", str(self.folder / "no-chromium"))
        self.assertEqual(missing.code, 0, missing.stdout + missing.stderr)
        self.assertIn("is not installed (Debian: apt-get install chromium-headless-shell)",
                      missing.recipe("custom-html")["screenshot"]["missing"])
        self.assert_nothing_left()

    def counted_browser(self, then):
        """A --browser that writes a line to the returned file each time it starts, then runs `then`."""
        starts = self.folder / "browser-starts"
        browser = self.folder / "counted-browser"
        browser.write_text(f'#!/bin/sh\necho started >>"{starts}"\n{then}\n')
        browser.chmod(0o755)
        return browser, starts

    def test_one_browser_shoots_every_landing_page_of_a_run(self):
        # The run's pages need one browser, whatever the number of lanes.
        browser, starts = self.counted_browser('exec chromium "$@"')
        run = self.cc_ci("run", "custom-html", "hedgedoc", "--lanes", "fresh", "--jobs", "2", "--browser", str(browser))
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        for recipe in ("custom-html", "hedgedoc"):
            self.assertEqual(run.recipe(recipe)["screenshot"], {"file": f"screenshots/{recipe}.png"})
            self.assertGreater(len(colours(run.report_dir / "screenshots" / f"{recipe}.png")), 1)
        self.assertEqual(starts.read_text().splitlines(), ["started"])
        self.assert_nothing_left()

    def test_a_browser_that_dies_is_no_screenshot_and_the_next_page_gets_a_new_one(self):
        # It starts, then ends before it answers: each lane's page names why, nothing else fails.
        # Started with the run, then again for each page that finds none running: three starts.
        browser, starts = self.counted_browser('echo "cannot open display" >&2\nexit 3')
        run = self.cc_ci("run", "custom-html", "hedgedoc", "--lanes", "fresh", "--jobs", "1", "--browser", str(browser))
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        for recipe in ("custom-html", "hedgedoc"):
            missing = run.recipe(recipe)["screenshot"]["missing"]
            self.assertIn("the browser could not start", missing)
            self.assertIn("exited 3: cannot open display", missing)
            self.assertFalse((run.report_dir / "screenshots" / f"{recipe}.png").exists())
        self.assertEqual(starts.read_text().splitlines(), ["started"] * 3)
        self.assert_nothing_left()

    def test_a_landing_page_reaches_no_other_origin_through_the_runs_browser(self):
        # The browser resolves every app of the run; what the page asks of any other origin
        # (another port of its host, another app) must still fail inside the browser.
        # Both browsers: the default (the headless shell) and the full one NixOS gives.
        for browser in ("chromium-headless-shell", "chromium"):
            with self.subTest(browser=browser):
                run = self.cc_ci("run", "custom-html", "hedgedoc", "--lanes", "fresh", "--jobs", "2",
                                 "--browser", browser, env={"FAKE_APP_MODE": "reaching"})
                self.assertEqual(run.code, 0, run.stdout + run.stderr)
                self.assertEqual(run.recipe("custom-html")["screenshot"], {"file": "screenshots/custom-html.png"})
                reached = self.sandbox.abra_dir / "reached-by-another-app.log"
                self.assertFalse(reached.exists(), reached.read_text() if reached.exists() else "")
                self.assert_nothing_left()

    def test_the_run_page_dashboard_and_pr_comment_show_in_chromium(self):
        runs = self.folder / "reports" / "custom-html"
        self.report_dir = runs / "7"
        run = self.cc_ci("run", "custom-html", "--browser", "chromium", "--report-dir", str(self.report_dir))
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        self.assertEqual(self.cc_ci("dashboard", str(self.folder / "reports")).code, 0)

        # The dashboard: the recipe, its level, a link to the run's page.
        dom = chromium((self.folder / "reports" / "index.html").as_uri(), "--dump-dom")
        level = run.recipe("custom-html")["level"]
        self.assertIn('href="custom-html/7/index.html#custom-html"', dom)
        self.assertIn(f"level {level}", dom)
        # The run's page, as a browser lays it out: rungs, lanes, the screenshot.
        page = (self.report_dir / "index.html").as_uri()
        dom = chromium(page, "--dump-dom")
        self.assertIn('<h2 id="custom-html">custom-html', dom)
        self.assertIn('<img src="screenshots/custom-html.png"', dom)
        self.assertIn("clean teardown", dom)
        shot = self.folder / "page.png"
        chromium(page, f"--screenshot={shot}")
        self.assertGreater(len(colours(shot)), 10, "the run page rendered as a blank frame")

        # The PR comment as Gitea shows it: Markdown to HTML, its pictures fetched from where the
        # dashboard serves the run's folder (here a loopback web server).
        with StaticServer(self.report_dir) as server:
            again = self.cc_ci("report", str(self.report_dir), "--dashboard-url", server.url)
            self.assertEqual(again.code, 0, again.stderr)
            comment = self.folder / "comment.html"
            comment.write_text(markdown.markdown((self.report_dir / "summary.md").read_text(),
                                                 extensions=["tables"]))
            dom = chromium(comment.as_uri(), "--dump-dom")
            self.assertIn(f"custom-html: level {level}", dom)
            self.assertIn("<table>", dom)
            shot = self.folder / "comment.png"
            chromium(comment.as_uri(), f"--screenshot={shot}")
            self.assertGreater(len(colours(shot)), 10, "the comment rendered as a blank frame")
            # Every picture the comment shows was fetched, and found.
            for picture in ("/card.png", "/badges/custom-html.svg", "/screenshots/custom-html.png"):
                self.assertIn(("GET", picture, 200), server.requests)
        self.assert_nothing_left()

    def test_report_refuses_a_folder_without_cc_ci_results_in_one_line(self):
        for folder, why in ((self.folder / "nowhere", "no results.json there"),
                            (self.folder, "no results.json there")):
            run = self.cc_ci("report", str(folder))
            self.assertEqual(run.code, 2)
            self.assertEqual(len(run.stderr.strip().splitlines()), 1, run.stderr)
            self.assertIn(why, run.stderr)
        nameless = handmade_results([{"level": 3}])  # every field but the recipe's name
        (self.folder / "results.json").write_text(json.dumps(nameless))
        run = self.cc_ci("report", str(self.folder))
        self.assertEqual((run.code, run.stderr.strip()),
                         (2, f"cc-ci: error: {self.folder / 'results.json'}: not a cc-ci results file "
                             "(recipes[0].recipe: missing)"))
        bad_url = self.cc_ci("report", str(self.folder), "--dashboard-url", "javascript:alert(1)")
        self.assertEqual(bad_url.code, 2)
        self.assertIn("--dashboard-url: give an http(s) URL", bad_url.stderr)

    def test_slow_app_is_polled_until_ready(self):
        # The proxy answers 502 to the first three requests after each deploy:
        # counted in requests, not seconds, so a loaded machine sees the same.
        run = self.cc_ci("run", "custom-html", "--lanes", "fresh", env={"FAKE_APP_READY_AFTER_REQUESTS": "3"})
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "passed")
        readiness = next(s for s in recipe["steps"] if s["kind"] == "readiness")
        self.assertEqual(readiness["status"], "passed")
        self.assertRegex((run.report_dir / recipe["log"]).read_text(), r"readiness: 4 attempt\(s\)")
        self.assert_nothing_left()

    def test_traefik_404_is_never_ready(self):
        run = self.cc_ci("run", "custom-html", "--timeout-probe", "2", env={"FAKE_APP_MODE": "traefik-404"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["level"], 1)
        readiness = next(s for s in recipe["steps"] if s["kind"] == "readiness")
        self.assertEqual(readiness["status"], "failed")
        self.assertIn("Traefik's 404 page not found", readiness["message"])
        self.assertEqual(run.step("custom-html", "recipe checks")["status"], "skipped")
        self.assert_nothing_left()

    def test_tls_is_verified(self):
        other = Sandbox(self.folder / "other-ca")  # a CA the app's certificate does not come from
        other.start()
        other.stop()
        run = self.cc_ci("run", "custom-html", "--timeout-probe", "2", "--ca-file", str(other.ca))
        self.assertEqual(run.code, 1)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["level"], 1)
        readiness = next(s for s in recipe["steps"] if s["kind"] == "readiness")
        self.assertIn("certificate", readiness["message"])
        self.assert_nothing_left()

    # ------------------------------------------------------------ failures of abra and plugins

    def test_hanging_deploy_times_out_and_is_torn_down(self):
        # The phase limit leaves app new and secret generate ample time even on
        # a loaded machine, so the deploy itself is what runs out of it.
        started = time.monotonic()
        run = self.cc_ci("run", "custom-html", "--timeout-deploy", "15",
                         env={"FAKE_ABRA_FAULTS": "app.deploy=converge-hang"})
        self.assertLess(time.monotonic() - started, 100)
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "errored")
        self.assertIn("timed out", run.step("custom-html", "app deploy")["message"])
        # The stack existed when abra was killed, so undeploy had work to do.
        self.assertEqual(run.step("custom-html", "app undeploy")["status"], "passed")
        self.assertIn("undeploy succeeded", (run.report_dir / recipe["log"]).read_text())
        self.assert_nothing_left()

    def test_crashing_plugin_is_errored_and_the_run_goes_on(self):
        run = self.cc_ci("run", "custom-html", "crash-test", plugins=[RECIPES, TEST_PLUGINS / "crash"])
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        crashed = run.recipe("crash-test")
        self.assertEqual(crashed["status"], "errored")
        message = run.step("crash-test", "test process crashed")["message"]
        self.assertIn("signal 11", message)
        self.assertIn("during probe", message)
        # The host tore the app down from outside.
        self.assertEqual(run.step("crash-test", "host: app undeploy")["status"], "passed")
        self.assertEqual(run.step("crash-test", "host: app rm")["status"], "passed")
        self.assertEqual(run.recipe("custom-html")["status"], "passed")
        self.assert_nothing_left()

    def test_hanging_plugin_is_killed_by_the_watchdog(self):
        run = self.cc_ci("run", "--timeout-probe", "1", "hang-test", plugins=[TEST_PLUGINS / "hang"])
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("hang-test")
        self.assertEqual(recipe["status"], "errored")
        self.assertIn("the test process hung and was killed", run.step("hang-test", "probe interrupted")["message"])
        self.assertEqual(run.step("hang-test", "host: app undeploy")["status"], "passed")
        self.assert_nothing_left()

    def test_plugin_exception_is_errored_and_torn_down(self):
        run = self.cc_ci("run", "throw-test", plugins=[TEST_PLUGINS / "throw"])
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        step = run.step("throw-test", "probe()")
        self.assertEqual(step["status"], "errored")
        self.assertEqual(step["message"], "uncaught exception: the plugin gave up")
        self.assertEqual(run.step("throw-test", "app rm")["status"], "passed")
        self.assert_nothing_left()

    def test_secrets_never_reach_logs_or_reports(self):
        secret_log = self.folder / "generated-secrets.txt"
        inserted = "inserted-S3cr3t-value-7f3a"
        run = self.cc_ci("run", "secret-test", plugins=[TEST_PLUGINS / "secret"],
                         env={"FAKE_ABRA_SECRET_LOG": str(secret_log), "CCCI_TEST_SECRET": inserted})
        self.assertEqual(run.code, 1)  # its second check fails on purpose
        self.assert_valid_report(run)
        values = secret_log.read_text().split()
        self.assertIn(inserted, values)
        self.assertEqual(len(values), 3)  # two generated, one inserted
        written = run.stdout + run.stderr
        for path in run.report_dir.rglob("*"):
            if path.is_file():
                written += path.read_text(errors="replace")
        for value in values:
            self.assertNotIn(value, written)
        self.assertIn("login with [REDACTED] was refused",
                      run.step("secret-test", "fails with the secret in its message")["message"])
        self.assertIn("the smtp password is [REDACTED]", (run.report_dir / "logs/secret-test.log").read_text())
        # The PR comment names the failing check, with the secret redacted as everywhere.
        self.assertIn("login with \\[REDACTED\\] was refused", (run.report_dir / "summary.md").read_text())
        self.assert_nothing_left()

    # ------------------------------------------------------------ interruption and keep

    def interrupt_during_deploy(self, sig):
        process = self.start_cc_ci("run", "custom-html", env={"FAKE_ABRA_FAULTS": "app.deploy=converge-slow:30"})
        self.wait_for(lambda: any(s for s in self.sandbox.leftovers() if s.startswith("stack")), what="the deploy")
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 130, stdout + stderr)
        run = Run(process, stdout, stderr, self.report_dir)
        self.assert_valid_report(run)
        self.assertTrue(run.results["interrupted"])
        recipe = run.recipe("custom-html")
        self.assertEqual(recipe["status"], "errored")
        self.assertIn("interrupted by", run.step("custom-html", "deploy interrupted")["message"])
        self.assertEqual(run.step("custom-html", "host: app undeploy")["status"], "passed")
        self.assert_nothing_left()

    def test_sigint_during_deploy_tears_down_and_exits_130(self):
        self.interrupt_during_deploy(signal.SIGINT)

    def test_sigterm_during_deploy_tears_down_and_exits_130(self):
        self.interrupt_during_deploy(signal.SIGTERM)

    def test_sighup_during_deploy_tears_down_and_exits_130(self):
        self.interrupt_during_deploy(signal.SIGHUP)

    def test_a_reader_that_goes_away_does_not_stop_teardown(self):
        # Whoever reads cc-ci's output (a CI log streamer, `| head`) quits mid-run.
        process = self.start_cc_ci("run", "custom-html", env={"FAKE_ABRA_FAULTS": "app.deploy=converge-slow:5"})
        self.wait_for(lambda: any(s for s in self.sandbox.leftovers() if s.startswith("stack")), what="the deploy")
        process.stdout.close()
        process.wait(timeout=90)
        process.stderr.close()
        self.assertNotEqual(process.returncode, -signal.SIGPIPE)
        results = json.loads((self.report_dir / "results.json").read_text())
        self.assertEqual(results["recipes"][0]["status"], "passed")
        self.assert_nothing_left()

    def test_a_report_dir_that_cannot_be_written_stops_before_anything_is_deployed(self):
        taken = self.folder / "a-file"
        taken.write_text("not a folder")
        run = self.cc_ci("run", "--jobs", "2", "custom-html", "hedgedoc", "--report-dir", str(taken))
        self.assert_one_line_error(run, "--report-dir", "not a folder")
        self.assertEqual(self.calls(), [])

    def test_a_second_interrupt_says_teardown_is_still_running(self):
        faults = "app.deploy=converge-slow:30,app.undeploy=slow:3"
        process = self.start_cc_ci("run", "custom-html", env={"FAKE_ABRA_FAULTS": faults})
        self.wait_for(lambda: any(s for s in self.sandbox.leftovers() if s.startswith("stack")), what="the deploy")
        process.send_signal(signal.SIGINT)
        time.sleep(1.0)  # teardown is under way (undeploy takes 3 s)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 130, stdout + stderr)
        self.assertIn("still tearing down the apps that were deployed", stderr)
        self.assertIn("cc-ci janitor", stderr)
        run = Run(process, stdout, stderr, self.report_dir)
        self.assert_valid_report(run)
        self.assert_nothing_left()

    def test_keep_on_failure_keeps_the_app_and_says_so(self):
        run = self.cc_ci("run", "custom-html", "--keep", "on-failure", env={"FAKE_ABRA_FAULTS": "app.deploy=fail-after-stack"})
        self.assertEqual(run.code, 1)
        self.assert_valid_report(run)
        recipe = run.recipe("custom-html")
        self.assertIn("kept", recipe["kept"])
        self.assertIn(f"abra app undeploy {recipe['domain']}", recipe["kept"])
        self.assertNotIn("app undeploy", run.step_names("custom-html"))
        self.assertTrue(any(item.startswith("stack") for item in self.sandbox.leftovers()))
        # Clean up as the notice says, and prove that was all.
        self.assertEqual(self.sandbox.fake_abra("app", "undeploy", recipe["domain"]).returncode, 0)
        self.assertEqual(self.sandbox.fake_abra("app", "rm", recipe["domain"], "-f").returncode, 0)
        self.assert_nothing_left()

    # ------------------------------------------------------------ plan, list, usage errors

    def test_plan_prints_every_command_and_runs_nothing(self):
        run = self.cc_ci("plan", "custom-html")
        self.assertEqual(run.code, 0, run.stderr)
        lines = [line.strip() for line in run.stdout.splitlines()]
        order = [next(i for i, line in enumerate(lines) if wanted in line) for wanted in (
            "target   1.6.0+1.25.3", "app new custom-html 1.6.0+1.25.3 --server default --domain cust-",
            "set LETS_ENCRYPT_ENV=", "app secret generate", "app deploy",
            "wait until GET https://cust-", "check: index page is served as HTML", "app undeploy", "app rm")]
        self.assertEqual(order, sorted(order))
        self.assertEqual(self.calls(), [])
        self.assertFalse(self.report_dir.exists())
        self.assert_nothing_left()

    def test_a_plan_of_many_lanes_puts_each_walk_under_its_own_lane(self):
        run = self.cc_ci("plan", "custom-html", "gitea", "--lanes", "fresh,upgrade")
        self.assertEqual(run.code, 0, run.stderr)
        sections = {}
        for block in run.stdout.split("\n\n")[1:]:
            header = block.splitlines()[0]
            if ": not run: " not in header:  # the lint lanes (--lanes)
                sections[header.split(" on server")[0]] = block
        self.assertEqual(sorted(sections), ["custom-html, fresh lane", "custom-html, upgrade lane",
                                            "gitea, fresh lane", "gitea, upgrade lane"])
        for name, section in sections.items():
            recipe, lane = name.split(", ")
            domain = re.search(r" as (\S+)", section.splitlines()[0])[1]
            self.assertIn(f"app new {recipe} ", section)
            self.assertIn(f"app undeploy {domain}", section)
            other = "gitea" if recipe == "custom-html" else "custom-html"
            self.assertNotIn(f"app new {other} ", section)
        self.assertIn("check: index page is served as HTML", sections["custom-html, fresh lane"])
        self.assertNotIn("check: index page is served as HTML", sections["gitea, fresh lane"])
        self.assertIn("app upgrade", sections["gitea, upgrade lane"])
        self.assertEqual(self.calls(), [])

    def test_list_shows_recipes_checks_and_tags(self):
        run = self.cc_ci("list", plugins=[RECIPES, TEST_PLUGINS / "throw"])
        self.assertEqual(run.code, 0, run.stderr)
        self.assertIn("custom-html", run.stdout)
        self.assertIn("tags: static, nginx", run.stdout)
        self.assertIn("check: unknown path is nginx's own 404", run.stdout)
        self.assertIn("throw-test", run.stdout)
        self.assertEqual(self.calls(), [])

    def test_plugin_that_is_not_a_library_exits_2(self):
        run = self.cc_ci("run", plugins=[TEST_PLUGINS / "bad-not-elf"])
        self.assert_one_line_error(run, "not-a-plugin.so", "not a loadable shared library")
        self.assertEqual(self.calls(), [])

    def test_plugin_without_entry_point_exits_2(self):
        run = self.cc_ci("run", plugins=[TEST_PLUGINS / "bad-no-entry"])
        self.assert_one_line_error(run, "no-entry.so", "missing entry point ccci_plugin_info")

    def test_plugin_abi_mismatch_exits_2(self):
        run = self.cc_ci("run", plugins=[TEST_PLUGINS / "bad-abi"])
        header = (SOURCE / "core" / "include" / "ccci" / "plugin.hpp").read_text()
        abi = int(header.split("inline constexpr int kAbiVersion = ")[1].split(";")[0])
        self.assert_one_line_error(run, "abi-mismatch.so", f"ABI version {abi + 998} does not match",
                                   f"ABI version {abi};")

    def test_two_plugins_for_one_recipe_exit_2(self):
        run = self.cc_ci("run", plugins=[RECIPES, TEST_PLUGINS / "duplicate"])
        self.assert_one_line_error(run, "custom-html.so", "custom-html-again.so", "both claim recipe custom-html")
        self.assert_nothing_left()

    def test_usage_errors_exit_2_with_one_line(self):
        self.assert_one_line_error(self.cc_ci("run", "no-such-recipe"), "no plugin tests recipe \"no-such-recipe\"")
        self.assert_one_line_error(self.cc_ci("run", "--jobs", "zero"), "--jobs")
        self.assert_one_line_error(self.cc_ci("run", "--keep", "sometimes"), "never, on-failure or always")
        self.assert_one_line_error(self.cc_ci("run", "--bogus"), "--bogus")
        self.assert_one_line_error(self.cc_ci("run", env={"CC_CI_CONFIG": str(self.folder / "none.json")}),
                                   "none.json does not exist")
        bare = {"CC_CI_CONFIG": ""}
        self.assert_one_line_error(self.cc_ci("run", env=bare), "no domain suffix")
        self.assertEqual(self.calls(), [])

    def test_help_explains_the_commands(self):
        run = self.cc_ci("run", "--help", plugins=[])
        self.assertEqual(run.code, 0)
        for option in ("--plugins", "--abra", "--server", "--domain-suffix", "--jobs", "--report-dir", "--ca-file",
                       "--connect-to", "--keep", "--timeout-deploy", "--timeout-probe", "--timeout-teardown"):
            self.assertIn(option, run.stdout)

    def test_the_readme_settings_table_is_the_one_cc_ci_uses(self):
        table = self.cc_ci("settings")
        self.assertEqual(table.code, 0, table.stderr)
        readme = (SOURCE / "README.md").read_text()
        begin, end = "<!-- settings: begin -->\n", "<!-- settings: end -->"
        copy = readme[readme.index(begin) + len(begin):readme.index(end)]
        self.assertEqual(copy, table.stdout, "README's settings table is stale: paste `cc-ci settings`")
        # Every row is a flag of run (and plan), or of the forge commands gitea and bridge.
        help_text = "".join(self.cc_ci(command, "--help").stdout for command in ("run", "gitea", "bridge"))
        for row in table.stdout.splitlines()[2:]:
            flag = row.split("`")[1].split(" ")[0]
            env = row.split("`")[3]
            self.assertIn(flag, help_text)
            self.assertIn(env, help_text)

    def test_a_config_file_in_the_working_directory_is_not_read(self):
        # A checkout under test could set its own settings through ./cc-ci.json.
        (self.folder / "cc-ci.json").write_text('{"domain_suffix": "evil.test", "keep": "always"}')
        run = self.cc_ci("plan", "custom-html", env={"CC_CI_CONFIG": "", "CC_CI_RECIPES_FROM": str(self.sandbox.catalogue)})
        self.assertEqual(run.code, 0, run.stderr)
        self.assertNotIn("evil.test", run.stdout)

    def test_a_domain_suffix_that_walks_out_of_the_state_folder_is_refused(self):
        victim = self.folder / "victim.txt"
        victim.write_text("keep me")
        suffix = "/../../../../../../.." + str(victim)
        run = self.cc_ci("run", "custom-html", "--domain-suffix", suffix)
        self.assert_one_line_error(run, "--domain-suffix", "only a-z, 0-9")
        self.assertEqual(victim.read_text(), "keep me")
        self.assertEqual(self.calls(), [])

    def test_bad_numbers_are_refused_before_anything_runs(self):
        for args, fragment in ((("--timeout", "9223372036854775807"), "from 1 to 604800"),
                               (("--jobs", "2.7"), "whole number"),
                               (("--connect-to", "::127.0.0.1:http"), "not a port")):
            self.assert_one_line_error(self.cc_ci("run", "custom-html", *args), fragment)
        self.assertEqual(self.calls(), [])

    # ------------------------------------------------------------ the fake itself

    def test_fake_abra_is_faithful_where_the_harness_relies_on_it(self):
        fake = str(SOURCE / "tests" / "fake_abra" / "abra")
        env = self.sandbox.environment()
        no_tty = subprocess.run([fake, "-n", "app", "ls"], env=env, capture_output=True, text=True)
        self.assertEqual(no_tty.returncode, 1)
        self.assertIn("FATA inappropriate ioctl for device", no_tty.stderr)
        unknown = self.sandbox.fake_abra("app", "deploy", "x.cc-ci.test", "--bogus")
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("FATA unknown flag: --bogus", unknown.stderr)
        missing = self.sandbox.fake_abra("app", "deploy", "x.cc-ci.test")
        self.assertIn("FATA app x.cc-ci.test does not exist", missing.stderr)
        domain = "test-000001.cc-ci.test"
        self.assertEqual(self.sandbox.fake_abra("app", "new", "test-app", "-s", "default", "-D", domain).returncode, 0)
        refused = self.sandbox.fake_abra("app", "deploy", domain)
        self.assertIn("FATA secret not generated: db_password", refused.stderr)
        self.assertEqual(self.sandbox.fake_abra("app", "rm", domain, "--force").returncode, 0)
        self.assert_nothing_left()


if __name__ == "__main__":
    sys.exit(main(CcCi))
