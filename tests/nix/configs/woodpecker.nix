# A Woodpecker host with two servers, a wildcard certificate, the Gitea token,
# the dashboard and the `!testme` bridge.
{ pkgs, ... }:
{
  networking.hostName = "ci1";
  services.cc-ci = {
    enable = true;
    abraPackage = pkgs.callPackage ../../../nix/instance-example/abra.nix { };
    domainSuffix = "ci.example.org";
    servers."swarm1.example.org".capacity = 4;
    servers."swarm2.example.org" = { };
    gitea = {
      url = "https://git.example.org";
      tokenFile = "/run/secrets/cc-ci/gitea-token";
    };
    dashboard = {
      enable = true;
      hostName = "ci1.example.org";
    };
    bridge = {
      enable = true;
      ciUrl = "https://woodpecker.example.org";
      webhookSecretFile = "/run/secrets/cc-ci/webhook-secret";
      ciTokenFile = "/run/secrets/cc-ci/ci-token";
    };
    runner = {
      server = "woodpecker.example.org:9000";
      secretFile = "/run/secrets/cc-ci/runner-secret";
    };
    wildcardCertificate = {
      enable = true;
      certificateFile = "/run/secrets/cc-ci/wildcard.crt";
      keyFile = "/run/secrets/cc-ci/wildcard.key";
    };
  };
}
