# Stands in for github:Mic92/sops-nix when the instance flake is checked
# offline: the same sops.* options (names, types, defaults), no decryption.
{
  description = "Offline stand-in for sops-nix (tests only)";

  outputs = { self }: {
    nixosModules.sops = { config, lib, ... }: {
      options.sops = {
        defaultSopsFile = lib.mkOption { type = lib.types.path; description = "Default sops file for secrets."; };
        age.keyFile = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null; description = "age key file that decrypts the secrets."; };
        age.sshKeyPaths = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; description = "ssh host keys converted to age keys."; };
        age.generateKey = lib.mkOption { type = lib.types.bool; default = false; description = "Generate the age key if missing."; };
        secrets = lib.mkOption {
          default = { };
          description = "Secrets to decrypt to /run/secrets.";
          type = lib.types.attrsOf (lib.types.submodule ({ name, ... }: {
            options = {
              key = lib.mkOption { type = lib.types.str; default = name; description = "Key in the sops file."; };
              path = lib.mkOption { type = lib.types.str; default = "/run/secrets/${name}"; description = "Where the decrypted secret is."; };
              format = lib.mkOption { type = lib.types.enum [ "yaml" "json" "binary" "dotenv" "ini" ]; default = "yaml"; description = "Format of the sops file."; };
              mode = lib.mkOption { type = lib.types.str; default = "0400"; description = "Permissions."; };
              owner = lib.mkOption { type = lib.types.str; default = "root"; description = "Owner."; };
              group = lib.mkOption { type = lib.types.str; default = "root"; description = "Group."; };
              sopsFile = lib.mkOption { type = lib.types.path; default = config.sops.defaultSopsFile; description = "The sops file."; };
              restartUnits = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; description = "Units to restart when it changes."; };
            };
          }));
        };
      };
    };
  };
}
