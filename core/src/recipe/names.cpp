#include "recipe/names.hpp"

#include <algorithm>
#include <cctype>

namespace ccci {

namespace {

// The shortest secret part abra appends (`_<name>_v1`, a one-letter name):
// a suffix that leaves less than this under Docker's cap cannot work at all.
constexpr std::size_t kShortestSecretPart = 5;

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

std::optional<std::string> dns_name_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > 253) return "it is longer than 253 characters";
  size_t start = 0;
  for (;;) {
    const size_t end = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, end - start);
    if (label.empty()) return "it has an empty label (a leading, trailing or doubled '.')";
    if (label.size() > 63) return "the label \"" + std::string(label) + "\" is longer than 63 characters";
    for (const char c : label)
      if (!is_label_char(c))
        return "it may hold only a-z, 0-9, '-' and '.', not '" + std::string(1, c) +
               "' (names are lower case)";
    if (label.front() == '-' || label.back() == '-')
      return "the label \"" + std::string(label) + "\" starts or ends with '-'";
    if (end == name.size()) return std::nullopt;
    start = end + 1;
  }
}

std::optional<std::string> domain_suffix_problem(std::string_view suffix) {
  if (auto problem = dns_name_problem(suffix)) return problem;
  // `<label>.<suffix>` with '.' as '_', then `_<secret>_<version>`.
  const size_t stack = kAppLabelMax + 1 + suffix.size();
  if (stack + kShortestSecretPart > kDockerNameMax)
    return "app names would be " + std::to_string(stack) + " characters (e.g. " +
           stack_name(std::string(kAppLabelMax, 'x') + "." + std::string(suffix)) +
           "), leaving no room under Docker's " + std::to_string(kDockerNameMax) +
           "-character cap for abra's secret and volume names";
  return std::nullopt;
}

std::string stack_name(std::string_view domain) {
  std::string name(domain);
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

bool is_recipe_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace ccci
