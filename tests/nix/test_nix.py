#!/usr/bin/env python3
"""Offline checks of everything under nix/: no nixpkgs can be fetched here, so
the module and flakes are evaluated by Debian's Nix 2.8 against the stand-ins
in tests/nix (a stub `lib` with the module system's checks, stub NixOS options
and packages, a stub sops-nix). What only a host with nixpkgs can prove (a
real build, a real nixos-rebuild) is listed in docs/rebuild.md."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SOURCE = Path(os.environ.get("CC_CI_SOURCE", HERE.parents[1]))
sys.path.insert(0, str(SOURCE / "tests" / "integration"))
sys.path.insert(0, str(HERE))
import check_secrets  # noqa: E402
import sops_format  # noqa: E402
from support import SandboxTestCase, git  # noqa: E402

sys.path.insert(0, str(SOURCE / "tests" / "support"))
from forge_standins import Gitea  # noqa: E402

EVAL = HERE / "eval.nix"
# A Woodpecker host with two servers, credentials and the wildcard certificate.
WOODPECKER = HERE / "configs" / "woodpecker.nix"
STUB_NIXPKGS = HERE / "stub-nixpkgs"
STUB_SOPS_NIX = HERE / "stub-sops-nix"
INSTANCE = SOURCE / "nix" / "instance-example"
NO_NETWORK = ["--option", "substituters", ""]
FLAKES = ["--extra-experimental-features", "nix-command flakes"]
CC_CI = os.environ.get("CC_CI")
RECIPES = os.environ.get("CC_CI_RECIPES")
# Executables the rendered units start, by stub package (pkgs.nix).
STUB_EXECUTABLES = ["woodpecker-agent", "drone-runner-exec", "traefik"]


def nix_eval(configuration, store_root, extra="", attribute="report"):
    """Evaluates eval.nix for a configuration (a file, or Nix text); returns (process, json or None)."""
    if not isinstance(configuration, Path):
        file = store_root / "configuration.nix"
        file.write_text(configuration)
        configuration = file
    if extra:
        wrapper = store_root / "with-extra.nix"
        wrapper.write_text(f"{{ lib, ... }}: {{ imports = [ {configuration} ]; }} // ({extra})\n")
        configuration = wrapper
    process = subprocess.run(
        # read-write: builtins.toFile (Traefik's configuration) writes to the store.
        ["nix-instantiate", "--eval", "--strict", "--json", "--read-write-mode", str(EVAL), *NO_NETWORK,
         "--argstr", "storeRoot", str(store_root), "--arg", "configuration", str(configuration), "-A", attribute],
        capture_output=True, text=True, timeout=120)
    return process, (json.loads(process.stdout) if process.returncode == 0 else None)


def make_store(root):
    """The stub packages' directories, with the executables the units name:
    cc-ci's are the real build's, abra is the fake abra, script is util-linux's,
    the rest do nothing."""
    cc_ci = root / "cc-ci"
    (cc_ci / "bin").mkdir(parents=True)
    (cc_ci / "libexec" / "cc-ci").mkdir(parents=True)
    (cc_ci / "lib" / "cc-ci").mkdir(parents=True)
    (cc_ci / "bin" / "cc-ci").symlink_to(CC_CI)
    (cc_ci / "libexec" / "cc-ci" / "credential-env").symlink_to(SOURCE / "core" / "libexec" / "credential-env")
    (cc_ci / "lib" / "cc-ci" / "plugins").symlink_to(RECIPES)
    (root / "abra" / "bin").mkdir(parents=True)
    (root / "abra" / "bin" / "abra").symlink_to(SOURCE / "tests" / "fake_abra" / "abra")
    (root / "util-linux" / "bin").mkdir(parents=True)
    (root / "util-linux" / "bin" / "script").symlink_to(shutil.which("script"))
    for name in STUB_EXECUTABLES:
        (root / name / "bin").mkdir(parents=True)
        program = root / name / "bin" / name
        program.write_text("#!/bin/sh\nexit 0\n")
        program.chmod(0o755)
    return root


def verify_units(units, folder):
    """systemd-analyze verify on the rendered units; returns (exit code, output)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in units.items():
        (folder / name).write_text(text)
    process = subprocess.run(["systemd-analyze", "verify", *sorted(str(folder / n) for n in units)],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})
    return process.returncode, process.stdout + process.stderr


def unit_settings(text):
    """{section: [(key, value)]} of a unit file."""
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        elif "=" in line:
            key, value = line.split("=", 1)
            current.append((key, value))
    return sections


def values(text, section, key):
    return [v for k, v in unit_settings(text).get(section, []) if k == key]


def unit_environment(text):
    """A service's Environment= lines as {name: value}."""
    return dict(line.strip('"').split("=", 1) for line in values(text, "Service", "Environment"))


class NixTestCase(unittest.TestCase):
    def setUp(self):
        self.folder = Path(tempfile.mkdtemp(prefix="cc-ci-nix-"))
        self.store = make_store(self.folder / "store")

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def evaluate(self, configuration, extra=""):
        process, result = nix_eval(configuration, self.store, extra)
        self.assertEqual(process.returncode, 0, process.stderr)
        return result

    def evaluation_error(self, configuration, extra=""):
        process, _ = nix_eval(configuration, self.store, extra)
        self.assertNotEqual(process.returncode, 0, "evaluation passed but should have failed")
        return process.stderr

    # ------------------------------------------------------------ parsing

    def test_every_nix_file_parses(self):
        files = sorted(p for p in SOURCE.rglob("*.nix") if "build" not in p.relative_to(SOURCE).parts[:1])
        self.assertGreaterEqual(len(files), 12, files)
        for path in files:
            process = subprocess.run(["nix-instantiate", "--parse", str(path)], capture_output=True, text=True)
            self.assertEqual(process.returncode, 0, f"{path}: {process.stderr}")

    # ------------------------------------------------------------ the module

    def test_options_have_types_defaults_and_descriptions(self):
        options = {o["name"]: o for o in self.evaluate(WOODPECKER)["options"]}
        expected = {
            "services.cc-ci.enable": ("boolean", False),
            "services.cc-ci.user": ("string", "cc-ci"),
            "services.cc-ci.stateDir": ("string matching the pattern /var/lib/.+", "/var/lib/cc-ci"),
            "services.cc-ci.jobs": ("positive integer", 2),
            "services.cc-ci.runner.type": ('one of "woodpecker", "drone"', "woodpecker"),
            "services.cc-ci.runner.labels": ("attribute set of string", {"type": "cc-ci"}),
            "services.cc-ci.janitor.enable": ("boolean", True),
            "services.cc-ci.janitor.schedule": ("string", "hourly"),
            "services.cc-ci.sshKeyFile": ("null or string matching the pattern /.+", None),
            "services.cc-ci.wildcardCertificate.enable": ("boolean", False),
        }
        for name, (type_, default) in expected.items():
            self.assertIn(name, options)
            self.assertEqual(options[name]["type"], type_, name)
            self.assertEqual(options[name]["default"], default, name)
        # Secrets and site facts have no default: forgetting one must fail loudly.
        for name in ["services.cc-ci.runner.secretFile", "services.cc-ci.runner.server",
                     "services.cc-ci.domainSuffix", "services.cc-ci.abraPackage"]:
            self.assertFalse(options[name]["hasDefault"], name)
        for option in options.values():
            self.assertTrue(option["description"] and len(option["description"]) > 15, option["name"])

    def test_woodpecker_runner_unit_gets_secrets_as_credentials(self):
        result = self.evaluate(WOODPECKER)
        self.assertEqual(result["failedAssertions"], [])
        runner = result["units"]["cc-ci-runner.service"]
        self.assertEqual(values(runner, "Service", "User"), ["cc-ci"])
        self.assertEqual(values(runner, "Service", "StateDirectory"), ["cc-ci"])
        self.assertEqual(values(runner, "Service", "LoadCredential"), [
            "runner-secret:/run/secrets/cc-ci/runner-secret",
            "gitea-token:/run/secrets/cc-ci/gitea-token"])
        self.assertEqual(values(runner, "Service", "ExecStart"), [
            f"{self.store}/cc-ci/libexec/cc-ci/credential-env WOODPECKER_AGENT_SECRET=runner-secret -- "
            f"{self.store}/woodpecker-agent/bin/woodpecker-agent"])
        environment = unit_environment(runner)
        self.assertEqual(environment["WOODPECKER_BACKEND"], "local")
        self.assertEqual(environment["WOODPECKER_SERVER"], "woodpecker.example.org:9000")
        self.assertEqual(environment["WOODPECKER_AGENT_LABELS"], "type=cc-ci")
        self.assertEqual(environment["WOODPECKER_HOSTNAME"], "ci1")
        self.assertEqual(environment["ABRA_DIR"], "/var/lib/cc-ci/abra")
        self.assertIn(f"{self.store}/cc-ci/bin", environment["PATH"].split(":"))
        self.assertIn(f"{self.store}/abra/bin", environment["PATH"].split(":"))
        # No secret's path or value in the environment, only the credentials directory.
        self.assertFalse(any("/run/secrets" in value for value in environment.values()), environment)
        self.assertEqual(result["users"]["cc-ci"], {"isSystemUser": True, "group": "cc-ci", "home": "/var/lib/cc-ci",
                                                    "extraGroups": []})
        self.assertEqual(values(runner, "Unit", "After"), [
            "network-online.target", "cc-ci-abra-server-swarm1.example.org.service",
            "cc-ci-abra-server-swarm2.example.org.service"])

    def test_woodpecker_pipeline_uses_the_module_environment(self):
        runner = self.evaluate(WOODPECKER)["units"]["cc-ci-runner.service"]
        environment = unit_environment(runner)
        pipeline = yaml.safe_load((SOURCE / "nix" / "pipelines" / "woodpecker.yaml").read_text())
        for step in pipeline["steps"]:
            for name, value in step["environment"].items():
                self.assertEqual(value, environment[name], name)
        # cc-ci keeps run markers in <state dir>/running, where the janitor looks.
        self.assertEqual(environment["CC_CI_STATE_DIR"], "/var/lib/cc-ci")

    def test_servers_are_registered_with_abra_once(self):
        units = self.evaluate(WOODPECKER)["units"]
        unit = units["cc-ci-abra-server-swarm1.example.org.service"]
        self.assertEqual(values(unit, "Unit", "ConditionPathExists"), ["!/var/lib/cc-ci/abra/servers/swarm1.example.org"])
        self.assertEqual(values(unit, "Service", "Type"), ["oneshot"])
        self.assertEqual(values(unit, "Service", "User"), ["cc-ci"])
        # The command itself, run against the fake abra (which, like abra 0.13, needs a terminal).
        abra_dir = self.folder / "abra"
        command = shlex.split(values(unit, "Service", "ExecStart")[0])
        process = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                 env={"PATH": os.environ["PATH"], "ABRA_DIR": str(abra_dir)})
        self.assertEqual(process.returncode, 0, process.stdout + process.stderr)
        self.assertTrue((abra_dir / "servers" / "swarm1.example.org").is_dir())
        # No server named: abra's local server, as cc-ci's default.
        local = self.evaluate(WOODPECKER, extra="{ services.cc-ci.servers = lib.mkForce { }; }")
        unit = local["units"]["cc-ci-abra-server-default.service"]
        self.assertIn("-n server add --local", values(unit, "Service", "ExecStart")[0])
        self.assertEqual(json.loads(local["etc"]["cc-ci/config.json"])["server"], ["default:1"])

    def test_backup_bot_two_is_deployed_on_every_server_once(self):
        units = self.evaluate(WOODPECKER)["units"]
        unit = units["cc-ci-backupbot-swarm1.example.org.service"]
        self.assertIn("cc-ci-abra-server-swarm1.example.org.service", values(unit, "Unit", "After")[0])
        self.assertEqual(values(unit, "Unit", "ConditionPathExists"),
                         ["!/var/lib/cc-ci/abra/servers/swarm1.example.org/backups.swarm1.example.org.env"])
        self.assertEqual(values(unit, "Service", "Type"), ["oneshot"])
        # `app new --secrets` prints the restic password it generates: the output goes nowhere.
        self.assertEqual(values(unit, "Service", "StandardOutput"), ["null"])
        new, deploy = values(unit, "Service", "ExecStart")
        self.assertIn("-n app new backup-bot-two --server swarm1.example.org --domain backups.swarm1.example.org "
                      "--secrets", new)
        self.assertIn("-n app deploy backups.swarm1.example.org --no-domain-checks", deploy)
        off = self.evaluate(WOODPECKER, extra="{ services.cc-ci.backupbot = false; }")["units"]
        self.assertFalse([name for name in off if name.startswith("cc-ci-backupbot-")])

    def test_janitor_timer_and_traefik_certificate(self):
        result = self.evaluate(WOODPECKER)
        units = result["units"]
        self.assertEqual(values(units["cc-ci-janitor.timer"], "Timer", "OnCalendar"), ["hourly"])
        self.assertEqual(values(units["cc-ci-janitor.timer"], "Install", "WantedBy"), ["timers.target"])
        self.assertEqual(values(units["cc-ci-janitor.service"], "Service", "ExecStart"),
                         [f"{self.store}/cc-ci/bin/cc-ci janitor --config /etc/cc-ci/config.json"])
        self.assertEqual(values(units["cc-ci-janitor.service"], "Service", "Type"), ["oneshot"])
        traefik = units["traefik.service"]
        self.assertEqual(values(traefik, "Service", "LoadCredential"), [
            "wildcard.crt:/run/secrets/cc-ci/wildcard.crt", "wildcard.key:/run/secrets/cc-ci/wildcard.key"])
        static = json.loads(Path(values(traefik, "Service", "ExecStart")[0].split("--configfile=")[1]).read_text())
        dynamic = json.loads(Path(static["providers"]["file"]["filename"]).read_text())
        self.assertEqual(dynamic["tls"]["certificates"], [{
            "certFile": "/run/credentials/traefik.service/wildcard.crt",
            "keyFile": "/run/credentials/traefik.service/wildcard.key"}])
        # The store holds where the key is read from, never the key.
        self.assertNotIn("/run/secrets", json.dumps(dynamic))

        without = self.evaluate(WOODPECKER, extra="{ services.cc-ci.janitor.enable = lib.mkForce false; "
                                "services.cc-ci.wildcardCertificate.enable = lib.mkForce false; "
                                "services.cc-ci.bridge.enable = lib.mkForce false; "
                                "services.cc-ci.backupbot = false; }")
        self.assertEqual(sorted(without["units"]), ["cc-ci-abra-server-swarm1.example.org.service",
                                                    "cc-ci-abra-server-swarm2.example.org.service",
                                                    "cc-ci-runner.service"])

    def test_bridge_dashboard_and_gitea_token(self):
        result = self.evaluate(WOODPECKER)
        self.assertEqual(result["failedAssertions"], [])
        bridge = result["units"]["cc-ci-bridge.service"]
        command = shlex.split(values(bridge, "Service", "ExecStart")[0])
        self.assertEqual(command, [f"{self.store}/cc-ci/bin/cc-ci", "bridge", "--gitea-url", "https://git.example.org",
                                   "--ci-engine", "woodpecker", "--ci-url", "https://woodpecker.example.org",
                                   "--listen", "127.0.0.1:8099"])
        # The secrets are credentials, found by the names cc-ci reads by default.
        self.assertEqual(values(bridge, "Service", "LoadCredential"), [
            "webhook-secret:/run/secrets/cc-ci/webhook-secret", "gitea-token:/run/secrets/cc-ci/gitea-token",
            "ci-token:/run/secrets/cc-ci/ci-token"])
        self.assertEqual(values(bridge, "Service", "DynamicUser"), ["true"])
        self.assertEqual(values(bridge, "Service", "StateDirectory"), ["cc-ci-bridge"])
        self.assertFalse(any("/run/secrets" in value for value in unit_environment(bridge).values()))
        # The command line the unit runs is one cc-ci takes (up to reading the first secret).
        process = subprocess.run([CC_CI, *command[1:]], capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
        self.assertEqual(process.stderr.strip(), "cc-ci: error: give --bridge-state FILE (where the bridge records "
                                                 "the commits it started builds for)")
        process = subprocess.run([CC_CI, *command[1:]], capture_output=True, text=True,
                                 env={"PATH": os.environ["PATH"], "STATE_DIRECTORY": str(self.folder)})
        self.assertEqual(process.stderr.strip(), "cc-ci: error: give --webhook-secret-file FILE, or run under systemd "
                                                 "with the credential webhook-secret")

        # The pipelines get the token as a credential, the URL in config.json and the dashboard's address.
        runner = result["units"]["cc-ci-runner.service"]
        self.assertIn("gitea-token:/run/secrets/cc-ci/gitea-token", values(runner, "Service", "LoadCredential"))
        self.assertEqual(json.loads(result["etc"]["cc-ci/config.json"])["gitea_url"], "https://git.example.org")
        self.assertEqual(unit_environment(runner)["CC_CI_DASHBOARD_BASE"], "https://ci1.example.org")

        # nginx serves the reports as static files and forwards the webhook to the bridge.
        nginx = result["nginx"]
        self.assertTrue(nginx["enable"])
        host = nginx["virtualHosts"]["ci1.example.org"]
        self.assertEqual(host["root"], "/var/lib/cc-ci/reports")
        self.assertIn("autoindex off;", host["locations"]["/"]["extraConfig"])
        self.assertEqual(host["locations"]["= /hook"]["proxyPass"], "http://127.0.0.1:8099/hook")
        self.assertEqual(result["users"]["nginx"]["extraGroups"], ["cc-ci"])

        # Without the Gitea token the bridge cannot check commenters: refused at evaluation.
        no_token = self.evaluate(WOODPECKER, extra="{ services.cc-ci.gitea.tokenFile = lib.mkForce null; }")
        self.assertEqual(no_token["failedAssertions"], [
            "services.cc-ci.bridge needs gitea.url and gitea.tokenFile: it checks commenters and PRs on Gitea."])
        leak = self.evaluate(WOODPECKER, extra='{ services.cc-ci.bridge.ciTokenFile = lib.mkForce "/nix/store/x-token"; }')
        self.assertEqual(len(leak["failedAssertions"]), 1)
        self.assertIn("bridge's secret files are in the Nix store", leak["failedAssertions"][0])
        plain = self.evaluate(WOODPECKER, extra="{ services.cc-ci.dashboard.enable = lib.mkForce false; "
                              "services.cc-ci.bridge.enable = lib.mkForce false; }")
        self.assertFalse(plain["nginx"]["enable"])
        self.assertNotIn("CC_CI_DASHBOARD_BASE", unit_environment(plain["units"]["cc-ci-runner.service"]))

    def test_drone_runner(self):
        result = self.evaluate(WOODPECKER, extra='{ services.cc-ci.runner.type = "drone"; '
                               'services.cc-ci.runner.server = lib.mkForce "drone.example.org"; }')
        runner = result["units"]["cc-ci-runner.service"]
        environment = unit_environment(runner)
        self.assertEqual(environment["DRONE_RPC_HOST"], "drone.example.org")
        self.assertEqual(environment["DRONE_RPC_PROTO"], "https")
        self.assertEqual(environment["DRONE_RUNNER_LABELS"], "type:cc-ci")
        self.assertIn("ABRA_DIR:/var/lib/cc-ci/abra", environment["DRONE_RUNNER_ENVIRON"].split(","))
        self.assertNotIn("WOODPECKER_SERVER", environment)
        self.assertEqual(values(runner, "Service", "ExecStart"), [
            f"{self.store}/cc-ci/libexec/cc-ci/credential-env DRONE_RPC_SECRET=runner-secret -- "
            f"{self.store}/drone-runner-exec/bin/drone-runner-exec"])
        code, output = verify_units(result["units"], self.folder / "units")
        self.assertEqual((code, output), (0, ""))

    def test_generated_units_pass_systemd_analyze_verify(self):
        units = self.evaluate(WOODPECKER)["units"]
        self.assertEqual(sorted(units), ["cc-ci-abra-server-swarm1.example.org.service",
                                         "cc-ci-abra-server-swarm2.example.org.service",
                                         "cc-ci-backupbot-swarm1.example.org.service",
                                         "cc-ci-backupbot-swarm2.example.org.service", "cc-ci-bridge.service",
                                         "cc-ci-janitor.service", "cc-ci-janitor.timer",
                                         "cc-ci-runner.service", "traefik.service"])
        code, output = verify_units(units, self.folder / "units")
        self.assertNotIn("Unknown key", output)
        self.assertEqual((code, output), (0, ""))

    def test_misspelt_unit_key_is_caught_by_verify(self):
        units = self.evaluate(WOODPECKER, extra='{ systemd.services.cc-ci-runner.serviceConfig.ExecStrat = "x"; }')["units"]
        code, output = verify_units(units, self.folder / "units")
        self.assertIn("Unknown key 'ExecStrat' in section [Service]", output)

    def test_misspelt_option_fails_evaluation(self):
        error = self.evaluation_error(WOODPECKER, extra="{ services.cc-ci.jbos = 3; }")
        self.assertIn("The option `services.cc-ci.jbos' does not exist", error)
        error = self.evaluation_error(WOODPECKER, extra='{ systemd.services.cc-ci-runner.wantedby = [ "x" ]; }')
        self.assertIn("The option `systemd.services.cc-ci-runner.wantedby' does not exist", error)

    def test_wrong_type_and_missing_value_fail_evaluation(self):
        error = self.evaluation_error(WOODPECKER, extra='{ services.cc-ci.jobs = "four"; }')
        self.assertIn("The option `services.cc-ci.jobs'", error)
        self.assertIn("is not of type `positive integer'", error)
        error = self.evaluation_error(WOODPECKER, extra='{ services.cc-ci.runner.type = "jenkins"; }')
        self.assertIn('not of type `one of "woodpecker", "drone"\'', error)
        no_server = WOODPECKER.read_text().replace('server = "woodpecker.example.org:9000";', "").replace(
            "../../../nix", f"{SOURCE}/nix")
        error = self.evaluation_error(no_server)
        self.assertIn("The option `services.cc-ci.runner.server' is used but not defined", error)

    def test_mkoption_takes_a_closed_argument_set(self):
        error = self.evaluation_error(WOODPECKER, extra=(
            "{ options.services.extra = (import " + str(STUB_NIXPKGS / "lib.nix") +
            ').mkOption { descripton = "typo"; }; }'))
        self.assertIn("unexpected argument 'descripton'", error)

    def test_secret_in_the_store_is_refused(self):
        leak = '{ services.cc-ci.credentials.leak = "/nix/store/abc-secret"; }'
        result = self.evaluate(WOODPECKER, extra=leak)
        self.assertEqual(len(result["failedAssertions"]), 1)
        # As in NixOS, a failed assertion stops the system from being built.
        process, _ = nix_eval(WOODPECKER, self.store, leak, attribute="toplevel.drvPath")
        self.assertNotEqual(process.returncode, 0)
        self.assertIn("Failed assertions:\n       - services.cc-ci.credentials.leak", process.stderr)
        self.assertIn("services.cc-ci.credentials.leak is in the Nix store", result["failedAssertions"][0])
        error = self.evaluation_error(WOODPECKER, extra='{ services.cc-ci.runner.secretFile = lib.mkForce "relative/path"; }')
        self.assertIn("services.cc-ci.runner.secretFile", error)

    def test_disabled_module_adds_nothing(self):
        result = self.evaluate("{ ... }: { services.cc-ci.enable = false; }")
        self.assertEqual(result["units"], {})
        self.assertEqual(result["etc"], {})

    def test_generated_config_is_accepted_by_cc_ci(self):
        result = self.evaluate(WOODPECKER)
        config = self.folder / "config.json"
        config.write_text(result["etc"]["cc-ci/config.json"])
        self.assertEqual(json.loads(config.read_text())["server"], ["swarm1.example.org:4", "swarm2.example.org:1"])
        process = subprocess.run([CC_CI, "list", "--config", str(config)], capture_output=True, text=True,
                                 env={k: v for k, v in os.environ.items() if not k.startswith("CC_CI_")} |
                                 {"CC_CI": CC_CI})
        self.assertEqual(process.returncode, 0, process.stderr)
        for recipe in ["custom-html", "gitea", "nextcloud", "keycloak", "hedgedoc", "matrix-synapse"]:
            self.assertIn(recipe, process.stdout)

    # ------------------------------------------------------------ flakes

    def flake(self, *args, folder=None):
        return subprocess.run(["nix", *FLAKES, *args, *NO_NETWORK, "--no-write-lock-file"],
                              capture_output=True, text=True, timeout=300, cwd=folder or SOURCE)

    def test_flake_check_base(self):
        process = self.flake("flake", "check", "--override-input", "nixpkgs", f"path:{STUB_NIXPKGS}", str(SOURCE))
        self.assertEqual(process.returncode, 0, process.stderr)
        process = self.flake("eval", "--json", "--override-input", "nixpkgs", f"path:{STUB_NIXPKGS}",
                             f"{SOURCE}#packages.x86_64-linux.default.name")
        self.assertEqual(json.loads(process.stdout), "cc-ci-0.1.0", process.stderr)

    def instance(self, *args):
        overrides = ["--override-input", "nixpkgs", f"path:{STUB_NIXPKGS}",
                     "--override-input", "sops-nix", f"path:{STUB_SOPS_NIX}",
                     "--override-input", "cc-ci", f"git+file://{SOURCE}"]
        return self.flake(*args[:-1], *overrides, args[-1])

    def test_flake_check_instance_example(self):
        process = self.instance("flake", "check", str(INSTANCE))
        self.assertEqual(process.returncode, 0, process.stderr)
        process = self.instance("eval", "--json", f"{INSTANCE}#nixosConfigurations.ci.config.system.build.units")
        self.assertEqual(process.returncode, 0, process.stderr)
        runner = json.loads(process.stdout)["cc-ci-runner.service"]
        # The sops-nix secrets' runtime paths, handed over as credentials.
        self.assertEqual(values(runner, "Service", "LoadCredential"), [
            "runner-secret:/run/secrets/runner_secret", "ssh-key:/run/secrets/ssh_key",
            "gitea-token:/run/secrets/gitea_token"])
        for name in ["runner_secret", "gitea_token", "ssh_key", "wildcard_certificate", "wildcard_key"]:
            process = self.instance("eval", "--raw", f"{INSTANCE}#nixosConfigurations.ci.config.sops.secrets.{name}.key")
            self.assertEqual(process.stdout, name, process.stderr)

    # ------------------------------------------------------------ secrets

    def test_repository_secrets_check_passes(self):
        process = subprocess.run([sys.executable, str(HERE / "check_secrets.py"), str(SOURCE)],
                                 capture_output=True, text=True)
        self.assertEqual(process.returncode, 0, process.stdout + process.stderr)
        self.assertRegex(process.stdout, r"checked \d+ tracked files, 1 sops configuration\(s\): 0 problem\(s\)")

    def planted_repository(self):
        """A git repository holding a copy of the instance example, to plant mistakes in."""
        repository = self.folder / "repository"
        shutil.copytree(INSTANCE, repository / "instance")
        subprocess.run(["git", "init", "-q", str(repository)], check=True)
        return repository

    def secrets_problems(self, repository):
        subprocess.run(["git", "-C", str(repository), "add", "-A"], check=True)
        files = check_secrets.tracked_files(repository)
        return check_secrets.check_sops_configs(files) + check_secrets.check_leaks(files)

    def test_secrets_check_catches_plaintext_recipients_and_keys(self):
        repository = self.planted_repository()
        self.assertEqual(self.secrets_problems(repository), [])
        secrets = repository / "instance" / "secrets" / "ci.yaml"
        original = secrets.read_text()

        secrets.write_text(re.sub(r"(?m)^gitea_token: .*$", "gitea_token: hunter2", original))
        self.assertTrue(any("gitea_token is not encrypted" in p for p in self.secrets_problems(repository)))

        other = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True).stdout
        other_recipient = re.search(r"public key: (age1\w+)", other).group(1)
        secrets.write_text(original)
        config = repository / "instance" / ".sops.yaml"
        config.write_text(config.read_text().replace("      age1", f"      {other_recipient},age1"))
        self.assertTrue(any("but .sops.yaml names" in p for p in self.secrets_problems(repository)))

        (repository / "key.txt").write_text(other)
        self.assertTrue(any("key.txt:3: private key material" in p for p in self.secrets_problems(repository)))
        (repository / "key.txt").write_text("gitea_token = '" + "a1b2c3d4e5" * 4 + "'\n")  # made here: not tracked
        self.assertTrue(any("credential assignment" in p for p in self.secrets_problems(repository)))

        (repository / "instance" / "secrets" / "extra.yaml").write_text("password: plain\n")
        self.assertTrue(any("extra.yaml: not a sops file" in p for p in self.secrets_problems(repository)))

    def test_sops_format_round_trip(self):
        identity = self.folder / "key.txt"
        subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
        recipient = subprocess.run(["age-keygen", "-y", str(identity)], check=True, capture_output=True,
                                   text=True).stdout.strip()
        secrets = {"token": "not-a-real-token", "pem": "-----BEGIN X-----\nabc\n-----END X-----\n"}
        document = yaml.safe_load(sops_format.dump(sops_format.encrypt(secrets, [recipient])))
        self.assertEqual(sops_format.decrypt(document, identity), secrets)
        self.assertNotIn("not-a-real-token", sops_format.dump(document))
        # Swapping two encrypted values breaks their additional data (the key path).
        document["token"], document["pem"] = document["pem"], document["token"]
        with self.assertRaises(Exception):
            sops_format.decrypt(document, identity)


class PipelineTest(SandboxTestCase):
    """The example pipelines' commands, run as their runner would run them on
    the host: against the fake abra, with the config the module generates."""

    def run_pipeline(self, file, substitute, environment):
        pipeline = yaml.safe_load((SOURCE / "nix" / "pipelines" / file).read_text())
        steps = pipeline["steps"]
        self.assertEqual([s["name"] for s in steps],
                         ["deploy, probe, tear down", "publish results", "tell the pull request"])
        # The workspace is what the engine cloned: the recipe's repository at the change.
        workspace = Path(tempfile.mkdtemp(prefix="workspace-", dir=self.folder))
        subprocess.run(["git", "clone", "--quiet", str(self.sandbox.catalogue / "custom-html"), str(workspace)],
                       check=True, capture_output=True)
        environment = {**environment, "DRONE_WORKSPACE": str(workspace)}
        outcomes = []
        for step in steps:
            script = "set -e\n" + "\n".join(substitute(command, workspace) for command in step["commands"])
            process = subprocess.run(["bash", "-c", script], cwd=workspace, capture_output=True, text=True,
                                     env=self.environment(environment), timeout=600)
            outcomes.append(process)
        return pipeline, outcomes

    def host_environment(self, reports, gitea=None):
        """What the runner gives a step on the host: the module's config.json
        (pointed at the sandbox), cc-ci on PATH, the reports directory; with a
        Gitea stand-in, its URL in config.json and the token as the credential."""
        store = make_store(self.folder / "store")
        sandbox = json.loads(self.sandbox.config.read_text())
        extra = ('{ services.cc-ci.servers = lib.mkForce { default = { }; }; services.cc-ci.extraSettings = '
                 f'{{ ca_file = "{sandbox["ca_file"]}"; connect_to = [ "{sandbox["connect_to"][0]}" ]; '
                 f'domain_suffix = "{sandbox["domain_suffix"]}"; recipes_from = "{sandbox["recipes_from"]}"; '
                 f'docker = "{sandbox["docker"]}"; '
                 f'gitea_url = "{gitea.url if gitea else "https://git.example.org"}"; }}; }}')
        process, result = nix_eval(WOODPECKER, store, extra)
        self.assertEqual(process.returncode, 0, process.stderr)
        config = self.folder / "config.json"
        config.write_text(result["etc"]["cc-ci/config.json"])
        environment = {"CC_CI_CONFIG": str(config), "CC_CI_REPORTS_DIR": str(reports),
                       "PATH": f"{store}/cc-ci/bin:{os.environ['PATH']}"}
        if gitea:
            credentials = self.folder / "credentials"
            credentials.mkdir(exist_ok=True)
            (credentials / "gitea-token").write_text(gitea.token + "\n")
            environment["CC_CI_CREDENTIALS_DIRECTORY"] = str(credentials)
        return environment

    def push_pr_head(self, number, change=None):
        """A commit on top of the recipe's history, as Gitea keeps a PR's head:
        refs/pull/N/head. `change(folder)` writes the PR's files."""
        clone = Path(tempfile.mkdtemp(prefix="pr-", dir=self.folder))
        catalogue = self.sandbox.catalogue / "custom-html"
        git(self.folder, "clone", "--quiet", str(catalogue), str(clone))
        (clone / "README.md").write_text("# custom-html\n\nA change under review.\n")
        if change:
            change(clone)
        git(clone, "add", "-A")
        git(clone, "commit", "--quiet", "-m", "A change under review")
        git(clone, "push", "--quiet", "origin", f"HEAD:refs/pull/{number}/head")
        return git(clone, "rev-parse", "HEAD")

    def check_published(self, outcomes, reports, build, deployed_as="chaos"):
        test, publish, tell = outcomes
        self.assertEqual(tell.returncode, 0, tell.stdout + tell.stderr)
        self.assertEqual(test.returncode, 0, test.stdout + test.stderr)
        self.assertEqual(publish.returncode, 0, publish.stdout + publish.stderr)
        target = reports / "custom-html" / build
        results = json.loads((target / "results.json").read_text())
        self.assertEqual([(r["recipe"], r["status"]) for r in results["recipes"]], [("custom-html", "passed")])
        tested = results["recipes"][0]["target"]
        self.assertEqual(tested["deployed_as"], deployed_as)
        self.assertFalse(tested["local_changes"])
        # The report is written where it is kept, sealed, and never into the workspace.
        self.assertTrue((target / "seal.json").is_file())
        self.assertIn("<testsuites", (target / "junit.xml").read_text())
        self.assertEqual((reports / "custom-html" / "latest").resolve(), target.resolve())
        # The PR comment and the run's page are published with it, and the index links the run.
        self.assertIn("## custom-html: level", (target / "summary.md").read_text())
        self.assertIn(f'href="custom-html/{build}/index.html#custom-html"', (reports / "index.html").read_text())
        self.assert_nothing_left()

    def test_woodpecker_pipeline_runs_cc_ci_and_publishes(self):
        reports = self.folder / "reports"
        known = {"CI_REPO_NAME": "custom-html", "CI_REPO": "recipes/custom-html", "CI_PIPELINE_NUMBER": "7",
                 "CI_PIPELINE_EVENT": "push", "CI_COMMIT_SHA": "0" * 40}

        def substitute(command, workspace):  # what Woodpecker does to the file before the shell sees it
            values = {**known, "CI_WORKSPACE": str(workspace)}
            command = re.sub(r"(?<!\$)\$(CI_[A-Z_]+)", lambda m: values[m.group(1)], command)
            return command.replace("$$", "$")

        host = {**self.host_environment(reports), "CC_CI_DASHBOARD_BASE": "https://ci.example.org/reports"}
        pipeline, outcomes = self.run_pipeline("woodpecker.yaml", substitute, host)
        self.assertEqual(pipeline["labels"], {"type": "cc-ci"})
        # Never on pull_request: Woodpecker would take the pipeline from the PR itself.
        self.assertEqual(pipeline["when"], [{"event": ["push", "manual", "cron"]}])
        self.assertEqual(pipeline["steps"][1]["when"], [{"status": ["success", "failure"]}])
        self.check_published(outcomes, reports, "7")
        # Without the gitea-token credential, Gitea is not told, and the build does not fail for it.
        self.assertIn("no gitea-token credential", outcomes[2].stdout)
        # With a dashboard, the comment shows the badge from where this run's folder is served.
        self.assertIn("](https://ci.example.org/reports/custom-html/7/badges/custom-html.svg)",
                      (reports / "custom-html" / "7" / "summary.md").read_text())

        # The second run starts from the first one's history; a cron run checks the latest release.
        known.update({"CI_PIPELINE_NUMBER": "8", "CI_PIPELINE_EVENT": "cron"})
        _, outcomes = self.run_pipeline("woodpecker.yaml", substitute, host)
        self.check_published(outcomes, reports, "8", deployed_as="release")
        self.assertIn("a cron run tests the latest release", outcomes[2].stdout)

    def test_woodpecker_pipeline_started_by_testme_tests_the_pr_head_and_tells_the_pr(self):
        reports = self.folder / "reports"
        head = self.push_pr_head(12)
        known = {"CI_REPO_NAME": "custom-html", "CI_REPO": "recipes/custom-html", "CI_PIPELINE_NUMBER": "9",
                 "CI_PIPELINE_EVENT": "manual", "CI_COMMIT_SHA": "0" * 40}

        def substitute(command, workspace):
            values = {**known, "CI_WORKSPACE": str(workspace)}
            command = re.sub(r"(?<!\$)\$(CI_[A-Z_]+)", lambda m: values[m.group(1)], command)
            return command.replace("$$", "$")

        with Gitea("pipeline-token-5d1c") as gitea:
            # The variables the bridge starts the pipeline with (ci_engine.cpp).
            host = {**self.host_environment(reports, gitea), "CC_CI_DASHBOARD_BASE": "https://ci.example.org/reports",
                    "CC_CI_PR": "12", "CC_CI_COMMIT": head, "CC_CI_REQUESTED_BY": "maintainer"}
            _, outcomes = self.run_pipeline("woodpecker.yaml", substitute, host)
            self.check_published(outcomes, reports, "9")
            results = json.loads((reports / "custom-html" / "9" / "results.json").read_text())
            self.assertEqual(results["recipes"][0]["target"]["commit"], head)
            [(comment_id, comment)] = gitea.comments.items()
            self.assertEqual(comment["issue"], "recipes/custom-html#12")
            self.assertIn("## custom-html: level", comment["body"])
            self.assertEqual(gitea.statuses, [("recipes/custom-html", head, {
                "state": "success", "context": "cc-ci/custom-html",
                "description": f"level {results['recipes'][0]['level']}",
                "target_url": "https://ci.example.org/reports/custom-html/9/index.html"})])
            self.assertIn(f"commented on recipes/custom-html#12 (comment {comment_id})", outcomes[2].stdout)
            self.assertEqual(gitea.refused, [])
            self.assertNotIn("pipeline-token-5d1c", "".join(o.stdout + o.stderr for o in outcomes))

    def test_a_pr_that_commits_its_own_report_is_marked_not_tested_and_gets_no_comment(self):
        """The attack on the pipelines as they were: a PR commits a green
        cc-ci-report/ and makes `cc-ci run` stop early. The report is now
        written outside the workspace, and `cc-ci gitea` posts only what this
        host's run sealed for the commit the engine built: nothing here."""
        reports = self.folder / "reports"

        def hostile(folder):
            forged = folder / "cc-ci-report"
            forged.mkdir()
            (forged / "results.json").write_text(json.dumps({
                "schema": "cc-ci/results/v1", "summary": {"passed": 1},
                "recipes": [{"recipe": "custom-html", "status": "passed", "level": 8}]}))
            (forged / "summary.md").write_text("## custom-html: level 8 ✅ passed\n")
            sample = (folder / ".env.sample").read_text()
            (folder / ".env.sample").write_text(sample + 'COMPOSE_FILE="compose.yml:../../outside.yml"\n')

        head = self.push_pr_head(12, hostile)
        known = {"CI_REPO_NAME": "custom-html", "CI_REPO": "recipes/custom-html", "CI_PIPELINE_NUMBER": "10",
                 "CI_PIPELINE_EVENT": "manual", "CI_COMMIT_SHA": "0" * 40}

        def substitute(command, workspace):
            values = {**known, "CI_WORKSPACE": str(workspace)}
            command = re.sub(r"(?<!\$)\$(CI_[A-Z_]+)", lambda m: values[m.group(1)], command)
            return command.replace("$$", "$")

        with Gitea("pipeline-token-77a0") as gitea:
            host = {**self.host_environment(reports, gitea), "CC_CI_PR": "12", "CC_CI_COMMIT": head,
                    "CC_CI_REQUESTED_BY": "maintainer"}
            _, (test, publish, tell) = self.run_pipeline("woodpecker.yaml", substitute, host)
            self.assertEqual(test.returncode, 2, test.stdout + test.stderr)
            self.assertIn("not a file inside the recipe's checkout", test.stderr)
            self.assertNotEqual(publish.returncode, 0)
            self.assertNotEqual(tell.returncode, 0)
            self.assertIn("not publishing", tell.stderr)
            # The PR's head is marked not tested (never left pending, never green), and nothing is said for the PR.
            self.assertEqual(gitea.comments, {})
            self.assertEqual(gitea.statuses, [("recipes/custom-html", head, {
                "state": "error", "context": "cc-ci/custom-html",
                "description": "not tested: this build left no report to post"})])
        self.assertFalse((reports / "custom-html" / "10" / "results.json").exists())
        self.assert_nothing_left()

    def test_drone_pipeline_runs_cc_ci_and_publishes(self):
        reports = self.folder / "reports"
        head = self.push_pr_head(5)
        with Gitea("drone-pipeline-token-8e") as gitea:
            # A custom build as the bridge starts it: the base branch's file, the PR as parameters.
            pipeline, outcomes = self.run_pipeline("drone.yml", lambda command, workspace: command, {
                **self.host_environment(reports, gitea), "DRONE_REPO_NAME": "custom-html",
                "DRONE_REPO": "recipes/custom-html", "DRONE_BUILD_NUMBER": "3", "DRONE_BUILD_EVENT": "custom",
                "DRONE_COMMIT_SHA": "0" * 40, "CC_CI_PR": "5", "CC_CI_COMMIT": head})
            self.assertEqual((pipeline["type"], pipeline["node"]), ("exec", {"type": "cc-ci"}))
            self.assertEqual(pipeline["trigger"], {"event": ["push", "custom", "cron"]})
            self.assertEqual(pipeline["steps"][1]["when"], {"status": ["success", "failure"]})
            self.check_published(outcomes, reports, "3")
            self.assertEqual([c["issue"] for c in gitea.comments.values()], ["recipes/custom-html#5"])
            self.assertEqual([(repo, status["state"]) for repo, _, status in gitea.statuses],
                             [("recipes/custom-html", "success")])
            self.assertEqual(gitea.refused, [])


class CredentialEnvTest(unittest.TestCase):
    SCRIPT = str(SOURCE / "core" / "libexec" / "credential-env")

    def setUp(self):
        self.folder = Path(tempfile.mkdtemp(prefix="cc-ci-credentials-"))
        (self.folder / "runner-secret").write_text("s3cret-value\n")

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def run_script(self, *args, directory=True):
        env = {"PATH": os.environ["PATH"]}
        if directory:
            env["CREDENTIALS_DIRECTORY"] = str(self.folder)
        return subprocess.run([self.SCRIPT, *args], capture_output=True, text=True, env=env)

    def test_exports_the_credential_and_runs_the_command(self):
        process = self.run_script("AGENT_SECRET=runner-secret", "--", "sh", "-c", 'printf "[%s]" "$AGENT_SECRET"')
        self.assertEqual((process.returncode, process.stdout, process.stderr), (0, "[s3cret-value]", ""))

    def test_clear_one_line_errors(self):
        cases = [
            (("AGENT_SECRET=missing", "--", "true"), True, "credential 'missing' is missing"),
            (("AGENT_SECRET=runner-secret", "--", "true"), False, "CREDENTIALS_DIRECTORY is not set"),
            (("AGENT_SECRET=../etc/passwd", "--", "true"), True, "is not a credential name"),
            (("BAD-NAME=runner-secret", "--", "true"), True, "is not an environment variable name"),
            (("AGENT_SECRET=runner-secret", "true"), True, "expected VARIABLE=CREDENTIAL"),
            (("AGENT_SECRET=runner-secret", "--"), True, "missing the command"),
        ]
        for args, directory, message in cases:
            process = self.run_script(*args, directory=directory)
            self.assertEqual(process.returncode, 2, args)
            self.assertEqual(len(process.stderr.strip().splitlines()), 1, process.stderr)
            self.assertIn(message, process.stderr)
            self.assertNotIn("s3cret", process.stderr)


def run(argv):
    """`--list` prints the test names (Meson registers each); otherwise runs the named tests."""
    cases = {case.__name__: case for case in (NixTestCase, PipelineTest, CredentialEnvTest)}
    if argv == ["--list"]:
        for case in cases.values():
            for name in sorted(unittest.defaultTestLoader.getTestCaseNames(case)):
                print(name)
        return 0
    by_name = {name: case for case in cases.values() for name in unittest.defaultTestLoader.getTestCaseNames(case)}
    unknown = [name for name in argv if name not in by_name]
    if not argv or unknown:
        print(f"give test names (see --list); unknown: {unknown}", file=sys.stderr)
        return 2
    result = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite(by_name[n](n) for n in argv))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
