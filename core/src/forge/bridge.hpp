// The `!testme` bridge: Gitea's issue_comment webhook in, at most one build of
// the CI engine out per PR commit. It checks, in this order, that the delivery
// is signed with the shared secret and names itself (X-Gitea-Delivery), that
// it is a new `!testme` comment on a PR, that the comment was written within
// the delivery window and neither the delivery nor the comment was handled
// before (a signed body can be replayed), that the commenter may write to the
// repository, that the PR is open and that no build was asked for its head
// commit yet; only then does it record the commit as starting and ask the
// engine for a build, and set a pending status on the commit once the engine
// took it. What it remembers is in BridgeState; everything else is answered
// and forgotten.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "forge/bridge_state.hpp"
#include "forge/ci_engine.hpp"
#include "forge/gitea.hpp"
#include "forge/webhook.hpp"

namespace ccci {

/// A webhook request as the server read it; header names lower-case.
struct WebhookDelivery {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers{};
  std::string body{};
};

/// The HTTP answer: Gitea shows it in the webhook's delivery history.
struct BridgeAnswer {
  int status = 200;
  std::string text;
};

class Bridge {
 public:
  Bridge(std::string secret, const GiteaClient& gitea, const CiEngine& engine, BridgeState& state)
      : secret_(std::move(secret)), gitea_(gitea), engine_(engine), state_(state) {}

  /// The answer to a request that is not a delivery (GET /health, another
  /// path or method), or nullopt for POST /hook. It touches no state, so the
  /// server answers it at once, whatever a delivery is waiting for.
  static std::optional<BridgeAnswer> answer_directly(const WebhookDelivery& request);

  /// The answer to one request; starts a build when everything above holds.
  /// Never throws: a forge or engine failure is a 502 answer. Not to be
  /// called for two deliveries at once.
  BridgeAnswer handle(const WebhookDelivery& delivery);

 private:
  BridgeAnswer handle_signed(const WebhookDelivery& delivery, const std::string& delivery_id);
  /// The refusal of a comment that is stale, from the future, or handled
  /// already (by delivery id or comment id); nullopt once it is remembered.
  std::optional<BridgeAnswer> refuse_replay(const TestmeComment& testme, const RepoName& repo,
                                            const std::string& delivery_id);
  /// Asks the engine for one build of the PR's head, unless one was asked for.
  BridgeAnswer start_build(const RepoName& repo, const PullRequest& pull, const std::string& login);
  /// After the engine started `build`: its number recorded, the PR's pending status set.
  BridgeAnswer announce_started(const RepoName& repo, const PullRequest& pull, const std::string& login,
                                const StartedBuild& build);
  /// How an operator lets a commit whose build is recorded be built again.
  std::string clear_hint(const RepoName& repo, const std::string& commit) const;

  std::string secret_;
  const GiteaClient& gitea_;
  const CiEngine& engine_;
  BridgeState& state_;
};

/// Serves `bridge` on `listen` (HOST:PORT; port 0 picks one) until SIGTERM or
/// SIGINT: POST /hook takes deliveries, GET /health answers "ok". Deliveries
/// are handled one at a time on a worker thread, so two deliveries for one
/// commit cannot both start a build, while GET /health is answered at once;
/// connections are capped, and idle ones closed to make room. `on_listening`
/// gets the address really bound. Throws std::runtime_error when `listen` is
/// not an address or cannot be bound.
void serve_bridge(const std::string& listen, Bridge& bridge,
                  const std::function<void(const std::string&)>& on_listening);

}  // namespace ccci
