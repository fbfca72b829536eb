#!/usr/bin/env python3
"""A local stand-in for a Co-op Cloud server: the fake abra, its state, a test
CA with a wildcard certificate, and the TLS proxy that serves deployed apps on
127.0.0.1. Used by the integration tests and by the README's demo run.

    sandbox.py [--root DIR] -- COMMAND [ARG...]

starts the sandbox, runs COMMAND inside it (ABRA_DIR, CC_CI_CONFIG and the
fake's catalogue set in its environment), stops the proxy and exits with
COMMAND's exit code. It says so if any app was left behind.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import catalogue  # noqa: E402
import state  # noqa: E402

FAKE_ABRA = HERE / "abra"
FAKE_DOCKER = HERE / "docker"
PROXY = HERE / "proxy.py"
DOMAIN_SUFFIX = "cc-ci.test"


def make_certificates(folder: Path, suffix: str):
    """A throwaway CA and a certificate for *.suffix signed by it (EC P-256)."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, cwd=folder, capture_output=True)

    openssl("req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=cc-ci sandbox CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN=*.{suffix}")
    (folder / "server.ext").write_text(
        f"subjectAltName=DNS:*.{suffix}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


class Sandbox:
    def __init__(self, root: Path, extra_recipes=None, servers=("default",), access_log=None, swarm=None,
                 backupbot=True):
        """`extra_recipes`: {name: fixture} recipes to add to the catalogue as copies of a fixture.
        `swarm`: None for the fake's files, or a RealSwarm: apps then run on the Docker engine.
        `backupbot`: deploy a backupbot on the servers, as a Co-op Cloud server has
        (backup-bot-two); False makes servers without one, where backups fail as abra's do."""
        self.root = Path(root).resolve()
        self.swarm = swarm
        self.backupbot = backupbot
        # On a shared engine each sandbox has its own domains, so that what its
        # runs leave behind is told apart by name (stack `<x>_<id>_test`).
        self.domain_suffix = swarm.domain_suffix() if swarm else DOMAIN_SUFFIX
        self.abra_dir = self.root / "abra"
        self.catalogue = self.root / "catalogue"
        self.config = self.root / "cc-ci.json"
        self.extra_recipes = dict(extra_recipes or {})
        self.servers = list(servers)
        self.proxy = None
        self.port = None
        self.access_log = access_log

    def fake_abra(self, *args, extra_env=None):
        env = self.environment()
        env["FAKE_ABRA_ALLOW_NO_TTY"] = "1"
        env.update(extra_env or {})
        return subprocess.run([str(FAKE_ABRA), "-n", *args], env=env, capture_output=True, text=True)

    def start(self):
        self.root.mkdir(parents=True, exist_ok=True)
        # The catalogue: a git repository per recipe, with release tags and a later commit.
        fixtures = {path.name: path for path in sorted(state.DEFAULT_CATALOGUE.iterdir()) if path.is_dir()}
        fixtures.update({name: state.DEFAULT_CATALOGUE / fixture for name, fixture in self.extra_recipes.items()})
        self.releases = catalogue.build(self.catalogue, fixtures)
        self.ca, cert, key = make_certificates(self.root / "tls", self.domain_suffix)
        for server in self.servers:
            result = self.fake_abra("server", "add", *(["--local"] if server == "default" else [server]))
            if result.returncode != 0:
                raise RuntimeError(f"fake abra server add failed: {result.stderr.strip()}")
            if self.backupbot and not self.swarm:
                state.deploy_backupbot(self.abra_dir / "servers" / server)
        if self.swarm:
            if self.backupbot:
                self.swarm.start_backupbot(self.root)
            self.port = self.swarm.start_proxy(cert, key)
        else:
            self.start_file_proxy(cert, key)
        self.config.write_text(json.dumps({
            "abra": str(FAKE_ABRA),
            "docker": str(self.swarm.docker if self.swarm else FAKE_DOCKER),
            "domain_suffix": self.domain_suffix,
            "ca_file": str(self.ca),
            "connect_to": [f"::127.0.0.1:{self.port}"],
            "server": self.servers,
            "recipes_from": str(self.catalogue),
        }, indent=2) + "\n")
        return self

    def start_file_proxy(self, cert, key):
        port_file = self.root / "proxy.port"
        with open(self.root / "proxy.log", "w") as log:
            self.proxy = subprocess.Popen(
                [sys.executable, str(PROXY), "--abra-dir", str(self.abra_dir), "--cert", str(cert),
                 "--key", str(key), "--port-file", str(port_file),
                 *(["--access-log", str(self.access_log)] if self.access_log else [])],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while not port_file.exists():
            if self.proxy.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox proxy did not start; see {self.root / 'proxy.log'}")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def environment(self):
        env = dict(os.environ)
        env["ABRA_DIR"] = str(self.abra_dir)
        env["FAKE_ABRA_CATALOGUE"] = str(self.catalogue)
        env["CC_CI_CONFIG"] = str(self.config)
        env["CC_CI_STATE_DIR"] = str(self.root / "state")  # cc-ci's running markers
        if self.swarm:
            env.update(self.swarm.environment())
        return env

    def leftovers(self):
        found = state.leftovers(self.abra_dir)
        if self.swarm:
            found += self.swarm.leftovers()
        return found

    def stop(self):
        if self.swarm:
            self.swarm.stop_proxy()
            self.swarm.stop_backupbot()
        if self.proxy and self.proxy.poll() is None:
            self.proxy.terminate()
            try:
                self.proxy.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proxy.kill()
                self.proxy.wait()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()  # a proxy already started (a process, or a stack on the engine) goes too
            raise

    def __exit__(self, *exc):
        self.stop()


def main():
    parser = argparse.ArgumentParser(description="Run a command inside a local cc-ci sandbox.")
    parser.add_argument("--root", type=Path, help="where the sandbox lives (default: a new temporary folder)")
    parser.add_argument("--swarm", action="store_true",
                        help="run the apps on the real Docker engine of DOCKER_HOST (see tools/swarm), "
                             "with the images named by CC_CI_SWARM_IMAGES")
    parser.add_argument("--no-backupbot", action="store_true",
                        help="servers without a backupbot (backup-bot-two): backups fail as abra's do there")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("give a command after --")
    root = arguments.root or Path(tempfile.mkdtemp(prefix="cc-ci-sandbox-"))
    if root.exists() and any(root.iterdir()):
        shutil.rmtree(root)
    swarm = None
    if arguments.swarm:
        from real_swarm import RealSwarm
        images = os.environ.get("CC_CI_SWARM_IMAGES")
        if not images:
            parser.error("--swarm needs CC_CI_SWARM_IMAGES (eval \"$(tools/swarm up)\")")
        swarm = RealSwarm(json.loads(Path(images).read_text()))
    with Sandbox(root, swarm=swarm, backupbot=not arguments.no_backupbot) as sandbox:
        where = f"the Docker engine at {os.environ.get('DOCKER_HOST')}" if swarm else "the fake's files"
        print(f"sandbox: fake abra on {where}, ABRA_DIR {sandbox.abra_dir}, apps served on "
              f"https://127.0.0.1:{sandbox.port} with a test CA ({sandbox.ca}), "
              f"{'a backupbot' if sandbox.backupbot else 'no backupbot'} on the server", flush=True)
        code = subprocess.call(command, env=sandbox.environment())
        left = sandbox.leftovers()
    if left:
        print("sandbox: left behind: " + "; ".join(left), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
