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

#include "ccci/process.hpp"
#include "ccci/redactor.hpp"
#include "ccci/text.hpp"

namespace ccci {
namespace {

// How abra 0.13 is driven. Forms marked "unverified" in shared/abra-cli.md are
// kept here, in one place, so they are easy to correct.
struct AbraForms {
  // Global flags placed before every subcommand: never prompt.
  static constexpr const char* kNoInput = "-n";
  // What abra answers when the app is already gone, by command: teardown
  // takes any of these as done (all unverified; the fake says the first,
  // FAKE_ABRA_WORDING=alt the second).
  // `app undeploy` of an app that is not deployed ("… is not deployed?" in abra's source as remembered),
  // or of an app whose env file is gone.
  static constexpr std::string_view kNotDeployed[] = {"is not deployed", "cannot find app with name",
                                                      "does not exist"};
  // `app rm` of an app that has no env file.
  static constexpr std::string_view kNoSuchApp[] = {"does not exist", "cannot find app with name"};
  // Deploying unreleased code, or a checkout with local changes: --chaos.
  static constexpr const char* kChaos = "--chaos";
  // Deploy flags for a CI host: no DNS check for test domains, no convergence
  // wait (cc-ci's readiness decides).
  static constexpr const char* kNoDomainChecks = "--no-domain-checks";
  static constexpr const char* kNoConvergeChecks = "--no-converge-checks";
  // The env key that names Traefik's certificate resolver for the app.
  static constexpr const char* kLetsEncryptEnv = "LETS_ENCRYPT_ENV";
  // The env key listing the compose files abra deploys, `:`-separated and
  // relative to the recipe checkout; abra's default when it is unset.
  static constexpr const char* kComposeFileEnv = "COMPOSE_FILE";
  static constexpr const char* kDefaultComposeFile = "compose.yml";
  // `recipe lint`'s table header (unverified) and how it marks yes and no.
  static constexpr std::string_view kLintColumns[] = {"REF", "RULE", "SEVERITY", "SATISFIED", "SKIPPED"};
  static constexpr std::string_view kYes[] = {"\u2705", "yes", "true", "\u2714"};
  static constexpr std::string_view kNo[] = {"\u274c", "no", "false", "\u2716"};
  // `app secret generate` prints a box-drawn table NAME | VALUE (unverified).
  static constexpr std::string_view kSecretColumns[] = {"NAME", "VALUE"};
  // Confirms a removal that would otherwise prompt (`app rm`, `app volume remove`; unverified for the
  // latter).
  static constexpr const char* kForce = "--force";
  // Running a command in a service container: `abra app run <domain> <service> -- <command…>` (unverified).
  static constexpr const char* kEndOfFlags = "--";
  // `app backup create` / `app restore` on a server where no service carries the
  // backupbot label (RetrieveBackupBotContainer's error, as remembered from abra's
  // source; docs/backupbot.md).
  static constexpr std::string_view kNoBackupbot[] = {"no backupbot discovered"};
};

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

// A character of Unicode's Box Drawing block (U+2500-U+257F) at `at`: three
// bytes, E2 94 80 to E2 95 BF. Every table style abra's libraries draw (light,
// heavy, double, rounded, dashed) is made of these.
bool is_box_drawing(std::string_view line, size_t at) {
  if (at + 2 >= line.size() || static_cast<unsigned char>(line[at]) != 0xE2) return false;
  const auto second = static_cast<unsigned char>(line[at + 1]);
  const auto third = static_cast<unsigned char>(line[at + 2]);
  return (second == 0x94 || second == 0x95) && third >= 0x80 && third <= 0xBF;
}

// A vertical line of the block (a cell separator): light │, heavy ┃, double ║,
// and the dashed ones ┆ ┇ ┊ ┋ ╎ ╏.
bool is_box_vertical(std::string_view line, size_t at) {
  if (!is_box_drawing(line, at)) return false;
  const auto second = static_cast<unsigned char>(line[at + 1]);
  const auto third = static_cast<unsigned char>(line[at + 2]);
  if (second == 0x94)
    return third == 0x82 || third == 0x83 || third == 0x86 || third == 0x87 || third == 0x8A || third == 0x8B;
  return third == 0x8E || third == 0x8F || third == 0x91;
}

std::vector<std::string> split_all_cells(const std::string& line) {
  // A box-drawing separator is three bytes; plain "|" (ASCII and Markdown) is one.
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 0; i < line.size();) {
    const size_t width = is_box_vertical(line, i) ? 3 : line[i] == '|' ? 1 : 0;
    if (width > 0) {
      cells.push_back(cell);
      cell.clear();
      i += width;
    } else {
      cell += line[i++];
    }
  }
  cells.push_back(cell);
  for (auto& c : cells) {
    const auto first = c.find_first_not_of(' ');
    const auto last = c.find_last_not_of(' ');
    c = first == std::string::npos ? "" : c.substr(first, last - first + 1);
  }
  return cells;
}

// The cells of a table row, empty ones included, without the pieces outside
// its outer borders.
std::vector<std::string> row_cells(const std::string& line) {
  std::vector<std::string> cells = split_all_cells(line);
  if (cells.size() >= 2 && cells.front().empty()) cells.erase(cells.begin());
  if (cells.size() >= 2 && cells.back().empty()) cells.pop_back();
  return cells;
}

template <size_t N>
bool contains_any(std::string_view text, const std::string_view (&needles)[N]) {
  return std::any_of(std::begin(needles), std::end(needles),
                     [&](std::string_view needle) { return text.find(needle) != std::string_view::npos; });
}

template <size_t N>
bool is_one_of(std::string_view text, const std::string_view (&words)[N]) {
  return std::find(std::begin(words), std::end(words), text) != std::end(words);
}

bool is_log_line(const std::string& line) {
  const auto first = line.find_first_not_of(" \t");
  return first != std::string::npos &&
         (line.compare(first, 4, "INFO") == 0 || line.compare(first, 4, "WARN") == 0 ||
          line.compare(first, 4, "DEBU") == 0 || line.compare(first, 4, "FATA") == 0);
}

// A rule of a table, not a row: box-drawing characters only (┌─┬─┐, ┏━┳━┓,
// ┣━╋━┫, ╔═╦═╗, ╭─┬─╮ …), or ASCII's +---+ and Markdown's |---|:--:|, with spaces.
bool is_table_border(std::string_view line) {
  bool any = false;
  for (size_t i = 0; i < line.size();) {
    if (is_box_drawing(line, i)) {
      any = true;
      i += 3;
    } else if (line[i] == '-' || line[i] == '+' || line[i] == '=' || line[i] == ':' || line[i] == '|') {
      any = any || line[i] != '|';
      ++i;
    } else if (line[i] == ' ') {
      ++i;
    } else {
      return false;
    }
  }
  return any;
}

// A box-drawn table in abra's output (after escape codes are stripped): the
// header row, found by `is_header`, and each row of the header's width.
// `understood` is false when any other line is there (text before the table,
// a wrapped or torn row): what it held is unknown, so a caller must not
// trust the table to be whole. Output of log lines only is an empty table.
struct AbraTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  bool understood = true;

  /// The index of the header cell `name`; the header was found by it, so it is there.
  size_t column(std::string_view name) const {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  }
};

AbraTable read_table(std::string_view raw_output,
                     const std::function<bool(const std::vector<std::string>&)>& is_header) {
  AbraTable table;
  std::istringstream lines{strip_ansi(raw_output)};
  for (std::string line; std::getline(lines, line);) {
    // Blank lines, abra's own log lines and the borders carry nothing.
    if (line.find_first_not_of(" \t") == std::string::npos || is_log_line(line) || is_table_border(line))
      continue;
    std::vector<std::string> cells = row_cells(line);
    if (table.header.empty() && is_header(cells))
      table.header = std::move(cells);
    else if (!table.header.empty() && cells.size() == table.header.size())
      table.rows.push_back(std::move(cells));
    else
      table.understood = false;
  }
  return table;
}

template <size_t N>
bool has_all(const std::vector<std::string>& cells, const std::string_view (&names)[N]) {
  return std::all_of(std::begin(names), std::end(names), [&](std::string_view name) {
    return std::find(cells.begin(), cells.end(), name) != cells.end();
  });
}

}  // namespace

std::string format_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv) line += (line.empty() ? "" : " ") + quote(word);
  return line;
}

GeneratedSecrets parse_generated_secrets(std::string_view raw_output) {
  const AbraTable table = read_table(raw_output, [](const std::vector<std::string>& cells) {
    return has_all(cells, AbraForms::kSecretColumns);
  });
  // Anything not read as the table (text before it, a wrapped row) may hold a value in pieces.
  GeneratedSecrets parsed{.understood = table.understood};
  if (table.header.empty()) return parsed;
  const size_t name = table.column(AbraForms::kSecretColumns[0]);
  const size_t value = table.column(AbraForms::kSecretColumns[1]);
  for (const auto& row : table.rows) parsed.secrets.emplace_back(row[name], row[value]);
  return parsed;
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

std::filesystem::path default_abra_dir() {
  if (const char* dir = std::getenv("ABRA_DIR"); dir && *dir) return dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".abra";
}

std::filesystem::path AbraClient::abra_root() const {
  return settings_.abra_dir.empty() ? default_abra_dir() : std::filesystem::path(settings_.abra_dir);
}

std::filesystem::path AbraClient::env_file(const std::string& domain) const {
  namespace fs = std::filesystem;
  const fs::path root = abra_root();
  std::error_code error;
  for (const auto& server : fs::directory_iterator(root / "servers", error))
    if (fs::exists(server.path() / (domain + ".env"))) return server.path() / (domain + ".env");
  throw AbraFailure("app " + domain + " has no env file under " + (root / "servers").string());
}

namespace {

// Where an active or commented-out "KEY=" line starts its key, if `line` is one.
bool sets_key(const std::string& line, const std::string& key, bool active_only) {
  const auto start = line.find_first_not_of(active_only ? " " : "# ");
  return start != std::string::npos && line.compare(start, key.size() + 1, key + "=") == 0;
}

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

void AbraClient::set_env(const std::string& domain, const std::string& key, const std::string& value) {
  const std::string line = key + "=" + value;
  if (plan_) {
    plan_("set " + line + " in " + domain + ".env");
    return;
  }
  const std::filesystem::path file = env_file(domain);
  std::vector<std::string> lines = read_lines(file);
  // An active or commented-out "KEY=" line is replaced in place, as a maintainer would edit it.
  const auto found = std::find_if(lines.begin(), lines.end(),
                                  [&](const std::string& current) { return sets_key(current, key, false); });
  if (found != lines.end())
    *found = line;
  else
    lines.push_back(line);
  std::ofstream out(file, std::ios::trunc);
  for (const auto& text : lines) out << text << '\n';
  if (!out) throw CommandError("cannot write " + file.string());
  log_("set " + redactor_.apply(line) + " in " + file.string());
}

std::optional<std::string> AbraClient::env_value(const std::string& domain, const std::string& key) const {
  const std::vector<std::string> lines = read_lines(env_file(domain));
  // The last active line wins, as in a shell.
  for (auto line = lines.rbegin(); line != lines.rend(); ++line)
    if (sets_key(*line, key, true)) {
      std::string value = line->substr(line->find('=') + 1);
      if (const auto comment = value.find(" #"); comment != std::string::npos) value.erase(comment);
      const auto first = value.find_first_not_of(" \t");
      const auto last = value.find_last_not_of(" \t\r");
      return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
    }
  return std::nullopt;
}

void AbraClient::install_compose_overlay(const std::string& recipe, const std::filesystem::path& overlay) {
  namespace fs = std::filesystem;
  const fs::path checkout = abra_root() / "recipes" / recipe;
  if (plan_) {
    plan_("copy " + overlay.string() + " to " + (checkout / kComposeOverlay).string() +
          " (listed in .git/info/exclude)");
    return;
  }
  if (!fs::is_directory(checkout / ".git"))
    throw CommandError("no recipe checkout at " + checkout.string() + " to put the compose overlay in");
  std::error_code error;
  fs::copy_file(overlay, checkout / kComposeOverlay, fs::copy_options::overwrite_existing, error);
  if (error)
    throw CommandError("cannot copy the compose overlay " + overlay.string() + " into " + checkout.string() +
                       ": " + error.message());
  // The copy is not part of the recipe: hidden from git, the checkout stays
  // clean, so abra still deploys releases (it refuses a tree with local changes).
  const fs::path exclude = checkout / ".git" / "info" / "exclude";
  fs::create_directories(exclude.parent_path(), error);
  const std::vector<std::string> excluded = read_lines(exclude);
  if (std::find(excluded.begin(), excluded.end(), std::string("/") + kComposeOverlay) == excluded.end()) {
    std::ofstream out(exclude, std::ios::app);
    out << '/' << kComposeOverlay << '\n';
    if (!out) throw CommandError("cannot write " + exclude.string());
  }
  log_("compose overlay " + overlay.string() + " copied into " + checkout.string());
}

void AbraClient::add_compose_overlay(const std::string& domain, const std::string& recipe,
                                     const std::filesystem::path& overlay) {
  install_compose_overlay(recipe, overlay);
  if (plan_) {
    plan_(std::string("append ") + kComposeOverlay + " to " + AbraForms::kComposeFileEnv + " in " + domain +
          ".env");
    return;
  }
  const std::string files =
      env_value(domain, AbraForms::kComposeFileEnv).value_or(AbraForms::kDefaultComposeFile);
  std::vector<std::string> names;
  for (std::string_view rest = files; !rest.empty();) {
    const auto colon = rest.find(':');
    names.emplace_back(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  if (std::find(names.begin(), names.end(), kComposeOverlay) != names.end()) return;
  set_env(domain, AbraForms::kComposeFileEnv,
          (files.empty() ? std::string() : files + ":") + kComposeOverlay);
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

std::vector<LintRule> LintReport::failed_errors() const {
  std::vector<LintRule> failed;
  for (const auto& rule : rules)
    if (rule.severity == "error" && !rule.satisfied && !rule.skipped) failed.push_back(rule);
  return failed;
}

LintReport parse_lint_table(std::string_view raw_output) {
  const AbraTable table = read_table(raw_output, [](const std::vector<std::string>& cells) {
    return has_all(cells, AbraForms::kLintColumns);
  });
  LintReport report{.understood = table.understood && !table.rows.empty()};
  if (table.header.empty()) return report;
  auto yes_no = [](const std::string& cell, bool& value) {
    if (is_one_of(cell, AbraForms::kYes))
      value = true;
    else if (is_one_of(cell, AbraForms::kNo))
      value = false;
    else
      return false;
    return true;
  };
  const auto& columns = AbraForms::kLintColumns;  // REF, RULE, SEVERITY, SATISFIED, SKIPPED
  for (const auto& row : table.rows) {
    LintRule rule{.id = row[table.column(columns[0])],
                  .rule = row[table.column(columns[1])],
                  .severity = row[table.column(columns[2])]};
    if (rule.id.size() < 2 || rule.id[0] != 'R' || !yes_no(row[table.column(columns[3])], rule.satisfied) ||
        !yes_no(row[table.column(columns[4])], rule.skipped)) {
      report.understood = false;  // a row in words no one taught the parser: a rule may be missing
      continue;
    }
    report.rules.push_back(std::move(rule));
  }
  return report;
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
