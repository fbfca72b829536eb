# A small stand-in for nixpkgs' `lib`, enough to evaluate cc-ci's NixOS module
# offline (no nixpkgs can be fetched in CI). It keeps the parts of the real
# module system that catch mistakes: mkOption takes a closed argument set, a
# definition of an option nobody declared is an error, values are type-checked
# and conflicting definitions are refused, and mkIf/mkMerge/mkDefault/mkForce
# are pushed down the way lib.modules does it so `mkIf cfg.enable` does not
# recurse into itself. It is not nixpkgs: only what cc-ci's Nix files use.
let
  inherit (builtins)
    all any attrNames concatLists concatStringsSep elem elemAt filter foldl' genList head
    isAttrs isBool isFunction isInt isList isPath isString length listToAttrs map mapAttrs
    match removeAttrs stringLength substring tail toJSON typeOf;

  showLoc = loc: concatStringsSep "." loc;
  showValue = v: if isString v || isInt v || isBool v then toJSON v else "a ${typeOf v}";

  # ------------------------------------------------------------------ lists/attrs
  concatMap = f: list: concatLists (map f list);
  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
  optionalString = cond: s: if cond then s else "";
  optionalAttrs = cond: as: if cond then as else { };
  mapAttrsToList = f: attrs: map (n: f n attrs.${n}) (attrNames attrs);
  mapAttrs' = f: attrs: listToAttrs (mapAttrsToList f attrs);
  nameValuePair = name: value: { inherit name value; };
  genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);
  filterAttrs = pred: attrs: listToAttrs (concatMap (n: optional (pred n attrs.${n}) (nameValuePair n attrs.${n})) (attrNames attrs));
  concatMapStringsSep = sep: f: list: concatStringsSep sep (map f list);
  hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
  removePrefix = prefix: s:
    if hasPrefix prefix s then substring (stringLength prefix) (stringLength s - stringLength prefix) s else s;
  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];
  recursiveUpdate = lhs: rhs:
    lhs // mapAttrs (n: v: if isAttrs v && lhs ? ${n} && isAttrs lhs.${n} && !(isDerivation v) then recursiveUpdate lhs.${n} v else v) rhs;
  isDerivation = v: isAttrs v && (v.type or null) == "derivation";
  escapeShellArg = s: "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s)}'";
  escapeShellArgs = list: concatStringsSep " " (map escapeShellArg list);
  getExe = pkg: "${pkg}/bin/${pkg.meta.mainProgram or pkg.pname or pkg.name}";
  makeBinPath = pkgs: concatStringsSep ":" (map (p: "${p}/bin") pkgs);
  literalExpression = text: { _type = "literalExpression"; inherit text; };
  fakeHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  cleanSource = src: src;
  licenses.agpl3Plus = { spdxId = "AGPL-3.0-or-later"; };
  platforms.linux = [ "x86_64-linux" "aarch64-linux" ];

  # ------------------------------------------------------------------ properties
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  defaultPriority = 100;
  optionDefaultPriority = 1500;

  # Splits mkMerge and moves mkIf/mkOverride inside an attribute set's values,
  # so the set's names are known without evaluating any condition.
  pushDownProperties = cfg:
    if (cfg._type or "") == "merge" then concatMap pushDownProperties cfg.contents
    else if (cfg._type or "") == "if" then
      map (mapAttrs (_: v: mkIf cfg.condition v)) (pushDownProperties cfg.content)
    else if (cfg._type or "") == "override" then
      map (mapAttrs (_: v: mkOverride cfg.priority v)) (pushDownProperties cfg.content)
    else [ cfg ];

  # A definition's values once its conditions are evaluated, each with its priority.
  dischargeProperties = priority: def:
    if (def._type or "") == "merge" then concatMap (dischargeProperties priority) def.contents
    else if (def._type or "") == "if" then
      (if !isBool def.condition then throw "mkIf: the condition is ${showValue def.condition}, not a bool"
       else if def.condition then dischargeProperties priority def.content else [ ])
    else if (def._type or "") == "override" then dischargeProperties def.priority def.content
    else [ { inherit priority; value = def; } ];

  # ------------------------------------------------------------------ options
  mkOption =
    { default ? null, defaultText ? null, example ? null, description ? null
    , relatedPackages ? null, type ? types.unspecified, apply ? null
    , internal ? false, visible ? true, readOnly ? false }@args:
    args // { _type = "option"; type = args.type or types.unspecified; };

  mkEnableOption = name: mkOption {
    type = types.bool;
    default = false;
    example = true;
    description = "Whether to enable ${name}.";
  };

  isOption = v: isAttrs v && (v._type or "") == "option";

  mergeDefinitions = loc: type: defs:
    let
      discharged = concatMap (d: map (v: v // { inherit (d) file; }) (dischargeProperties defaultPriority d.value)) defs;
      highest = foldl' (best: d: if d.priority < best then d.priority else best) 9999 discharged;
      winners = filter (d: d.priority == highest) discharged;
      bad = filter (d: !(type.check d.value)) winners;
    in
    if winners == [ ] then { isDefined = false; value = throw "The option `${showLoc loc}' is used but not defined."; }
    else if bad != [ ] then
      throw "The option `${showLoc loc}' in ${(head bad).file} is not of type `${type.description}' (value: ${showValue (head bad).value})."
    else { isDefined = true; value = type.merge loc (map (d: { inherit (d) file value; }) winners); };

  evalOptionValue = loc: opt: defs:
    let
      withDefault = defs ++ optional (opt ? default) { file = "the default"; value = mkOverride optionDefaultPriority opt.default; };
      merged = mergeDefinitions loc opt.type withDefault;
      value = if opt.apply or null != null then opt.apply merged.value else merged.value;
    in
    if (opt.readOnly or false) && length defs > 1 then throw "The option `${showLoc loc}' is read-only, but it is set more than once."
    else value;

  # Definitions of attribute sets, with their properties pushed inside: the
  # names they define and, for a name, the definitions of its value.
  zipDefinitions = loc: defs:
    let
      pushed = concatMap (d: map (value: { inherit (d) file; inherit value; }) (pushDownProperties d.value)) defs;
      checked = map (d:
        if !isAttrs d.value then throw "The option `${showLoc loc}' in ${d.file} is ${showValue d.value}, not a set of options."
        else d) pushed;
    in
    {
      names = unique (concatMap (d: attrNames d.value) checked);
      definitionsOf = n: concatMap (d: optional (d.value ? ${n}) { inherit (d) file; value = d.value.${n}; }) checked;
    };

  # Each name's definitions merged by the element type `t`: [ { name, merged } ].
  mergeAttrs = loc: t: defs:
    let zipped = zipDefinitions loc defs; in
    map (n: { name = n; merged = mergeDefinitions (loc ++ [ n ]) t (zipped.definitionsOf n); }) zipped.names;

  # Walks the declared options and the definitions together: an attribute
  # defined where no option is declared is an error naming its full path.
  evalTree = loc: options: defs:
    let
      zipped = zipDefinitions loc defs;
      undeclared = filter (n: !(options ? ${n})) zipped.names;
    in
    if undeclared != [ ] then
      throw "The option `${showLoc (loc ++ [ (head undeclared) ])}' does not exist (defined in ${(head (zipped.definitionsOf (head undeclared))).file})."
    else mapAttrs (n: opt:
      if isOption opt then evalOptionValue (loc ++ [ n ]) opt (zipped.definitionsOf n)
      else evalTree (loc ++ [ n ]) opt (zipped.definitionsOf n)) options;

  # Declarations from several modules merge; the same option declared twice is an error.
  mergeDeclarations = loc: a: b:
    a // mapAttrs (n: v:
      if !(a ? ${n}) then v
      else if isOption v || isOption a.${n} then throw "The option `${showLoc (loc ++ [ n ])}' is declared twice."
      else mergeDeclarations (loc ++ [ n ]) a.${n} v) b;

  # pkgsFor: NixOS's `pkgs` module argument, made from the evaluated config
  # (nixpkgs.overlays); submodules get none.
  evalModules = { modules, specialArgs ? { }, prefix ? [ ], pkgsFor ? null }:
    let
      args = specialArgs // { inherit config options lib; }
        // optionalAttrs (pkgsFor != null) { pkgs = pkgsFor config; };
      load = file: m:
        let
          fn = if isPath m || isString m then import m else m;
          value = if isFunction fn then fn args else fn;
          where = if isPath m || isString m then toString m else file;
          known = [ "imports" "options" "config" "_file" "key" "meta" ];
          shorthand = !(value ? options || value ? config);
        in
        if !isAttrs value then throw "A module in ${where} is ${showValue value}, not an attribute set or function."
        else {
          file = value._file or where;
          imports = value.imports or [ ];
          options = value.options or { };
          config = if shorthand then removeAttrs value [ "imports" "_file" "key" "meta" ] else value.config or { };
          unknown = if shorthand then [ ] else filter (n: !(elem n known)) (attrNames value);
        };
      collect = file: m:
        let loaded = load file m; in
        if loaded.unknown != [ ] then throw "Module ${loaded.file} has an unsupported attribute `${head loaded.unknown}'."
        else [ loaded ] ++ concatMap (collect loaded.file) loaded.imports;
      all' = concatMap (m: collect "<unknown file>" m) modules;
      options = foldl' (mergeDeclarations prefix) { } (map (m: m.options) all');
      config = evalTree prefix options (map (m: { inherit (m) file; value = m.config; }) all');
    in
    { inherit options config; };

  # ------------------------------------------------------------------ types
  mkOptionType = { name, description ? name, check ? (_: true), merge ? mergeEqualOption, extra ? { } }:
    { _type = "option-type"; inherit name description check merge; } // extra;

  mergeEqualOption = loc: defs:
    let first = head defs; in
    if all (d: d.value == first.value) defs then first.value
    else throw "The option `${showLoc loc}' has conflicting definition values: ${concatMapStringsSep ", " (d: "${showValue d.value} in ${d.file}") defs}.";

  types = rec {
    unspecified = mkOptionType { name = "unspecified"; };
    anything = mkOptionType { name = "anything"; };
    bool = mkOptionType { name = "bool"; description = "boolean"; check = isBool; };
    int = mkOptionType { name = "int"; description = "signed integer"; check = isInt; };
    ints.positive = mkOptionType { name = "positiveInt"; description = "positive integer"; check = v: isInt v && v > 0; };
    ints.unsigned = mkOptionType { name = "unsignedInt"; description = "unsigned integer"; check = v: isInt v && v >= 0; };
    port = mkOptionType { name = "port"; description = "16 bit unsigned integer"; check = v: isInt v && v >= 0 && v <= 65535; };
    str = mkOptionType { name = "str"; description = "string"; check = isString; };
    nonEmptyStr = mkOptionType { name = "nonEmptyStr"; description = "non-empty string"; check = v: isString v && match "[[:space:]]*" v == null; };
    lines = mkOptionType {
      name = "lines"; description = "strings concatenated with \"\\n\""; check = isString;
      merge = _: defs: concatStringsSep "\n" (map (d: d.value) defs);
    };
    strMatching = pattern: mkOptionType {
      name = "strMatching"; description = "string matching the pattern ${pattern}";
      check = v: isString v && match pattern v != null;
    };
    # A path as a string: what a secret's runtime location must be (a Nix path
    # literal would be copied into the world-readable store).
    path = mkOptionType { name = "path"; check = v: (isString v && hasPrefix "/" v) || isPath v; };
    package = mkOptionType { name = "package"; check = v: isDerivation v || (isString v && hasPrefix "/" v); };
    attrs = mkOptionType {
      name = "attrs"; description = "attribute set"; check = isAttrs;
      merge = _: defs: foldl' recursiveUpdate { } (map (d: d.value) defs);
    };
    enum = values: mkOptionType {
      name = "enum"; description = "one of ${concatMapStringsSep ", " toJSON values}";
      check = v: elem v values;
    };
    nullOr = t: mkOptionType {
      name = "nullOr"; description = "null or ${t.description}";
      check = v: v == null || t.check v;
      merge = loc: defs:
        if all (d: d.value == null) defs then null
        else if any (d: d.value == null) defs then throw "The option `${showLoc loc}' is defined both null and not null."
        else t.merge loc defs;
    };
    listOf = t: mkOptionType {
      name = "listOf"; description = "list of ${t.description}";
      check = v: isList v && all t.check v;
      merge = loc: defs: concatLists (map (d: genList (i: t.merge (loc ++ [ "[${toString i}]" ]) [ { inherit (d) file; value = elemAt d.value i; } ]) (length d.value)) defs);
    };
    # Whether a name is defined evaluates its conditions; lazyAttrsOf does not ask.
    attrsOf = t: mkOptionType {
      name = "attrsOf"; description = "attribute set of ${t.description}";
      check = isAttrs;
      merge = loc: defs:
        listToAttrs (map (e: nameValuePair e.name e.merged.value) (filter (e: e.merged.isDefined) (mergeAttrs loc t defs)));
    };
    # As attrsOf, but a value is only evaluated when it is used (system.build).
    lazyAttrsOf = t: mkOptionType {
      name = "lazyAttrsOf"; description = "lazy attribute set of ${t.description}";
      check = isAttrs;
      merge = loc: defs: listToAttrs (map (e: nameValuePair e.name e.merged.value) (mergeAttrs loc t defs));
    };
    # Lists concatenate, scalars must agree: how NixOS merges a unit's settings.
    unitOption = mkOptionType {
      name = "unitOption"; description = "systemd unit setting";
      check = v: isString v || isInt v || isBool v || isPath v || isDerivation v || (isList v && all (x: !isAttrs x || isDerivation x) v);
      merge = loc: defs:
        if all (d: isList d.value) defs then concatMap (d: d.value) defs else mergeEqualOption loc defs;
    };
    submodule = module: mkOptionType {
      name = "submodule"; description = "submodule";
      check = v: isAttrs v || isFunction v;
      merge = loc: defs:
        (evalModules {
          prefix = loc;
          specialArgs = { name = elemAt loc (length loc - 1); };
          modules = [ { _file = "the declaration of `${showLoc loc}'"; options = if isFunction module then { } else module.options or { }; } ]
            ++ optional (isFunction module) module
            ++ map (d: { _file = d.file; config = d.value; }) defs;
        }).config;
      extra.getSubOptions = module;
    };
  };

  lib = {
    inherit types mkOption mkEnableOption mkIf mkMerge mkOverride mkDefault mkForce evalModules
      optional optionals optionalString optionalAttrs mapAttrsToList mapAttrs' nameValuePair genAttrs
      filterAttrs concatMap concatMapStringsSep hasPrefix removePrefix unique
      recursiveUpdate isDerivation escapeShellArg escapeShellArgs getExe makeBinPath
      literalExpression fakeHash cleanSource licenses platforms showLoc;
    inherit (builtins) attrNames attrValues concatStringsSep elem filter length mapAttrs toJSON;
  };
in
lib
