"""The fake abra's second swarm: the real Docker engine (DOCKER_HOST), chosen
with FAKE_ABRA_SWARM=docker.

The fake keeps abra's side as it is (commands, flags, wordings, env files,
versions) and its own records under $ABRA_DIR; what abra would do to the
server happens here, for real, as abra does it: `docker stack deploy` of the
recipe's COMPOSE_FILE chain with the env file for interpolation, Docker
secrets named `<stack>_<secret>_<version>`, `docker stack rm` and a wait until
the stack's containers and networks are gone, volumes and secrets removed by
`app rm`, `app run` as `docker exec` into the service's running task.
Convergence is read from the tasks' state. No image is ever pulled: the
sandbox tags locally built images with the names the recipes use, and every
deploy passes `--resolve-image never`.
"""

import os
import subprocess
import time
from pathlib import Path

DOCKER = os.environ.get("FAKE_ABRA_DOCKER_CLI") or ("/usr/bin/docker" if Path("/usr/bin/docker").exists()
                                                    else "docker")
STACK_LABEL = "com.docker.stack.namespace"
# How long undeploy waits for Docker to finish removing a stack (abra waits too).
REMOVAL_WAIT = float(os.environ.get("FAKE_ABRA_REMOVAL_WAIT", "120"))


class DockerError(Exception):
    pass


def enabled():
    return os.environ.get("FAKE_ABRA_SWARM") == "docker"


def docker(*args, stdin=None, env=None, check=True, capture=True):
    result = subprocess.run([DOCKER, *args], input=stdin, env=env, capture_output=capture)
    if check and result.returncode != 0:
        said = (result.stderr or b"").decode(errors="replace").strip().splitlines()
        raise DockerError(f"docker {args[0]} {args[1] if len(args) > 1 else ''}: "
                          f"{said[-1] if said else 'exit ' + str(result.returncode)}")
    return result


def lines(*args):
    return [line for line in docker(*args).stdout.decode().split("\n") if line.strip()]


def deploy(stack, recipe_dir: Path, compose_files, env_values: dict):
    """`docker stack deploy` of the compose chain; the env file's values (and
    STACK_NAME) interpolate it, as abra does."""
    env = dict(os.environ)
    env.update(env_values)
    env["STACK_NAME"] = stack
    args = ["stack", "deploy", "--resolve-image", "never", "--prune"]
    for name in compose_files:
        args += ["--compose-file", str(recipe_dir / name)]
    docker(*args, stack, env=env)


def services(stack):
    return lines("service", "ls", "--filter", f"label={STACK_LABEL}={stack}", "--format", "{{.Name}} {{.Replicas}}")


def converged(stack):
    """(done, why): every service runs all its replicas, each task healthy if it has a healthcheck."""
    found = services(stack)
    if not found:
        return False, "no services"
    for line in found:
        name, _, replicas = line.partition(" ")
        running, _, wanted = replicas.partition("/")
        if not wanted or running != wanted.split(" ")[0]:
            return False, f"{name} runs {replicas}"
    for container in lines("ps", "--filter", f"label={STACK_LABEL}={stack}", "--format", "{{.Names}} {{.Status}}"):
        if "(health: starting)" in container or "(unhealthy)" in container:
            return False, container
    return True, ""


def wait_converged(stack, timeout):
    deadline = time.monotonic() + timeout
    while True:
        done, why = converged(stack)
        if done:
            return True, ""
        if time.monotonic() >= deadline:
            return False, why
        time.sleep(1)


def undeploy(stack):
    """`docker stack rm` returns at once; Docker removes the containers and the
    stack's networks afterwards. Waits until they are gone, as abra does."""
    docker("stack", "rm", stack)
    deadline = time.monotonic() + REMOVAL_WAIT
    while time.monotonic() < deadline:
        left = lines("ps", "--all", "--quiet", "--filter", f"label={STACK_LABEL}={stack}") + \
            lines("network", "ls", "--quiet", "--filter", f"label={STACK_LABEL}={stack}")
        if not left:
            return
        time.sleep(0.5)
    raise DockerError(f"stack {stack} was not removed within {REMOVAL_WAIT:.0f}s")


def stack_exists(stack):
    return stack in lines("stack", "ls", "--format", "{{.Name}}")


def create_secret(name, value):
    docker("secret", "create", name, "-", stdin=value.encode())


def names(kind, stack):
    """The stack's objects of `kind` (secret, volume) by name: Docker's name filter
    matches anywhere in a name, so the prefix is checked here."""
    return [n for n in lines(kind, "ls", "--filter", f"name={stack}_", "--format", "{{.Name}}")
            if n.startswith(stack + "_")]


def remove(kind, name):
    docker(kind, "rm", name)


def task_container(stack, service):
    found = lines("ps", "--quiet", "--filter", f"label=com.docker.swarm.service.name={stack}_{service}",
                  "--filter", "status=running")
    if not found:
        raise DockerError(f"service {stack}_{service} has no running task")
    return found[0]


def run(stack, service, command):
    """`docker exec` into the service's task; its output goes to ours. Returns the exit code."""
    container = task_container(stack, service)
    return docker("exec", container, *command, check=False, capture=False).returncode
