#include "bridge.hpp"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "webhook.hpp"

namespace ccci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Who may start a build: those who could push the change themselves.
bool may_write(const std::string& permission) {
  return permission == "owner" || permission == "admin" || permission == "write";
}

std::string header(const WebhookDelivery& delivery, const std::string& name) {
  const auto found = delivery.headers.find(name);
  return found == delivery.headers.end() ? std::string() : found->second;
}

}  // namespace

TriggerLog::TriggerLog(fs::path file) : file_(std::move(file)) {
  std::error_code error;
  if (!fs::exists(file_, error)) return;
  std::ifstream in(file_);
  const json saved = json::parse(in, nullptr, false);
  if (!saved.is_object()) throw std::runtime_error(file_.string() + ": not a cc-ci bridge state file");
  for (const auto& [repo, commits] : saved.items()) {
    if (!commits.is_object()) throw std::runtime_error(file_.string() + ": not a cc-ci bridge state file");
    for (const auto& [commit, build] : commits.items())
      builds_[repo][commit] = build.is_number_integer() ? build.get<long long>() : 0;
  }
}

bool TriggerLog::contains(const std::string& repo, const std::string& commit) const {
  const auto found = builds_.find(repo);
  return found != builds_.end() && found->second.contains(commit);
}

void TriggerLog::add(const std::string& repo, const std::string& commit, long long build) {
  builds_[repo][commit] = build;
  const fs::path partial = file_.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << json(builds_).dump(1) << '\n';
    if (!out.flush()) throw std::runtime_error("cannot write " + partial.string());
  }
  std::error_code error;
  fs::rename(partial, file_, error);
  if (error) throw std::runtime_error("cannot replace " + file_.string() + ": " + error.message());
}

BridgeAnswer Bridge::handle(const WebhookDelivery& delivery) {
  if (delivery.path == "/health") {
    if (delivery.method != "GET" && delivery.method != "HEAD") return {405, "GET /health"};
    return {200, "ok"};
  }
  if (delivery.path != "/hook") return {404, "the webhook is POST /hook"};
  if (delivery.method != "POST") return {405, "the webhook is POST /hook"};
  // Forgejo signs in both headers; when it sends its own, that is the one checked.
  std::string signature = header(delivery, "x-forgejo-signature");
  if (signature.empty()) signature = header(delivery, "x-gitea-signature");
  if (signature.empty()) return {401, "refused: the delivery is not signed (set the webhook's secret)"};
  if (!signature_matches(secret_, delivery.body, signature))
    return {401, "refused: the signature does not match the webhook secret"};
  try {
    return handle_signed(delivery);
  } catch (const std::exception& error) {
    return {502, std::string("not started: ") + error.what()};
  }
}

BridgeAnswer Bridge::handle_signed(const WebhookDelivery& delivery) {
  std::string event = header(delivery, "x-forgejo-event");
  if (event.empty()) event = header(delivery, "x-gitea-event");
  std::string why;
  const auto testme = testme_comment(event, delivery.body, why);
  if (!testme) return {200, "ignored: " + why};
  const auto repo = RepoName::parse(testme->repo);
  if (!repo) return {400, "refused: \"" + testme->repo.substr(0, 100) + "\" is not OWNER/NAME"};
  const std::string where = repo->full() + "#" + std::to_string(testme->pr);

  const std::string permission = gitea_.permission(*repo, testme->login);
  if (!may_write(permission))
    return {403, "refused: " + testme->login + " may not start builds of " + repo->full() + " (permission " +
                     permission + "; write is needed)"};
  const PullRequest pull = gitea_.pull_request(*repo, testme->pr);
  if (pull.state != "open") return {409, "not started: " + where + " is " + pull.state};
  if (log_.contains(repo->full(), pull.head_sha))
    return {200, "already started a build of " + where + " at " + pull.head_sha.substr(0, 12)};

  const long long build = engine_.start({.repo = *repo,
                                         .branch = pull.base_ref,
                                         .pr = testme->pr,
                                         .commit = pull.head_sha,
                                         .requested_by = testme->login});
  std::string started = "started " + engine_.name() + " build " + std::to_string(build) + " of " + where +
                        " at " + pull.head_sha.substr(0, 12) + " for " + testme->login;
  try {
    log_.add(repo->full(), pull.head_sha, build);
  } catch (const std::exception& error) {
    // The build runs either way; say that a repeated !testme may start another.
    started += std::string(" (not recorded: ") + error.what() + ")";
  }
  return {201, started};
}

}  // namespace ccci
