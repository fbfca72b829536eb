#!/usr/bin/env python3
"""The images the swarm suite deploys, built here from Debian's packages only
(no registry is reachable): a root filesystem made with debootstrap and
`docker import`ed as the base, then one small `docker build` per image folder
under images/ (FROM that base, which is local, so nothing is pulled).

Every tag is a hash of what went into it, so an image is rebuilt only when its
inputs change; the debootstrap tarball is kept in --cache for the next engine.

    images.py --cache DIR [--out FILE]

prints (and writes to FILE) the JSON {"nginx": TAG, "tools": TAG, "backupbot": TAG,
"apps": {APP: TAG}}: one image per fixture app of tests/fake_abra/apps, FROM tools
with FAKE_APP set; backupbot is the restic backupbot (images/backupbot).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITE = "bookworm"
# nginx for the custom-html shape; python3 for the sandbox's proxy, the
# fixture apps and the backupbot, git for the fake Gitea's smart HTTP, restic
# for the backupbot (backup-bot-two's snapshots are restic's).
PACKAGES = ["nginx-light", "python3", "git", "restic"]
FAKE_APPS = HERE.parent / "fake_abra" / "apps"
# Files from elsewhere in the tree that an image folder's build needs: {image: {name in context: source}}.
EXTRA = {"tools": {"apps": FAKE_APPS}}


def apt_mirror():
    """The Debian mirror apt already uses here (the one place packages come
    from on a closed network), else Debian's own; CC_CI_DEBIAN_MIRROR wins."""
    if os.environ.get("CC_CI_DEBIAN_MIRROR"):
        return os.environ["CC_CI_DEBIAN_MIRROR"]
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.sources")),
               *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]
    for source in sources:
        try:
            text = source.read_text()
        except OSError:
            continue
        for stanza in text.split("\n\n"):  # deb822: URIs: … / Suites: … in one stanza
            fields = dict(line.split(":", 1) for line in stanza.splitlines() if ":" in line and line[0] != "#")
            if SUITE in fields.get("Suites", "").split() and "main" in fields.get("Components", "").split():
                return fields.get("URIs", "").split()[0]
        for line in text.splitlines():  # one-line form: deb URI SUITE COMPONENT…
            words = line.split()
            if len(words) >= 4 and words[0] == "deb" and words[2] == SUITE and "main" in words[3:]:
                return words[1]
    return "http://deb.debian.org/debian"


MIRROR = apt_mirror()
DOCKER = os.environ.get("DOCKER") or ("/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker")


def docker(*args, **kwargs):
    # The classic builder: BuildKit needs a plugin Debian's docker.io may lack.
    env = dict(os.environ, DOCKER_BUILDKIT="0")
    return subprocess.run([DOCKER, *args], env=env, check=True, capture_output=True, text=True, **kwargs)


def have_image(tag):
    return subprocess.run([DOCKER, "image", "inspect", tag], capture_output=True).returncode == 0


def digest(*parts):
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part if isinstance(part, bytes) else str(part).encode())
        hasher.update(b"\0")
    return hasher.hexdigest()[:16]


def say(message):
    print(f"images: {message}", file=sys.stderr, flush=True)


def base_image(cache: Path):
    key = digest(SUITE, "minbase", *PACKAGES, MIRROR)
    tag = f"cc-ci-test/base:{key}"
    if have_image(tag):
        return tag
    tarball = cache / f"base-{key}.tar"
    if not tarball.exists():
        rootfs = cache / f"rootfs-{key}"
        shutil.rmtree(rootfs, ignore_errors=True)
        say(f"debootstrap {SUITE} with {', '.join(PACKAGES)} (about a minute)")
        result = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE,
                                 str(rootfs), MIRROR], capture_output=True, text=True)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
            raise RuntimeError(f"debootstrap failed:\n{tail}")
        for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / folder).glob("*"):
                if item.is_file():
                    item.unlink()
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
        shutil.rmtree(rootfs)
    say(f"import {tarball.name} as {tag}")
    docker("import", str(tarball), tag)
    return tag


def folder_image(name, base):
    folder = HERE / "images" / name
    sources = {".": folder, **EXTRA.get(name, {})}
    files = sorted((str(Path(at) / p.relative_to(root)), p) for at, root in sources.items()
                   for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    key = digest(base, *[f"{at}\0".encode() + p.read_bytes() for at, p in files])
    tag = f"cc-ci-test/{name}:{key}"
    if not have_image(tag):
        say(f"build {tag}")
        with tempfile.TemporaryDirectory() as context:
            for at, path in files:
                target = Path(context) / at
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            docker("build", "--quiet", "--build-arg", f"BASE={base}", "--tag", tag, context)
    return tag


def data_path(app):
    """Where the app keeps its data, as its real image does: the path its
    fixture recipe mounts the volume at (and backupbot backs up)."""
    for fake in sorted((HERE.parent / "fake_abra" / "recipes").glob("*/.fake")):
        if f"app={app}\n" in fake.read_text():
            found = re.search(r"backupbot\.backup\.path=(/[^\"'\s]*)", (fake.parent / "compose.yml").read_text())
            if found:
                return found[1]
    raise RuntimeError(f"no fixture recipe runs the fake app {app} with a backupbot.backup.path label")


def app_image(app, tools):
    """tools, serving the fake app `app` (tests/swarm/images/tools/app_server.py)."""
    dockerfile = (f"FROM {tools}\nENV FAKE_APP={app} APP_VOLUME={data_path(app)}\nEXPOSE 80\n"
                  'CMD ["python3", "/opt/cc-ci/app_server.py"]\n')
    tag = f"cc-ci-test/app-{app}:{digest(dockerfile)}"
    if not have_image(tag):
        docker("build", "--quiet", "--tag", tag, "-", input=dockerfile)
    return tag


def build(cache: Path):
    cache.mkdir(parents=True, exist_ok=True)
    base = base_image(cache)
    tags = {name: folder_image(name, base) for name in ("nginx", "tools", "backupbot")}
    apps = sorted(p.stem for p in FAKE_APPS.glob("*.py") if p.stem not in ("common", "static-site"))
    tags["apps"] = {app: app_image(app, tags["tools"]) for app in apps}
    return tags


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="where the debootstrap tarball is kept")
    parser.add_argument("--out", type=Path, help="also write the tags to this JSON file")
    arguments = parser.parse_args()
    try:
        tags = build(arguments.cache)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or ""
        print(f"images: {error} {detail}".strip(), file=sys.stderr)
        return 1
    text = json.dumps(tags, indent=2) + "\n"
    if arguments.out:
        arguments.out.write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
