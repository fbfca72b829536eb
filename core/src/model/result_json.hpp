// The JSON of results: a step (the child's events carry them) and the run
// report as results.json publishes it (docs/results-v1.schema.json).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "model/result.hpp"

namespace ccci {

nlohmann::json to_json(const StepResult& step);
/// Throws nlohmann::json::exception or std::invalid_argument for a step it cannot read whole.
StepResult step_from_json(const nlohmann::json& json);
nlohmann::json to_json(const RunReport& report);

/// "2026-12-07T03:04:05.678Z".
std::string format_rfc3339(std::chrono::system_clock::time_point time);
/// The time `text` gives in RFC 3339 (as format_rfc3339 writes it, and as
/// Gitea writes created_at: 2006-01-02T15:04:05+07:00, or with Z and a
/// fraction of a second), or nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace ccci
