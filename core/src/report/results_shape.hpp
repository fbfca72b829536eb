// The shape of results.json as every reader of it (summary, run page,
// dashboard, badges, card, the PR comment) relies on it. A results.json may
// come from anywhere (an old cc-ci, a hand edit, a folder in a pull request),
// so it is checked whole, once, before anything renders it: a field of the
// wrong type or a status outside its list is one clear problem, never an
// exception halfway through a page or a word injected into one.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ccci {

/// What is wrong with `results` ("recipes[0].level: not a whole number from 0
/// to 8"), or nullopt when every field the readers use has its type and range.
std::optional<std::string> results_problem(const nlohmann::json& results);

}  // namespace ccci
