# The example host: a VM with one disk, reachable by ssh, running the
# Woodpecker agent for cc-ci. Everything secret comes from secrets/ci.yaml
# (sops, age), decrypted at boot by sops-nix with the one key brought by hand
# to /var/lib/sops-nix/key.txt; the options below only name runtime paths.
{ config, pkgs, ... }:

let
  secret = name: config.sops.secrets.${name}.path;
in
{
  networking.hostName = "cc-ci-example";
  time.timeZone = "UTC";
  system.stateVersion = "24.05";

  # The blank VM's disk (what nixos-generate-config writes on a real host).
  boot.loader.grub.device = "/dev/vda";
  boot.initrd.availableKernelModules = [ "virtio_pci" "virtio_blk" ];
  fileSystems."/" = { device = "/dev/disk/by-label/nixos"; fsType = "ext4"; };

  services.openssh.enable = true;
  # Your admins' public ssh keys (public, so they may live here), e.g.
  # "ssh-ed25519 <key> admin@example.org".
  users.users.root.openssh.authorizedKeys.keys = [ ];

  sops = {
    defaultSopsFile = ./secrets/ci.yaml;
    age.keyFile = "/var/lib/sops-nix/key.txt";
    # Owned by root: systemd reads them for LoadCredential= and hands each unit its copy.
    secrets.runner_secret.restartUnits = [ "cc-ci-runner.service" ];
    secrets.gitea_token.restartUnits = [ "cc-ci-runner.service" ];
    secrets.ssh_key.restartUnits = [ "cc-ci-runner.service" ];
    secrets.wildcard_certificate.restartUnits = [ "traefik.service" ];
    secrets.wildcard_key.restartUnits = [ "traefik.service" ];
  };

  services.cc-ci = {
    enable = true;
    abraPackage = pkgs.callPackage ./abra.nix { };
    domainSuffix = "ci.example.org";
    servers."swarm1.example.org".capacity = 4;
    jobs = 4;
    sshKeyFile = secret "ssh_key";
    # The PR comment and commit statuses (`cc-ci gitea` in the pipelines).
    gitea = {
      url = "https://git.example.org";
      tokenFile = secret "gitea_token";
    };
    runner = {
      type = "woodpecker";
      server = "woodpecker.example.org:9000";
      secretFile = secret "runner_secret";
      capacity = 2;
    };
    wildcardCertificate = {
      enable = true;
      certificateFile = secret "wildcard_certificate";
      keyFile = secret "wildcard_key";
    };
  };

  services.traefik.staticConfigOptions.entryPoints.websecure.address = ":443";
  networking.firewall.allowedTCPPorts = [ 22 443 ];
}
