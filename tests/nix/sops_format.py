#!/usr/bin/env python3
"""The sops (v3) YAML format for age recipients, written and read here.

sops itself is not in Debian 12, so this module is how the repository makes
its example encrypted secrets file and how the tests prove that file is what
sops would read: every value AES-256-GCM encrypted under one data key (the
value's key path as additional data), a MAC over all plaintext values, and the
data key encrypted with `age` for each recipient. Operators use real `sops`.

    sops_format.py make-example nix/instance-example
        makes a throwaway age key, writes .sops.yaml naming its public key and
        secrets/ci.yaml with made-up values, checks the file decrypts, then
        forgets the private key (it is never written into the repository).
"""

import base64
import datetime
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SOPS_VERSION = "3.8.1"
ENCRYPTED = re.compile(r"^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),"
                       r"tag:([A-Za-z0-9+/=]+),type:(str|int|float|bool|bytes)\]$")


class SopsError(Exception):
    pass


def _b64(data):
    return base64.b64encode(data).decode()


def _encrypt_value(value, data_key, additional_data):
    iv = os.urandom(32)
    sealed = AESGCM(data_key).encrypt(iv, value.encode(), additional_data.encode())
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return f"ENC[AES256_GCM,data:{_b64(ciphertext)},iv:{_b64(iv)},tag:{_b64(tag)},type:str]"


def _decrypt_value(text, data_key, additional_data):
    match = ENCRYPTED.match(text)
    if not match:
        raise SopsError(f"not a sops-encrypted value: {text[:30]!r}")
    ciphertext, iv, tag = (base64.b64decode(part) for part in match.group(1, 2, 3))
    return AESGCM(data_key).decrypt(iv, ciphertext + tag, additional_data.encode()).decode()


def leaves(tree, path=()):
    """(key path, value) of every value outside the `sops` metadata, in file order."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if not path and key == "sops":
                continue
            yield from leaves(value, path + (str(key),))
    elif isinstance(tree, list):
        for value in tree:
            yield from leaves(value, path)
    else:
        yield path, tree


def _additional_data(path):
    return ":".join(path) + ":"


def _mac(values):
    digest = hashlib.sha512()
    for value in values:
        digest.update(value.encode())
    return digest.hexdigest().upper()


def _age(args, data):
    return subprocess.run(["age", *args], input=data, capture_output=True, check=True).stdout


def encrypt(values, recipients):
    """A sops document (dict) holding `values` ({name: str}) for the age recipients."""
    data_key = os.urandom(32)
    document = {name: _encrypt_value(value, data_key, _additional_data((name,))) for name, value in values.items()}
    modified = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    document["sops"] = {
        "kms": [], "gcp_kms": [], "azure_kv": [], "hc_vault": [],
        "age": [{"recipient": recipient, "enc": _age(["--armor", "-r", recipient], data_key).decode()}
                for recipient in recipients],
        "lastmodified": modified,
        "mac": _encrypt_value(_mac(values.values()), data_key, modified),
        "pgp": [],
        "unencrypted_suffix": "_unencrypted",
        "version": SOPS_VERSION,
    }
    return document


def decrypt(document, identity_file):
    """The plaintext values, after checking the MAC; needs an age identity."""
    metadata = document.get("sops") or {}
    for stanza in metadata.get("age", []):
        try:
            data_key = _age(["--decrypt", "-i", str(identity_file)], stanza["enc"].encode())
            break
        except subprocess.CalledProcessError:
            continue
    else:
        raise SopsError("no age stanza opens with this identity")
    values = {".".join(path): _decrypt_value(value, data_key, _additional_data(path))
              for path, value in leaves(document)}
    if _decrypt_value(metadata["mac"], data_key, metadata["lastmodified"]) != _mac(values.values()):
        raise SopsError("MAC mismatch: the file was changed without sops")
    return values


class _Dumper(yaml.SafeDumper):
    pass


def _strings(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _strings)


def dump(document):
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, indent=4, width=1000)


def example_values(folder):
    """Made-up values, shaped like the real ones (a certificate and key made on the spot)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=*.ci.example.org",
                    "-keyout", str(folder / "wildcard.key"), "-out", str(folder / "wildcard.crt")],
                   check=True, capture_output=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "example",
                    "-f", str(folder / "ssh_key")], check=True, capture_output=True)
    return {
        "runner_secret": "EXAMPLE-not-a-real-runner-secret",
        "gitea_token": "EXAMPLE-not-a-real-gitea-token",
        "ssh_key": (folder / "ssh_key").read_text(),
        "wildcard_certificate": (folder / "wildcard.crt").read_text(),
        "wildcard_key": (folder / "wildcard.key").read_text(),
    }


SOPS_CONFIG = """\
# Who can decrypt secrets/*.yaml: each age recipient is a public key (the
# host's, and each admin's). THIS EXAMPLE names one throwaway test key whose
# private half was discarded when secrets/ci.yaml was made
# (tests/nix/sops_format.py make-example): nobody can decrypt it, and it holds
# no real secret. Replace it with your own recipients and re-create the file
# with `sops secrets/ci.yaml` (docs/rebuild.md).
creation_rules:
  - path_regex: secrets/[^/]+\\.yaml$
    age: >-
      {recipients}
"""


def make_example(instance):
    instance = Path(instance)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        identity = scratch / "throwaway-key.txt"
        subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
        recipient = subprocess.run(["age-keygen", "-y", str(identity)], check=True, capture_output=True,
                                   text=True).stdout.strip()
        values = example_values(scratch)
        document = encrypt(values, [recipient])
        if decrypt(yaml.safe_load(dump(document)), identity) != values:
            raise SopsError("the example does not decrypt to what was encrypted")
        (instance / "secrets").mkdir(parents=True, exist_ok=True)
        (instance / "secrets" / "ci.yaml").write_text(dump(document))
        (instance / ".sops.yaml").write_text(SOPS_CONFIG.format(recipients=recipient))
    print(f"wrote {instance}/.sops.yaml and {instance}/secrets/ci.yaml for {recipient} (private key discarded)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make-example":
        make_example(sys.argv[2])
    else:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
