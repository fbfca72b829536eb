#!/usr/bin/env python3
"""`backup`: the sandbox's stand-in for backup-bot-two's command of the same
name (/usr/bin/backup in its image), driven as abra drives that one:

    backup -- create      (env SERVICE=<domain>)
    backup -- restore     (env SERVICE=<domain>, SNAPSHOT (latest), TARGET (/), NONINTERACTIVE=true)
    backup -- snapshots   (env SERVICE=<domain>, optional)

It finds the app's services through the Docker API (the engine's socket is
mounted at /var/run/docker.sock; HTTP over the unix socket, no docker CLI),
backs up those labelled `backupbot.backup=true` (the value as Docker holds it,
after the compose file's `${ENABLE_BACKUPS:-true}` was interpolated), and
snapshots their volumes with restic into the repository of RESTIC_REPOSITORY,
whose password restic reads itself from RESTIC_PASSWORD_FILE (a Docker secret):
no password is ever on a command line or printed.

Which data, per labelled service (docs/backupbot.md says which of it is
backup-bot-two's, and with what evidence):
- every named volume it mounts, unless `backupbot.backup.volumes.<volume>=false`;
- of a volume with `backupbot.backup.volumes.<volume>.path=a,b`, those paths,
  relative to the volume's root;
- with the older `backupbot.backup.path=/abs[,/abs2]`, those paths in the
  container, each on the volume mounted over it, and nothing else.
`backupbot.backup.pre-hook` / `post-hook` run in the service's running
container around the snapshot; `backupbot.restore.pre-hook` / `post-hook`
around a restore, which writes the snapshot's files back into the live
volumes (restic restore --target /). A hook that fails is logged and the
run goes on, as backup-bot-two's does: a restore must be verified with data.

Volumes are read and written where the engine keeps them: its volumes folder
is bind-mounted at /var/lib/docker/volumes, as backup-bot-two mounts the
host's, so a volume's files are /var/lib/docker/volumes/<name>/_data.
"""

import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import urllib.parse
from pathlib import Path, PurePosixPath

SOCKET = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
VOLUMES = Path(os.environ.get("BACKUPBOT_VOLUMES", "/var/lib/docker/volumes"))
STACK_LABEL = "com.docker.stack.namespace"
SERVICE_LABEL = "com.docker.swarm.service.name"


class Failure(Exception):
    pass


def say(message):
    print(message, flush=True)


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=600)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def api(method, path, body=None, query=None):
    """One Docker API call; the answer's bytes (JSON callers decode it)."""
    if query:
        path += "?" + urllib.parse.urlencode({k: json.dumps(v) if isinstance(v, dict) else v
                                              for k, v in query.items()})
    connection = UnixConnection(SOCKET)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload,
                           headers={"Content-Type": "application/json"} if payload is not None else {})
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status >= 300:
        raise Failure(f"Docker API {method} {path.split('?')[0]}: {response.status} {data.decode(errors='replace')}")
    return data


def api_json(method, path, body=None, query=None):
    return json.loads(api(method, path, body, query) or b"null")


def demultiplex(stream):
    """The output of a non-tty exec: frames of an 8-byte header and a payload."""
    out = bytearray()
    while len(stream) >= 8:
        size = struct.unpack(">I", stream[4:8])[0]
        out += stream[8:8 + size]
        stream = stream[8 + size:]
    return bytes(out)


def exec_in(container, argv):
    """Runs argv in a running container (docker exec through the API): (exit code, output)."""
    made = api_json("POST", f"/containers/{container}/exec",
                    {"Cmd": argv, "AttachStdout": True, "AttachStderr": True, "Tty": False})
    output = demultiplex(api("POST", f"/exec/{made['Id']}/start", {"Detach": False, "Tty": False}))
    return api_json("GET", f"/exec/{made['Id']}/json")["ExitCode"], output.decode(errors="replace")


def running_container(service_name):
    found = api_json("GET", "/containers/json",
                     query={"filters": {"label": [f"{SERVICE_LABEL}={service_name}"], "status": ["running"]}})
    return found[0]["Id"] if found else None


def is_on(value):
    return (value or "").strip().lower() == "true"


def inside(root: Path, relative: str, what: str) -> Path:
    """root/relative, refusing a path that climbs out of root: labels are the
    recipe's, and a recipe may not reach another app's volumes."""
    parts = PurePosixPath(relative.strip().lstrip("/")).parts
    if ".." in parts:
        raise Failure(f"{what}: {relative} leaves the volume")
    return root.joinpath(*parts) if parts else root


def volume_data(name):
    return VOLUMES / name / "_data"


class Service:
    """A labelled service of the stack: its running container, its hooks and
    the paths (in this container) that hold its data."""

    def __init__(self, stack, spec_service):
        spec = spec_service["Spec"]
        self.name = spec["Name"]
        self.labels = spec.get("Labels") or {}
        mounts = spec.get("TaskTemplate", {}).get("ContainerSpec", {}).get("Mounts") or []
        self.volumes = {m["Source"]: m["Target"] for m in mounts if m.get("Type") == "volume" and m.get("Source")}
        self.stack = stack
        self.container = running_container(self.name)

    def paths(self):
        old = self.labels.get("backupbot.backup.path")
        if old:
            return [self.on_a_volume(item.strip()) for item in old.split(",") if item.strip()]
        paths = []
        for source in sorted(self.volumes):
            short = source[len(self.stack) + 1:] if source.startswith(self.stack + "_") else source
            if self.labels.get(f"backupbot.backup.volumes.{short}", "").strip().lower() == "false":
                say(f"{self.name}: volume {short} opted out (backupbot.backup.volumes.{short}=false)")
                continue
            chosen = self.labels.get(f"backupbot.backup.volumes.{short}.path")
            root = volume_data(source)
            if chosen:
                paths += [inside(root, item, f"{self.name}: backupbot.backup.volumes.{short}.path")
                          for item in chosen.split(",") if item.strip()]
            else:
                paths.append(root)
        return paths

    def on_a_volume(self, path):
        """A path in the container (backupbot.backup.path), as a path on the volume mounted over it."""
        if not path.startswith("/"):
            raise Failure(f"{self.name}: backupbot.backup.path {path} is not an absolute path")
        holders = [(source, target) for source, target in self.volumes.items()
                   if path == target or path.startswith(target.rstrip("/") + "/")]
        if not holders:
            raise Failure(f"{self.name}: backupbot.backup.path {path} is on none of its volumes")
        source, target = max(holders, key=lambda holder: len(holder[1]))
        return inside(volume_data(source), path[len(target):], f"{self.name}: backupbot.backup.path")

    def hook(self, label):
        """Runs the service's hook `label`, if it has one, in its container.
        Like backup-bot-two: a `bash -c`/`sh -c` wrapper and outer quotes are
        dropped, the command runs under bash with pipefail, and a failure is
        logged, not fatal."""
        command = (self.labels.get(label) or "").strip()
        if not command:
            return
        for wrapper in ("bash -c", "sh -c"):
            if command.startswith(wrapper):
                command = command[len(wrapper):].strip()
        if len(command) >= 2 and command[0] == command[-1] and command[0] in "'\"":
            command = command[1:-1]
        say(f"{self.name}: {label}: {command}")
        code, output = exec_in(self.container, ["bash", "-c", f"set -o pipefail;{command}"])
        for line in output.splitlines():
            say(f"  {line}")
        if code != 0:
            say(f"ERROR {self.name}: {label} exited with status {code}")


def stack_services(stack):
    """The stack's services labelled for backup (all stacks' when stack is None)."""
    query = {"filters": {"label": [f"{STACK_LABEL}={stack}"] if stack else [STACK_LABEL]}}
    found = {}
    for spec_service in api_json("GET", "/services", query=query):
        labels = spec_service["Spec"].get("Labels") or {}
        if not is_on(labels.get("backupbot.backup")):
            continue
        service = Service(labels[STACK_LABEL], spec_service)
        if not service.container:
            say(f"ERROR {service.name}: no running container; its data is skipped")
            continue
        found.setdefault(service.stack, []).append(service)
    return found


def restic(*args, check=True):
    """restic with the repository and password file from the environment."""
    result = subprocess.run(["restic", *args], capture_output=True, text=True)
    for line in (result.stdout + result.stderr).splitlines():
        say(f"  restic: {line}")
    if check and result.returncode != 0:
        raise Failure(f"restic {args[0]} exited with status {result.returncode}")
    return result


def ensure_repository():
    repository = Path(os.environ.get("RESTIC_REPOSITORY", ""))
    if not repository.is_absolute():
        raise Failure("RESTIC_REPOSITORY must be a folder of this container")
    if not (repository / "config").exists():
        say(f"initialising the restic repository {repository}")
        restic("init")


def the_stack():
    service = os.environ.get("SERVICE", "").strip()
    return service.replace(".", "_") if service else None


def create():
    ensure_repository()
    apps = stack_services(the_stack())
    if not apps:
        raise Failure(f"no service of {the_stack() or 'any app'} is labelled backupbot.backup=true")
    failed = []
    for stack, services in sorted(apps.items()):
        paths = [path for service in services for path in service.paths()]
        for service in services:
            service.hook("backupbot.backup.pre-hook")
        say(f"backing up {stack}: " + ", ".join(str(p) for p in paths))
        done = restic("backup", "--tag", stack, "--host", "backupbot", *map(str, paths), check=False)
        for service in services:
            service.hook("backupbot.backup.post-hook")
        if done.returncode != 0:
            failed.append(stack)
    if failed:
        raise Failure(f"restic could not back up {', '.join(failed)}")
    say("backup finished")


def restore():
    stack = the_stack()
    if not stack:
        raise Failure("restore needs SERVICE (the app's domain)")
    if not is_on(os.environ.get("NONINTERACTIVE")):
        raise Failure("a restore overwrites the app's data and asks first: set NONINTERACTIVE=true")
    ensure_repository()
    services = stack_services(stack).get(stack)
    if not services:
        raise Failure(f"no running service of {stack} is labelled backupbot.backup=true")
    snapshot = os.environ.get("SNAPSHOT") or "latest"
    target = os.environ.get("TARGET") or "/"
    for service in services:
        service.hook("backupbot.restore.pre-hook")
    say(f"restoring {stack} from snapshot {snapshot} into {target}")
    restic("restore", snapshot, "--tag", stack, "--target", target)
    for service in services:
        service.hook("backupbot.restore.post-hook")
    say("restore finished")


def snapshots():
    ensure_repository()
    stack = the_stack()
    restic("snapshots", *(["--tag", stack] if stack else []))


COMMANDS = {"create": create, "restore": restore, "snapshots": snapshots}


def main(argv):
    words = [word for word in argv if word != "--"]
    if len(words) != 1 or words[0] not in COMMANDS:
        print(f"usage: backup -- {{{'|'.join(COMMANDS)}}}", file=sys.stderr)
        return 2
    try:
        COMMANDS[words[0]]()
    except Failure as error:
        print(f"ERROR {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
