// The cc-ci plugin ABI: everything a recipe test needs from the host, in one header.
//
// A recipe plugin is a shared library that exports two symbols, both made by
// CCCI_PLUGIN():
//   ccci_plugin_info         a plain C struct (ABI version, recipe name) that the
//                            host reads and checks before it touches anything else;
//   ccci_create_recipe_test  a factory returning a new ccci::RecipeTest.
//
// The host owns every sequence of a lane (README "Lanes"); a plugin fills hooks.
// Deploying is always: `abra app new`, `app secret generate`, the env settings
// of info(), configure(), `app deploy`; then the host waits until the app
// answers over HTTPS and calls probe(), then seed() and, after each operation
// that must keep the data (redeploy, restore, upgrade), verify_seeded(); before
// a backup is restored into the running app, damage(). Teardown is always
// before_teardown(), `app undeploy`, `app rm`, whatever happened before. So a
// recipe test writes only its checks:
//
//   class CustomHtml final : public ccci::RecipeTest {
//     void probe(ccci::Context& ctx) override {
//       ctx.check("index page is served", [&] {
//         ccci::expect_http(ctx, "/").status(200).body_contains("<h1>");
//       });
//     }
//   };
//   CCCI_PLUGIN(CustomHtml, "custom-html")
//
// The SDK is this header and the harness's helpers (<ccci/harness.hpp>, which
// includes them all). Change anything in this header's types or meaning, or in
// any installed harness header => bump kAbiVersion (and `abi_version` in
// meson.build, which checks it).
#pragma once

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ccci {

/// The version of this header. The loader refuses a plugin built against another one.
inline constexpr int kAbiVersion = 9;

/// What the host reads from a plugin before trusting it (exported as `ccci_plugin_info`).
struct PluginInfo {
  int abi_version;
  const char*
      recipe;  ///< the abra recipe this plugin tests, e.g. "custom-html"; kAnyRecipe: the generic plugin
};

/// The recipe name of the generic plugin: it tests any recipe of the
/// catalogue that has no plugin of its own, named on the command line.
inline constexpr const char* kAnyRecipe = "*";

/// Per-phase time limits a recipe asks for; zero means "the host's default".
struct Timeouts {
  std::chrono::seconds deploy{0};
  std::chrono::seconds probe{0};
  std::chrono::seconds teardown{0};
};

/// Any status, in ReadinessProbe: whatever the app itself answers will do.
inline constexpr long kAnyStatus = 0;

/// A condition on the app's JSON answer: the value at `pointer` (RFC 6901,
/// e.g. "/installed") equals `value` ({"/installed", true}, {"/status", "pass"}).
struct JsonEquals {
  std::string pointer;
  std::variant<std::nullptr_t, bool, std::int64_t, std::string> value;
};

/// When the host considers the deployed app ready: `GET https://<domain><path>`
/// answers `status` (or anything, for kAnyStatus), the answer is not the reverse
/// proxy's own 404/502/503/504, and its JSON body meets every json_equals.
struct ReadinessProbe {
  std::string path = "/";
  long status = 200;
  std::vector<JsonEquals> json_equals{};
};

/// The ladder a recipe climbs: rung N is what level N proves (level 0: does not deploy).
enum class Rung : std::uint8_t {
  deploys = 1,     ///< deploys and converges
  serves,          ///< serves its domain over verified HTTPS
  checks,          ///< passes every recipe check
  persistence,     ///< keeps its data across undeploy and redeploy
  upgrade,         ///< upgrades from the previous release keeping its data
  backup_restore,  ///< backup and restore round-trip its data
  lint,            ///< `abra recipe lint` has no failed error-severity rule
  clean_teardown,  ///< teardown leaves no stack, secret, volume or env file behind
};

/// The lanes the host runs for a recipe: `fresh` installs the target from
/// scratch (then redeploys, backs up and restores it); `upgrade` installs the
/// previous release and moves it to the target; `lint` runs `abra recipe
/// lint` on the target and deploys nothing (no plugin hook runs in it).
enum class Lane : std::uint8_t { fresh, upgrade, lint };

/// A rung that cannot apply to this recipe, and why (e.g. {Rung::backup_restore,
/// "a static site: its content is the recipe's own"}). It still caps the level,
/// and the report shows the cap as intended.
struct NotApplicable {
  Rung rung;
  std::string reason;
};

/// Static facts about a recipe test.
struct RecipeInfo {
  std::vector<std::string> tags{};
  ReadinessProbe ready{};
  Timeouts timeouts{};
  std::vector<NotApplicable> not_applicable{};
  /// Whether `abra app backup` covers the app's data. Unset: the host reads the
  /// recipe's compose files, where a `backupbot.backup=true` label says yes.
  std::optional<bool> backup_surface{};
  /// KEY=VALUE lines set in the app's env file before each deploy (CI-only settings).
  std::vector<std::pair<std::string, std::string>> env{};
  /// The release the upgrade lane starts from; empty: the target's previous release.
  std::string upgrade_from{};
  /// A compose file shipped beside the plugin (a file name in the plugin's
  /// folder), appended to the app's COMPOSE_FILE for every chaos deploy (an
  /// unreleased revision): CI-only tweaks such as a faster healthcheck. A
  /// release is deployed as released, without it. Empty: none.
  std::string compose_overlay{};
  /// The page the report shows a picture of, a path on the app's domain, shot
  /// once the app is ready in the fresh lane. Empty: no picture (an app with
  /// nothing to see, or a page that shows data it should not).
  std::string screenshot = "/";
};

/// A path backupbot backs up in a service's container.
struct BackupPath {
  std::string path;           ///< absolute, in the service's container
  std::string volume{};       ///< the compose volume it lies in; empty for the older `backupbot.backup.path`
  bool whole_volume = false;  ///< the volume's mount point itself (a folder), not one file or folder in it
};

/// A service backupbot backs up (its `backupbot.backup` label is true once
/// interpolated), with what its other backupbot labels say.
struct BackedUpService {
  std::string service;
  std::vector<BackupPath> paths{};
  std::string backup_pre_hook{};    ///< `backupbot.backup.pre-hook`, run in the container before a backup
  std::string backup_post_hook{};   ///< `backupbot.backup.post-hook`
  std::string restore_pre_hook{};   ///< `backupbot.restore.pre-hook`
  std::string restore_post_hook{};  ///< `backupbot.restore.post-hook`, run after the files are back
  std::string backup_command{};     ///< `backupbot.backup.command` (what backupbot does with it: unverified)
};

/// The recipe's compose files as abra deploys them for this app, read by the
/// host from the revision under test (the same in plans and runs): the files
/// COMPOSE_FILE names (as the env file builds it), their services, and what
/// backupbot backs up.
struct ComposeLayout {
  std::vector<std::string> files{};
  std::vector<std::string> services{};
  std::vector<BackedUpService> backups{};
};

/// How HTTP(S) requests reach the app (set by the host from --ca-file/--connect-to).
struct HttpSettings {
  std::string ca_file{};                  ///< extra CA trusted on top of the system store
  std::vector<std::string> connect_to{};  ///< curl syntax HOST:PORT:CONNECT_HOST:CONNECT_PORT
};

/// Thrown by a check that said no. Recorded as `failed`; any other exception
/// escaping a step is recorded as `errored` (the check could not be run).
class BOOST_SYMBOL_VISIBLE CheckFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a recipe test may ask of abra, always about its own app. The host runs
/// each call (the run's ABRA_DIR, `-n`, the phase's deadline, the command and
/// its output logged with every secret redacted). A call abra refuses throws
/// CheckFailure; one that cannot run or times out, another std::exception.
class BOOST_SYMBOL_VISIBLE Abra {
 public:
  /// Finds secret values in a command's raw output (e.g. a generated password).
  using SecretFinder = std::function<std::vector<std::string>(const std::string& raw_output)>;

  virtual ~Abra() = default;
  /// `abra app run` of `command` in the app's `service` container: its output,
  /// redacted. Values `reveal` finds in it become secrets before anything is logged.
  virtual std::string app_run(const std::string& service, const std::vector<std::string>& command,
                              const SecretFinder& reveal) = 0;
  std::string app_run(const std::string& service, const std::vector<std::string>& command) {
    return app_run(service, command, {});
  }
  /// A secret's value, by its name in the recipe ("admin_password"): one the
  /// host generated for the app or the test inserted. Throws for an unknown name.
  virtual std::string secret(const std::string& name) const = 0;
  /// Inserts a secret (in configure(), before the deploy) through a 0600 file:
  /// the value is never on a command line, and is redacted from then on.
  virtual void insert_secret(const std::string& name, const std::string& version,
                             const std::string& value) = 0;
  /// Sets KEY=VALUE in the app's env file (read on the next deploy), as `abra app config` would.
  virtual void set_env(const std::string& key, const std::string& value) = 0;
  /// The value of the app's env file's last active KEY= line, if any.
  virtual std::optional<std::string> env_value(const std::string& key) const = 0;
  /// The recipe checkout abra deploys from (the revision under test; read it, do not change it).
  virtual const std::filesystem::path& checkout() const = 0;
};

/// What the host gives a recipe test while it runs. Implemented by the host.
class BOOST_SYMBOL_VISIBLE Context {
 public:
  virtual ~Context() = default;

  virtual const std::string& recipe() const = 0;
  virtual const std::string& server() const = 0;
  virtual const std::string& domain() const = 0;
  /// `https://<domain><path>`.
  std::string url(std::string_view path = "/") const { return "https://" + domain() + std::string(path); }

  /// abra, for this app.
  virtual Abra& abra() = 0;
  virtual const HttpSettings& http() const = 0;
  /// When the current phase runs out of time.
  virtual std::chrono::steady_clock::time_point deadline() const = 0;
  /// The lane this deployment is, and the rung the current hook serves (seed
  /// and verify_seeded: persistence, backup_restore or upgrade).
  virtual Lane lane() const = 0;
  virtual Rung rung() const = 0;
  /// The recipe's compose files as this app deploys them (services, backups).
  virtual const ComposeLayout& compose() const = 0;
  /// The folder the plugin was loaded from (where its compose overlay is).
  virtual const std::filesystem::path& plugin_dir() const = 0;

  /// Appends a line to the recipe's log (secrets are redacted).
  virtual void log(std::string_view message) = 0;
  /// Registers a secret value: from now on it is redacted from logs and reports.
  virtual void add_secret(std::string value) = 0;

  /// Runs an action with side effects (writing data, a setting) as one
  /// recorded step. In plans it is only listed. Returns true when it passed.
  virtual bool step(const std::string& name, const std::function<void()>& action) = 0;
  /// Runs one observation as one recorded step; in plans it is only listed.
  /// Returns true when it passed.
  virtual bool check(const std::string& name, const std::function<void()>& body) = 0;
};

/// One recipe's test: the hooks the host calls in its sequences (see the top
/// of this header). Only probe() is required.
class BOOST_SYMBOL_VISIBLE RecipeTest {
 public:
  virtual ~RecipeTest() = default;
  virtual RecipeInfo info() const { return {}; }
  /// Between `app secret generate` and `app deploy`: insert secrets, adjust
  /// the env file, as steps. A step that fails stops the deploy.
  virtual void configure(Context& /*ctx*/) {}
  /// The recipe's own checks, once the app is ready, as checks.
  virtual void probe(Context& ctx) = 0;
  /// Writes data through the app the way its users do (a page, a repository,
  /// a user), as steps or checks. A seed() that records nothing (the default)
  /// leaves the data rungs (persistence, upgrade, backup_restore) unverified.
  virtual void seed(Context& /*ctx*/) {}
  /// Checks that what seed() wrote is there, as checks: called after redeploy,
  /// restore and upgrade. The host also calls it after it damaged or destroyed
  /// the data, and expects it to fail there (so a restore proves something).
  virtual void verify_seeded(Context& /*ctx*/) {}
  /// Undoes what seed() wrote through the running app, as an operator's
  /// mistake would (deletes the page, the repository, the realm), as steps.
  /// The host calls it after `app backup create`, then restores the backup
  /// into the running app, as backupbot restores, and verifies. A damage()
  /// that records nothing (the default) leaves that restore untried: the
  /// backup is then proven only by the restore onto emptied volumes.
  virtual void damage(Context& /*ctx*/) {}
  /// Before the host's `app undeploy` (e.g. collect diagnostics), within a
  /// quarter of the teardown phase: undeploy and `app rm` always get their turn.
  virtual void before_teardown(Context& /*ctx*/) {}
};

using RecipeTestFactory = std::unique_ptr<RecipeTest>();

}  // namespace ccci

/// Exports a recipe test class. Use once per plugin, at namespace scope.
#define CCCI_PLUGIN(TestClass, recipe_name)                                                  \
  extern "C" BOOST_SYMBOL_EXPORT const ::ccci::PluginInfo ccci_plugin_info;                  \
  extern "C" const ::ccci::PluginInfo ccci_plugin_info = {::ccci::kAbiVersion, recipe_name}; \
  namespace ccci_plugin_detail {                                                             \
  inline std::unique_ptr<::ccci::RecipeTest> create() {                                      \
    return std::make_unique<TestClass>();                                                    \
  }                                                                                          \
  }                                                                                          \
  BOOST_DLL_ALIAS(ccci_plugin_detail::create, ccci_create_recipe_test)
