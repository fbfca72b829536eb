// What the `!testme` bridge reads from a Gitea (or Forgejo) webhook delivery:
// whether its signature holds, and whether it is a `!testme` comment on a PR.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ccci {

/// The hex HMAC-SHA256 of `body` under `secret`: what Gitea sends as
/// X-Gitea-Signature (and Forgejo also as X-Forgejo-Signature).
std::string webhook_signature(std::string_view secret, std::string_view body);

/// Whether `signature` (hex, any case) is the one `secret` gives `body`,
/// compared in constant time. An empty or malformed signature never matches.
bool signature_matches(std::string_view secret, std::string_view body, std::string_view signature);

/// A `!testme` comment, newly written on a pull request.
struct TestmeComment {
  std::string repo;        ///< "owner/name" as the payload gives it
  long long pr = 0;        ///< the PR's number
  std::string login;       ///< who wrote the comment
  long long comment = 0;   ///< the comment's id
  std::string written_at;  ///< its created_at, as the payload gives it (RFC 3339)
};

/// Whether a comment's `text` asks for a build: `!testme` is the first word
/// of its first line, indented by at most three spaces (more, or a tab, is a
/// Markdown code block, which only shows the command).
bool is_testme(std::string_view text);

/// The `!testme` in an issue_comment delivery, or nullopt with `why` saying
/// why this delivery asks for nothing (another event, an edit, an issue that
/// is not a PR, another comment). `event` is X-Gitea-Event's value.
std::optional<TestmeComment> testme_comment(std::string_view event, std::string_view body, std::string& why);

}  // namespace ccci
