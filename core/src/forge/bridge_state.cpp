#include "forge/bridge_state.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "base/files.hpp"
#include "model/result.hpp"
#include "model/result_json.hpp"

namespace ccci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The format written; the first one (repo -> commit -> number) had no version.
constexpr int kStateVersion = 2;

std::string_view to_string(BridgeState::BuildStep step) {
  return step == BridgeState::BuildStep::starting ? "starting" : "started";
}

[[noreturn]] void not_a_state_file(const fs::path& file, const std::string& why) {
  throw std::runtime_error(file.string() + ": not a cc-ci bridge state file (" + why + ")");
}

BridgeClock::time_point read_time(const json& text, const fs::path& file) {
  const auto time = text.is_string() ? parse_rfc3339(text.get<std::string>()) : std::nullopt;
  if (!time) not_a_state_file(file, "a time is not RFC 3339");
  return *time;
}

std::map<std::string, BridgeClock::time_point> read_times(const json& saved, const char* key,
                                                          const fs::path& file) {
  std::map<std::string, BridgeClock::time_point> times;
  const json& items = saved.contains(key) ? saved[key] : json::object();
  if (!items.is_object()) not_a_state_file(file, std::string("\"") + key + "\" is not an object");
  for (const auto& [name, time] : items.items()) times[name] = read_time(time, file);
  return times;
}

json write_times(const std::map<std::string, BridgeClock::time_point>& times) {
  json written = json::object();
  for (const auto& [name, time] : times) written[name] = format_rfc3339(time);
  return written;
}

}  // namespace

BridgeState::BridgeState(fs::path file, BridgeClock::time_point now, std::size_t max_deliveries)
    : file_(std::move(file)), max_deliveries_(max_deliveries) {
  std::error_code error;
  if (!fs::exists(file_, error)) return;
  std::ifstream in(file_);
  if (!in) throw std::runtime_error(file_.string() + ": cannot be read");
  const json saved = json::parse(in, nullptr, false);
  if (!saved.is_object()) not_a_state_file(file_, "not a JSON object");
  if (!saved.contains("version")) {
    // The first format: what it holds are builds started, of unknown age.
    for (const auto& [repo, commits] : saved.items()) {
      if (!commits.is_object()) not_a_state_file(file_, repo + " is not an object");
      for (const auto& [commit, number] : commits.items())
        builds_[repo][commit] = {.number = number.is_number_integer() ? number.get<long long>() : 0,
                                 .at = now};
    }
    return;
  }
  if (saved["version"] != kStateVersion)
    not_a_state_file(file_, "version " + saved["version"].dump() + "; this cc-ci reads version " +
                                std::to_string(kStateVersion));
  const json& builds = saved.contains("builds") ? saved["builds"] : json::object();
  if (!builds.is_object()) not_a_state_file(file_, "\"builds\" is not an object");
  for (const auto& [repo, commits] : builds.items()) {
    if (!commits.is_object()) not_a_state_file(file_, repo + " is not an object");
    for (const auto& [commit, saved_build] : commits.items()) {
      if (!saved_build.is_object()) not_a_state_file(file_, "the build of " + commit + " is not an object");
      const std::string step = saved_build.value("state", std::string());
      if (step != "starting" && step != "started")
        not_a_state_file(file_, "a build's state is \"" + step + "\"");
      const json number = saved_build.value("build", json(0));
      builds_[repo][commit] = {.step = step == "starting" ? BuildStep::starting : BuildStep::started,
                               .number = number.is_number_integer() ? number.get<long long>() : 0,
                               .at = read_time(saved_build.value("at", json()), file_)};
    }
  }
  deliveries_ = read_times(saved, "deliveries", file_);
  comments_ = read_times(saved, "comments", file_);
  prune(now);
}

std::optional<BridgeState::Build> BridgeState::build(const std::string& repo,
                                                     const std::string& commit) const {
  const auto commits = builds_.find(repo);
  if (commits == builds_.end()) return std::nullopt;
  const auto found = commits->second.find(commit);
  if (found == commits->second.end()) return std::nullopt;
  return found->second;
}

BridgeState::Delivery BridgeState::remember_delivery(const std::string& delivery_id,
                                                     const std::string& comment_key,
                                                     BridgeClock::time_point written,
                                                     BridgeClock::time_point now) {
  prune(now);
  if (deliveries_.contains(delivery_id)) return Delivery::seen_delivery;
  if (comments_.contains(comment_key)) return Delivery::seen_comment;
  if (deliveries_.size() >= max_deliveries_ || comments_.size() >= max_deliveries_) return Delivery::full;
  deliveries_[delivery_id] = written;
  comments_[comment_key] = written;
  save(now);
  return Delivery::fresh;
}

void BridgeState::record_starting(const std::string& repo, const std::string& commit,
                                  BridgeClock::time_point now) {
  builds_[repo][commit] = {.step = BuildStep::starting, .at = now};
  save(now);
}

void BridgeState::record_started(const std::string& repo, const std::string& commit, long long number,
                                 BridgeClock::time_point now) {
  auto& build = builds_[repo][commit];
  build = {
      .step = BuildStep::started, .number = number, .at = build.step == BuildStep::starting ? build.at : now};
  save(now);
}

void BridgeState::forget(const std::string& repo, const std::string& commit, BridgeClock::time_point now) {
  if (const auto commits = builds_.find(repo); commits != builds_.end()) {
    commits->second.erase(commit);
    if (commits->second.empty()) builds_.erase(commits);
  }
  save(now);
}

void BridgeState::prune(BridgeClock::time_point now) {
  // A delivery is kept while its comment could still be accepted: after that
  // the window refuses a replay by itself.
  std::erase_if(deliveries_, [&](const auto& item) { return item.second + kDeliveryWindow < now; });
  std::erase_if(comments_, [&](const auto& item) { return item.second + kDeliveryWindow < now; });
  for (auto& [repo, commits] : builds_)
    std::erase_if(commits, [&](const auto& item) { return item.second.at + kBuildMemory < now; });
  std::erase_if(builds_, [](const auto& item) { return item.second.empty(); });
}

void BridgeState::save(BridgeClock::time_point now) {
  prune(now);
  json builds = json::object();
  for (const auto& [repo, commits] : builds_)
    for (const auto& [commit, build] : commits)
      builds[repo][commit] = {
          {"state", to_string(build.step)}, {"build", build.number}, {"at", format_rfc3339(build.at)}};
  const json saved = {{"version", kStateVersion},
                      {"builds", builds},
                      {"deliveries", write_times(deliveries_)},
                      {"comments", write_times(comments_)}};
  write_file_atomically(file_, saved.dump(1) + "\n");
}

}  // namespace ccci
