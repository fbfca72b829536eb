#include "ccci/abra_client.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "abra_forms.hpp"
#include "ccci/process.hpp"
#include "ccci/redactor.hpp"
#include "ccci/text.hpp"

namespace ccci {
namespace {

// A private file holding a secret for one abra call; removed when it goes.
class SecretFile {
 public:
  explicit SecretFile(const std::string& value) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    std::string pattern =
        (runtime && *runtime ? std::string(runtime) : std::filesystem::temp_directory_path().string()) +
        "/cc-ci-secret-XXXXXX";
    const int fd = ::mkstemp(pattern.data());  // 0600, and a name no one else holds
    if (fd < 0) throw CommandError("cannot create a file for a secret: " + std::string(std::strerror(errno)));
    path_ = pattern;
    bool written = ::fchmod(fd, 0600) == 0 && write_all(fd, value);
    written = ::close(fd) == 0 && written;
    if (!written) {
      std::filesystem::remove(path_);
      throw CommandError("cannot write a file for a secret");
    }
  }
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;
  ~SecretFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string quote(const std::string& word) {
  if (!word.empty() && word.find_first_of(" \t\n'\"\\$`|&;<>()*?[]#~") == std::string::npos) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The line that says why abra failed: its last FATA line, else its last line.
std::string reason(std::string_view output) {
  std::string last;
  std::string last_fatal;
  std::istringstream lines{std::string(output)};
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    last = line;
    if (line.find("FATA") != std::string::npos) last_fatal = line;
  }
  return last_fatal.empty() ? last : last_fatal;
}

}  // namespace

std::string format_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv) line += (line.empty() ? "" : " ") + quote(word);
  return line;
}

AbraClient::AbraClient(AbraSettings settings, Redactor& redactor, Sink log, Sink plan)
    : settings_(std::move(settings)), redactor_(redactor), log_(std::move(log)), plan_(std::move(plan)) {}

CommandResult AbraClient::execute(const std::vector<std::string>& args, const Inspector& inspect) {
  Command command;
  command.argv = {settings_.executable, AbraForms::kNoInput};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  // abra 0.13 refuses to run without a terminal, even with -n.
  command.output = Output::pseudo_terminal;
  // No styling: parsers and logs want words. Escape codes are stripped as well,
  // for an abra that colours anyway.
  command.env["NO_COLOR"] = "1";
  command.env["TERM"] = "dumb";
  if (!settings_.abra_dir.empty()) command.env["ABRA_DIR"] = settings_.abra_dir;

  const std::string line = redactor_.apply(format_command_line(command.argv));
  if (plan_) {
    plan_(line);
    return CommandResult{.exit_code = 0};
  }

  const auto now = Clock::now();
  auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.command_timeout);
  if (deadline_ != Clock::time_point::max())
    budget = std::min(budget, std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now));
  if (budget <= std::chrono::milliseconds::zero()) throw CommandError(line + ": no time left in this phase");
  command.timeout = budget;

  log_("$ " + line);
  if (command_listener_) {
    std::string subcommand;
    for (size_t i = 0; i < args.size() && i < 2 && !args[i].starts_with('-'); ++i)
      subcommand += (i ? " " : "") + args[i];
    command_listener_(subcommand);
  }
  CommandResult result = run_command(command);
  result.output = strip_ansi(result.output);
  // An inspector that could not account for every line withholds the output:
  // what it did not understand may hold a secret it could not register.
  const bool loggable = inspect ? inspect(result.output) : true;
  if (!loggable)
    log_("  (output withheld: " + std::to_string(result.output.size()) +
         " bytes that could not be fully parsed for secrets)");
  else if (!result.output.empty())
    log_(redactor_.apply(result.output));
  log_("  -> " + result.describe() + " in " + std::to_string(result.duration.count()) + " ms");
  return result;
}

void AbraClient::fail(const std::vector<std::string>& args, const CommandResult& result) const {
  std::string what = "abra " + format_command_line(args);
  std::string message = redactor_.apply(what + ": " + result.describe());
  const std::string why = redactor_.apply(reason(result.output));
  if (!why.empty()) message += ": " + why;
  if (result.timed_out || result.signal != 0) throw CommandError(message);
  if (result.exit_code == 1 && contains_any(why, AbraForms::kNoBackupbot)) throw NoBackupbot(message);
  throw AbraFailure(message);
}

std::string AbraClient::run(const std::vector<std::string>& args) {
  CommandResult result = execute(args);
  if (!result.ok()) fail(args, result);
  return redactor_.apply(result.output);
}

void AbraClient::app_new(const std::string& recipe, const std::string& server, const std::string& domain) {
  const DeployOptions& deploy = settings_.deploy;
  std::vector<std::string> args = {"app", "new", recipe};
  if (!deploy.version.empty()) args.push_back(deploy.version);
  args.insert(args.end(), {"--server", server, "--domain", domain});
  if (deploy.version.empty()) args.emplace_back(AbraForms::kChaos);
  run(args);
  set_env(domain, AbraForms::kLetsEncryptEnv, deploy.lets_encrypt_env);
}

namespace {

void add_deploy_checks(std::vector<std::string>& args, const DeployOptions& deploy) {
  if (!deploy.domain_checks) args.emplace_back(AbraForms::kNoDomainChecks);
  if (!deploy.converge_checks) args.emplace_back(AbraForms::kNoConvergeChecks);
}

}  // namespace

void AbraClient::generate_secrets(const std::string& domain) {
  const std::vector<std::string> args = {"app", "secret", "generate", domain, "--all"};
  // The output carries the new values: register them before it is logged.
  bool understood = true;
  CommandResult result = execute(args, [&](const std::string& output) {
    GeneratedSecrets parsed = parse_generated_secrets(output);
    for (auto& [name, value] : parsed.secrets) {
      redactor_.add(value);
      secrets_[name] = std::move(value);
    }
    understood = parsed.understood;
    return understood;
  });
  // Neither the output nor abra's reason is shown: either may hold a value.
  if (!result.ok() && !understood)
    throw AbraFailure("abra " + format_command_line(args) + ": " + result.describe() +
                      " (output withheld: it could not be fully parsed for secrets)");
  if (!result.ok()) fail(args, result);
  if (!understood)
    throw AbraFailure(
        "abra " + format_command_line(args) +
        ": could not read the generated secrets from its output (withheld from the log), so they "
        "could not be redacted");
}

void AbraClient::insert_secret(const std::string& domain, const std::string& name, const std::string& version,
                               const std::string& value) {
  redactor_.add(value);
  if (plan_) {
    run({"app", "secret", "insert", domain, name, version, "-f", "<a 0600 file holding the value>"});
    return;
  }
  // Never on a command line, where any user's `ps` reads it: a 0600 file, removed afterwards.
  const SecretFile file(value);
  run({"app", "secret", "insert", domain, name, version, "-f", file.path().string()});
  secrets_[name] = value;
}

std::string AbraClient::secret(const std::string& name) const {
  const auto found = secrets_.find(name);
  if (found == secrets_.end())
    throw CommandError("no secret \"" + name + "\" was generated or inserted in this run");
  return found->second;
}

std::string AbraClient::app_run(const std::string& domain, const std::string& service,
                                const std::vector<std::string>& command, const SecretFinder& reveal) {
  std::vector<std::string> args = {"app", "run", domain, service, AbraForms::kEndOfFlags};
  args.insert(args.end(), command.begin(), command.end());
  CommandResult result = execute(args, [&](const std::string& output) {
    if (reveal)
      for (const auto& value : reveal(output)) redactor_.add(value);
    return true;
  });
  if (!result.ok()) fail(args, result);
  return redactor_.apply(result.output);
}

void AbraClient::deploy(const std::string& domain) {
  std::vector<std::string> args = {"app", "deploy", domain};
  if (settings_.deploy.version.empty()) args.emplace_back(AbraForms::kChaos);
  add_deploy_checks(args, settings_.deploy);
  run(args);
}

void AbraClient::deploy_checkout(const std::string& domain) {
  std::vector<std::string> args = {"app", "deploy", domain, AbraForms::kChaos, AbraForms::kForce};
  add_deploy_checks(args, settings_.deploy);
  run(args);
}

void AbraClient::upgrade(const std::string& domain, const std::string& version) {
  std::vector<std::string> args = {"app", "upgrade", domain, version};
  add_deploy_checks(args, settings_.deploy);
  run(args);
}

void AbraClient::backup(const std::string& domain) {
  run({"app", "backup", "create", domain});
}

void AbraClient::restore(const std::string& domain) {
  run({"app", "restore", domain});
}

void AbraClient::remove_volumes(const std::string& domain) {
  run({"app", "volume", "remove", domain, AbraForms::kForce});
}

LintReport AbraClient::lint(const std::string& recipe) {
  const std::vector<std::string> args = {"recipe", "lint", recipe};
  CommandResult result = execute(args);
  if (!result.ok()) fail(args, result);
  return parse_lint_table(result.output);
}

bool AbraClient::undeploy(const std::string& domain) {
  const std::vector<std::string> args = {"app", "undeploy", domain};
  CommandResult result = execute(args);
  if (result.ok()) return true;
  if (result.exit_code == 1 && contains_any(reason(result.output), AbraForms::kNotDeployed)) return false;
  fail(args, result);
}

bool AbraClient::remove(const std::string& domain) {
  const std::vector<std::string> args = {"app", "rm", domain, "-f"};
  CommandResult result = execute(args);
  if (result.ok()) return true;
  if (result.exit_code == 1 && contains_any(reason(result.output), AbraForms::kNoSuchApp)) return false;
  fail(args, result);
}

}  // namespace ccci
