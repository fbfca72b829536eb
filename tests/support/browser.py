"""Debian's headless Chromium for the tests that look at what people see:
the run page, the dashboard and the PR comment. Each call has a fresh profile
and reaches nothing but 127.0.0.1 and files."""

import shutil
import subprocess
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1280,800",
         "--virtual-time-budget=5000", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def chromium(url, *args, timeout=120):
    """Runs Chromium on `url` with `args` (--dump-dom, --screenshot=FILE); returns its stdout."""
    profile = tempfile.mkdtemp(prefix="cc-ci-test-browser-")
    try:
        process = subprocess.run(["chromium", *FLAGS, f"--user-data-dir={profile}", *args, url],
                                 capture_output=True, text=True, timeout=timeout,
                                 env={"HOME": profile, "PATH": "/usr/bin:/bin"})
        if process.returncode != 0:
            raise RuntimeError(f"chromium exited {process.returncode}: {process.stderr[-2000:]}")
        return process.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)
