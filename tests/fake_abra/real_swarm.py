"""The sandbox's side of a real Docker Swarm (see docker_swarm.py for the fake
abra's side): the engine behind DOCKER_HOST, its `proxy` overlay network, the
locally built images tagged with the names the recipes use (a registry that
is never asked), and the Traefik stand-in deployed as a swarm service.

Each sandbox on the engine has an id in its domain suffix (`s<id>.test`), so
every object its apps leave is found by name (`…_s<id>_test…`).

The backupbot (tests/swarm/images/backupbot, docs/backupbot.md) is one stack
per engine, `ccci-backupbot`, labelled as abra looks for it: real abra takes
the first service it finds with the label, so sandboxes that run at the same
time on one engine must share one bot, or a backup made in one bot could be
looked for in another. Each sandbox holds a lease on it (a file naming its
process, under a lock beside the engine's socket); the first deploys it, the
last to stop removes it with its repository. Its name has no `s<id>_test`,
so it is never an app's leftover.
"""

import fcntl
import hashlib
import os
import re
import secrets
import socket
import ssl
import subprocess
import tempfile
import time
from contextlib import contextmanager
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


BACKUPBOT_STACK = "ccci-backupbot"
BACKUPBOT_SERVICE = f"{BACKUPBOT_STACK}_app"
# The service label abra finds the backupbot by (docs/backupbot.md).
BACKUPBOT_LABEL = "coop-cloud.backupbot.enabled"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RealSwarm:
    def __init__(self, images: dict):
        """`images`: what tests/swarm/images.py built ({"nginx": TAG, "tools": TAG, "backupbot": TAG})."""
        self.docker = docker_swarm.DOCKER
        self.images = images
        self.id = secrets.token_hex(3)
        self.proxy_stack = f"ccci-proxy-{self.id}"
        self.root = None
        self.leased = False
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

    @contextmanager
    def backupbot_lock(self):
        """Serialises the sandboxes' leases on the engine's one backupbot."""
        key = hashlib.sha256(self.socket_path().encode()).hexdigest()[:12]
        folder = Path(tempfile.gettempdir()) / f"cc-ci-backupbot-{key}"
        (folder / "leases").mkdir(parents=True, exist_ok=True)
        with open(folder / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield folder / "leases"
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def live_leases(leases: Path):
        """The leases whose process still runs (a killed sandbox's lease lapses)."""
        live = []
        for lease in sorted(leases.iterdir()):
            try:
                os.kill(int(lease.read_text()), 0)
                live.append(lease)
            except (ValueError, OSError):
                lease.unlink(missing_ok=True)
        return live

    def backupbot_image(self):
        found = docker_swarm.docker("service", "inspect", BACKUPBOT_SERVICE, "--format",
                                    "{{.Spec.TaskTemplate.ContainerSpec.Image}}", check=False)
        return found.stdout.decode().strip() if found.returncode == 0 else None

    def start_backupbot(self, folder: Path):
        """Takes a lease on the engine's backupbot, deploying it when it is not
        there (or runs an older image and no one else holds it); returns once
        its container runs."""
        with self.backupbot_lock() as leases:
            others = self.live_leases(leases)
            (leases / self.id).write_text(str(os.getpid()))
            self.leased = True
            image = self.backupbot_image()
            if image is not None and image.split("@")[0] != self.images["backupbot"] and not others:
                self.remove_backupbot()
                image = None
            if image is None:
                self.deploy_backupbot(folder)
        deadline = time.monotonic() + 120
        while not self.backupbot_container():
            if time.monotonic() > deadline:
                logs = subprocess.run([self.docker, "service", "ps", "--no-trunc", BACKUPBOT_SERVICE],
                                      capture_output=True, text=True)
                raise RuntimeError(f"the backupbot did not start: {(logs.stdout + logs.stderr)[-2000:]}")
            time.sleep(0.5)

    def deploy_backupbot(self, folder: Path):
        """`docker stack deploy` of the backupbot. Its volumes come from the
        engine's data root, bind-mounted where backup-bot-two mounts the host's
        /var/lib/docker/volumes: the bot reads and writes an app's volumes as
        files, whatever image the app runs (no tar or shell needed in it), and a
        restore lands in the live volumes, as it does on a real server. The
        restic password is a Docker secret, made from a 0600 file that is
        removed at once: it never reaches a command line or a log."""
        root = docker_swarm.docker("info", "--format", "{{.DockerRootDir}}").stdout.decode().strip()
        compose = folder / "backupbot.yml"
        password = folder / "restic_password"
        compose.write_text(f"""version: "3.8"
services:
  app:
    image: {self.images['backupbot']}
    secrets: [restic_password]
    volumes:
      - {self.socket_path()}:/var/run/docker.sock
      - {root}/volumes:/var/lib/docker/volumes
      - backups:/backups
    deploy:
      labels:
        {BACKUPBOT_LABEL}: "true"
secrets:
  restic_password: {{file: {password}}}
volumes:
  backups: {{}}
""")
        descriptor = os.open(password, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(24))
        try:
            docker_swarm.docker("stack", "deploy", "--resolve-image", "never", "--compose-file", str(compose),
                                BACKUPBOT_STACK)
        finally:
            password.unlink(missing_ok=True)

    def backupbot_container(self):
        found = docker_swarm.lines("ps", "--quiet", "--filter", "status=running",
                                   "--filter", f"label=com.docker.swarm.service.name={BACKUPBOT_SERVICE}")
        return found[0] if found else None

    def remove_backupbot(self):
        """The stack, then its repository's volume (a stack's volumes outlive it)."""
        if docker_swarm.stack_exists(BACKUPBOT_STACK):
            docker_swarm.undeploy(BACKUPBOT_STACK)
        for name in docker_swarm.names("volume", BACKUPBOT_STACK):
            docker_swarm.docker("volume", "rm", name, check=False)

    def stop_backupbot(self):
        """Gives the lease back; the last holder removes the bot."""
        if not self.leased:
            return
        with self.backupbot_lock() as leases:
            (leases / self.id).unlink(missing_ok=True)
            self.leased = False
            if not self.live_leases(leases):
                try:
                    self.remove_backupbot()
                except docker_swarm.DockerError:
                    pass

    @contextmanager
    def without_backupbot(self):
        """The engine with no backupbot while the block runs (for a test of a
        server that has none): waits until no sandbox holds a lease, removes a
        bot left behind, and holds the lock, so none is deployed meanwhile."""
        while True:
            with self.backupbot_lock() as leases:
                if not self.live_leases(leases):
                    self.remove_backupbot()
                    yield
                    return
            time.sleep(2)

    def leftovers(self):
        """Everything on the engine that a run of this sandbox made and left."""
        mark = f"s{self.id}_test"
        found = []
        for kind, listing in LISTINGS.items():
            found += [f"{kind} {name}" for name in docker_swarm.lines(*listing) if mark in name]
        return found
