#!/usr/bin/env python3
"""The images the swarm suite deploys, built here from Debian's packages only
(no registry is reachable): a root filesystem made with debootstrap and
`docker import`ed as the base, then one small `docker build` per image folder
under images/ (FROM that base, which is local, so nothing is pulled).

Every tag is a hash of what went into it, so an image is rebuilt only when its
inputs change; the debootstrap tarball is kept in --cache for the next engine.

    images.py --cache DIR [--out FILE]

prints (and writes to FILE) the JSON {"nginx": TAG, "tools": TAG}.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITE = "bookworm"
# nginx for the custom-html shape; python3 for the sandbox's proxy service.
PACKAGES = ["nginx-light", "python3"]


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
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    key = digest(base, *[(str(p.relative_to(folder)), p.read_bytes()) for p in files])
    tag = f"cc-ci-test/{name}:{key}"
    if not have_image(tag):
        say(f"build {tag}")
        docker("build", "--quiet", "--build-arg", f"BASE={base}", "--tag", tag, str(folder))
    return tag


def build(cache: Path):
    cache.mkdir(parents=True, exist_ok=True)
    base = base_image(cache)
    return {name: folder_image(name, base) for name in ("nginx", "tools")}


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
