#!/usr/bin/env python3
"""A small HTTPS server on 127.0.0.1 for the harness's unit tests.

    https_server.py DIR

makes a test CA and a certificate for *.cc-ci.test in DIR/tls, serves, and
writes its port to DIR/port. Paths:
  /status/<code>        answers <code>
  /traefik-404          Traefik's own "404 page not found"
  /ready-after/<n>      502 for the first <n> requests, then 200 "ready"
  /echo                 200 with the method, body and X-Test header echoed back
  /json                 200 {"a": {"b": [1, 2]}, "name": "x"}
  /redirect             302 to /target
  /set-cookie, /cookie  sets a cookie; echoes the Cookie header back
  /dav/<name>           PUT, GET, DELETE a file, as user "u" with password "p"
"""

import base64
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fake_abra"))
from sandbox import make_certificates  # noqa: E402

counts = {}
files = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        parts = self.path.strip("/").split("/")
        if parts[0] == "status":
            return self.answer(int(parts[1]), f"status {parts[1]}")
        if parts[0] == "traefik-404":
            return self.answer(404, "404 page not found\n", [("Content-Type", "text/plain")])
        if parts[0] == "ready-after":
            with lock:
                counts[self.path] = counts.get(self.path, 0) + 1
                seen = counts[self.path]
            if seen <= int(parts[1]):
                return self.answer(502, "Bad Gateway")
            return self.answer(200, "ready")
        if parts[0] == "echo":
            return self.answer(200, f"{self.command} {body}", [("X-Test", self.headers.get("X-Test", "")),
                                                               ("Content-Type", "text/plain")])
        if parts[0] == "json":
            return self.answer(200, json.dumps({"a": {"b": [1, 2]}, "name": "x"}), [("Content-Type", "application/json")])
        if parts[0] == "redirect":
            return self.answer(302, "", [("Location", "/target")])
        if parts[0] == "set-cookie":
            return self.answer(200, "set", [("Set-Cookie", "session=abc123; Path=/")])
        if parts[0] == "cookie":
            return self.answer(200, self.headers.get("Cookie", ""))
        if parts[0] == "dav":
            expected = "Basic " + base64.b64encode(b"u:p").decode()
            if self.headers.get("Authorization") != expected:
                return self.answer(401, "", [("WWW-Authenticate", "Basic")])
            name = parts[1]
            if self.command == "PUT":
                created = name not in files
                files[name] = body
                return self.answer(201 if created else 204, "")
            if self.command == "DELETE":
                return self.answer(204 if files.pop(name, None) is not None else 404, "")
            return self.answer(200, files[name]) if name in files else self.answer(404, "")
        return self.answer(404, "no such test path")

    do_GET = do_POST = do_PUT = do_DELETE = route


def main():
    folder = Path(sys.argv[1])
    _, cert, key = make_certificates(folder / "tls", "cc-ci.test")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    (folder / "port.tmp").write_text(str(server.server_address[1]))
    os.replace(folder / "port.tmp", folder / "port")
    server.serve_forever()


if __name__ == "__main__":
    main()
