# A stand-in for the packages cc-ci's Nix files name. Two flavours:
#  - storeRoot = null: every package is a real derivation (so `nix flake check`
#    can instantiate them) whose builder refuses to build;
#  - storeRoot = "/some/dir": every package is <storeRoot>/<name>, a directory
#    the test fills with executables, so the rendered units point at files that
#    exist and `systemd-analyze verify` can check their ExecStart=.
{ lib, system ? "x86_64-linux", storeRoot ? null, overlays ? [ ] }:

let
  stub = name: attrs:
    let mainProgram = attrs.meta.mainProgram or name; in
    if storeRoot == null then
      derivation ({
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" "echo 'the stub nixpkgs cannot build ${name}' >&2; exit 1" ];
      } // removeAttrs attrs [ "meta" "pname" "version" ]) // { meta.mainProgram = mainProgram; pname = attrs.pname or name; }
    else {
      type = "derivation";
      inherit name;
      pname = attrs.pname or name;
      outPath = "${storeRoot}/${attrs.pname or name}";
      meta.mainProgram = mainProgram;
    };

  # Keeps what a derivation can carry (strings, paths, derivations, lists of them).
  derivationArguments = args:
    lib.filterAttrs (_: v: !(builtins.isAttrs v) || lib.isDerivation v)
      (removeAttrs args [ "meta" "passthru" "pname" "version" ]);

  base = self: {
    inherit lib;
    stdenv.mkDerivation = args: stub "${args.pname}-${args.version}" (derivationArguments args // {
      inherit (args) pname version;
      meta = args.meta or { };
    });
    callPackage = fn: overrides:
      let
        f = if builtins.isFunction fn then fn else import fn;
        wanted = builtins.functionArgs f;
      in
      f (builtins.intersectAttrs wanted self // overrides);
    fetchurl = { url, hash ? null, sha256 ? null, name ? baseNameOf url }:
      stub name { inherit url; outputHashAlgo = "sha256"; outputHash = if hash != null then hash else sha256; };

    meson = stub "meson" { };
    ninja = stub "ninja" { };
    pkg-config = stub "pkg-config" { };
    boost = stub "boost" { };
    nlohmann_json = stub "nlohmann_json" { };
    curl = stub "curl" { };
    openssl = stub "openssl" { };
    libpng = stub "libpng" { };
    chromium = stub "chromium" { };
    nssTools = stub "nss-tools" { meta.mainProgram = "certutil"; };
    spdlog = stub "spdlog" { };
    fmt = stub "fmt" { };
    cli11 = stub "cli11" { };
    yaml-cpp = stub "yaml-cpp" { };
    git = stub "git" { };
    docker-client = stub "docker-client" { meta.mainProgram = "docker"; };
    openssh = stub "openssh" { meta.mainProgram = "ssh"; };
    bash = stub "bash" { };
    coreutils = stub "coreutils" { meta.mainProgram = "ls"; };
    findutils = stub "findutils" { meta.mainProgram = "find"; };
    gnugrep = stub "gnugrep" { meta.mainProgram = "grep"; };
    gnused = stub "gnused" { meta.mainProgram = "sed"; };
    systemd = stub "systemd" { meta.mainProgram = "systemctl"; };
    traefik = stub "traefik" { };
    util-linux = stub "util-linux" { meta.mainProgram = "script"; };
    woodpecker-agent = stub "woodpecker-agent" { };
    drone-runner-exec = stub "drone-runner-exec" { };
    sops = stub "sops" { };
    age = stub "age" { };
    autoPatchelfHook = stub "autoPatchelfHook" { };
    installShellFiles = stub "installShellFiles" { };
  };

  fix = f: let x = f x; in x;
  extend = overlay: previous: self: let super = previous self; in super // overlay self super;
in
fix (builtins.foldl' (acc: overlay: extend overlay acc) base overlays)
