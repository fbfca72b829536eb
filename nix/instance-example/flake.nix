# An example *private* instance flake: one deployment of cc-ci. Copy this
# folder into a repository of your own, point the cc-ci input at where cc-ci
# lives, replace the age recipient in .sops.yaml with your host's and your
# admins' keys, and re-create secrets/ci.yaml with sops (docs/rebuild.md).
# Then `nix flake lock` once, commit flake.lock, and the host is rebuildable
# from git with only the age private key brought in by hand.
{
  description = "Example cc-ci CI host (throwaway test key; no real secret)";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
    cc-ci = {
      url = "git+https://git.coopcloud.tech/coop-cloud/cc-ci";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    sops-nix = {
      url = "github:Mic92/sops-nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { self, nixpkgs, cc-ci, sops-nix }: {
    nixosConfigurations.ci = nixpkgs.lib.nixosSystem {
      system = "x86_64-linux";
      modules = [
        cc-ci.nixosModules.cc-ci
        sops-nix.nixosModules.sops
        ./configuration.nix
      ];
    };
  };
}
