# cc-ci as a flake: the package, an overlay and the NixOS module. The
# generic, public half of a CI host; a deployment's private half (hosts,
# secrets) is an instance flake that takes this one as an input, as
# nix/instance-example/ shows.
{
  description = "cc-ci: proves that Co-op Cloud recipes deploy, serve and tear down cleanly";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        cc-ci = pkgs.callPackage ./nix/package.nix { };
        default = cc-ci;
      });

      overlays.default = final: prev: {
        cc-ci = final.callPackage ./nix/package.nix { };
      };

      # An attribute set, not a bare path: `nix flake check` wants a module value.
      nixosModules.cc-ci = { imports = [ ./nix/module.nix ]; };
      nixosModules.default = self.nixosModules.cc-ci;
    };
}
