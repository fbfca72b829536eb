# A stand-in for the NixOS options cc-ci's module and the example instance
# set, with the same names, types and defaults as NixOS, and a renderer that
# turns systemd.services/timers into unit files the way NixOS's systemd-lib
# does, so `systemd-analyze verify` can read them. Anything not declared here
# is an error, as an undeclared option is in NixOS.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption types;

  listOfUnits = mkOption { type = types.listOf types.str; default = [ ]; description = "Units."; };
  unitSettings = mkOption { type = types.attrsOf types.unitOption; default = { }; description = "Unit settings."; };

  commonUnitOptions = {
    enable = mkOption { type = types.bool; default = true; description = "Whether to install the unit."; };
    description = mkOption { type = types.str; default = ""; description = "Description=."; };
    wantedBy = listOfUnits;
    requiredBy = listOfUnits;
    wants = listOfUnits;
    requires = listOfUnits;
    after = listOfUnits;
    before = listOfUnits;
    bindsTo = listOfUnits;
    partOf = listOfUnits;
    conflicts = listOfUnits;
    unitConfig = unitSettings;
  };

  serviceOptions = commonUnitOptions // {
    environment = mkOption { type = types.attrsOf (types.nullOr types.str); default = { }; description = "Environment=."; };
    path = mkOption { type = types.listOf types.package; default = [ ]; description = "Packages whose bin/ goes on PATH."; };
    serviceConfig = unitSettings;
    restartTriggers = mkOption { type = types.listOf types.unspecified; default = [ ]; description = "Restart when these change."; };
  };

  timerOptions = commonUnitOptions // {
    timerConfig = unitSettings;
  };

  render = value:
    if builtins.isBool value then (if value then "true" else "false") else toString value;
  section = name: settings:
    let lines = lib.concatMap (key:
      let value = settings.${key}; in
      map (v: "${key}=${render v}") (if builtins.isList value then value else [ value ])) (builtins.attrNames settings);
    in if lines == [ ] then "" else "[${name}]\n${builtins.concatStringsSep "\n" lines}\n";
  dependencies = unit: lib.filterAttrs (_: v: v != [ ] && v != "") {
    Description = unit.description;
    Wants = unit.wants; Requires = unit.requires; After = unit.after; Before = unit.before;
    BindsTo = unit.bindsTo; PartOf = unit.partOf; Conflicts = unit.conflicts;
  } // unit.unitConfig;
  install = unit: lib.filterAttrs (_: v: v != [ ]) { WantedBy = unit.wantedBy; RequiredBy = unit.requiredBy; };
  quoteEnvironment = name: value: "\"${name}=${builtins.replaceStrings [ "\\" "\"" ] [ "\\\\" "\\\"" ] value}\"";

  # NixOS puts these on every service's PATH besides the service's own path.
  defaultPath = [ pkgs.coreutils pkgs.findutils pkgs.gnugrep pkgs.gnused pkgs.systemd ];

  serviceText = unit:
    let environment = lib.filterAttrs (_: v: v != null) unit.environment // {
      PATH = lib.makeBinPath (unit.path ++ defaultPath);
    };
    in builtins.concatStringsSep "" [
      (section "Unit" (dependencies unit))
      (section "Service" ({ Environment = lib.mapAttrsToList quoteEnvironment environment; } // unit.serviceConfig))
      (section "Install" (install unit))
    ];
  timerText = unit: builtins.concatStringsSep "" [
    (section "Unit" (dependencies unit))
    (section "Timer" unit.timerConfig)
    (section "Install" (install unit))
  ];

  enabled = lib.filterAttrs (_: unit: unit.enable);
  units =
    lib.mapAttrs' (name: unit: lib.nameValuePair "${name}.service" (serviceText unit)) (enabled config.systemd.services)
    // lib.mapAttrs' (name: unit: lib.nameValuePair "${name}.timer" (timerText unit)) (enabled config.systemd.timers);

  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
  traefik = config.services.traefik;
  jsonFile = name: value: builtins.toFile name (builtins.toJSON value);
in
{
  options = {
    assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; description = "Conditions the system must meet."; };
    warnings = mkOption { type = types.listOf types.str; default = [ ]; description = "Warnings shown when building."; };

    networking.hostName = mkOption { type = types.str; default = "nixos"; description = "The host name."; };
    networking.firewall.allowedTCPPorts = mkOption { type = types.listOf types.port; default = [ ]; description = "Open TCP ports."; };
    time.timeZone = mkOption { type = types.nullOr types.str; default = null; description = "Time zone."; };
    system.stateVersion = mkOption { type = types.str; description = "NixOS release the state was made with."; };
    system.build = mkOption { type = types.lazyAttrsOf types.unspecified; default = { }; description = "Build results."; };
    nixpkgs.hostPlatform = mkOption { type = types.str; default = "x86_64-linux"; description = "Platform."; };
    nixpkgs.overlays = mkOption { type = types.listOf types.unspecified; default = [ ]; description = "Overlays."; };
    nix.settings = mkOption { type = types.attrs; default = { }; description = "nix.conf settings."; };

    boot.loader.grub.enable = mkOption { type = types.bool; default = true; description = "GRUB."; };
    boot.loader.grub.device = mkOption { type = types.str; default = ""; description = "GRUB's disk."; };
    boot.initrd.availableKernelModules = mkOption { type = types.listOf types.str; default = [ ]; description = "initrd modules."; };
    fileSystems = mkOption {
      type = types.attrsOf (types.submodule {
        options.device = mkOption { type = types.str; description = "Device."; };
        options.fsType = mkOption { type = types.str; default = "auto"; description = "Type."; };
      });
      default = { };
      description = "File systems.";
    };

    users.users = mkOption {
      type = types.attrsOf (types.submodule {
        options = {
          isSystemUser = mkOption { type = types.bool; default = false; description = "System user."; };
          isNormalUser = mkOption { type = types.bool; default = false; description = "Normal user."; };
          group = mkOption { type = types.str; default = ""; description = "Primary group."; };
          extraGroups = mkOption { type = types.listOf types.str; default = [ ]; description = "Groups."; };
          home = mkOption { type = types.str; default = "/var/empty"; description = "Home."; };
          createHome = mkOption { type = types.bool; default = false; description = "Create home."; };
          description = mkOption { type = types.str; default = ""; description = "GECOS."; };
          openssh.authorizedKeys.keys = mkOption { type = types.listOf types.str; default = [ ]; description = "SSH keys."; };
        };
      });
      default = { };
      description = "Users.";
    };
    users.groups = mkOption {
      type = types.attrsOf (types.submodule {
        options.members = mkOption { type = types.listOf types.str; default = [ ]; description = "Members."; };
      });
      default = { };
      description = "Groups.";
    };

    environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; description = "Packages."; };
    environment.etc = mkOption {
      type = types.attrsOf (types.submodule {
        options.text = mkOption { type = types.nullOr types.lines; default = null; description = "Content."; };
        options.mode = mkOption { type = types.str; default = "symlink"; description = "Mode."; };
      });
      default = { };
      description = "Files in /etc.";
    };

    systemd.services = mkOption { type = types.attrsOf (types.submodule { options = serviceOptions; }); default = { }; description = "Services."; };
    systemd.timers = mkOption { type = types.attrsOf (types.submodule { options = timerOptions; }); default = { }; description = "Timers."; };
    systemd.tmpfiles.rules = mkOption { type = types.listOf types.str; default = [ ]; description = "tmpfiles.d rules."; };

    services.nginx = {
      enable = mkOption { type = types.bool; default = false; description = "nginx."; };
      virtualHosts = mkOption {
        type = types.attrsOf (types.submodule {
          options = {
            root = mkOption { type = types.nullOr types.str; default = null; description = "Document root."; };
            forceSSL = mkOption { type = types.bool; default = false; description = "Redirect to HTTPS."; };
            enableACME = mkOption { type = types.bool; default = false; description = "ACME certificate."; };
            locations = mkOption {
              type = types.attrsOf (types.submodule {
                options = {
                  root = mkOption { type = types.nullOr types.str; default = null; description = "Root."; };
                  proxyPass = mkOption { type = types.nullOr types.str; default = null; description = "proxy_pass."; };
                  extraConfig = mkOption { type = types.lines; default = ""; description = "More directives."; };
                };
              });
              default = { };
              description = "Locations.";
            };
          };
        });
        default = { };
        description = "Virtual hosts.";
      };
    };
    services.openssh.enable = mkOption { type = types.bool; default = false; description = "sshd."; };
    services.traefik = {
      enable = mkOption { type = types.bool; default = false; description = "Traefik."; };
      package = mkOption { type = types.package; default = pkgs.traefik; description = "Traefik package."; };
      group = mkOption { type = types.str; default = "traefik"; description = "Traefik's group."; };
      dataDir = mkOption { type = types.str; default = "/var/lib/traefik"; description = "State."; };
      staticConfigOptions = mkOption { type = types.attrs; default = { }; description = "Static configuration."; };
      dynamicConfigOptions = mkOption { type = types.attrs; default = { }; description = "Dynamic configuration (file provider)."; };
    };
  };

  config = {
    # The traefik service as NixOS's traefik module makes it.
    systemd.services.traefik = lib.mkIf traefik.enable {
      description = "Traefik web server";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      serviceConfig = {
        ExecStart = "${traefik.package}/bin/traefik --configfile=${jsonFile "config.json" (lib.recursiveUpdate traefik.staticConfigOptions {
          providers.file.filename = jsonFile "dynamic.json" traefik.dynamicConfigOptions;
        })}";
        Type = "simple";
        User = "traefik";
        Group = traefik.group;
        Restart = "on-failure";
        AmbientCapabilities = "cap_net_bind_service";
      };
    };
    users.users.traefik = lib.mkIf traefik.enable { isSystemUser = true; group = traefik.group; home = traefik.dataDir; };
    users.groups.traefik = lib.mkIf traefik.enable { };

    system.build.units = units;
    system.build.nginx = { inherit (config.services.nginx) enable virtualHosts; };
    system.build.etc = lib.mapAttrs (_: file: file.text) config.environment.etc;
    system.build.toplevel =
      if failedAssertions != [ ] then
        throw "Failed assertions:\n${builtins.concatStringsSep "\n" (map (m: "- ${m}") failedAssertions)}"
      else builtins.foldl' (acc: w: builtins.trace "warning: ${w}" acc) (derivation {
        name = "nixos-system-${config.networking.hostName}";
        system = config.nixpkgs.hostPlatform;
        builder = "/bin/sh";
        args = [ "-c" "echo 'the stub nixpkgs only evaluates systems' >&2; exit 1" ];
        units = builtins.toJSON units;
      }) config.warnings;
  };
}
