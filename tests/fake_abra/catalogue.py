"""The fake abra's recipe catalogue as real git repositories, made from the
fixture folders under recipes/ (each with a `.fake` file naming its latest
release in `version=`).

Each recipe repository gets, on its `main` branch:
  1. the previous release: an annotated tag (e.g. 1.5.0+1.25.3) with its
     `release/<version>` note, `.fake` marker=<version>;
  2. the latest release (the fixture's version), tagged the same way;
  3. one more commit, untagged: a change under review, as a pull request's
     head would be (marker=unreleased-change).

The marker travels with the recipe into the deployed stack (the fake proxy
serves it as X-Fake-Recipe-Marker), so which revision runs is visible from
outside. Used by the sandbox, so every test sees real tags and commits."""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

UNRELEASED_MARKER = "unreleased-change"
RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)\+(\S+)$")

# Commits with fixed identities and dates: the same fixture makes the same history.
GIT_ENV = {"GIT_AUTHOR_NAME": "cc-ci fixtures", "GIT_AUTHOR_EMAIL": "fixtures@cc-ci.test",
           "GIT_COMMITTER_NAME": "cc-ci fixtures", "GIT_COMMITTER_EMAIL": "fixtures@cc-ci.test",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def previous_version(version):
    """The release before `version` in the fixture history: one patch, minor or
    major step down (1.6.0+u -> 1.5.0+u, 2.0.0+u -> 1.0.0+u)."""
    found = RELEASE.match(version)
    if not found:
        raise ValueError(f"not a release version: {version}")
    major, minor, patch, upstream = int(found[1]), int(found[2]), int(found[3]), found[4]
    if patch:
        return f"{major}.{minor}.{patch - 1}+{upstream}"
    if minor:
        return f"{major}.{minor - 1}.0+{upstream}"
    return f"{max(major - 1, 0)}.0.0+{upstream}"


def read_fake(folder):
    settings = {}
    path = Path(folder) / ".fake"
    if path.is_file():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip():
                settings[key.strip()] = value.strip()
    return settings


def write_fake(folder, settings):
    (Path(folder) / ".fake").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))


def git(folder, *args, when):
    env = dict(os.environ, **GIT_ENV, GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def build_recipe(fixture, destination):
    """One recipe repository at `destination` from the fixture folder."""
    fixture, destination = Path(fixture), Path(destination)
    settings = read_fake(fixture)
    latest = settings.pop("version")
    releases = [previous_version(latest), latest]
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(fixture, destination)
    git(destination, "init", "--quiet", "--initial-branch", "main", when="1700000000 +0000")
    for number, version in enumerate(releases):
        when = f"{1700000000 + 86400 * (number + 1)} +0000"
        write_fake(destination, {**settings, "marker": version})
        notes = destination / "release" / version
        notes.parent.mkdir(exist_ok=True)
        notes.write_text(f"Release {version} of the {destination.name} fixture.\n")
        git(destination, "add", "--all", when=when)
        git(destination, "commit", "--quiet", "--message", f"chore: release {version}", when=when)
        git(destination, "tag", "--annotate", version, "--message", f"Release {version}", when=when)
    when = f"{1700000000 + 86400 * (len(releases) + 1)} +0000"
    write_fake(destination, {**settings, "marker": UNRELEASED_MARKER})
    git(destination, "commit", "--quiet", "--all", "--message", "feat: a change under review", when=when)
    return releases


def fixture_key(fixture):
    """A digest of the fixture's files and of this builder: equal keys make equal repositories."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(Path(fixture).rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(fixture)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cached_recipe(fixture):
    """The fixture's repository, built once per fixture content (git takes a
    second or two for a catalogue; tests start hundreds of sandboxes)."""
    cache = Path(os.environ.get("CC_CI_FIXTURE_CACHE") or Path(tempfile.gettempdir()) / "cc-ci-fixture-repositories")
    built = cache / fixture_key(fixture)
    if not (built / ".git").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".building-", dir=cache))
        build_recipe(fixture, building / "repository")
        try:
            os.rename(building / "repository", built)  # another test may have been first
        except OSError:
            pass
        shutil.rmtree(building, ignore_errors=True)
    return built


def build(destination, fixtures):
    """Repositories for {recipe name: fixture folder} under `destination`;
    returns {recipe name: its release versions, oldest first}."""
    Path(destination).mkdir(parents=True, exist_ok=True)
    releases = {}
    for name, fixture in fixtures.items():
        shutil.copytree(cached_recipe(fixture), Path(destination) / name, symlinks=True)
        latest = read_fake(fixture)["version"]
        releases[name] = [previous_version(latest), latest]
    return releases


if __name__ == "__main__":
    import sys
    if len(sys.argv) < 3:
        sys.exit("usage: catalogue.py DESTINATION FIXTURE_FOLDER...")
    for version_list in build(sys.argv[1], {Path(f).name: Path(f) for f in sys.argv[2:]}).values():
        print(" ".join(version_list))
