#!/usr/bin/env python3
"""The sandbox's reverse proxy, standing in for Traefik on a Co-op Cloud server.

Listens with TLS on 127.0.0.1 and routes each request by its Host header to a
stack that the fake abra deployed (any server under --abra-dir). Like Traefik,
it answers "404 page not found" when no stack has that domain and 502 while the
stack's app is not up yet; otherwise the app module named by the stack
(apps/<app>.py) answers.

    proxy.py --abra-dir DIR --cert PEM --key PEM --port-file FILE
"""

import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import state  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))
from common import read_body, send_answer  # noqa: E402

app_module = state.app_module


class Request:
    """What an app module sees: the request, its stack, and the stack's state."""

    def __init__(self, handler, stack, swarm):
        self.method = handler.command
        self.path = handler.path
        self.headers = handler.headers
        self.body = read_body(handler)
        self.stack = stack
        self.env = stack.get("env", {})
        self.swarm = swarm
        self.volume = swarm / "volumes" / f"{stack['stack']}_content"
        self.abra_dir = handler.server.abra_dir

    def secret(self, name):
        return state.read_secret(self.swarm, self.stack["stack"], name)


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-traefik"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: the tests read the client's side
        pass

    def answer(self, status, body, headers=None):
        send_answer(self, status, headers, body)

    def not_up_yet(self, stack):
        """A stack deployed with FAKE_APP_READY_AFTER_REQUESTS=N answers 502 to its
        first N requests: "slow to start" counted in requests, not in seconds, so a
        test of it means the same on a loaded machine."""
        wanted = stack.get("ready_after_requests", 0)
        if not wanted:
            return False
        with self.server.lock:
            key = (stack["domain"], stack["deployed_at"])
            self.server.requests_seen[key] = seen = self.server.requests_seen.get(key, 0) + 1
        return seen <= wanted

    def route(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        stack = next((s for s in state.all_stacks(self.server.abra_dir) if s["domain"] == host), None)
        if "/reached-by-another-app" in self.path:
            # What a page of one app made a browser ask of another (the "reaching" mode): written
            # down whoever answers, for the test that no screenshot's page reaches past its own app.
            with open(self.server.abra_dir / "reached-by-another-app.log", "a") as log:
                log.write(f"{host} {self.command} {self.path}\n")
        # A request's body is read even when no app answers it: on a kept connection what is
        # left unread would be taken for the next request (as Traefik reads it too).
        if stack is None or stack.get("mode") == "traefik-404":
            read_body(self)
            return self.answer(404, "404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"})
        if time.time() < stack["ready_at"] or stack.get("converge") == "never" or self.not_up_yet(stack):
            read_body(self)
            return self.answer(502, "Bad Gateway", {"Content-Type": "text/plain; charset=utf-8"})
        swarm = state.swarm_dir(self.server.abra_dir / "servers" / stack["server"])
        status, headers, body = app_module(stack["app"]).handle(Request(self, stack, swarm))
        if self.server.access_log:
            # For the benchmark's readiness lag: when the app first answered, against when it was ready.
            with open(self.server.access_log, "a") as log:
                log.write(json.dumps({"domain": host, "status": status, "time": time.time(),
                                      "ready_at": stack["ready_at"]}) + "\n")
        # Which revision of the recipe runs, as the fixture recipe's version sets it.
        headers = dict(headers or {}, **{"X-Fake-Recipe-Version": stack.get("version", ""),
                                         "X-Fake-Recipe-Marker": stack.get("marker", "")})
        return self.answer(status, body, headers)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PROPFIND = do_MKCOL = route


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--abra-dir", required=True, type=Path)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port-file", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--access-log", help="append a JSON line per request the apps answered")
    arguments = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", arguments.port), Handler)
    server.daemon_threads = True
    server.abra_dir = arguments.abra_dir.resolve()
    server.access_log = arguments.access_log
    server.lock = threading.Lock()
    server.requests_seen = {}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(arguments.cert, arguments.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    temporary = arguments.port_file.with_suffix(".tmp")
    temporary.write_text(str(server.server_address[1]))
    os.replace(temporary, arguments.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
