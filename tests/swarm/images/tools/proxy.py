#!/usr/bin/env python3
"""A Traefik stand-in that runs as a swarm service, as Traefik does on a Co-op
Cloud server: on the external `proxy` overlay network, published in host
mode, serving the test wildcard certificate on its `web-secure` entrypoint.

It reads the services' `traefik.*` labels from the Docker API (the engine's
socket is mounted in): `traefik.enable=true`, a router rule `Host(`D`)` and
`traefik.http.services.<name>.loadbalancer.server.port` (default 80), and
forwards each request to the service's tasks through `tasks.<service>` DNS
(this kernel has no IPVS, so no service virtual IPs). Like Traefik it answers
`404 page not found` for a host no router has, and 502 while the service has
no task that answers.

Environment: CERT, KEY (PEM files), PORT (default 443), DOCKER_SOCKET.
"""

import http.client
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))
from common import read_body, send_answer  # noqa: E402  (the fixture apps' helpers, copied beside it)

SOCKET = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
RULE = re.compile(r"^traefik\.http\.routers\.([^.]+)\.rule$")
HOST = re.compile(r"Host\(`([^`]+)`\)")
PORT_LABEL = re.compile(r"^traefik\.http\.services\.([^.]+)\.loadbalancer\.server\.port$")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


class DockerSocket(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("docker", timeout=10)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(SOCKET)


class Routes:
    """Host -> (service name, port), read from the services' labels; reread at
    most once a second, and at once when a host is unknown."""

    def __init__(self):
        self.lock = threading.Lock()
        self.table = {}
        self.read_at = 0.0

    def refresh(self):
        connection = DockerSocket()
        try:
            connection.request("GET", "/services")
            services = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        table = {}
        for service in services:
            spec = service.get("Spec", {})
            labels = spec.get("Labels") or {}
            if labels.get("traefik.enable") != "true":
                continue
            port = next((int(v) for k, v in labels.items() if PORT_LABEL.match(k)), 80)
            for key, value in labels.items():
                if RULE.match(key):
                    for host in HOST.findall(value):
                        table[host.lower()] = (spec["Name"], port)
        self.table, self.read_at = table, time.monotonic()

    def find(self, host):
        with self.lock:
            if host not in self.table or time.monotonic() - self.read_at > 1:
                self.refresh()
            return self.table.get(host)


ROUTES = Routes()


class Handler(BaseHTTPRequestHandler):
    server_version = "traefik-stand-in"
    protocol_version = "HTTP/1.1"

    def log_message(self, form, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), form % args))

    def log_request(self, code="-", size="-"):
        # One JSON line per answer on stdout (`docker service logs`): when, for
        # which host, what status -- how a benchmark sees readiness from here.
        host = (self.headers.get("Host") or "").split(":")[0].lower() if self.headers else ""
        print(json.dumps({"time": time.time(), "host": host, "status": int(code) if isinstance(code, int) else 0}),
              flush=True)

    def answer(self, status, text):
        send_answer(self, status, {"Content-Type": "text/plain; charset=utf-8"}, text)

    def forward(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        body = read_body(self) or None
        try:
            route = ROUTES.find(host)
        except OSError as error:
            self.answer(502, f"Bad Gateway (docker API: {error})")
            return
        if route is None:
            self.answer(404, "404 page not found\n")
            return
        service, port = route
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-Proto"] = "https"
        headers["X-Forwarded-Host"] = host
        upstream = http.client.HTTPConnection(f"tasks.{service}", port, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.answer(502, "Bad Gateway")
            return
        finally:
            upstream.close()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_PROPFIND = do_MKCOL = forward


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1: `docker stop` must not wait 10 s
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "443"))), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.environ["CERT"], os.environ["KEY"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("traefik stand-in: web-secure on :%s" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
