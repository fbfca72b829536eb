#!/usr/bin/env python3
"""Checks that the repository keeps its secrets encrypted.

    check_secrets.py REPOSITORY

1. Every `.sops.yaml` names age recipients; every file its creation rules
   cover is a sops file encrypted for exactly those recipients, and holds no
   plaintext value (each value is ENC[AES256_GCM,...], each data-key stanza an
   armored age file, and the MAC is there).
2. No file git tracks holds a private key or a token-like string.

Prints one line per problem and exits 1 when there is any.
"""

import base64
import re
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sops_format import ENCRYPTED, leaves  # noqa: E402

# Built from parts so that this file does not match itself.
PRIVATE_KEY_MARKERS = [
    "AGE-SECRET-" + "KEY-1",
    "PRIVATE " + "KEY-----",  # PEM and OpenSSH keys of every kind
    "PuTTY-User-" + "Key-File",
]
TOKEN_PATTERNS = [
    ("GitHub token", r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})"),
    ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("AWS access key", r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
    # A secret-looking name given a long random-looking literal.
    ("credential assignment",
     r"(?i)\b[\w.-]*(token|secret|password|passwd|api[_-]?key)[\w.-]*\"?\s*[:=]\s*[\"']?"
     r"(?=[A-Za-z0-9+/_-]{24,})(?=[^\s\"']*\d)(?=[^\s\"']*[A-Za-z])[A-Za-z0-9+/_=-]{24,}"),
]


def tracked_files(repository):
    listing = subprocess.run(["git", "-C", str(repository), "ls-files", "-z"], check=True,
                             capture_output=True).stdout.decode()
    return [repository / name for name in listing.split("\0") if name]


def _age_armor_ok(text):
    lines = text.strip().splitlines()
    if len(lines) < 3 or lines[0] != "-----BEGIN AGE ENCRYPTED FILE-----" \
            or lines[-1] != "-----END AGE ENCRYPTED FILE-----":
        return False
    try:
        header = base64.b64decode("".join(lines[1:-1]))
    except ValueError:
        return False
    # One X25519 stanza: the data key is encrypted to one recipient per entry.
    return header.startswith(b"age-encryption.org/v1\n") and header.count(b"\n-> X25519 ") == 1


def check_sops_file(path, recipients):
    problems = []
    try:
        document = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        return [f"{path}: not YAML ({error.__class__.__name__})"]
    if not isinstance(document, dict) or not isinstance(document.get("sops"), dict):
        return [f"{path}: not a sops file (no `sops` metadata)"]
    metadata = document["sops"]
    stanzas = metadata.get("age") or []
    found = sorted(stanza.get("recipient", "") for stanza in stanzas)
    if found != sorted(recipients):
        problems.append(f"{path}: encrypted for {found}, but .sops.yaml names {sorted(recipients)}")
    for stanza in stanzas:
        if not _age_armor_ok(stanza.get("enc", "")):
            problems.append(f"{path}: the data key for {stanza.get('recipient')} is not an age-encrypted file")
    if not ENCRYPTED.match(str(metadata.get("mac", ""))):
        problems.append(f"{path}: no encrypted MAC")
    values = list(leaves(document))
    if not values:
        problems.append(f"{path}: holds no value")
    for key_path, value in values:
        if not (isinstance(value, str) and ENCRYPTED.match(value)):
            problems.append(f"{path}: {'.'.join(key_path)} is not encrypted (plaintext value)")
    return problems


def check_sops_configs(files):
    problems = []
    for config in (f for f in files if f.name == ".sops.yaml"):
        rules = (yaml.safe_load(config.read_text()) or {}).get("creation_rules") or []
        if not rules:
            problems.append(f"{config}: no creation_rules")
        for rule in rules:
            recipients = [r.strip() for r in str(rule.get("age", "")).split(",") if r.strip()]
            if not recipients or not all(r.startswith("age1") for r in recipients):
                problems.append(f"{config}: a rule names no age recipient")
                continue
            pattern = re.compile(rule.get("path_regex", ".*"))
            covered = [f for f in files if f.is_relative_to(config.parent) and f != config
                       and pattern.search(f.relative_to(config.parent).as_posix())]
            if not covered:
                problems.append(f"{config}: no tracked file matches {pattern.pattern}")
            for path in covered:
                problems += check_sops_file(path, recipients)
    return problems


def check_leaks(files):
    problems = []
    for path in files:
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if ENCRYPTED.search(line.split(": ", 1)[-1].strip()):
                continue
            for marker in PRIVATE_KEY_MARKERS:
                if marker in line:
                    problems.append(f"{path}:{number}: private key material ({marker.split()[0]}...)")
            for name, pattern in TOKEN_PATTERNS:
                if re.search(pattern, line):
                    problems.append(f"{path}:{number}: looks like a {name}")
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    repository = Path(argv[1]).resolve()
    files = tracked_files(repository)
    problems = check_sops_configs(files) + check_leaks(files)
    for problem in problems:
        print(problem)
    sops_files = sum(1 for f in files if f.name == ".sops.yaml")
    print(f"checked {len(files)} tracked files, {sops_files} sops configuration(s): "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
