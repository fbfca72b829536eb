#include "model/results_reader.hpp"

#include <algorithm>
#include <climits>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "base/markup.hpp"
#include "ccci/text.hpp"
#include "model/result_json.hpp"
#include "model/rungs.hpp"

namespace ccci {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr std::string_view kResultsSchema = "cc-ci/results/v1";
constexpr long long kNoMax = 1LL << 53;  // any count or time a run can have

// Text from the file in a message: short, on one line, nothing a terminal would obey.
std::string one_line(std::string_view text) {
  std::string line = terminal_text(cut_utf8(text, 80));
  for (char& c : line)
    if (c == '\n' || c == '\t') c = ' ';
  return line;
}

// One object of results.json as it is read: each field by its name, and where
// the object is ("recipes[2].lanes[0]"), so a refusal names the field.
class Fields {
 public:
  Fields(const json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object())
      throw ResultsError(where_.empty() ? "not a JSON object" : where_ + ": not an object");
  }

  std::string path(std::string_view key) const {
    if (key.empty()) return where_;
    return where_.empty() ? std::string(key) : where_ + "." + std::string(key);
  }
  [[noreturn]] void refuse(std::string_view key, const std::string& why) const {
    throw ResultsError(path(key) + ": " + why);
  }
  bool has(std::string_view key) const { return object_.contains(key); }

  const json& need(std::string_view key) const {
    const auto found = object_.find(key);
    if (found == object_.end()) refuse(key, "missing");
    return *found;
  }
  std::string text(std::string_view key) const {
    const json& value = need(key);
    if (!value.is_string()) refuse(key, "not a string");
    return value.get<std::string>();
  }
  std::string text_or_empty(std::string_view key) const { return has(key) ? text(key) : std::string(); }
  // cc-ci writes null for none: an empty string would not read back as it was written.
  std::string text_or_null(std::string_view key) const {
    const json& value = need(key);
    if (value.is_null()) return {};
    if (!value.is_string()) refuse(key, "not a string or null");
    if (value.get_ref<const std::string&>().empty()) refuse(key, "empty (null says there is none)");
    return value.get<std::string>();
  }
  bool boolean(std::string_view key) const {
    const json& value = need(key);
    if (!value.is_boolean()) refuse(key, "not true or false");
    return value.get<bool>();
  }
  long long whole(std::string_view key, long long min, long long max) const {
    const json& value = need(key);
    if (!value.is_number_integer() || value.get<long long>() < min || value.get<long long>() > max)
      refuse(key, min == -kNoMax ? std::string("not a whole number")
                                 : "not a whole number from " + std::to_string(min) +
                                       (max == kNoMax ? " up" : " to " + std::to_string(max)));
    return value.get<long long>();
  }
  milliseconds duration(std::string_view key) const { return milliseconds(whole(key, 0, kNoMax)); }
  std::chrono::system_clock::time_point time(std::string_view key) const {
    const auto time = parse_rfc3339(text(key));
    if (!time) refuse(key, "not an RFC 3339 time");
    return *time;
  }

  // One of `words` (statuses, phases, lanes…), by the name each is written with.
  template <typename Enum, std::size_t N>
  Enum word(std::string_view key, const std::array<Enum, N>& words) const {
    const json& value = need(key);
    for (const Enum word : words)
      if (value.is_string() && value.get_ref<const std::string&>() == to_string(word)) return word;
    std::string list;
    for (const Enum word : words) list += (list.empty() ? "" : ", ") + std::string(to_string(word));
    refuse(key, "not one of " + list);
  }

  Fields object(std::string_view key) const { return {need(key), path(key)}; }
  std::vector<Fields> list(std::string_view key) const {
    const json& value = need(key);
    if (!value.is_array()) refuse(key, "not a list");
    std::vector<Fields> items;
    for (std::size_t i = 0; i < value.size(); ++i)
      items.emplace_back(value[i], path(key) + "[" + std::to_string(i) + "]");
    return items;
  }

  // abra's subcommands and how often each ran: each at least once, or it would not be there.
  std::map<std::string, int> counts(std::string_view key) const {
    const json& value = need(key);
    if (!value.is_object()) refuse(key, "not an object");
    std::map<std::string, int> counts;
    for (const auto& [name, count] : value.items()) {
      if (!count.is_number_integer() || count.get<long long>() < 1 || count.get<long long>() > INT_MAX)
        refuse(key, "the count of \"" + one_line(name) + "\" is not a whole number from 1 up");
      counts[name] = count.get<int>();
    }
    return counts;
  }

 private:
  const json& object_;
  std::string where_;
};

StepResult read_step(const Fields& in) {
  return {.lane = in.has("lane") ? in.word("lane", kLanes) : Lane::fresh,
          .phase = in.word("phase", kPhases),
          .kind = in.has("kind") ? in.word("kind", kStepKinds) : StepKind::action,
          .name = in.text("name"),
          .status = in.word("status", kStatuses),
          .duration = in.duration("duration_ms"),
          .message = in.text("message")};
}

LaneResult read_lane(const Fields& in) {
  return {.lane = in.word("lane", kLanes),
          .server = in.text("server"),
          .domain = in.text("domain"),
          .status = in.word("status", kStatuses),
          .duration = in.duration("duration_ms"),
          .log = in.text("log"),
          .kept = in.text_or_empty("kept"),
          .from = in.text_or_empty("from"),
          .abra_calls = in.counts("abra_calls")};
}

// The rung at `position` of the list: cc-ci writes all eight, in order, each
// under its own name.
RungResult read_rung(const Fields& in, std::size_t position) {
  const auto rung = static_cast<Rung>(in.whole("rung", 1, 8));
  if (static_cast<std::size_t>(rung) != position + 1)
    in.refuse("rung", "not " + std::to_string(position + 1) + " (the rungs go 1 to 8, in order)");
  if (in.word("name", kRungs) != rung)
    in.refuse("name",
              "not " + std::string(to_string(rung)) + ", the name of rung " + std::to_string(position + 1));
  return {.rung = rung, .status = in.word("status", kRungStatuses), .reason = in.text("reason")};
}

bool is_commit_id(const std::string& text) {
  return text.size() >= 40 && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

RecipeTarget read_target(const Fields& in) {
  RecipeTarget target{.ref = in.text("ref"),
                      .commit = in.text("commit"),
                      .version = in.text_or_null("version"),
                      .local_changes = in.boolean("local_changes"),
                      .previous_release = in.text_or_null("previous_release")};
  if (!is_commit_id(target.commit)) in.refuse("commit", "not a commit id (40 to 64 hex digits)");
  const std::string deployed_as = in.text("deployed_as");
  if (deployed_as != "release" && deployed_as != "chaos")
    in.refuse("deployed_as", "not one of release, chaos");
  if (deployed_as != (target.is_release() ? "release" : "chaos"))
    in.refuse("deployed_as", "not " + std::string(target.is_release() ? "release" : "chaos") +
                                 ", as its version and local_changes say");
  return target;
}

// The picture, or why there is none: one of the two, never both.
Screenshot read_screenshot(const Fields& in) {
  if (in.has("file") == in.has("missing"))
    in.refuse("", "not a file or why it is missing, exactly one of the two");
  if (!in.has("file")) return {.attempted = true, .missing = in.text("missing")};
  Screenshot shot{.attempted = true, .file = in.text("file")};
  if (shot.file.empty()) in.refuse("file", "empty");
  return shot;
}

RecipeResult read_recipe(const Fields& in) {
  RecipeResult recipe{.recipe = in.text("recipe"),
                      .server = in.text("server"),
                      .domain = in.text("domain"),
                      .status = in.word("status", kStatuses),
                      .level = static_cast<int>(in.whole("level", 0, 8)),
                      .level_reason = in.text_or_empty("level_reason"),
                      .duration = in.duration("duration_ms"),
                      .log = in.text("log"),
                      .kept = in.text_or_empty("kept")};
  if (recipe.recipe.empty()) in.refuse("recipe", "empty");
  if (in.has("target")) recipe.target = read_target(in.object("target"));
  if (in.has("rungs")) {
    const std::vector<Fields> rungs = in.list("rungs");
    for (std::size_t i = 0; i < rungs.size(); ++i) recipe.rungs.push_back(read_rung(rungs[i], i));
    if (recipe.rungs.size() != kRungs.size()) in.refuse("rungs", "not the 8 rungs");
  }
  if (in.has("lanes"))
    for (const Fields& lane : in.list("lanes")) recipe.lanes.push_back(read_lane(lane));
  for (const Fields& step : in.list("steps")) recipe.steps.push_back(read_step(step));
  if (in.has("screenshot")) recipe.screenshot = read_screenshot(in.object("screenshot"));
  return recipe;
}

// The summary counts the recipes by status: it must say what they say.
void check_summary(const Fields& summary, const StatusCounts& counts) {
  const std::pair<std::string_view, int> expected[] = {{"passed", counts.passed},
                                                       {"failed", counts.failed},
                                                       {"errored", counts.errored},
                                                       {"skipped", counts.skipped},
                                                       {"flaky", counts.flaky}};
  for (const auto& [status, count] : expected) {
    if (status == "flaky" && !summary.has(status)) continue;  // v1 added it: absent, none
    const long long said = summary.whole(status, 0, kNoMax);
    if (said != count)
      summary.refuse(status, std::to_string(said) + ", but " + std::to_string(count) + " recipes say " +
                                 std::string(status));
  }
}

[[noreturn]] void refuse_file(const fs::path& file, const std::string& why) {
  throw ResultsError(file.string() + ": " + why);
}

}  // namespace

RunReport read_results(const json& results) {
  const Fields in(results, "");
  if (in.text("schema") != kResultsSchema) in.refuse("schema", "not " + std::string(kResultsSchema));
  RunReport report{.run_id = in.text("run_id"),
                   .started_at = in.time("started_at"),
                   .finished_at = in.time("finished_at"),
                   .interrupted = in.has("interrupted") && in.boolean("interrupted")};
  if (report.run_id.empty()) in.refuse("run_id", "empty");
  in.whole("duration_ms", -kNoMax, kNoMax);  // there, and a number; the times say what it is
  const Fields summary = in.object("summary");
  for (const Fields& recipe : in.list("recipes")) report.recipes.push_back(read_recipe(recipe));
  check_summary(summary, count_statuses(report));
  return report;
}

RunReport read_results_file(const fs::path& file) {
  // A file of its own, of a size a run writes: never a link to /dev/zero or a FIFO.
  std::error_code error;
  const auto status = fs::symlink_status(file, error);
  if (!fs::exists(status)) refuse_file(file, "no results.json there (is it a cc-ci report folder?)");
  if (!fs::is_regular_file(status)) refuse_file(file, "not a plain file");
  if (fs::file_size(file, error) > kResultsMaxBytes)
    refuse_file(file,
                "larger than " + std::to_string(kResultsMaxBytes >> 20) + " MiB, more than any run writes");
  std::ifstream in(file, std::ios::binary);
  if (!in) refuse_file(file, "cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  json results;
  try {
    results = json::parse(text.str());
  } catch (const json::exception& problem) {
    refuse_file(file, "not JSON (" + valid_utf8(strip_ansi(problem.what())) + ")");
  }
  try {
    return read_results(results);
  } catch (const ResultsError& problem) {
    refuse_file(file, "not a cc-ci results file (" + std::string(problem.what()) + ")");
  }
}

}  // namespace ccci
