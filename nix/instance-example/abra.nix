# abra is not in nixpkgs: this packages the static release binary.
# Pinning a new version: set `version`, build once (`nix build
# .#nixosConfigurations.ci.config.services.cc-ci.abraPackage`), and put the
# hash Nix prints ("got: sha256-…") in place of lib.fakeHash. Until then the
# build stops on the hash mismatch instead of trusting an unpinned download.
{ lib, stdenv, fetchurl }:

stdenv.mkDerivation rec {
  pname = "abra";
  version = "0.13.0-beta";

  src = fetchurl {
    url = "https://git.coopcloud.tech/toolshed/abra/releases/download/${version}/abra_${version}_linux_amd64";
    hash = lib.fakeHash;
  };

  dontUnpack = true;
  installPhase = ''
    install -Dm755 $src $out/bin/abra
  '';

  meta = {
    description = "The Co-op Cloud command-line utility";
    mainProgram = "abra";
    platforms = [ "x86_64-linux" ];
  };
}
