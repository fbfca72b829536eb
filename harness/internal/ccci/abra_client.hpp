// Driving the abra CLI: every call is an argv vector run in a pseudo-terminal
// with `-n`, the run's own ABRA_DIR, a deadline, logging and redaction.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/command_error.hpp"
#include "ccci/plugin.hpp"

namespace ccci {

class Redactor;        // the run's secret masking (internal to cc-ci)
struct CommandResult;  // what a finished command did (internal to cc-ci)

/// abra ran and said no (non-zero exit). Recorded as `failed`.
class BOOST_SYMBOL_VISIBLE AbraFailure : public CheckFailure {
 public:
  using CheckFailure::CheckFailure;
};

/// abra said the server has no backupbot (the backup-bot-two recipe is not
/// deployed there), so it could not back up or restore: nothing about the app
/// was checked. An AbraFailure, for callers that do not tell it apart.
class BOOST_SYMBOL_VISIBLE NoBackupbot : public AbraFailure {
 public:
  using AbraFailure::AbraFailure;
};

/// Where abra keeps its state when it is given no ABRA_DIR: $ABRA_DIR, else ~/.abra.
std::filesystem::path default_abra_dir();

/// How the app under test is created and deployed: the revision, and the
/// checks abra makes that a CI host makes better itself.
struct DeployOptions {
  /// The release to create and deploy (`app new RECIPE VERSION`, then `app
  /// deploy`). Empty: the recipe checkout in ABRA_DIR as it is, which is how
  /// abra deploys unreleased code (`app new -C`, `app deploy -C`).
  std::string version{};
  /// Let abra check the domain's DNS; off passes --no-domain-checks (test
  /// domains have no public record).
  bool domain_checks = false;
  /// Let abra wait for convergence; off passes --no-converge-checks, and
  /// cc-ci's readiness wait decides (abra can fail a deploy while a
  /// healthcheck is still in its start period).
  bool converge_checks = false;
  /// Written as LETS_ENCRYPT_ENV into the env file after `app new`; empty
  /// makes Traefik serve its wildcard certificate instead of trying ACME.
  std::string lets_encrypt_env{};
};

struct AbraSettings {
  std::string executable = "abra";             ///< path, or a name looked up on PATH
  std::string abra_dir{};                      ///< ABRA_DIR for every call; empty inherits the caller's
  std::chrono::seconds command_timeout{1800};  ///< cap for one call when no deadline is nearer
  DeployOptions deploy{};
};

/// One rule of `abra recipe lint`'s table.
struct LintRule {
  std::string id;        ///< "R014"
  std::string rule;      ///< "invalid lightweight tags"
  std::string severity;  ///< "error" or "warning"
  bool satisfied = false;
  bool skipped = false;
  bool operator==(const LintRule&) const = default;
};

/// What `abra recipe lint` said. It exits 0 even when error-severity rules
/// fail, so only the table tells.
struct LintReport {
  std::vector<LintRule> rules;
  bool understood = true;  ///< every line was a log line, a border, the header or a full row
  /// The error-severity rules that are neither satisfied nor skipped.
  std::vector<LintRule> failed_errors() const;
};
LintReport parse_lint_table(std::string_view output);

class AbraClient {
 public:
  using Sink = std::function<void(std::string_view)>;
  using Clock = std::chrono::steady_clock;

  /// `log` receives each command and its (redacted) output. With `plan` set the
  /// client is dry: it hands each command line to `plan` and runs nothing.
  AbraClient(AbraSettings settings, Redactor& redactor, Sink log, Sink plan = {});

  /// Calls made after this end by `deadline` at the latest (they time out).
  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }
  /// Hears the subcommand ("app deploy") of every abra call about to run (not in plans).
  void set_command_listener(Sink listener) { command_listener_ = std::move(listener); }
  const AbraSettings& settings() const { return settings_; }

  /// Runs `abra -n <args…>`. Returns the redacted output. Throws AbraFailure when
  /// abra exits non-zero and CommandError when it cannot run or times out.
  std::string run(const std::vector<std::string>& args);

  // The lifecycle, in the forms of abra 0.13 (see abra_client.cpp for the table).
  /// `app new` at the settings' release (or the checkout, -C), then
  /// LETS_ENCRYPT_ENV into the env file.
  void app_new(const std::string& recipe, const std::string& server, const std::string& domain);
  /// Generates every secret the recipe declares; the values are redacted from
  /// then on, and secret() returns them.
  void generate_secrets(const std::string& domain);
  /// Inserts a secret through a 0600 file (`app secret insert … FILE -f`):
  /// the value never appears on a command line.
  void insert_secret(const std::string& domain, const std::string& name, const std::string& version,
                     const std::string& value);
  /// `app deploy` of what app_new created: by version, or -C for unreleased code.
  void deploy(const std::string& domain);
  /// `app deploy DOMAIN --chaos --force`: a deployed app moves to the recipe
  /// checkout in ABRA_DIR as it is (how an unreleased change is upgraded to).
  void deploy_checkout(const std::string& domain);
  /// `app upgrade DOMAIN VERSION`: a deployed app moves to a newer release.
  void upgrade(const std::string& domain, const std::string& version);
  /// `app backup create DOMAIN`: the server's backupbot snapshots the app's
  /// backed-up volumes. Throws NoBackupbot when the server has none.
  void backup(const std::string& domain);
  /// `app restore DOMAIN`: the latest snapshot back into the running app.
  /// Throws NoBackupbot when the server has no backupbot.
  void restore(const std::string& domain);
  /// `app volume remove DOMAIN --force`: every volume of an undeployed app,
  /// with what users stored in it (how a test destroys data before a restore).
  void remove_volumes(const std::string& domain);
  /// `abra recipe lint RECIPE` on the checkout in ABRA_DIR, its table parsed.
  /// Throws AbraFailure when abra could not lint at all (its only non-zero exit).
  LintReport lint(const std::string& recipe);
  /// Returns false when the app was not deployed (nothing to do).
  bool undeploy(const std::string& domain);
  /// Removes the app's env file, secrets and volumes. Returns false when there was no such app.
  bool remove(const std::string& domain);

  /// Finds secret values in a command's raw output (e.g. a generated password).
  using SecretFinder = std::function<std::vector<std::string>(const std::string& raw_output)>;
  /// Runs `command` inside the app's `service` container; returns its output,
  /// redacted. Values `reveal` finds become secrets before anything is logged.
  std::string app_run(const std::string& domain, const std::string& service,
                      const std::vector<std::string>& command, const SecretFinder& reveal = {});
  /// Sets KEY=VALUE in the app's env file (abra reads it on deploy), as
  /// `abra app config` would; the file is found under $ABRA_DIR/servers/.
  void set_env(const std::string& domain, const std::string& key, const std::string& value);
  /// The value of the last active KEY= line of the app's env file, if any.
  std::optional<std::string> env_value(const std::string& domain, const std::string& key) const;
  /// Copies `overlay` into the recipe checkout as kComposeOverlay, listed in
  /// the checkout's .git/info/exclude so the tree stays clean for abra, and
  /// appends it to the app's COMPOSE_FILE (once).
  void add_compose_overlay(const std::string& domain, const std::string& recipe,
                           const std::filesystem::path& overlay);
  /// Copies `overlay` into the checkout again (after the checkout was replaced).
  void install_compose_overlay(const std::string& recipe, const std::filesystem::path& overlay);
  /// The name a plugin's compose overlay has in the recipe checkout.
  static constexpr const char* kComposeOverlay = "compose.cc-ci.yml";
  /// A secret's value generated or inserted by this client, by its name in
  /// the recipe ("admin_password"). Throws CommandError for an unknown name.
  std::string secret(const std::string& name) const;

 private:
  /// Sees a command's output before it is logged; returns false when it could
  /// not account for all of it, and the output is then withheld from the log.
  using Inspector = std::function<bool(const std::string& output)>;
  /// Runs the command; `inspect` sees the output (ANSI stripped) before it is logged.
  CommandResult execute(const std::vector<std::string>& args, const Inspector& inspect = {});
  [[noreturn]] void fail(const std::vector<std::string>& args, const CommandResult& result) const;
  /// The ABRA_DIR abra runs with: the setting, else default_abra_dir().
  std::filesystem::path abra_root() const;
  /// $ABRA_DIR/servers/<server>/<domain>.env; AbraFailure when there is none.
  std::filesystem::path env_file(const std::string& domain) const;

  AbraSettings settings_;
  Redactor& redactor_;
  Sink log_;
  Sink plan_;
  Sink command_listener_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::map<std::string, std::string> secrets_;
};

/// The command line `abra -n <args…>` as a user would type it (for logs and plans).
std::string format_command_line(const std::vector<std::string>& argv);

/// What `abra app secret generate` printed: {name, value} of each secret in its
/// table, and whether every line of the output was accounted for (log lines,
/// borders, the header, rows of the header's width). When not, the output may
/// hold a value that was not found, and must not be shown anywhere.
struct GeneratedSecrets {
  std::vector<std::pair<std::string, std::string>> secrets;
  bool understood = true;
};
GeneratedSecrets parse_generated_secrets(std::string_view output);

}  // namespace ccci
