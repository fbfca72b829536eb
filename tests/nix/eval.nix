# Evaluates cc-ci's NixOS module with the stub nixpkgs and returns, as JSON,
# what the tests assert on (`-A report`): the declared options, the rendered unit files, the
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
  # Every declaration, so a malformed mkOption anywhere fails the evaluation.
  declared = describe [ ] options;
in
{
  # The system itself: evaluating it runs the assertions, as NixOS does.
  inherit (config.system.build) toplevel;

  report.declaredOptions = builtins.length declared;
  report.options = builtins.filter (option: lib.hasPrefix "services.cc-ci." option.name) declared;
  report.units = config.system.build.units;
  report.etc = config.system.build.etc;
  report.nginx = config.system.build.nginx;
  report.tmpfiles = config.systemd.tmpfiles.rules;
  report.users = lib.mapAttrs (_: user: { inherit (user) isSystemUser group home extraGroups; }) config.users.users;
  report.failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
}
