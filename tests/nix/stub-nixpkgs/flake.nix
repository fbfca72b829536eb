# Stands in for github:NixOS/nixpkgs when the flakes are checked offline:
#   nix flake check --override-input nixpkgs path:tests/nix/stub-nixpkgs
# It offers the same outputs cc-ci's flakes use (lib, lib.nixosSystem,
# legacyPackages) with the stub module system in lib.nix.
{
  description = "Offline stand-in for nixpkgs (tests only)";

  outputs = { self }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
      baseLib = import ./lib.nix;
    in
    {
      lib = baseLib // {
        # nixpkgs.lib.nixosSystem, reduced to what the instance flake uses.
        nixosSystem = { system ? "x86_64-linux", modules, specialArgs ? { }, storeRoot ? null }:
          baseLib.evalModules {
            modules = [ ./nixos.nix { nixpkgs.hostPlatform = baseLib.mkDefault system; } ] ++ modules;
            specialArgs = specialArgs // {
              modulesPath = "/nixos-modules";
            };
            pkgsFor = config: import ./pkgs.nix { lib = baseLib; inherit system storeRoot; overlays = config.nixpkgs.overlays; };
          };
      };

      legacyPackages = forAll (system: import ./pkgs.nix { lib = baseLib; inherit system; });
    };
}
