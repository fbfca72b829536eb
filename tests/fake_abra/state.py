"""The fake abra's state: what real abra keeps under $ABRA_DIR, plus what a
Docker swarm would hold (stacks, secrets, volumes) under each server's folder.

Shared by the fake CLI, the fake proxy and the tests, so they agree on where
things are."""

import importlib.util
import json
import re
import os
import tempfile
from pathlib import Path

# Where the recipes a fake `abra app new` can "clone" come from.
HERE = Path(__file__).resolve().parent
DEFAULT_CATALOGUE = HERE / "recipes"


def abra_dir() -> Path:
    value = os.environ.get("ABRA_DIR")
    return Path(value) if value else Path.home() / ".abra"


def stack_name(domain: str) -> str:
    # abra derives the stack name from the domain.
    return domain.replace(".", "_")


def swarm_dir(server_dir: Path) -> Path:
    """The fake swarm of a server lives beside its app env files (resolved, so
    per-run ABRA_DIRs that link to the server share it)."""
    return Path(os.path.realpath(server_dir)) / ".swarm"


# The file swarm's record of a backupbot deployed on the server: backup-bot-two
# as abra finds it on a real one, by its service's label (docs/backupbot.md).
# Not an app: it is in no stacks/ folder, so never an app's leftover.
BACKUPBOT_RECORD = "backupbot.json"
BACKUPBOT_LABEL = "coop-cloud.backupbot.enabled"


def deploy_backupbot(server_dir: Path) -> None:
    write_json_atomically(swarm_dir(server_dir) / BACKUPBOT_RECORD,
                          {"stack": "backup-bot-two", "service": "backup-bot-two_app",
                           "labels": {BACKUPBOT_LABEL: "true"}})


def backupbot(server_dir: Path):
    """The backupbot service deployed on the server, as abra looks for it: one
    whose BACKUPBOT_LABEL is "true"; None when there is none."""
    try:
        record = json.loads((swarm_dir(server_dir) / BACKUPBOT_RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("labels", {}).get(BACKUPBOT_LABEL) == "true" else None


def write_json_atomically(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
    os.replace(temporary, path)


def read_env(path: Path) -> list:
    return path.read_text().splitlines()


ENV_REFERENCE = re.compile(r"(\\?)\$(\{?)([A-Z0-9_]+)(\}?)")


def env_values(lines: list) -> dict:
    """The env file as abra's reader (godotenv) gives it: the last line for a
    key wins, a quoted value loses its quotes, an unquoted one its trailing
    `# comment`, and `$NAME` / `${NAME}` (upper-case names) in a double-quoted
    or unquoted value expand from the lines above, so
    `COMPOSE_FILE="$COMPOSE_FILE:compose.x.yml"` appends."""
    values = {}
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        key, equals, value = stripped.partition("=")
        if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", key):
            continue
        value = value.strip()
        quote = value[:1] if value[:1] in ("'", '"') and value[0] in value[1:] else ""
        if quote:
            value = value[1:value.index(quote, 1)]
        else:
            value = value.rsplit(" #", 1)[0].strip() if " #" in value else value
        if quote != "'":
            value = ENV_REFERENCE.sub(lambda m: m[0][1:] if m[1] else values.get(m[3], ""), value)
        values[key] = value
    return values


def env_value(lines: list, key: str):
    """One key of env_values(), or None when no line sets it."""
    return env_values(lines).get(key)


def declared_secrets(lines: list) -> list:
    """[(name, version, options)] from SECRET_<NAME>_VERSION=v1 # length=N lines."""
    secrets = []
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith("SECRET_") or "_VERSION=" not in stripped:
            continue
        key, _, rest = stripped.partition("=")
        value, _, comment = rest.partition("#")
        name = key[len("SECRET_"):-len("_VERSION")].lower()
        options = {}
        for word in comment.split():
            option, _, setting = word.partition("=")
            options[option] = setting
        secrets.append((name, value.strip(), options))
    return secrets


def all_stacks(root: Path):
    """Every deployed stack under every server of the ABRA_DIR `root`."""
    servers = root / "servers"
    if not servers.is_dir():
        return []
    stacks = []
    for server in sorted(servers.iterdir()):
        folder = swarm_dir(server) / "stacks"
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                try:
                    stacks.append(json.loads(path.read_text()))
                except (OSError, ValueError):
                    pass  # being replaced right now
    return stacks


def leftovers(root: Path) -> list:
    """Everything that says an app still exists: env files, stacks, secrets,
    volumes. Empty when every app was torn down."""
    found = []
    servers = root / "servers"
    if not servers.is_dir():
        return found
    for server in sorted(servers.iterdir()):
        found += [f"env file {p}" for p in sorted(server.glob("*.env"))]
        swarm = swarm_dir(server)
        for kind in ("stacks", "secrets", "volumes"):
            folder = swarm / kind
            if folder.is_dir():
                found += [f"{kind[:-1]} {p.name}" for p in sorted(folder.iterdir())]
    return found


def read_secret(swarm: Path, stack: str, name: str):
    """The value of a stack's secret (its newest version), or None."""
    folder = swarm / "secrets"
    found = sorted(folder.glob(f"{stack}_{name}_v*")) if folder.is_dir() else []
    return found[-1].read_text() if found else None


_modules = {}


def app_module(name: str):
    """The fake app `name` (apps/<name>.py): handle(request) serves HTTP and,
    optionally, run(context, service, argv) runs `abra app run` commands."""
    if name not in _modules:
        import sys
        if str(HERE / "apps") not in sys.path:
            sys.path.insert(0, str(HERE / "apps"))  # for their shared helpers
        spec = importlib.util.spec_from_file_location(f"fake_app_{name.replace('-', '_')}",
                                                      HERE / "apps" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]
