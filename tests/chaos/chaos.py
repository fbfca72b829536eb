#!/usr/bin/env python3
"""Seeded chaos: cc-ci runs with faults at every abra subcommand, plugins that
throw, crash, hang or exit at any hook, hostile abra output (colour, invalid
UTF-8, megabytes of it), several jobs at once, and SIGINT/SIGTERM/SIGHUP at
random moments, and a hostile pull request (a report folder it committed or
linked, planted links in an earlier report, COMPOSE_FILE names that lead out
of the checkout, a FIFO or a huge compose file, megabytes of tags, a hostile
results.json under the dashboard). After every run it asserts what cc-ci
promises:

- no app is left in the fake's state (env files, stacks, secrets, volumes);
- results.json exists and validates against docs/results-v1.schema.json;
- every recipe has a final status;
- the exit code is 130 if a signal stopped the run, else 1 when a recipe
  failed, errored or was not tested, and 0 when all passed;
- no false pass: a plugin told to break is never reported passed;
- no secret value appears in any log, report or output, nor on any abra
  command line;
- a hostile pull request gets exactly one line and exit 2 before anything is
  deployed, or (a planted earlier report) a fresh report with its links gone
  and what they pointed at untouched; the dashboard indexes the good runs
  beside a hostile results.json.

    chaos.py --seeds 1-16          (a range or a comma list; the same seed is the same run)
    chaos.py --seeds 1-1000 --workers 2   (seeds side by side; each has its own sandbox)

Prints one line per seed and a closing "N passed, N failed" line.
"""

import argparse
import concurrent.futures
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[1]
sys.path.insert(0, str(SOURCE / "tests" / "fake_abra"))
from sandbox import Sandbox  # noqa: E402

CC_CI = os.environ.get("CC_CI", str(SOURCE / "build" / "core" / "cc-ci"))
RECIPES = Path(os.environ.get("CC_CI_RECIPES", SOURCE / "build" / "recipes"))
TEST_PLUGINS = Path(os.environ.get("CC_CI_TEST_PLUGINS", SOURCE / "build" / "tests" / "plugins"))
GENERIC_PLUGIN = Path(os.environ.get("CC_CI_GENERIC_PLUGIN", SOURCE / "build" / "plugins" / "generic"))
SCHEMA = json.loads((SOURCE / "docs" / "results-v1.schema.json").read_text())

SUBCOMMANDS = ["app.new", "app.secret.generate", "app.deploy", "app.undeploy", "app.rm", "app.run",
               "app.backup.create", "app.volume.remove", "app.restore", "app.upgrade", "recipe.lint"]
# Teardown commands get transient faults only: one that fails forever leaves
# its app to `cc-ci janitor`, which is not what a run promises.
DEPLOY_MODES = ["fail", "hang", "slow:0.5", "crash", "fail-after-stack", "converge-hang", "converge-slow:1"]
TEARDOWN_MODES = ["fail#1", "crash#1", "slow:0.5"]
APP_RECIPES = ["custom-html", "hedgedoc", "keycloak", "nextcloud", "gitea", "matrix-synapse"]
PLUGIN_RECIPES = {"crash-test": "crash", "hang-test": "hang", "throw-test": "throw", "secret-test": "secret",
                  "fault-test": "fault"}
# Where the fault plugin breaks, and how (see tests/plugins/fault/fault.cpp).
PLUGIN_FAULTS = [f"{where}:{what}" for where in ("deploy", "check2", "teardown")
                 for what in ("exit0", "exit1", "segv", "throw")] + ["check2:hang"]
# What a pull request controls, turned against cc-ci. The first ones stop the
# run before anything deploys (exit 2, one line); the last two let it run.
PR_REFUSED = ["report-inside", "report-link", "compose-outside", "compose-link", "compose-fifo", "compose-huge",
              "tags"]
PR_FAULTS = PR_REFUSED + ["report-planted", "results"]
# A field of results.json with a value of the wrong type or word.
HOSTILE_RESULTS = [("level", "8"), ("level", 9), ("status", "<img src=x onerror=alert(1)>"), ("recipe", 7),
                   ("rungs", [{"status": "passed | ![](http://x)"}]), ("steps", {"not": "a list"}),
                   ("target", {"version": 1}), ("duration_ms", -1)]


def scenario(seed):
    rng = random.Random(seed)
    recipes = rng.sample(APP_RECIPES, rng.randint(1, 3)) + rng.sample(sorted(PLUGIN_RECIPES), rng.randint(0, 2))
    faults = []
    for _ in range(rng.randint(0, 2)):
        subcommand = rng.choice(SUBCOMMANDS)
        modes = TEARDOWN_MODES if subcommand in ("app.undeploy", "app.rm") else DEPLOY_MODES
        faults.append(f"{subcommand}={rng.choice(modes)}")
    return {
        "recipes": sorted(set(recipes)),
        "jobs": rng.randint(1, 3),
        "faults": ",".join(faults),
        "app_mode": rng.choice(["", "", "", "error-500"]),
        "plugin_fault": rng.choice(PLUGIN_FAULTS),
        "colour": rng.choice(["", "", "1"]),
        "noise": rng.choice(["", "", "", "utf8", "huge"]),
        "signal": rng.choice([None, None, signal.SIGINT, signal.SIGTERM, signal.SIGHUP]),
        "signal_after": round(rng.uniform(0.2, 4.0), 2),
        # Drawn last, so every earlier choice of a seed stays what it was.
        "pr": rng.choice([None] * 9 + PR_FAULTS),
        "hostile_results": rng.choice(HOSTILE_RESULTS),
    }


def git(folder, *args):
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def hostile_workspace(sandbox, folder, fault):
    """The PR's checkout of test-app (read by the generic plugin), with `fault`
    in it; returns (cc-ci arguments, what must be untouched afterwards)."""
    workspace = folder / "workspace"
    git(folder, "clone", "--quiet", str(sandbox.catalogue / "test-app"), str(workspace))
    args = ["--recipe-dir", f"test-app={workspace}", "--plugins", str(GENERIC_PLUGIN)]
    sample = (workspace / ".env.sample").read_text()
    untouched = {}
    if fault == "report-inside":
        forged = workspace / "cc-ci-report"
        forged.mkdir()
        (forged / "results.json").write_text('{"run_id": "forged"}')
        untouched[forged / "results.json"] = '{"run_id": "forged"}'
        args += ["--report-dir", str(forged)]
    elif fault == "report-link":
        elsewhere = folder / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "keep.txt").write_text("keep")
        untouched[elsewhere / "keep.txt"] = "keep"
        (folder / "report-link").symlink_to(elsewhere)
        args += ["--report-dir", str(folder / "report-link")]
    elif fault.startswith("compose-"):
        name = {"compose-outside": "../../../etc/passwd", "compose-link": "out.yml", "compose-fifo": "fifo.yml",
                "compose-huge": "huge.yml"}[fault]
        if fault == "compose-link":
            (workspace / "out.yml").symlink_to("/dev/zero")
        elif fault == "compose-fifo":
            os.mkfifo(workspace / "fifo.yml")
        elif fault == "compose-huge":
            (workspace / "huge.yml").write_text("#" * (2 << 20))
        (workspace / ".env.sample").write_text(sample + f'COMPOSE_FILE="compose.yml:{name}"\n')
    elif fault == "tags":
        head = git(workspace, "rev-parse", "HEAD")
        with open(workspace / ".git" / "packed-refs", "a") as refs:
            refs.writelines(f"{head} refs/tags/0.0.{i}+{'x' * 230}\n" for i in range(26000))
    return args, untouched


def plant_earlier_report(report, folder):
    """An earlier cc-ci report folder in which links and a forged file were planted."""
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    report.mkdir()
    (report / ".cc-ci-report").write_text("")
    (report / "results.json").write_text('{"run_id": "forged"}')
    for name in ("logs", "badges", "screenshots"):
        (report / name).symlink_to(elsewhere)
    return {elsewhere / "keep.txt": "keep"}


def check_hostile_results(report, folder, fault_field):
    """The dashboard over this run's report and a copy with one hostile field:
    exit 0, the good run indexed, the bad one named on stderr."""
    root = folder / "dashboard"
    good, bad = root / "r" / "1", root / "r" / "2"
    shutil.copytree(report, good, symlinks=True)
    shutil.copytree(report, bad, symlinks=True)
    results = json.loads((bad / "results.json").read_text())
    field, value = fault_field
    if results["recipes"]:
        results["recipes"][0][field] = value
    else:
        results[field] = value
    (bad / "results.json").write_text(json.dumps(results))
    done = subprocess.run([CC_CI, "dashboard", str(root)], capture_output=True, text=True, timeout=60)
    check(done.returncode == 0, f"dashboard exit {done.returncode}: {done.stderr.strip()[-300:]}")
    index = (root / "index.html").read_text()
    check('href="r/1/index.html' in index, "the good run is not on the dashboard")
    check("<img src=x" not in index, "markup from results.json reached the dashboard")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run_seed(seed, folder):
    plan = scenario(seed)
    sandbox = Sandbox(folder / "sandbox", extra_recipes={
        "crash-test": "test-app", "hang-test": "test-app", "throw-test": "test-app", "secret-test": "secret-app",
        "fault-test": "test-app"})
    sandbox.start()
    try:
        report = folder / "report"
        secrets_log = folder / "secrets.txt"
        env = sandbox.environment()
        env.update({"FAKE_ABRA_FAULTS": plan["faults"], "FAKE_ABRA_FAULT_LOG": str(folder / "faults.log"),
                    "FAKE_APP_MODE": plan["app_mode"], "FAKE_ABRA_SECRET_LOG": str(secrets_log),
                    "CCCI_TEST_SECRET": f"chaos-secret-{seed}-x9", "CCCI_TEST_FAULT": plan["plugin_fault"],
                    "FAKE_ABRA_FORCE_COLOR": plan["colour"], "FAKE_ABRA_NOISE": plan["noise"],
                    "FAKE_ABRA_CALL_LOG": str(folder / "calls.jsonl")})
        refused = plan["pr"] in PR_REFUSED
        recipes = ["test-app"] if refused else plan["recipes"]
        command = [CC_CI, "run", *recipes, "--jobs", str(plan["jobs"]), "--browser", "", "--plugins",
                   str(RECIPES), "--timeout-deploy", "4", "--timeout-probe", "4", "--timeout-teardown", "20"]
        for recipe in recipes:
            if recipe in PLUGIN_RECIPES:
                command += ["--plugins", str(TEST_PLUGINS / PLUGIN_RECIPES[recipe])]
        untouched = {}
        if refused:
            extra, untouched = hostile_workspace(sandbox, folder, plan["pr"])
            command += extra
        elif plan["pr"] == "report-planted":
            untouched = plant_earlier_report(report, folder)
        if "--report-dir" not in command:
            command += ["--report-dir", str(report)]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   cwd=folder)
        signalled = False
        if plan["signal"]:
            try:
                process.wait(timeout=plan["signal_after"])
            except subprocess.TimeoutExpired:
                process.send_signal(plan["signal"])
                signalled = True
        stdout, stderr = process.communicate(timeout=240)

        check(sandbox.leftovers() == [], f"left behind: {sandbox.leftovers()}")
        for path, content in untouched.items():
            check(path.read_text() == content, f"{path} was changed")
        if refused:
            lines = stderr.strip().splitlines()
            check(process.returncode == 2, f"hostile PR {plan['pr']}: exit {process.returncode}: {stderr[-300:]}")
            check(len(lines) == 1 and lines[0].startswith("cc-ci: error: "), f"not one line: {stderr[-300:]}")
            calls = (folder / "calls.jsonl").read_text() if (folder / "calls.jsonl").exists() else ""
            check('"new"' not in calls, "a hostile PR's app was created")
            return plan, process.returncode, []
        if plan["pr"] == "report-planted" and report.is_dir():
            for name in ("logs", "badges", "screenshots"):
                check(not (report / name).is_symlink(), f"a planted link {name} survived in the report")
        results_path = report / "results.json"
        check(results_path.exists(), f"no results.json (exit {process.returncode}): {stderr.strip()[-300:]}")
        results = json.loads(results_path.read_text())
        import jsonschema
        jsonschema.validate(results, SCHEMA)
        check(sorted(r["recipe"] for r in results["recipes"]) == plan["recipes"], "a recipe is missing")
        statuses = [r["status"] for r in results["recipes"]]
        check(all(s in ("passed", "failed", "errored", "skipped", "flaky") for s in statuses), statuses)
        if process.returncode == 130:
            check(signalled and results["interrupted"], "exit 130 without an interrupt")
        else:
            bad = any(s in ("failed", "errored", "skipped") for s in statuses)
            check(process.returncode == (1 if bad else 0), f"exit {process.returncode} with statuses {statuses}")
            check(not results["interrupted"], "interrupted but did not exit 130")
        by_recipe = {r["recipe"]: r for r in results["recipes"]}
        if "fault-test" in by_recipe:  # every fault it is given must show
            check(by_recipe["fault-test"]["status"] != "passed",
                  f"false pass: fault-test with {plan['plugin_fault']} passed")
        written = stdout + stderr + "".join(p.read_text(errors="replace") for p in report.rglob("*") if p.is_file())
        secrets = secrets_log.read_text().split() if secrets_log.exists() else []
        secrets.append(f"chaos-secret-{seed}-x9")
        calls = (folder / "calls.jsonl").read_text(errors="replace") if (folder / "calls.jsonl").exists() else ""
        for value in secrets:
            check(value not in written, "a secret leaked")
            check(value not in calls, "a secret was on an abra command line")
        check(results.get("run_id") != "forged", "a planted results.json was kept")
        if plan["pr"] == "results":
            check_hostile_results(report, folder, plan["hostile_results"])
        return plan, process.returncode, statuses
    finally:
        sandbox.stop()


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds += range(int(first), int(last or first) + 1)
    return seeds


def run_one(seed):
    """One seed in its own folder; returns (passed, the line to print)."""
    with tempfile.TemporaryDirectory(prefix=f"cc-ci-chaos-{seed}-") as folder:
        try:
            plan, code, statuses = run_seed(seed, Path(folder))
            return True, (f"seed {seed}: ok (exit {code}, {statuses}, faults {plan['faults'] or 'none'}, "
                          f"signal {plan['signal'] and signal.Signals(plan['signal']).name}, "
                          f"pr {plan['pr'] or 'none'})")
        except Exception:  # noqa: BLE001 — every failure is reported with its seed
            return False, f"seed {seed}: FAILED {scenario(seed)}\n{traceback.format_exc()}"


def main():
    parser = argparse.ArgumentParser(description="Seeded chaos runs of cc-ci against the fake abra.")
    parser.add_argument("--seeds", default="1-8", help="e.g. 1-1000 or 3,17,42")
    parser.add_argument("--workers", type=int, default=1,
                        help="seeds run side by side (default 1); a seed's outcome does not depend on it")
    arguments = parser.parse_args()
    if arguments.workers < 1:
        parser.error("--workers must be at least 1")
    passed = failed = 0
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=arguments.workers) as pool:
        # map() keeps seed order in the output whatever finishes first.
        for ok, line in pool.map(run_one, parse_seeds(arguments.seeds)):
            passed += ok
            failed += not ok
            print(line, flush=True)
    print(f"chaos: {passed + failed} seeds in {time.monotonic() - started:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
