#!/usr/bin/env python3
"""A fixture app as a real container: serves one of the fake apps
(tests/fake_abra/apps/<FAKE_APP>.py, copied into the image) over HTTP on
APP_PORT (80), with its state in the service's volume and its secrets from
Docker (/run/secrets/<name>), as the real app's image would.

    app_server.py                    serve
    app_server.py --run -- ARGV...   run a command of the app (`abra app run`)

Environment: FAKE_APP (the app), APP_VOLUME (the volume's mount point), DOMAIN,
FAKE_APP_MODE (how it misbehaves), and whatever the recipe passes.
"""

import importlib.util
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

APPS = Path(__file__).resolve().parent / "apps"
sys.path.insert(0, str(APPS))  # the apps' shared helpers
from common import read_body, send_answer  # noqa: E402
STARTED = time.time()


def app_module():
    name = os.environ["FAKE_APP"]
    spec = importlib.util.spec_from_file_location(f"fake_app_{name.replace('-', '_')}", APPS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Container:
    """What a fake app reads of its deployment, here from the container itself:
    its domain from DOMAIN (or KC_HOSTNAME, as Keycloak's image reads it)."""

    def __init__(self):
        self.env = dict(os.environ)
        domain = os.environ.get("DOMAIN") or os.environ.get("KC_HOSTNAME", "")
        self.stack = {"domain": domain, "mode": os.environ.get("FAKE_APP_MODE", ""),
                      "ready_at": STARTED}
        self.volume = Path(os.environ.get("APP_VOLUME", "/data"))

    def secret(self, name):
        path = Path("/run/secrets") / name
        return path.read_text().strip() if path.exists() else None


class Request(Container):
    def __init__(self, handler):
        super().__init__()
        self.method = handler.command
        self.path = handler.path
        self.headers = handler.headers
        self.body = read_body(handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    module = None

    def serve(self):
        send_answer(self, *self.module.handle(Request(self)))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PROPFIND = do_MKCOL = serve


def main(argv):
    module = app_module()
    if argv[:1] == ["--run"]:
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        runner = getattr(module, "run", None)
        if runner is None:
            print(f"{command[0] if command else '?'}: executable file not found in $PATH", flush=True)
            return 127
        return runner(Container(), "app", command)
    Handler.module = module
    # PID 1 of its container: without a handler, `docker stop`'s SIGTERM is
    # ignored and every undeploy waits out Docker's 10 s grace period.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("APP_PORT", "80"))), Handler)
    server.daemon_threads = True
    print(f"{os.environ['FAKE_APP']} (fake) listening on :{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
