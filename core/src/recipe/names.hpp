// The names cc-ci makes from user input: app domains, and what abra and
// Docker derive from them. Every such name is checked here before it becomes
// part of a path, a command or a Docker object.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ccci {

/// Docker refuses stack, secret and volume names longer than this.
inline constexpr std::size_t kDockerNameMax = 64;
/// The app's own label, `<recipe[:4]>-<6 hex>`, at its longest.
inline constexpr std::size_t kAppLabelMax = 11;

/// Why `name` is not a lower-case DNS name (labels of a-z, 0-9 and inner
/// hyphens, 1-63 characters each, 253 in all), or nullopt when it is one.
std::optional<std::string> dns_name_problem(std::string_view name);

/// Why `suffix` cannot be a --domain-suffix, or nullopt: it must be a DNS name,
/// and an app domain made from it must leave abra's derived Docker names
/// (`<domain with . as _>_<secret>_<version>`) room under Docker's cap.
std::optional<std::string> domain_suffix_problem(std::string_view suffix);

/// A recipe name as abra's catalogue has them: lower-case letters, digits and
/// inner '-', at most 64 characters. It becomes a folder, a domain label, a
/// file name and part of a URL, so nothing else is ever used as one.
bool is_recipe_name(std::string_view name);

/// abra's stack name for an app: the domain with '.' as '_'.
std::string stack_name(std::string_view domain);

}  // namespace ccci
