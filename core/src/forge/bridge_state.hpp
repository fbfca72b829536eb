// What the `!testme` bridge remembers across deliveries and restarts, in one
// JSON file: the commits it asked the CI engine to build, and the deliveries
// and comments it has handled. The first keeps a repeated `!testme` (or an
// engine that took a build but never answered) from starting a second build
// of a commit; the second keeps a replayed delivery from starting one at all.
// Everything in it carries a time, and what is too old to matter is dropped
// whenever the file is written, so it does not grow without bound.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace ccci {

using BridgeClock = std::chrono::system_clock;

/// How far a `!testme` comment's time may be from the bridge's clock when its
/// delivery arrives. An older comment is a replay, or a delivery so late that
/// the PR may have moved since; a comment from the future is a clock to fix.
inline constexpr std::chrono::minutes kDeliveryWindow{15};
/// How long a commit's build is remembered; after that a `!testme` for the
/// same commit starts a new build (a deliberate re-test a month later).
inline constexpr std::chrono::days kBuildMemory{30};
/// The most deliveries remembered at once: the `!testme` deliveries of one
/// window. More than that in fifteen minutes is a flood, refused until the
/// window moves on, because forgetting one early would reopen it to a replay.
inline constexpr std::size_t kMaxRememberedDeliveries = 10'000;

class BridgeState {
 public:
  /// `starting`: the engine was asked and has not said it took the build (it
  /// may be asking still, or it never answered and may have started it).
  enum class BuildStep { starting, started };
  struct Build {
    BuildStep step = BuildStep::started;
    long long number = 0;          ///< the engine's number for it; 0 while starting
    BridgeClock::time_point at{};  ///< when the bridge asked for it
  };
  enum class Delivery { fresh, seen_delivery, seen_comment, full };

  /// Reads `file` when it exists: this format, or the first one (repository
  /// -> commit -> build number, read as builds started `now`). Throws
  /// std::runtime_error when it is neither or cannot be read.
  BridgeState(std::filesystem::path file, BridgeClock::time_point now,
              std::size_t max_deliveries = kMaxRememberedDeliveries);

  const std::filesystem::path& file() const { return file_; }
  std::optional<Build> build(const std::string& repo, const std::string& commit) const;

  /// Remembers a delivery (Gitea's id for it) of the comment `comment_key`,
  /// written at `written`, until the comment leaves the delivery window.
  /// `fresh` when neither was remembered yet (and the file is written), else
  /// which one was, or `full` when `max_deliveries` are remembered. Throws std::runtime_error when the file
  /// cannot be written: a delivery that cannot be remembered is not acted on.
  Delivery remember_delivery(const std::string& delivery_id, const std::string& comment_key,
                             BridgeClock::time_point written, BridgeClock::time_point now);

  /// Each writes the file, and throws std::runtime_error when it cannot.
  void record_starting(const std::string& repo, const std::string& commit, BridgeClock::time_point now);
  void record_started(const std::string& repo, const std::string& commit, long long number,
                      BridgeClock::time_point now);
  void forget(const std::string& repo, const std::string& commit, BridgeClock::time_point now);

 private:
  void prune(BridgeClock::time_point now);
  void save(BridgeClock::time_point now);

  std::filesystem::path file_;
  std::size_t max_deliveries_;
  std::map<std::string, std::map<std::string, Build>> builds_;  // repo -> commit -> build
  std::map<std::string, BridgeClock::time_point> deliveries_;   // delivery id -> comment's time
  std::map<std::string, BridgeClock::time_point> comments_;     // comment key -> comment's time
};

}  // namespace ccci
