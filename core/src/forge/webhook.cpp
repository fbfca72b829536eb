#include "forge/webhook.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "forge/gitea.hpp"

namespace ccci {

using nlohmann::json;

std::string webhook_signature(std::string_view secret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

bool signature_matches(std::string_view secret, std::string_view body, std::string_view signature) {
  const std::string expected = webhook_signature(secret, body);
  if (signature.size() != expected.size()) return false;
  std::string given(signature);
  std::transform(given.begin(), given.end(), given.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

bool is_testme(std::string_view text) {
  // Markdown (CommonMark) reads a line indented by four or more columns, or
  // by a tab, as code, and Gitea shows it as code: quoting `!testme` in a
  // code block must not start a build. Only the first line counts, so a
  // fenced block (which opens with ``` or ~~~ on a line of its own) never does.
  const std::string_view line = text.substr(0, text.find('\n'));
  const auto indent = line.find_first_not_of(' ');
  if (indent == std::string_view::npos || indent > 3) return false;
  const std::string_view words = line.substr(indent);
  constexpr std::string_view kCommand = "!testme";
  return words.starts_with(kCommand) && (words.size() == kCommand.size() || words[kCommand.size()] == ' ' ||
                                         words[kCommand.size()] == '\t' || words[kCommand.size()] == '\r');
}

std::optional<TestmeComment> testme_comment(std::string_view event, std::string_view body, std::string& why) {
  // Gitea sends a PR's comments as issue_comment too; is_pull tells them apart.
  if (event != "issue_comment") {
    why = "not a comment (event \"" + std::string(event.substr(0, 40)) + "\")";
    return std::nullopt;
  }
  const json payload = json::parse(body, nullptr, false);
  if (!payload.is_object()) {
    why = "the body is not a JSON object";
    return std::nullopt;
  }
  if (json_text(payload, "action") != "created") {
    why = "not a new comment (action \"" + json_text(payload, "action").substr(0, 40) + "\")";
    return std::nullopt;
  }
  const json issue = payload.value("issue", json::object());
  const bool on_pull =
      payload.value("is_pull", false) ||
      (issue.is_object() && issue.contains("pull_request") && !issue["pull_request"].is_null());
  if (!on_pull) {
    why = "a comment on an issue, not a pull request";
    return std::nullopt;
  }
  const json comment = payload.value("comment", json::object());
  if (!is_testme(json_text(comment, "body"))) {
    why = "the comment is not !testme";
    return std::nullopt;
  }
  TestmeComment found{.repo = json_text(payload.value("repository", json::object()), "full_name"),
                      .login = json_text(comment.value("user", json::object()), "login")};
  if (issue.is_object() && issue.contains("number") && issue["number"].is_number_integer())
    found.pr = issue["number"].get<long long>();
  if (comment.is_object() && comment.contains("id") && comment["id"].is_number_integer())
    found.comment = comment["id"].get<long long>();
  found.written_at = json_text(comment, "created_at");
  if (found.repo.empty() || found.login.empty() || found.pr <= 0 || found.comment <= 0) {
    why = "the payload lacks the repository, the PR number, the commenter or the comment's id";
    return std::nullopt;
  }
  return found;
}

}  // namespace ccci
