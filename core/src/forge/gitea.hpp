// The parts of Gitea's (and Forgejo's) REST API cc-ci uses: the PR comment and
// commit statuses `cc-ci gitea` writes, and what the `!testme` bridge checks
// before it starts a build (the commenter's permission, the PR's head).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ccci/http.hpp"

namespace ccci {

/// A forge or CI engine answered, but not as its API promises (a refusal, a
/// missing object, a body that is not the JSON it documents). One line, which
/// never holds a token.
class ForgeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// "owner/name" of a repository, each part as Gitea allows it in a URL path.
struct RepoName {
  std::string owner;
  std::string name;
  std::string full() const { return owner + "/" + name; }
  /// nullopt unless `text` is OWNER/NAME of letters, digits, '-', '_' and '.'.
  static std::optional<RepoName> parse(std::string_view text);
};

struct IssueComment {
  long long id = 0;
  std::string author;  ///< the login that wrote it
  std::string body;
};

struct PullRequest {
  long long number = 0;
  std::string state;     ///< "open" or "closed"
  std::string head_sha;  ///< the commit to test
  std::string base_ref;  ///< the branch it merges into
};

/// One commit status: Gitea shows it beside the commit and on the PR.
struct CommitStatus {
  std::string state;  ///< pending, success, failure or error
  std::string context;
  std::string description;
  std::string target_url{};
};

/// Calls Gitea's API (`<url>/api/v1`) as the owner of `token`. Not thread-safe.
class GiteaClient {
 public:
  GiteaClient(std::string url, std::string token);

  /// The login the token belongs to (GET /user).
  std::string login() const;
  std::vector<IssueComment> comments(const RepoName& repo, long long issue) const;
  /// The new comment's id.
  long long create_comment(const RepoName& repo, long long issue, const std::string& body) const;
  void edit_comment(const RepoName& repo, long long id, const std::string& body) const;
  void set_status(const RepoName& repo, const std::string& sha, const CommitStatus& status) const;
  /// "owner", "admin", "write", "read" or "none": what `login` may do in `repo`.
  std::string permission(const RepoName& repo, const std::string& login) const;
  PullRequest pull_request(const RepoName& repo, long long number) const;

 private:
  HttpResponse call(HttpRequest request, std::initializer_list<long> expected) const;

  std::string api_;
  std::string token_;
  HttpClient http_;
};

/// Why `sha` is not a full commit id (40 or 64 lower-case hex digits), or nullopt.
std::optional<std::string> commit_id_problem(std::string_view sha);

/// The string `object[key]`, or "" when `object` is no object or it has none.
std::string json_text(const nlohmann::json& object, const char* key);

/// `response` as JSON, or a ForgeError naming `what` was expected.
nlohmann::json forge_json(const HttpResponse& response, std::string_view what);

/// Throws ForgeError "<service> answered <status> to <method> <path>: <its message>"
/// unless `response.status` is one of `expected`.
void expect_status(const HttpResponse& response, std::string_view service, const HttpRequest& request,
                   std::string_view path, std::initializer_list<long> expected);

}  // namespace ccci
