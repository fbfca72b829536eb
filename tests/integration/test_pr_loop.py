"""The PR loop end to end on loopback: `cc-ci gitea` against a Gitea stand-in
(one comment, edited in place; a commit status per recipe) and the `!testme`
bridge between a signed Gitea webhook and Woodpecker's or Drone's API. The
stand-ins (tests/support/forge_standins.py) check paths, auth headers, content
types and JSON shapes as the real servers do."""

import contextlib
import datetime
import json
import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from support import CC_CI, SOURCE, SandboxTestCase, main

sys.path.insert(0, str(SOURCE / "tests" / "support"))
from forge_standins import Drone, Gitea, Woodpecker, comment_payload, gitea_time, sign  # noqa: E402

REPO = "coop-cloud/custom-html"
GITEA_TOKEN = "gitea-tok-7f3a9c41e2"
CI_TOKEN = "ci-tok-0b8d55e6a1"
WEBHOOK_SECRET = "hook-secret-c9e2f04d77"
MARKER = "<!-- cc-ci: edited in place by `cc-ci gitea` -->"
HEAD = "1f" * 20
NEW_HEAD = "2e" * 20


class PrLoopTest(SandboxTestCase):
    def write_secret(self, name, value):
        path = self.folder / name
        path.write_text(value + "\n")
        path.chmod(0o600)
        return str(path)

    def assert_no_secret(self, *texts):
        for text in texts:
            for secret in (GITEA_TOKEN, CI_TOKEN, WEBHOOK_SECRET):
                self.assertNotIn(secret, text)

    # ------------------------------------------------------------ cc-ci gitea

    def gitea(self, gitea, *args, token=GITEA_TOKEN):
        return self.cc_ci("gitea", str(self.report_dir), "--repo", REPO, "--gitea-url", gitea.url,
                          "--gitea-token-file", self.write_secret("gitea-token", token), *args)

    def test_gitea_comments_once_then_edits_that_comment_and_sets_the_status(self):
        run = self.cc_ci("run", "custom-html", "--dashboard-url", "https://ci.example.org/runs/7")
        self.assertEqual(run.code, 0, run.stdout + run.stderr)
        recipe = run.recipe("custom-html")
        commit = recipe["target"]["commit"]
        with Gitea(GITEA_TOKEN) as gitea:
            # Someone quoting cc-ci's marker, and an ordinary comment: neither is ours to edit.
            theirs = gitea.add_comment(REPO, 12, "someone", MARKER + "\nnot cc-ci's")
            gitea.add_comment(REPO, 12, "maintainer", "!testme")
            first = self.gitea(gitea, "--pr", "12", "--commit", commit, "--dashboard-url",
                               "https://ci.example.org/runs/7")
            self.assertEqual(first.code, 0, first.stdout + first.stderr)
            ours = [i for i, c in gitea.comments.items() if c["user"] == "cc-ci-bot"]
            self.assertEqual(len(ours), 1)
            body = gitea.comments[ours[0]]["body"]
            self.assertTrue(body.startswith(MARKER + "\n"), body[:200])
            self.assertIn(f"## custom-html: level {recipe['level']}", body)
            self.assertIn("![cc-ci summary card](https://ci.example.org/runs/7/card.png)", body)
            self.assertIn(f"commented on {REPO}#12 (comment {ours[0]})", first.stdout)
            self.assertEqual(gitea.statuses, [(REPO, commit, {
                "state": "success", "context": "cc-ci/custom-html", "description": f"level {recipe['level']}",
                "target_url": "https://ci.example.org/runs/7/index.html"})])

            # A later run's summary replaces the text of the same comment.
            rerun = self.cc_ci("run", "custom-html", env={"FAKE_APP_MODE": "text-plain"})
            self.assertEqual(rerun.code, 1, rerun.stdout + rerun.stderr)
            second = self.gitea(gitea, "--pr", "12", "--commit", commit)
            self.assertEqual(second.code, 0, second.stdout + second.stderr)
            self.assertEqual([i for i, c in gitea.comments.items() if c["user"] == "cc-ci-bot"], ours)
            summary = (run.report_dir / "summary.md").read_text()
            self.assertIn("## custom-html: level 2 ❌ failed", summary)
            self.assertEqual(gitea.comments[ours[0]]["body"], MARKER + "\n" + summary)
            self.assertIn(f"edited the comment {ours[0]} on {REPO}#12", second.stdout)
            self.assertEqual(gitea.comments[theirs]["body"], MARKER + "\nnot cc-ci's")
            self.assertEqual(len(gitea.statuses), 2)
            self.assertEqual([m for m, _ in gitea.calls].count("PATCH"), 1)
            self.assertEqual(gitea.refused, [])
        self.assert_no_secret(first.stdout, first.stderr, second.stdout, second.stderr)
        self.assert_nothing_left()

    def test_gitea_marks_a_failed_recipe_and_refuses_what_it_cannot_say_truly(self):
        run = self.cc_ci("run", "custom-html", env={"FAKE_APP_MODE": "text-plain"})
        self.assertEqual(run.code, 1, run.stdout + run.stderr)
        commit = run.recipe("custom-html")["target"]["commit"]
        with Gitea(GITEA_TOKEN) as gitea:
            # A token Gitea does not take: exit 1, one line, the token nowhere.
            wrong = self.gitea(gitea, "--pr", "3", "--commit", commit, token="not-" + GITEA_TOKEN)
            self.assertEqual(wrong.code, 1)
            self.assertEqual(wrong.stderr.strip(), "cc-ci: error: Gitea answered 401 to GET /user: token is required")
            self.assertNotIn(GITEA_TOKEN, wrong.stdout + wrong.stderr)
            # A status for a commit the run did not test would not be true of it.
            other = self.gitea(gitea, "--commit", "ab" * 20)
            self.assert_one_line_error(other, "tested custom-html at " + commit, "not --commit " + "ab" * 20)
            self.assert_one_line_error(self.gitea(gitea, "--commit", "HEAD"), "--commit", "not a full commit id")
            self.assert_one_line_error(self.cc_ci("gitea", str(self.report_dir), "--repo", REPO, "--commit", commit,
                                                  "--gitea-url", gitea.url), "--gitea-token-file")
            self.assert_one_line_error(self.cc_ci("gitea", str(self.report_dir), "--repo", "no-owner", "--commit",
                                                  commit, "--gitea-url", gitea.url), "--repo", "OWNER/NAME")
            # The commit the engine built is always said: a report never picks its own.
            self.assert_one_line_error(self.gitea(gitea), "--commit is required")
            self.assertEqual((gitea.comments, gitea.statuses), ({}, []))

            done = self.gitea(gitea, "--commit", commit)  # no --pr: the status only
            self.assertEqual(done.code, 0, done.stderr)
            self.assertEqual(gitea.comments, {})
            self.assertEqual(gitea.statuses, [(REPO, commit, {
                "state": "failure", "context": "cc-ci/custom-html", "description": "level 2"})])
        self.assert_nothing_left()

    # ------------------------------------------------------------ the !testme bridge

    def start_bridge(self, gitea, engine, engine_url, descriptors=None):
        """Starts `cc-ci bridge`, allowed `descriptors` open files when given (as a ulimit -n does)."""
        limit = None if descriptors is None else lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                                            (descriptors, descriptors))
        command = [CC_CI, "bridge", "--listen", "127.0.0.1:0", "--gitea-url", gitea.url,
                   "--gitea-token-file", self.write_secret("gitea-token", GITEA_TOKEN),
                   "--webhook-secret-file", self.write_secret("webhook-secret", WEBHOOK_SECRET),
                   "--ci-engine", engine, "--ci-url", engine_url,
                   "--ci-token-file", self.write_secret("ci-token", CI_TOKEN),
                   "--bridge-state", str(self.folder / "bridge-state.json")]
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=self.environment(),
                                   preexec_fn=limit)
        self.addCleanup(lambda: process.poll() is None and (process.terminate(), process.wait(30)))
        line = process.stderr.readline()
        found = re.search(r"listening on (127\.0\.0\.1:\d+) \(POST /hook\)", line)
        self.assertIsNotNone(found, line)
        return process, "http://" + found[1]

    def stop_bridge(self, process):
        process.terminate()
        _, stderr = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 0, stderr)
        return stderr

    def deliver(self, bridge, body, signature=None, event="issue_comment", path="/hook", delivery=None):
        """POSTs a delivery as Gitea does, under a new delivery id unless `delivery` names one ("" for none)."""
        delivery = str(uuid.uuid4()) if delivery is None else delivery
        headers = {"Content-Type": "application/json", "X-Gitea-Event": event}
        if delivery:
            headers["X-Gitea-Delivery"] = delivery
        if signature is not None:
            headers["X-Gitea-Signature"] = signature
        request = urllib.request.Request(bridge + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def comment_testme(self, bridge, login="maintainer", text="!testme", secret=WEBHOOK_SECRET, delivery=None,
                       **payload):
        body = comment_payload(REPO, 12, login, text, **payload)
        return self.deliver(bridge, body, sign(secret, body), delivery=delivery)

    def test_bridge_starts_one_woodpecker_build_per_commit_for_a_signed_testme_from_a_writer(self):
        with Gitea(GITEA_TOKEN) as gitea, Woodpecker(CI_TOKEN, [REPO]) as woodpecker:
            gitea.permissions = {(REPO, "maintainer"): "write", (REPO, "owner"): "admin",
                                 (REPO, "reader"): "read"}
            gitea.pulls[(REPO, 12)] = {"state": "open", "head_sha": HEAD, "base_ref": "main"}
            process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
            with urllib.request.urlopen(bridge + "/health", timeout=30) as health:
                self.assertEqual(health.read(), b"ok\n")

            status, text = self.comment_testme(bridge, text="  !testme please\n", delivery="d-1")
            self.assertEqual(status, 201, text)
            self.assertIn(f"started woodpecker build 1 of {REPO}#12 at {HEAD[:12]} for maintainer", text)
            self.assertEqual(woodpecker.builds, [(REPO, {"branch": "main", "variables": {
                "CC_CI_PR": "12", "CC_CI_COMMIT": HEAD, "CC_CI_REQUESTED_BY": "maintainer"}})])
            # The PR shows the build at once, under the context `cc-ci gitea` later sets to the result.
            self.assertEqual(gitea.statuses, [(REPO, HEAD, {
                "state": "pending", "context": "cc-ci/custom-html",
                "description": "woodpecker build 1 started for @maintainer",
                "target_url": woodpecker.url + "/repos/7/pipeline/1"})])

            # A second !testme for the same commit: no second build.
            self.assertEqual(self.comment_testme(bridge, login="owner")[0], 200)
            # Not signed, signed with another secret, or a signature of another body: refused.
            body = comment_payload(REPO, 12, "maintainer", "!testme")
            self.assertEqual(self.deliver(bridge, body)[0], 401)
            self.assertEqual(self.deliver(bridge, body, sign("guess", body))[0], 401)
            self.assertEqual(self.deliver(bridge, body, sign(WEBHOOK_SECRET, body + b" "))[0], 401)
            # Signed, but from someone without write access, or not asking.
            status, text = self.comment_testme(bridge, login="reader")
            self.assertEqual((status, text.strip()), (403, f"refused: reader may not start builds of {REPO} "
                                                           "(permission read; write is needed)"))
            self.assertEqual(self.comment_testme(bridge, login="passer-by")[0], 403)
            # Markdown code (indented by four spaces or fenced) shows the command, it does not give it.
            for ignored in (self.comment_testme(bridge, text="looks good, !testme later"),
                            self.comment_testme(bridge, text="    !testme"),
                            self.comment_testme(bridge, text="```\n!testme\n```"),
                            self.comment_testme(bridge, action="edited"),
                            self.comment_testme(bridge, is_pull=False),
                            self.deliver(bridge, body, sign(WEBHOOK_SECRET, body), event="push")):
                self.assertEqual(ignored[0], 200, ignored)
                self.assertTrue(ignored[1].startswith("ignored: "), ignored)
            self.assertEqual(len(woodpecker.builds), 1)

            # A push to the PR is a new commit: one more build, remembered across a restart.
            gitea.pulls[(REPO, 12)]["head_sha"] = NEW_HEAD
            self.assertEqual(self.comment_testme(bridge)[0], 201)
            first_log = self.stop_bridge(process)
            process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
            status, text = self.comment_testme(bridge)
            self.assertEqual((status, text.strip()), (200, f"already started a build of {REPO}#12 at {NEW_HEAD[:12]}"))
            gitea.pulls[(REPO, 12)]["state"] = "closed"
            gitea.pulls[(REPO, 12)]["head_sha"] = HEAD[::-1]
            self.assertEqual(self.comment_testme(bridge)[0], 409)
            second_log = self.stop_bridge(process)
            self.assertEqual([b[1]["variables"]["CC_CI_COMMIT"] for b in woodpecker.builds], [HEAD, NEW_HEAD])
            self.assertEqual([(sha, status["state"]) for _, sha, status in gitea.statuses],
                             [(HEAD, "pending"), (NEW_HEAD, "pending")])
            self.assertEqual((gitea.refused, woodpecker.refused),
                             ([(403, "user is not a collaborator")], []))
        self.assertIn("delivery d-1: 201 started woodpecker build 1", first_log)
        self.assert_no_secret(first_log, second_log)

    def test_bridge_acts_on_each_signed_testme_once_and_only_while_it_is_fresh(self):
        with Gitea(GITEA_TOKEN) as gitea, Woodpecker(CI_TOKEN, [REPO]) as woodpecker:
            gitea.permissions = {(REPO, "maintainer"): "write"}
            gitea.pulls[(REPO, 12)] = {"state": "open", "head_sha": HEAD, "base_ref": "main"}
            process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
            body = comment_payload(REPO, 12, "maintainer", "!testme", comment_id=4242)
            self.assertEqual(self.deliver(bridge, body, sign(WEBHOOK_SECRET, body), delivery="d-first")[0], 201)

            # The PR moves on; a replay of the signed body must not build what it holds now.
            gitea.pulls[(REPO, 12)]["head_sha"] = NEW_HEAD
            status, text = self.deliver(bridge, body, sign(WEBHOOK_SECRET, body), delivery="d-first")
            self.assertEqual((status, text.strip()), (409, "refused: delivery d-first was handled already "
                                                           "(a replay); comment !testme again"))
            # The delivery id is not signed: a replay under a new one is known by the comment's id.
            status, text = self.deliver(bridge, body, sign(WEBHOOK_SECRET, body))
            self.assertEqual((status, text.strip()), (409, f"refused: comment 4242 on {REPO}#12 was handled "
                                                           "already (a replay); comment !testme again"))
            status, text = self.comment_testme(bridge, delivery="")
            self.assertEqual((status, text.strip()), (400, "refused: the delivery has no X-Gitea-Delivery id"))

            # A comment older than the window (a replay, or a delivery hours late), or from the future.
            now = datetime.datetime.now(datetime.timezone.utc)
            old = gitea_time(now - datetime.timedelta(hours=1))
            status, text = self.comment_testme(bridge, written=old)
            self.assertEqual(status, 403, text)
            self.assertEqual(text.strip(), f"refused: the comment was written at {old}, more than 15 minutes ago "
                                           "(a replayed or late delivery); comment !testme again")
            status, text = self.comment_testme(bridge, written=gitea_time(now + datetime.timedelta(hours=1)))
            self.assertEqual(status, 403, text)
            self.assertIn("more than 15 minutes ahead of this host's clock", text)
            status, text = self.comment_testme(bridge, written="yesterday")
            self.assertEqual((status, text.strip()),
                             (400, 'refused: the comment\'s created_at "yesterday" is not an RFC 3339 time'))

            # What was handled is remembered across a restart.
            self.stop_bridge(process)
            process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
            self.assertEqual(self.deliver(bridge, body, sign(WEBHOOK_SECRET, body), delivery="d-first")[0], 409)
            self.assertEqual([b[1]["variables"]["CC_CI_COMMIT"] for b in woodpecker.builds], [HEAD])
            # A new !testme is a new comment: it builds the new head.
            self.assertEqual(self.comment_testme(bridge)[0], 201)
            self.assertEqual([b[1]["variables"]["CC_CI_COMMIT"] for b in woodpecker.builds], [HEAD, NEW_HEAD])
            log = self.stop_bridge(process)
            self.assertEqual((gitea.refused, woodpecker.refused), ([], []))
        self.assertIn("delivery d-first: 409 refused: delivery d-first was handled already", log)
        self.assert_no_secret(log)

    def test_bridge_never_starts_a_second_build_of_a_commit_whose_start_got_no_answer(self):
        state = self.folder / "bridge-state.json"
        with Gitea(GITEA_TOKEN) as gitea, Woodpecker(CI_TOKEN, [REPO]) as woodpecker:
            gitea.permissions = {(REPO, "maintainer"): "write"}
            gitea.pulls[(REPO, 12)] = {"state": "open", "head_sha": HEAD, "base_ref": "main"}
            process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
            hint = (f"to start one, push a new commit to the PR, or stop the bridge, remove {HEAD} under {REPO} "
                    f"in {state} and start it again")

            # Woodpecker takes the pipeline, and the connection closes before its answer.
            woodpecker.start_fails = [None]
            status, text = self.comment_testme(bridge)
            self.assertEqual(status, 502, text)
            self.assertTrue(text.startswith("may have started: Woodpecker gave no answer: "), text)
            self.assertTrue(text.strip().endswith(f"; no other build of {REPO}#12 at {HEAD[:12]} is started, {hint}"),
                            text)
            self.assertEqual(len(woodpecker.builds), 1)
            # The next !testme, before or after a restart, does not ask for a second build of that commit.
            for restart in (False, True):
                if restart:
                    self.stop_bridge(process)
                    process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
                status, text = self.comment_testme(bridge)
                self.assertEqual(status, 409, text)
                self.assertRegex(text.strip(), rf"^not started: a build of {REPO}#12 at {HEAD[:12]} was asked of "
                                               rf"woodpecker at \S+, which never said whether it started it; ")
                self.assertTrue(text.strip().endswith(hint), text)
            self.assertEqual(len(woodpecker.builds), 1)

            # On a new commit the engine refuses outright: nothing runs, so the next !testme asks again.
            gitea.pulls[(REPO, 12)]["head_sha"] = NEW_HEAD
            woodpecker.start_fails = [500]
            status, text = self.comment_testme(bridge)
            self.assertEqual((status, text.strip()),
                             (502, "not started: Woodpecker answered 500 to POST /api/repos/7/pipelines: the queue is full"))
            status, text = self.comment_testme(bridge)
            self.assertEqual(status, 201, text)
            self.assertIn(f"started woodpecker build 2 of {REPO}#12 at {NEW_HEAD[:12]}", text)
            self.stop_bridge(process)
            self.assertEqual([b[1]["variables"]["CC_CI_COMMIT"] for b in woodpecker.builds], [HEAD, NEW_HEAD])
            self.assertEqual(woodpecker.refused, [(500, "the queue is full")])
        builds = json.loads(state.read_text())["builds"][REPO]
        self.assertEqual((builds[HEAD]["state"], builds[NEW_HEAD]["state"], builds[NEW_HEAD]["build"]),
                         ("starting", "started", 2))

    def test_bridge_state_forgets_what_is_too_old_and_reads_its_first_format(self):
        state = self.folder / "bridge-state.json"
        with Gitea(GITEA_TOKEN) as gitea, Woodpecker(CI_TOKEN, [REPO]) as woodpecker:
            gitea.permissions = {(REPO, "maintainer"): "write"}
            gitea.pulls[(REPO, 12)] = {"state": "open", "head_sha": HEAD, "base_ref": "main"}
            # The first format: repository -> commit -> build number.
            state.write_text(json.dumps({REPO: {HEAD: 5}}))
            process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
            self.assertEqual(self.comment_testme(bridge)[0], 200)
            self.stop_bridge(process)
            saved = json.loads(state.read_text())
            self.assertEqual((saved["version"], saved["builds"][REPO][HEAD]["build"]), (2, 5))
            self.assertEqual(len(saved["deliveries"]), 1)

            # A build asked for 40 days ago and a delivery of an hour ago are dropped at the next write.
            now = datetime.datetime.now(datetime.timezone.utc)
            long_ago = (now - datetime.timedelta(days=40)).isoformat()
            hour_ago = (now - datetime.timedelta(hours=1)).isoformat()
            state.write_text(json.dumps({
                "version": 2,
                "builds": {REPO: {HEAD: {"state": "started", "build": 5, "at": long_ago}},
                           "coop-cloud/other": {NEW_HEAD: {"state": "started", "build": 9, "at": long_ago}}},
                "deliveries": {"d-old": hour_ago}, "comments": {f"{REPO} comment 1": hour_ago}}))
            process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
            status, text = self.comment_testme(bridge, delivery="d-new")
            self.assertEqual(status, 201, text)
            self.stop_bridge(process)
            saved = json.loads(state.read_text())
            self.assertEqual(list(saved["builds"]), [REPO])
            self.assertEqual(saved["builds"][REPO][HEAD]["build"], 1)
            self.assertEqual(list(saved["deliveries"]), ["d-new"])
            self.assertEqual(len(saved["comments"]), 1)
            self.assertEqual(len(woodpecker.builds), 1)

    def test_bridge_starts_a_drone_build_with_the_pr_as_parameters_and_marks_the_commit_pending(self):
        with Gitea(GITEA_TOKEN) as gitea, Drone(CI_TOKEN, [REPO]) as drone:
            gitea.permissions = {(REPO, "maintainer"): "write"}
            gitea.pulls[(REPO, 12)] = {"state": "open", "head_sha": HEAD, "base_ref": "main"}
            process, bridge = self.start_bridge(gitea, "drone", drone.url)
            status, text = self.comment_testme(bridge)
            self.assertEqual(status, 201, text)
            self.assertEqual(drone.builds, [(REPO, {"branch": "main", "CC_CI_PR": "12", "CC_CI_COMMIT": HEAD,
                                                    "CC_CI_REQUESTED_BY": "maintainer"})])
            self.assertEqual(gitea.statuses, [(REPO, HEAD, {
                "state": "pending", "context": "cc-ci/custom-html", "description": "drone build 1 started for @maintainer",
                "target_url": drone.url + "/coop-cloud/custom-html/1"})])
            # A status Gitea refuses is said in the answer; the build runs either way.
            gitea.pulls[(REPO, 12)]["head_sha"] = NEW_HEAD
            gitea.status_failure = 500
            status, text = self.comment_testme(bridge)
            self.assertEqual(status, 201, text)
            self.assertEqual(text.strip(), f"started drone build 2 of {REPO}#12 at {NEW_HEAD[:12]} for maintainer "
                                           f"(the pending status is not set: Gitea answered 500 to POST "
                                           f"/repos/{REPO}/statuses/{NEW_HEAD}: statuses are read-only)")
            self.assertEqual(len(drone.builds), 2)
            log = self.stop_bridge(process)
            self.assertEqual((gitea.refused, drone.refused), ([(500, "statuses are read-only")], []))
        self.assert_no_secret(log)

    def test_bridge_answers_health_whatever_idle_clients_and_a_stalled_gitea_hold(self):
        def health(bridge):
            with urllib.request.urlopen(bridge + "/health", timeout=60) as answer:
                return answer.read()

        def cpu_seconds(pid):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        with Gitea(GITEA_TOKEN) as gitea, Woodpecker(CI_TOKEN, [REPO]) as woodpecker:
            gitea.permissions = {(REPO, "maintainer"): "write"}
            gitea.pulls[(REPO, 12)] = {"state": "open", "head_sha": HEAD, "base_ref": "main"}
            # Clients that connect and send nothing: more than the bridge's connection cap, and more
            # than the descriptors it may open (as with a ulimit -n of 256 and of 48).
            for descriptors, clients in ((256, 400), (48, 100)):
                with self.subTest(descriptors=descriptors), contextlib.ExitStack() as idle:
                    process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url, descriptors)
                    port = int(bridge.rsplit(":", 1)[1])
                    for _ in range(clients):
                        idle.enter_context(socket.create_connection(("127.0.0.1", port), timeout=60))
                    self.assertEqual(health(bridge), b"ok\n")
                    # While they hold on, the bridge waits: a spinning accept loop would use about
                    # all of a core. An idle process uses next to nothing however busy the machine is.
                    before = cpu_seconds(process.pid)
                    time.sleep(2)
                    self.assertLess(cpu_seconds(process.pid) - before, 1.0)
                    self.assertEqual(health(bridge), b"ok\n")
                self.stop_bridge(process)

            # A delivery waits for a Gitea that stalls; a second one for the same commit waits
            # behind it. GET /health is answered meanwhile.
            process, bridge = self.start_bridge(gitea, "woodpecker", woodpecker.url)
            gitea.hold = threading.Event()
            answers = {}

            def deliver(name):
                answers[name] = self.comment_testme(bridge)

            first = threading.Thread(target=deliver, args=("first",))
            first.start()
            self.assertTrue(gitea.holding.wait(60))
            second = threading.Thread(target=deliver, args=("second",))
            second.start()
            self.assertEqual(health(bridge), b"ok\n")
            self.assertEqual(answers, {}, "GET /health was answered only after a delivery")
            gitea.hold.set()
            first.join(120)
            second.join(120)
            self.assertEqual(answers["first"][0], 201, answers)
            self.assertEqual(answers["second"], (200, f"already started a build of {REPO}#12 at {HEAD[:12]}\n"))
            self.assertEqual(len(woodpecker.builds), 1)
            self.stop_bridge(process)

    def test_bridge_without_its_secrets_or_engine_does_not_start(self):
        with Gitea(GITEA_TOKEN) as gitea:
            base = ["bridge", "--gitea-url", gitea.url, "--ci-url", gitea.url,
                    "--gitea-token-file", self.write_secret("gitea-token", GITEA_TOKEN),
                    "--ci-token-file", self.write_secret("ci-token", CI_TOKEN),
                    "--bridge-state", str(self.folder / "state.json")]
            self.assert_one_line_error(self.cc_ci(*base, "--ci-engine", "woodpecker"), "--webhook-secret-file")
            self.write_secret("empty", "")
            self.assert_one_line_error(self.cc_ci(*base, "--ci-engine", "woodpecker", "--webhook-secret-file",
                                                  str(self.folder / "empty")), "the file is empty")
            self.assert_one_line_error(self.cc_ci(*base, "--ci-engine", "jenkins"), "woodpecker and drone")
            (self.folder / "state.json").write_text("[1, 2]")
            self.assert_one_line_error(self.cc_ci(*base, "--ci-engine", "drone", "--webhook-secret-file",
                                                  self.write_secret("hook", WEBHOOK_SECRET)),
                                       "--bridge-state", "not a cc-ci bridge state file")
            self.assertEqual(gitea.calls, [])


if __name__ == "__main__":
    sys.exit(main(PrLoopTest))
