"""The sandbox's side of a real Docker Swarm (see docker_swarm.py for the fake
abra's side): the engine behind DOCKER_HOST, its `proxy` overlay network, the
locally built images tagged with the names the recipes use (a registry that
is never asked), and the Traefik stand-in deployed as a swarm service.

Each sandbox on the engine has an id in its domain suffix (`s<id>.test`), so
every object its apps leave is found by name (`…_s<id>_test…`).
"""

import os
import re
import secrets
import socket
import ssl
import subprocess
import time
from pathlib import Path

import docker_swarm
import state

IMAGE = re.compile(r"^\s*image:\s*(\S+)\s*$", re.MULTILINE)


def stand_ins(images: dict):
    """{upstream image a fixture recipe names: the local image that stands in
    for it}: real nginx for the static sites, the fake app's image otherwise."""
    found = {}
    for fake in sorted(state.DEFAULT_CATALOGUE.glob("*/.fake")):
        app = dict(line.split("=", 1) for line in fake.read_text().splitlines() if "=" in line).get("app")
        for upstream in IMAGE.findall((fake.parent / "compose.yml").read_text()):
            found[upstream] = images["nginx"] if app in (None, "static-site") else images["apps"][app]
    return found


# The object kinds a leftover can be, with how to list their names.
LISTINGS = {
    "stack": ["stack", "ls", "--format", "{{.Name}}"],
    "service": ["service", "ls", "--format", "{{.Name}}"],
    "container": ["ps", "--all", "--format", "{{.Names}}"],
    "secret": ["secret", "ls", "--format", "{{.Name}}"],
    "volume": ["volume", "ls", "--format", "{{.Name}}"],
    "config": ["config", "ls", "--format", "{{.Name}}"],
    "network": ["network", "ls", "--format", "{{.Name}}"],
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RealSwarm:
    def __init__(self, images: dict):
        """`images`: what tests/swarm/images.py built ({"nginx": TAG, "tools": TAG})."""
        self.docker = docker_swarm.DOCKER
        self.images = images
        self.id = secrets.token_hex(3)
        self.proxy_stack = f"ccci-proxy-{self.id}"
        self.root = None
        # The registry that is never asked: local images under the names the recipes use.
        for upstream, local in stand_ins(images).items():
            docker_swarm.docker("tag", local, upstream)
        # The external network every app joins, made once per engine (another
        # sandbox may be making it at the same moment).
        if docker_swarm.docker("network", "inspect", "proxy", check=False).returncode != 0:
            made = docker_swarm.docker("network", "create", "--driver", "overlay", "--attachable", "proxy",
                                       check=False)
            if made.returncode != 0 and b"already exists" not in made.stderr:
                raise docker_swarm.DockerError(f"docker network create proxy: {made.stderr.decode().strip()}")

    def domain_suffix(self):
        return f"s{self.id}.test"

    def environment(self):
        return {"FAKE_ABRA_SWARM": "docker", "FAKE_ABRA_DOCKER_CLI": self.docker}

    def socket_path(self):
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if not host.startswith("unix://"):
            raise RuntimeError(f"the proxy reads the Docker API through a unix socket, not {host}")
        return host[len("unix://"):]

    def start_proxy(self, cert: Path, key: Path):
        """Deploys the Traefik stand-in, published in host mode on a free port of
        127.0.0.1's host; returns the port once it answers."""
        port = free_port()
        compose = cert.parent / "proxy.yml"
        compose.write_text(f"""version: "3.8"
services:
  traefik:
    image: {self.images['tools']}
    environment:
      CERT: /run/secrets/cert
      KEY: /run/secrets/key
    secrets: [cert, key]
    volumes:
      - {self.socket_path()}:/var/run/docker.sock
    networks: [proxy]
    ports:
      - {{target: 443, published: {port}, protocol: tcp, mode: host}}
secrets:
  cert: {{file: {cert}}}
  key: {{file: {key}}}
networks:
  proxy: {{external: true}}
""")
        docker_swarm.docker("stack", "deploy", "--resolve-image", "never", "--compose-file", str(compose),
                            self.proxy_stack)
        deadline = time.monotonic() + 120
        context = ssl.create_default_context(cafile=str(cert.parent / "ca.pem"))
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                    with context.wrap_socket(raw, server_hostname=f"probe.{self.domain_suffix()}") as tls:
                        tls.sendall(f"GET / HTTP/1.1\r\nHost: probe.{self.domain_suffix()}\r\n"
                                    "Connection: close\r\n\r\n".encode())
                        if tls.recv(64).startswith(b"HTTP/1.1 404"):
                            return port
            except OSError:
                pass
            if time.monotonic() > deadline:
                logs = subprocess.run([self.docker, "service", "logs", f"{self.proxy_stack}_traefik"],
                                      capture_output=True, text=True)
                raise RuntimeError(f"the proxy service did not answer on port {port}: "
                                   f"{(logs.stdout + logs.stderr)[-2000:]}")
            time.sleep(0.5)

    def stop_proxy(self):
        try:
            docker_swarm.undeploy(self.proxy_stack)
        except docker_swarm.DockerError:
            pass

    def leftovers(self):
        """Everything on the engine that a run of this sandbox made and left."""
        mark = f"s{self.id}_test"
        found = []
        for kind, listing in LISTINGS.items():
            found += [f"{kind} {name}" for name in docker_swarm.lines(*listing) if mark in name]
        return found
