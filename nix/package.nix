# cc-ci built with Meson: the cc-ci binary, the recipe plugins
# (lib/cc-ci/plugins), the harness library, its headers and pkg-config file
# (the SDK), and libexec/cc-ci/credential-env (used by nix/module.nix).
# Called with callPackage by the flake's package and overlay and by the
# module's default. CI evaluates it offline (tests/nix); building it needs
# nixpkgs, so it is built on a host that has it (docs/rebuild.md).
{ lib, stdenv, meson, ninja, pkg-config, boost, nlohmann_json, curl, openssl, libpng, spdlog, fmt, cli11, yaml-cpp }:

stdenv.mkDerivation {
  pname = "cc-ci";
  version = "0.1.0";
  src = lib.cleanSource ../.;

  nativeBuildInputs = [ meson ninja pkg-config ];
  buildInputs = [ boost nlohmann_json curl openssl libpng spdlog fmt cli11 yaml-cpp ];

  # The test suite needs the fake abra's Python and openssl; it runs in CI on Debian.
  mesonFlags = [ "-Dtests=false" ];
  doCheck = false;

  meta = {
    description = "Proves that Co-op Cloud recipes deploy, serve and tear down cleanly";
    license = lib.licenses.agpl3Plus;
    platforms = lib.platforms.linux;
    mainProgram = "cc-ci";
  };
}
