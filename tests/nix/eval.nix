# Evaluates cc-ci's NixOS module with the stub nixpkgs and returns, as JSON,
# what the tests assert on: the declared options, the rendered unit files, the
# files in /etc, the tmpfiles rules and the failed assertions.
#   nix-instantiate --eval --strict --json tests/nix/eval.nix \
#     --argstr storeRoot /tmp/root --arg configuration ./configs/woodpecker.nix
{ storeRoot, configuration }:

let
  nixpkgs = (import ./stub-nixpkgs/flake.nix).outputs { self = nixpkgs; };
  inherit (nixpkgs) lib;

  system = lib.nixosSystem {
    inherit storeRoot;
    modules = [ ../../nix/module.nix configuration ];
  };
  inherit (system) config options;

  showDefault = option:
    if option ? defaultText then option.defaultText.text or option.defaultText
    else if option ? default then option.default
    else null;

  describe = prefix: tree: builtins.concatLists (lib.mapAttrsToList (name: node:
    if (node._type or "") == "option" then [ {
      name = lib.showLoc (prefix ++ [ name ]);
      type = node.type.description;
      default = showDefault node;
      hasDefault = node ? default;
      description = node.description;
    } ]
    else describe (prefix ++ [ name ]) node) tree);
in
{
  options = describe [ "services" "cc-ci" ] options.services.cc-ci;
  units = config.system.build.units;
  etc = config.system.build.etc;
  tmpfiles = config.systemd.tmpfiles.rules;
  users = lib.mapAttrs (_: user: { inherit (user) isSystemUser group home; }) config.users.users;
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
}
