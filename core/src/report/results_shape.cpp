#include "report/results_shape.hpp"

#include <algorithm>
#include <initializer_list>
#include <string_view>

namespace ccci {

using nlohmann::json;

namespace {

enum class Kind { text, text_or_null, whole, boolean, choice, object, list };

// One field of an object: its kind, and for a whole number its range, for a
// choice its words, for an object or a list of objects the fields inside.
struct Field {
  std::string_view key;
  Kind kind;
  long long min = 0;
  long long max = 0;
  std::initializer_list<std::string_view> words{};
  const std::initializer_list<Field>* inner = nullptr;
};

constexpr long long kNoMax = 1LL << 53;  // any count or time a run can have

const std::initializer_list<Field> kStepFields = {
    {"phase",
     Kind::choice,
     0,
     0,
     {"deploy", "probe", "persistence", "backup_restore", "upgrade", "lint", "teardown"}},
    {"kind", Kind::choice, 0, 0, {"action", "readiness", "check"}},
    {"lane", Kind::choice, 0, 0, {"fresh", "upgrade", "lint"}},
    {"name", Kind::text},
    {"status", Kind::choice, 0, 0, {"passed", "failed", "errored", "skipped", "flaky"}},
    {"duration_ms", Kind::whole, 0, kNoMax},
    {"message", Kind::text},
};

const std::initializer_list<Field> kRungFields = {
    {"rung", Kind::whole, 1, 8},
    {"name",
     Kind::choice,
     0,
     0,
     {"deploys", "serves", "checks", "persistence", "upgrade", "backup_restore", "lint", "clean_teardown"}},
    {"status", Kind::choice, 0, 0, {"passed", "failed", "errored", "not_applicable", "unverified"}},
    {"reason", Kind::text},
};

const std::initializer_list<Field> kLaneFields = {
    {"lane", Kind::choice, 0, 0, {"fresh", "upgrade", "lint"}},
    {"status", Kind::choice, 0, 0, {"passed", "failed", "errored", "skipped", "flaky"}},
    {"server", Kind::text},
    {"domain", Kind::text},
    {"duration_ms", Kind::whole, 0, kNoMax},
    {"log", Kind::text},
    {"kept", Kind::text},
    {"from", Kind::text},
};

const std::initializer_list<Field> kTargetFields = {
    {"ref", Kind::text},
    {"commit", Kind::text},
    {"version", Kind::text_or_null},
    {"local_changes", Kind::boolean},
    {"deployed_as", Kind::choice, 0, 0, {"release", "chaos"}},
    {"previous_release", Kind::text_or_null},
};

const std::initializer_list<Field> kScreenshotFields = {
    {"file", Kind::text},
    {"missing", Kind::text},
};

const std::initializer_list<Field> kRecipeFields = {
    {"recipe", Kind::text},
    {"status", Kind::choice, 0, 0, {"passed", "failed", "errored", "skipped", "flaky"}},
    {"level", Kind::whole, 0, 8},
    {"level_reason", Kind::text},
    {"server", Kind::text},
    {"domain", Kind::text},
    {"duration_ms", Kind::whole, 0, kNoMax},
    {"log", Kind::text},
    {"kept", Kind::text},
    {"target", Kind::object, 0, 0, {}, &kTargetFields},
    {"screenshot", Kind::object, 0, 0, {}, &kScreenshotFields},
    {"rungs", Kind::list, 0, 0, {}, &kRungFields},
    {"lanes", Kind::list, 0, 0, {}, &kLaneFields},
    {"steps", Kind::list, 0, 0, {}, &kStepFields},
};

const std::initializer_list<Field> kSummaryFields = {
    {"passed", Kind::whole, 0, kNoMax},  {"failed", Kind::whole, 0, kNoMax},
    {"errored", Kind::whole, 0, kNoMax}, {"skipped", Kind::whole, 0, kNoMax},
    {"flaky", Kind::whole, 0, kNoMax},
};

const std::initializer_list<Field> kRunFields = {
    {"schema", Kind::choice, 0, 0, {"cc-ci/results/v1"}},
    {"run_id", Kind::text},
    {"started_at", Kind::text},
    {"finished_at", Kind::text},
    {"duration_ms", Kind::whole, 0, kNoMax},
    {"interrupted", Kind::boolean},
    {"summary", Kind::object, 0, 0, {}, &kSummaryFields},
    {"recipes", Kind::list, 0, 0, {}, &kRecipeFields},
};

std::optional<std::string> object_problem(const json& object, const std::initializer_list<Field>& fields,
                                          const std::string& where);

std::optional<std::string> field_problem(const json& value, const Field& field, const std::string& where) {
  switch (field.kind) {
    case Kind::text:
      if (!value.is_string()) return where + ": not a string";
      return std::nullopt;
    case Kind::text_or_null:
      if (!value.is_string() && !value.is_null()) return where + ": not a string or null";
      return std::nullopt;
    case Kind::boolean:
      if (!value.is_boolean()) return where + ": not true or false";
      return std::nullopt;
    case Kind::whole:
      if (!value.is_number_integer() || value.get<long long>() < field.min ||
          value.get<long long>() > field.max)
        return where + ": not a whole number from " + std::to_string(field.min) +
               (field.max == kNoMax ? " up" : " to " + std::to_string(field.max));
      return std::nullopt;
    case Kind::choice: {
      const bool known =
          value.is_string() && std::find(field.words.begin(), field.words.end(),
                                         value.get_ref<const std::string&>()) != field.words.end();
      if (!known) {
        std::string words;
        for (const auto word : field.words) words += (words.empty() ? "" : ", ") + std::string(word);
        return where + ": not one of " + words;
      }
      return std::nullopt;
    }
    case Kind::object:
      if (!value.is_object()) return where + ": not an object";
      return object_problem(value, *field.inner, where);
    case Kind::list:
      if (!value.is_array()) return where + ": not a list";
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string item = where + "[" + std::to_string(i) + "]";
        if (!value[i].is_object()) return item + ": not an object";
        if (auto problem = object_problem(value[i], *field.inner, item)) return problem;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> object_problem(const json& object, const std::initializer_list<Field>& fields,
                                          const std::string& where) {
  for (const auto& field : fields) {
    const auto found = object.find(field.key);
    if (found == object.end()) continue;  // absent: every reader has a default
    if (auto problem = field_problem(
            *found, field, where.empty() ? std::string(field.key) : where + "." + std::string(field.key)))
      return problem;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> results_problem(const json& results) {
  if (!results.is_object()) return "not a JSON object";
  if (!results.contains("schema")) return "schema: missing (cc-ci/results/v1)";
  if (!results.contains("recipes")) return "recipes: missing";
  if (auto problem = object_problem(results, kRunFields, "")) return problem;
  for (std::size_t i = 0; i < results["recipes"].size(); ++i)
    if (!results["recipes"][i].contains("recipe"))
      return "recipes[" + std::to_string(i) + "]: no recipe name";
  return std::nullopt;
}

}  // namespace ccci
