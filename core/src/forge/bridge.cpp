#include "forge/bridge.hpp"

#include <algorithm>
#include <cctype>

#include "ccci/text.hpp"
#include "forge/webhook.hpp"
#include "model/result.hpp"
#include "model/result_json.hpp"

namespace ccci {

namespace {

// Who may start a build: those who could push the change themselves.
bool may_write(const std::string& permission) {
  return permission == "owner" || permission == "admin" || permission == "write";
}

std::string header(const WebhookDelivery& delivery, const std::string& name) {
  const auto found = delivery.headers.find(name);
  return found == delivery.headers.end() ? std::string() : found->second;
}

// Gitea's delivery ids are UUIDs; the id is logged and kept in the state file.
bool is_delivery_id(const std::string& id) {
  return !id.empty() && id.size() <= 100 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

std::string window_text() {
  return std::to_string(kDeliveryWindow.count()) + " minutes";
}

}  // namespace

std::optional<BridgeAnswer> Bridge::answer_directly(const WebhookDelivery& request) {
  if (request.path == "/health") {
    if (request.method != "GET" && request.method != "HEAD") return BridgeAnswer{405, "GET /health"};
    return BridgeAnswer{200, "ok"};
  }
  if (request.path != "/hook") return BridgeAnswer{404, "the webhook is POST /hook"};
  if (request.method != "POST") return BridgeAnswer{405, "the webhook is POST /hook"};
  return std::nullopt;
}

BridgeAnswer Bridge::handle(const WebhookDelivery& delivery) {
  if (auto direct = answer_directly(delivery)) return *direct;
  // Forgejo signs in both headers; when it sends its own, that is the one checked.
  std::string signature = header(delivery, "x-forgejo-signature");
  if (signature.empty()) signature = header(delivery, "x-gitea-signature");
  if (signature.empty()) return {401, "refused: the delivery is not signed (set the webhook's secret)"};
  if (!signature_matches(secret_, delivery.body, signature))
    return {401, "refused: the signature does not match the webhook secret"};
  // Gitea and Forgejo name every delivery; the bridge acts on each one once.
  std::string delivery_id = header(delivery, "x-forgejo-delivery");
  if (delivery_id.empty()) delivery_id = header(delivery, "x-gitea-delivery");
  if (delivery_id.empty()) return {400, "refused: the delivery has no X-Gitea-Delivery id"};
  if (!is_delivery_id(delivery_id))
    return {400, "refused: X-Gitea-Delivery is not an id (at most 100 letters, digits, '-', '_' or '.')"};
  try {
    return handle_signed(delivery, delivery_id);
  } catch (const std::exception& error) {
    return {502, std::string("not started: ") + error.what()};
  }
}

BridgeAnswer Bridge::handle_signed(const WebhookDelivery& delivery, const std::string& delivery_id) {
  std::string event = header(delivery, "x-forgejo-event");
  if (event.empty()) event = header(delivery, "x-gitea-event");
  std::string why;
  const auto testme = testme_comment(event, delivery.body, why);
  if (!testme) return {200, "ignored: " + why};
  const auto repo = RepoName::parse(testme->repo);
  if (!repo) return {400, "refused: \"" + testme->repo.substr(0, 100) + "\" is not OWNER/NAME"};
  if (auto replayed = refuse_replay(*testme, *repo, delivery_id)) return *replayed;

  const std::string permission = gitea_.permission(*repo, testme->login);
  if (!may_write(permission))
    return {403, "refused: " + testme->login + " may not start builds of " + repo->full() + " (permission " +
                     permission + "; write is needed)"};
  const PullRequest pull = gitea_.pull_request(*repo, testme->pr);
  const std::string where = repo->full() + "#" + std::to_string(testme->pr);
  if (pull.state != "open") return {409, "not started: " + where + " is " + pull.state};
  return start_build(*repo, pull, testme->login);
}

std::optional<BridgeAnswer> Bridge::refuse_replay(const TestmeComment& testme, const RepoName& repo,
                                                  const std::string& delivery_id) {
  // The signature proves Gitea wrote the body once, not that it is sending it
  // now: a replayed body would start a build of whatever the PR holds by then.
  // So the comment must be recent, and each delivery and each comment (whose
  // id is signed, unlike the delivery's header) is acted on once.
  const auto written = parse_rfc3339(testme.written_at);
  if (!written)
    return BridgeAnswer{400, "refused: the comment's created_at \"" + cut_utf8(testme.written_at, 40) +
                                 "\" is not an RFC 3339 time"};
  const auto now = BridgeClock::now();
  if (*written < now - kDeliveryWindow)
    return BridgeAnswer{403, "refused: the comment was written at " + testme.written_at + ", more than " +
                                 window_text() + " ago (a replayed or late delivery); comment !testme again"};
  if (*written > now + kDeliveryWindow)
    return BridgeAnswer{403, "refused: the comment's time " + testme.written_at + " is more than " +
                                 window_text() +
                                 " ahead of this host's clock; check the clocks of Gitea and this host"};
  const std::string comment = std::to_string(testme.comment);
  switch (state_.remember_delivery(delivery_id, repo.full() + " comment " + comment, *written, now)) {
    case BridgeState::Delivery::fresh:
      return std::nullopt;
    case BridgeState::Delivery::seen_delivery:
      return BridgeAnswer{
          409, "refused: delivery " + delivery_id + " was handled already (a replay); comment !testme again"};
    case BridgeState::Delivery::seen_comment:
      return BridgeAnswer{409, "refused: comment " + comment + " on " + repo.full() + "#" +
                                   std::to_string(testme.pr) +
                                   " was handled already (a replay); comment !testme again"};
    case BridgeState::Delivery::full:
      break;
  }
  return BridgeAnswer{503, "refused: over " + std::to_string(kMaxRememberedDeliveries) +
                               " !testme deliveries in the last " + window_text() +
                               "; comment !testme again later"};
}

BridgeAnswer Bridge::start_build(const RepoName& repo, const PullRequest& pull, const std::string& login) {
  const std::string where = repo.full() + "#" + std::to_string(pull.number);
  const std::string commit = pull.head_sha.substr(0, 12);
  if (const auto build = state_.build(repo.full(), pull.head_sha)) {
    if (build->step == BridgeState::BuildStep::started)
      return {200, "already started a build of " + where + " at " + commit};
    return {409, "not started: a build of " + where + " at " + commit + " was asked of " + engine_.name() +
                     " at " + format_rfc3339(build->at) + ", which never said whether it started it; " +
                     clear_hint(repo, pull.head_sha)};
  }

  // Recorded before the engine is asked: an engine that starts the build but
  // whose answer is lost must not be asked again by the next !testme.
  try {
    state_.record_starting(repo.full(), pull.head_sha, BridgeClock::now());
  } catch (const std::exception& error) {
    return {503,
            std::string("not started: the bridge cannot record the build it would start: ") + error.what()};
  }
  StartedBuild build;
  try {
    build = engine_.start({.repo = repo,
                           .branch = pull.base_ref,
                           .pr = pull.number,
                           .commit = pull.head_sha,
                           .requested_by = login});
  } catch (const BuildOutcomeUnknown& error) {
    return {502, "may have started: " + std::string(error.what()) + "; no other build of " + where + " at " +
                     commit + " is started, " + clear_hint(repo, pull.head_sha)};
  } catch (const std::exception& error) {
    // The engine said no, or was not reached before the build was asked for:
    // nothing runs, and the next !testme may try again.
    std::string answer = std::string("not started: ") + error.what();
    try {
      state_.forget(repo.full(), pull.head_sha, BridgeClock::now());
    } catch (const std::exception& forget_error) {
      answer += std::string(" (and the attempt stays recorded, so no !testme starts one: ") +
                forget_error.what() + "; " + clear_hint(repo, pull.head_sha) + ")";
    }
    return {502, answer};
  }
  return announce_started(repo, pull, login, build);
}

BridgeAnswer Bridge::announce_started(const RepoName& repo, const PullRequest& pull, const std::string& login,
                                      const StartedBuild& build) {
  const std::string number = std::to_string(build.number);
  std::string started = "started " + engine_.name() + " build " + number + " of " + repo.full() + "#" +
                        std::to_string(pull.number) + " at " + pull.head_sha.substr(0, 12) + " for " + login;
  try {
    state_.record_started(repo.full(), pull.head_sha, build.number, BridgeClock::now());
  } catch (const std::exception& error) {
    // It stays recorded as starting, which still keeps a second build away.
    started += std::string(" (its number is not recorded: ") + error.what() + ")";
  }
  // The PR shows at once that a build is on its way, under the context that
  // `cc-ci gitea` later sets to the result (the repository is the recipe).
  try {
    gitea_.set_status(repo, pull.head_sha,
                      {.state = "pending",
                       .context = "cc-ci/" + repo.name,
                       .description = engine_.name() + " build " + number + " started for @" + login,
                       .target_url = build.page_url});
  } catch (const std::exception& error) {
    started += std::string(" (the pending status is not set: ") + error.what() + ")";
  }
  return {201, started};
}

std::string Bridge::clear_hint(const RepoName& repo, const std::string& commit) const {
  return "to start one, push a new commit to the PR, or stop the bridge, remove " + commit + " under " +
         repo.full() + " in " + state_.file().string() + " and start it again";
}

}  // namespace ccci
