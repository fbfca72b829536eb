#include "ccci/abra_client.hpp"

#include <algorithm>
#include <sstream>

namespace ccci {
namespace {

// How abra 0.13 is driven. Forms marked "unverified" in shared/abra-cli.md are
// kept here, in one place, so they are easy to correct.
struct AbraForms {
  // Global flags placed before every subcommand: never prompt.
  static constexpr const char* kNoInput = "-n";
  // `app undeploy` of an app that is not deployed (unverified wording).
  static constexpr std::string_view kNotDeployed = "is not deployed";
  // `app rm` of an app that has no env file (unverified wording).
  static constexpr std::string_view kNoSuchApp = "does not exist";
  // `app secret generate` prints a box-drawn table NAME | VALUE (unverified).
  static constexpr std::string_view kSecretTableHeader = "VALUE";
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

std::vector<std::string> split_cells(const std::string& line) {
  // Box-drawing "│" is three bytes; plain "|" is one.
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 0; i < line.size();) {
    bool separator = false;
    size_t width = 1;
    if (line.compare(i, 3, "\u2502") == 0) {
      separator = true;
      width = 3;
    } else if (line[i] == '|') {
      separator = true;
    }
    if (separator) {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += line[i];
    }
    i += width;
  }
  cells.push_back(cell);
  for (auto& c : cells) {
    const auto first = c.find_first_not_of(' ');
    const auto last = c.find_last_not_of(' ');
    c = first == std::string::npos ? "" : c.substr(first, last - first + 1);
  }
  std::erase_if(cells, [](const std::string& c) { return c.empty(); });
  return cells;
}

}  // namespace

std::string format_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv) line += (line.empty() ? "" : " ") + quote(word);
  return line;
}

std::vector<std::string> parse_generated_secrets(std::string_view output) {
  std::vector<std::string> values;
  std::istringstream lines{std::string(output)};
  int value_column = -1;
  for (std::string line; std::getline(lines, line);) {
    const auto cells = split_cells(line);
    if (value_column < 0) {
      auto header = std::find(cells.begin(), cells.end(), AbraForms::kSecretTableHeader);
      if (header != cells.end()) value_column = static_cast<int>(header - cells.begin());
      continue;
    }
    if (cells.size() > static_cast<size_t>(value_column)) values.push_back(cells[value_column]);
  }
  return values;
}

AbraClient::AbraClient(AbraSettings settings, Redactor& redactor, Sink log, Sink plan)
    : settings_(std::move(settings)), redactor_(redactor), log_(std::move(log)), plan_(std::move(plan)) {}

CommandResult AbraClient::execute(const std::vector<std::string>& args, const Inspector& inspect) {
  Command command;
  command.argv = {settings_.executable, AbraForms::kNoInput};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  // abra 0.13 refuses to run without a terminal, even with -n.
  command.output = Output::pseudo_terminal;
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
  CommandResult result = run_command(command);
  if (inspect) inspect(result.output);
  if (!result.output.empty()) log_(redactor_.apply(result.output));
  log_("  -> " + result.describe() + " in " + std::to_string(result.duration.count()) + " ms");
  return result;
}

void AbraClient::fail(const std::vector<std::string>& args, const CommandResult& result) const {
  std::string what = "abra " + format_command_line(args);
  std::string message = redactor_.apply(what + ": " + result.describe());
  const std::string why = redactor_.apply(reason(result.output));
  if (!why.empty()) message += ": " + why;
  if (result.timed_out || result.signal != 0) throw CommandError(message);
  throw AbraFailure(message);
}

std::string AbraClient::run(const std::vector<std::string>& args) {
  CommandResult result = execute(args);
  if (!result.ok()) fail(args, result);
  return redactor_.apply(result.output);
}

void AbraClient::app_new(const std::string& recipe, const std::string& server, const std::string& domain) {
  run({"app", "new", recipe, "--server", server, "--domain", domain});
}

void AbraClient::generate_secrets(const std::string& domain) {
  const std::vector<std::string> args = {"app", "secret", "generate", domain, "--all"};
  // The output carries the new values: register them before it is logged.
  CommandResult result = execute(args, [this](const std::string& output) {
    for (auto& value : parse_generated_secrets(output)) redactor_.add(std::move(value));
  });
  if (!result.ok()) fail(args, result);
}

void AbraClient::insert_secret(const std::string& domain, const std::string& name, const std::string& version,
                               const std::string& value) {
  redactor_.add(value);
  run({"app", "secret", "insert", domain, name, version, value});
}

void AbraClient::deploy(const std::string& domain) {
  run({"app", "deploy", domain});
}

bool AbraClient::undeploy(const std::string& domain) {
  const std::vector<std::string> args = {"app", "undeploy", domain};
  CommandResult result = execute(args);
  if (result.ok()) return true;
  if (result.exit_code == 1 && result.output.find(AbraForms::kNotDeployed) != std::string::npos) return false;
  fail(args, result);
}

bool AbraClient::remove(const std::string& domain) {
  const std::vector<std::string> args = {"app", "rm", domain, "-f"};
  CommandResult result = execute(args);
  if (result.ok()) return true;
  if (result.exit_code == 1 && result.output.find(AbraForms::kNoSuchApp) != std::string::npos) return false;
  fail(args, result);
}

}  // namespace ccci
