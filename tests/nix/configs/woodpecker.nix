# A Woodpecker host with two servers, pipeline credentials and a wildcard certificate.
{ pkgs, ... }:
{
  networking.hostName = "ci1";
  services.cc-ci = {
    enable = true;
    abraPackage = pkgs.callPackage ../../../nix/instance-example/abra.nix { };
    domainSuffix = "ci.example.org";
    servers."swarm1.example.org".capacity = 4;
    servers."swarm2.example.org" = { };
    credentials.gitea-token = "/run/secrets/cc-ci/gitea-token";
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
