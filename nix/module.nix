# services.cc-ci: a NixOS host that runs cc-ci for a CI engine.
#
# Runs are started by an existing CI engine's runner (a Woodpecker agent or a
# Drone exec runner, both with the host backend) executing `cc-ci run` from a
# pipeline; this module only sets up that runner, the user and state it runs
# with, abra's servers, the janitor timer, Traefik's wildcard certificate, and
# the secrets they need. Secrets are never read at
# evaluation time: options take the *runtime* path of a decrypted file (for
# example `config.sops.secrets."cc-ci/runner-secret".path` from sops-nix), and
# systemd hands each file to its unit as a credential, so nothing secret lands
# in the Nix store, a unit file or the process environment of other units.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption mkEnableOption mkIf mkMerge types literalExpression;

  cfg = config.services.cc-ci;

  # No server given means abra's local one, as cc-ci's own default.
  servers = if cfg.servers == { } then { default.capacity = 1; } else cfg.servers;

  # A decrypted secret's runtime location. A string, not a Nix path: a path
  # literal would be copied into the world-readable store.
  secretPath = types.strMatching "/.+";
  inStore = path: lib.hasPrefix "/nix/store/" path;

  # "a=1,b=2": how both runners take maps in one environment variable.
  joinAttrs = separator: attrs: lib.concatStringsSep "," (lib.mapAttrsToList (name: value: "${name}${separator}${value}") attrs);

  runnerUnit = "cc-ci-runner";
  runnerCredentials = "/run/credentials/${runnerUnit}.service";

  # What `cc-ci run --config` reads (core/src/config/settings.cpp); no secret in it.
  ccciSettings = {
    plugins = [ "${cfg.package}/lib/cc-ci/plugins" ] ++ cfg.extraPlugins;
    abra = lib.getExe cfg.abraPackage;
    # Inspects each server after teardown (the clean-teardown rung) through abra's Docker contexts.
    docker = lib.getExe pkgs.docker-client;
    # Shoots each app's landing page for the report and the PR comment.
    browser = lib.getExe pkgs.chromium;
    server = lib.mapAttrsToList (name: server: "${name}:${toString server.capacity}") servers;
    domain_suffix = cfg.domainSuffix;
    inherit (cfg) jobs;
  } // lib.optionalAttrs (cfg.gitea.url != null) {
    # `cc-ci gitea` in the pipelines posts the PR comment and statuses there.
    gitea_url = cfg.gitea.url;
  } // cfg.extraSettings;

  # Environment every cc-ci run needs; the runners pass it on to pipeline steps.
  runEnvironment = {
    ABRA_DIR = cfg.abraDir;
    CC_CI_CONFIG = "/etc/cc-ci/config.json";
    CC_CI_STATE_DIR = cfg.stateDir; # cc-ci keeps its run markers in running/ there
    CC_CI_REPORTS_DIR = cfg.reportsDir;
  } // lib.optionalAttrs cfg.dashboard.enable {
    # Where a run's folder will be served: the PR comment links and embeds from there.
    CC_CI_DASHBOARD_BASE = cfg.dashboard.baseUrl;
  };

  # The Gitea token, for the pipelines (`cc-ci gitea`) as the credential gitea-token.
  giteaCredential = lib.optional (cfg.gitea.tokenFile != null) "gitea-token:${cfg.gitea.tokenFile}";
  webUrl = types.strMatching "https?://[^/ ]+.*";

  # The ssh key abra reaches the servers with, for the units that run abra.
  sshCredential = lib.optional (cfg.sshKeyFile != null) "ssh-key:${cfg.sshKeyFile}";

  credentialEnv = "${cfg.package}/libexec/cc-ci/credential-env";

  # Where Traefik's unit finds the wildcard pair it was handed (LoadCredential=).
  traefikCertificate = {
    certFile = "/run/credentials/traefik.service/wildcard.crt";
    keyFile = "/run/credentials/traefik.service/wildcard.key";
  };

  # One oneshot per server registers it with abra the first time (abra makes
  # servers/<name>), so a rebuilt host needs no hand-run `abra server add`.
  # abra 0.13 refuses to run without a terminal: script(1) gives it one.
  serverUnit = name: "cc-ci-abra-server-${name}";
  serverUnits = map (name: "${serverUnit name}.service") (lib.attrNames servers);
  # What the runner and the janitor need up before they start.
  afterServers = [ "network-online.target" ] ++ serverUnits;
  # abra as the units run it: never prompting, and in a terminal (without
  # one abra 0.13 stops with "inappropriate ioctl for device").
  abra = args: "${lib.getExe cfg.abraPackage} -n ${args}";
  inTerminal = command: "${pkgs.util-linux}/bin/script --quiet --return --command '${command}' /dev/null";
  registerServer = name: {
    description = "Register ${name} with abra for cc-ci";
    wants = [ "network-online.target" ];
    after = [ "network-online.target" ];
    wantedBy = [ "multi-user.target" ];
    unitConfig.ConditionPathExists = "!${cfg.abraDir}/servers/${name}";
    environment.ABRA_DIR = cfg.abraDir;
    path = [ pkgs.openssh ];
    serviceConfig = sandboxing // {
      Type = "oneshot";
      RemainAfterExit = true;
      LoadCredential = sshCredential;
      ExecStart = inTerminal (abra "server add ${if name == "default" then "--local" else name}");
    };
  };

  # backup-bot-two on each server, once, after it is registered: abra's `app
  # backup create` / `app restore` run in its container, and a server without
  # one leaves every recipe's backup rung unverified (docs/backupbot.md). Its
  # restic password is generated into a Docker secret by `app new --secrets`,
  # which prints it: the unit's output goes nowhere, so it never reaches the journal.
  backupbotUnit = name: "cc-ci-backupbot-${name}";
  backupbotDomain = name: "backups.${name}";
  deployBackupbot = name: {
    description = "Deploy backup-bot-two on ${name} for cc-ci's backup rung";
    wants = [ "${serverUnit name}.service" ];
    after = [ "${serverUnit name}.service" ];
    wantedBy = [ "multi-user.target" ];
    unitConfig.ConditionPathExists = "!${cfg.abraDir}/servers/${name}/${backupbotDomain name}.env";
    environment.ABRA_DIR = cfg.abraDir;
    path = [ pkgs.openssh pkgs.git ];
    serviceConfig = sandboxing // {
      Type = "oneshot";
      RemainAfterExit = true;
      LoadCredential = sshCredential;
      StandardOutput = "null";
      ExecStart = [
        (inTerminal (abra "app new backup-bot-two --server ${name} --domain ${backupbotDomain name} --secrets"))
        (inTerminal (abra "app deploy ${backupbotDomain name} --no-domain-checks"))
      ];
    };
  };

  # The runner's own secret is exported as the variable the runner reads; the
  # other credentials stay files under $CREDENTIALS_DIRECTORY for the steps.
  runner = {
    woodpecker = {
      secretVariable = "WOODPECKER_AGENT_SECRET";
      executable = "${cfg.runner.package}/bin/woodpecker-agent";
      environment = {
        WOODPECKER_SERVER = cfg.runner.server;
        WOODPECKER_BACKEND = "local";
        WOODPECKER_MAX_WORKFLOWS = toString cfg.runner.capacity;
        WOODPECKER_AGENT_LABELS = joinAttrs "=" cfg.runner.labels;
        WOODPECKER_HOSTNAME = cfg.runner.name;
        WOODPECKER_AGENT_CONFIG_FILE = "${cfg.stateDir}/woodpecker-agent.conf";
        WOODPECKER_BACKEND_LOCAL_TEMP_DIR = "${cfg.stateDir}/workspaces";
      };
    };
    drone = {
      secretVariable = "DRONE_RPC_SECRET";
      executable = "${cfg.runner.package}/bin/drone-runner-exec";
      environment = {
        DRONE_RPC_PROTO = cfg.runner.protocol;
        DRONE_RPC_HOST = cfg.runner.server;
        DRONE_RUNNER_CAPACITY = toString cfg.runner.capacity;
        DRONE_RUNNER_LABELS = joinAttrs ":" cfg.runner.labels;
        DRONE_RUNNER_NAME = cfg.runner.name;
        DRONE_RUNNER_ROOT = "${cfg.stateDir}/workspaces";
        DRONE_RUNNER_ENVIRON = joinAttrs ":" runEnvironment;
      };
    };
  }.${cfg.runner.type};

  # Hardening shared by the runner and the janitor: they need the network and
  # their state directory, nothing else of the host.
  sandboxing = {
    User = cfg.user;
    Group = cfg.group;
    StateDirectory = lib.removePrefix "/var/lib/" cfg.stateDir;
    StateDirectoryMode = "0750";
    WorkingDirectory = cfg.stateDir;
    NoNewPrivileges = true;
    PrivateTmp = true;
    ProtectSystem = "strict";
    ProtectHome = true;
    ReadWritePaths = [ cfg.stateDir ];
  };
in
{
  options.services.cc-ci = {
    enable = mkEnableOption "cc-ci, the Co-op Cloud recipe test host, run by a CI engine's runner";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The cc-ci package: the binary, the recipe plugins and the credential helper.";
    };

    abraPackage = mkOption {
      type = types.package;
      example = literalExpression "pkgs.callPackage ./abra.nix { }";
      description = ''
        The abra CLI cc-ci drives. abra is not in nixpkgs; the instance example
        (nix/instance-example/abra.nix) packages the release binary.
      '';
    };

    extraPlugins = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "/var/lib/cc-ci/plugins" ];
      description = "More plugin files or directories, searched after the package's own recipe plugins.";
    };

    user = mkOption {
      type = types.str;
      default = "cc-ci";
      description = "System user the runner, every `cc-ci run` and the janitor run as.";
    };

    group = mkOption {
      type = types.str;
      default = "cc-ci";
      description = "Group of that user; it owns the state directory.";
    };

    stateDir = mkOption {
      type = types.strMatching "/var/lib/.+";
      default = "/var/lib/cc-ci";
      description = "State directory (systemd's StateDirectory): abra's configuration, run markers, workspaces, reports.";
    };

    abraDir = mkOption {
      type = types.str;
      default = "${cfg.stateDir}/abra";
      defaultText = literalExpression ''"''${config.services.cc-ci.stateDir}/abra"'';
      description = "ABRA_DIR: abra's servers, recipes and app env files. cc-ci gives each test its own copy beside it.";
    };

    reportsDir = mkOption {
      type = types.str;
      default = "${cfg.stateDir}/reports";
      defaultText = literalExpression ''"''${config.services.cc-ci.stateDir}/reports"'';
      description = "Where the example pipelines publish each run's folder and `cc-ci dashboard` its index (CC_CI_REPORTS_DIR).";
    };

    gitea = {
      url = mkOption {
        type = types.nullOr webUrl;
        default = null;
        example = "https://git.coopcloud.tech";
        description = ''
          The Gitea or Forgejo server holding the recipe repositories. The
          pipelines post each run's PR comment and commit statuses there
          (`cc-ci gitea`), and the bridge checks `!testme` commenters there.
        '';
      };
      tokenFile = mkOption {
        type = types.nullOr secretPath;
        default = null;
        example = literalExpression ''config.sops.secrets."cc-ci/gitea-token".path'';
        description = ''
          Runtime path of a Gitea API token of the bot user that comments
          (scopes: write:issue, write:repository, read:user). Handed to the
          runner as the credential gitea-token, and to the bridge.
        '';
      };
    };

    dashboard = {
      enable = mkEnableOption "serving reportsDir, the runs and their index, as the dashboard with nginx";
      hostName = mkOption {
        type = types.str;
        example = "ci.example.org";
        description = "The nginx virtual host serving the dashboard (and the bridge's POST /hook when enabled).";
      };
      baseUrl = mkOption {
        type = webUrl;
        default = "https://${cfg.dashboard.hostName}";
        defaultText = literalExpression ''"https://''${config.services.cc-ci.dashboard.hostName}"'';
        description = "Where browsers reach the dashboard; PR comments link and show images from there (CC_CI_DASHBOARD_BASE).";
      };
    };

    bridge = {
      enable = mkEnableOption "the `!testme` bridge: Gitea's webhook in, one build of the runner's CI engine per PR commit";
      listen = mkOption {
        type = types.str;
        default = "127.0.0.1:8099";
        description = "HOST:PORT the bridge listens on; the dashboard's virtual host forwards POST /hook to it.";
      };
      ciUrl = mkOption {
        type = webUrl;
        example = "https://woodpecker.example.org";
        description = "The API of the CI engine (runner.type) the bridge starts builds on.";
      };
      webhookSecretFile = mkOption {
        type = secretPath;
        example = literalExpression ''config.sops.secrets."cc-ci/webhook-secret".path'';
        description = "Runtime path of the secret Gitea signs the webhook with (the webhook's Secret field).";
      };
      ciTokenFile = mkOption {
        type = secretPath;
        example = literalExpression ''config.sops.secrets."cc-ci/ci-token".path'';
        description = "Runtime path of the CI engine's API token (a Woodpecker or Drone user token).";
      };
    };

    servers = mkOption {
      type = types.attrsOf (types.submodule {
        options.capacity = mkOption {
          type = types.ints.positive;
          default = 1;
          description = "How many recipe tests this server takes at once.";
        };
      });
      default = { };
      example = { "swarm1.ci.example.org".capacity = 4; };
      description = ''
        The Docker Swarm servers cc-ci deploys to, by the name abra knows them by
        (`abra server add <name>`), each with its capacity. Empty means abra's
        local server `default`.
      '';
    };

    backupbot = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Deploy the backup-bot-two recipe on every server (as `backups.<server>`), so
        that abra can back up and restore test apps and the backup rung is verified.
      '';
    };

    domainSuffix = mkOption {
      type = types.str;
      example = "ci.example.org";
      description = "Test apps get <recipe>-<hex>.<domainSuffix>; the wildcard certificate covers *.<domainSuffix>.";
    };

    jobs = mkOption {
      type = types.ints.positive;
      default = 2;
      description = "Recipe tests one `cc-ci run` runs at the same time.";
    };

    extraSettings = mkOption {
      type = types.attrs;
      default = { };
      example = { keep = "on-failure"; timeout_deploy = 1200; };
      description = "More keys for /etc/cc-ci/config.json (see `cc-ci run --help`); cc-ci refuses unknown keys.";
    };

    sshKeyFile = mkOption {
      type = types.nullOr secretPath;
      default = null;
      example = literalExpression ''config.sops.secrets."cc-ci/ssh-key".path'';
      description = ''
        Runtime path of the private ssh key abra reaches the servers with. It is
        handed to the runner and the janitor as the credential `ssh-key`, and
        the user's ssh configuration points IdentityFile at it.
      '';
    };

    credentials = mkOption {
      type = types.attrsOf secretPath;
      default = { };
      example = literalExpression ''{ gitea-token = config.sops.secrets."cc-ci/gitea-token".path; }'';
      description = ''
        Secrets the pipelines may read, by name: each is the runtime path of a
        decrypted file, loaded into the runner with LoadCredential= and readable
        by pipeline steps as $CC_CI_CREDENTIALS_DIRECTORY/<name>.
      '';
    };

    runner = {
      type = mkOption {
        type = types.enum [ "woodpecker" "drone" ];
        default = "woodpecker";
        description = "Which CI engine's runner executes the pipelines that call `cc-ci run`.";
      };

      package = mkOption {
        type = types.package;
        default = if cfg.runner.type == "woodpecker" then pkgs.woodpecker-agent else pkgs.drone-runner-exec;
        defaultText = literalExpression "pkgs.woodpecker-agent or pkgs.drone-runner-exec, by runner.type";
        description = "The runner package.";
      };

      server = mkOption {
        type = types.str;
        example = "ci.example.org:9000";
        description = "Woodpecker: the server's gRPC address (host:port). Drone: the server's host name.";
      };

      protocol = mkOption {
        type = types.enum [ "https" "http" ];
        default = "https";
        description = "Drone only: how the runner reaches the server.";
      };

      secretFile = mkOption {
        type = secretPath;
        example = literalExpression ''config.sops.secrets."cc-ci/runner-secret".path'';
        description = "Runtime path of the shared runner secret (Woodpecker agent secret or Drone RPC secret).";
      };

      name = mkOption {
        type = types.str;
        default = config.networking.hostName;
        defaultText = literalExpression "config.networking.hostName";
        description = "The runner's name as the CI server shows it.";
      };

      labels = mkOption {
        type = types.attrsOf types.str;
        default = { type = "cc-ci"; };
        description = "Labels a pipeline must ask for to run here (Woodpecker `labels:`, Drone `node:`).";
      };

      capacity = mkOption {
        type = types.ints.positive;
        default = 1;
        description = "Pipelines the runner executes at once; each may itself run `jobs` recipe tests.";
      };
    };

    janitor = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Periodically remove test apps whose run has died (`cc-ci janitor`).";
      };

      schedule = mkOption {
        type = types.str;
        default = "hourly";
        example = "*:0/15";
        description = "When the janitor runs (systemd OnCalendar= syntax).";
      };
    };

    wildcardCertificate = {
      enable = mkEnableOption "serving the test apps' wildcard certificate with the host's Traefik (file provider)";

      certificateFile = mkOption {
        type = secretPath;
        example = literalExpression ''config.sops.secrets."cc-ci/wildcard.crt".path'';
        description = "Runtime path of the decrypted certificate chain (PEM) for *.<domainSuffix>.";
      };

      keyFile = mkOption {
        type = secretPath;
        example = literalExpression ''config.sops.secrets."cc-ci/wildcard.key".path'';
        description = "Runtime path of its decrypted private key (PEM).";
      };
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions =
        map (name: {
          assertion = !(inStore cfg.credentials.${name});
          message = "services.cc-ci.credentials.${name} is in the Nix store, which every user can read; give the runtime path of a decrypted secret (sops-nix).";
        }) (lib.attrNames cfg.credentials)
        ++ [
          {
            assertion = !(inStore cfg.runner.secretFile) && (cfg.sshKeyFile == null || !(inStore cfg.sshKeyFile));
            message = "services.cc-ci.runner.secretFile or sshKeyFile is in the Nix store; give the runtime path of a decrypted secret (sops-nix).";
          }
          {
            assertion = !(cfg.credentials ? runner-secret || cfg.credentials ? ssh-key)
              && !(cfg.gitea.tokenFile != null && cfg.credentials ? gitea-token);
            message = "services.cc-ci.credentials: runner-secret, ssh-key and gitea-token are taken by runner.secretFile, sshKeyFile and gitea.tokenFile.";
          }
          {
            assertion = cfg.gitea.tokenFile == null || !(inStore cfg.gitea.tokenFile);
            message = "services.cc-ci.gitea.tokenFile is in the Nix store; give the runtime path of a decrypted secret (sops-nix).";
          }
        ];

      users.users.${cfg.user} = {
        isSystemUser = true;
        inherit (cfg) group;
        home = cfg.stateDir;
        description = "cc-ci recipe test runner";
      };
      users.groups.${cfg.group} = { };

      environment.systemPackages = [ cfg.package cfg.abraPackage ];
      environment.etc."cc-ci/config.json".text = builtins.toJSON ccciSettings;
      # ssh expands ${CREDENTIALS_DIRECTORY} itself, so each unit finds its own copy.
      environment.etc."cc-ci/ssh_config".text = lib.optionalString (cfg.sshKeyFile != null) ''
        IdentityFile ''${CREDENTIALS_DIRECTORY}/ssh-key
        IdentitiesOnly yes
      '';

      systemd.tmpfiles.rules =
        [
          "d ${cfg.abraDir} 0750 ${cfg.user} ${cfg.group} -"
          "d ${cfg.abraDir}/servers 0750 ${cfg.user} ${cfg.group} -"
          "d ${cfg.reportsDir} 0750 ${cfg.user} ${cfg.group} -"
          "d ${cfg.stateDir}/workspaces 0750 ${cfg.user} ${cfg.group} -"
          "d ${cfg.stateDir}/.ssh 0700 ${cfg.user} ${cfg.group} -"
          "L+ ${cfg.stateDir}/.ssh/config - - - - /etc/cc-ci/ssh_config"
          # Reports are kept for a month; the JSON history cc-ci reads needs only the last.
          "e ${cfg.reportsDir} - - - 30d"
        ]
        ;

      systemd.services = lib.mapAttrs' (name: _: lib.nameValuePair (serverUnit name) (registerServer name)) servers
        // lib.optionalAttrs cfg.backupbot
          (lib.mapAttrs' (name: _: lib.nameValuePair (backupbotUnit name) (deployBackupbot name)) servers)
        // {
        ${runnerUnit} = {
          description = "${cfg.runner.type} runner executing cc-ci pipelines";
          wantedBy = [ "multi-user.target" ];
          wants = afterServers;
          after = afterServers;
          # nssTools: certutil, with which cc-ci's browser trusts a private CA (--ca-file).
          path = [ cfg.package cfg.abraPackage pkgs.git pkgs.openssh pkgs.bash pkgs.nssTools ];
          environment = runner.environment // runEnvironment // { CC_CI_CREDENTIALS_DIRECTORY = runnerCredentials; };
          serviceConfig = sandboxing // {
            ExecStart = "${credentialEnv} ${runner.secretVariable}=runner-secret -- ${runner.executable}";
            LoadCredential = [ "runner-secret:${cfg.runner.secretFile}" ] ++ sshCredential ++ giteaCredential
              ++ lib.mapAttrsToList (name: path: "${name}:${path}") cfg.credentials;
            Restart = "on-failure";
            RestartSec = 10;
            # A run tears its apps down on SIGTERM; give it time before SIGKILL.
            TimeoutStopSec = 900;
            KillMode = "mixed";
          };
        };
      };
    }

    (mkIf cfg.janitor.enable {
      systemd.services.cc-ci-janitor = {
        description = "Remove cc-ci test apps whose run has died";
        after = afterServers;
        wants = afterServers;
        path = [ cfg.abraPackage pkgs.openssh ];
        environment = runEnvironment;
        serviceConfig = sandboxing // {
          Type = "oneshot";
          LoadCredential = sshCredential;
          ExecStart = "${lib.getExe cfg.package} janitor --config ${runEnvironment.CC_CI_CONFIG}";
        };
      };
      systemd.timers.cc-ci-janitor = {
        description = "Run the cc-ci janitor ${cfg.janitor.schedule}";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.janitor.schedule;
          Persistent = true;
          RandomizedDelaySec = "5m";
        };
      };
    })

    (mkIf cfg.bridge.enable {
      assertions = [
        {
          assertion = cfg.gitea.url != null && cfg.gitea.tokenFile != null;
          message = "services.cc-ci.bridge needs gitea.url and gitea.tokenFile: it checks commenters and PRs on Gitea.";
        }
        {
          assertion = !(inStore cfg.bridge.webhookSecretFile) && !(inStore cfg.bridge.ciTokenFile);
          message = "services.cc-ci.bridge's secret files are in the Nix store; give the runtime paths of decrypted secrets (sops-nix).";
        }
      ];
      # No abra, no servers, no reports: a user of its own, the three secrets
      # as credentials, its record of started builds in its state directory.
      systemd.services.cc-ci-bridge = {
        description = "cc-ci !testme bridge from Gitea to ${cfg.runner.type}";
        wantedBy = [ "multi-user.target" ];
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ];
        serviceConfig = {
          ExecStart = lib.concatStringsSep " " [
            "${lib.getExe cfg.package} bridge --gitea-url ${toString cfg.gitea.url}"
            "--ci-engine ${cfg.runner.type} --ci-url ${cfg.bridge.ciUrl} --listen ${cfg.bridge.listen}"
          ];
          LoadCredential = [
            "webhook-secret:${cfg.bridge.webhookSecretFile}"
            "gitea-token:${toString cfg.gitea.tokenFile}"
            "ci-token:${cfg.bridge.ciTokenFile}"
          ];
          DynamicUser = true;
          StateDirectory = "cc-ci-bridge";
          Restart = "on-failure";
          RestartSec = 5;
          NoNewPrivileges = true;
          PrivateTmp = true;
          ProtectSystem = "strict";
          ProtectHome = true;
          RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ];
        };
      };
    })

    (mkIf cfg.dashboard.enable {
      # Static files only: the run pages and the index need no application server.
      services.nginx.enable = true;
      services.nginx.virtualHosts.${cfg.dashboard.hostName} = {
        root = cfg.reportsDir;
        locations."/".extraConfig = ''
          autoindex off;
          add_header X-Content-Type-Options nosniff;
        '';
        locations."= /hook" = mkIf cfg.bridge.enable {
          proxyPass = "http://${cfg.bridge.listen}/hook";
        };
      };
      # nginx reads the reports through the group that owns them.
      users.users.nginx.extraGroups = [ cfg.group ];
    })

    (mkIf cfg.wildcardCertificate.enable {
      assertions = [
        {
          assertion = !(inStore cfg.wildcardCertificate.certificateFile) && !(inStore cfg.wildcardCertificate.keyFile);
          message = "services.cc-ci.wildcardCertificate files are in the Nix store; give the runtime paths of decrypted secrets (sops-nix).";
        }
      ];
      services.traefik.enable = true;
      # Traefik reads the pair from its own credentials directory: the key
      # stays readable by root and that one unit only.
      systemd.services.traefik.serviceConfig.LoadCredential = [
        "wildcard.crt:${cfg.wildcardCertificate.certificateFile}"
        "wildcard.key:${cfg.wildcardCertificate.keyFile}"
      ];
      services.traefik.dynamicConfigOptions.tls = {
        certificates = [ traefikCertificate ];
        stores.default.defaultCertificate = traefikCertificate;
      };
    })
  ]);
}
