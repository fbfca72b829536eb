// One recipe test as the host hands it to the child that runs it.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ccci/abra_client.hpp"
#include "ccci/plugin.hpp"
#include "recipe/target.hpp"

namespace ccci {

/// When teardown is skipped on purpose (--keep).
enum class KeepPolicy { never, on_failure, always };
std::string_view to_string(KeepPolicy policy);
/// Throws std::invalid_argument naming the accepted values.
KeepPolicy parse_keep_policy(const std::string& text);

struct PhaseTimeouts {
  std::chrono::seconds deploy{900};
  std::chrono::seconds probe{300};
  std::chrono::seconds teardown{300};
};

/// Timeouts the user set (flags or config); unset ones fall back to the plugin's.
struct TimeoutOverrides {
  std::optional<std::chrono::seconds> deploy;
  std::optional<std::chrono::seconds> probe;
  std::optional<std::chrono::seconds> teardown;
};

/// The user's setting, else what the plugin asks for, else the default.
PhaseTimeouts resolve_timeouts(const Timeouts& plugin_asks, const TimeoutOverrides& user);

struct RecipeJob {
  std::filesystem::path plugin_file;
  std::string recipe;
  Lane lane = Lane::fresh;
  std::string server;
  std::string domain;
  RecipeTarget target;  ///< the revision under test; abra.deploy says how abra deploys it
  AbraSettings abra;
  HttpSettings http;
  PhaseTimeouts timeouts;
  KeepPolicy keep = KeepPolicy::never;
  int retries = 0;  ///< extra attempts for a probe check that did not pass
  /// `abra app backup` covers the app's data (the plugin says so, or the
  /// recipe's compose files carry a backupbot.backup=true label).
  bool backup_surface = false;
  /// The recipe's compose files as the lane's first deployment deploys them
  /// (read by the host): the target, or the release an upgrade starts from.
  ComposeLayout compose{};
  /// The upgrade lane's layout once it moved to the target (as released, or
  /// the change with the plugin's overlay); what ctx.compose() says after the move.
  ComposeLayout compose_after_move{};
  /// The docker CLI through which the lane asks the server's engine
  /// (`docker --context <server> system dial-stdio`); empty: the
  /// clean-teardown rung stays unverified.
  std::string docker{};
  /// The browser that shoots the app's landing page (fresh lane only), and
  /// where the picture goes; an empty browser or file: no picture.
  std::string browser{};
  std::filesystem::path screenshot_file{};
  std::filesystem::path log_file;     ///< the recipe's log (appended to)
  std::filesystem::path events_file;  ///< JSON lines the child writes for the host
};

/// job.json: every member under its own name (seconds as whole numbers).
nlohmann::json to_json(const RecipeJob& job);
/// Throws nlohmann::json::exception for a missing member or a wrong type,
/// std::invalid_argument for an unknown keep policy.
RecipeJob job_from_json(const nlohmann::json& json);

}  // namespace ccci
