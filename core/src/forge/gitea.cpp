#include "forge/gitea.hpp"

#include <algorithm>
#include <cctype>

#include "ccci/text.hpp"

namespace ccci {

using nlohmann::json;

namespace {

std::string issue_path(const RepoName& repo) {
  return "/repos/" + repo.owner + "/" + repo.name + "/issues";
}

}  // namespace

std::optional<RepoName> RepoName::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  RepoName repo{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
  auto valid = [](const std::string& part) {
    return !part.empty() && part != "." && part != ".." && part.size() <= 100 &&
           std::all_of(part.begin(), part.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
  };
  if (!valid(repo.owner) || !valid(repo.name)) return std::nullopt;
  return repo;
}

std::optional<std::string> commit_id_problem(std::string_view sha) {
  const bool hex = std::all_of(sha.begin(), sha.end(),
                               [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if ((sha.size() == 40 || sha.size() == 64) && hex) return std::nullopt;
  return "\"" + cut_utf8(sha, 80) + "\" is not a full commit id (40 or 64 lower-case hex digits)";
}

std::string json_text(const json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string()
             ? object[key].get<std::string>()
             : std::string();
}

json forge_json(const HttpResponse& response, std::string_view what) {
  auto parsed = json::parse(response.body, nullptr, false);
  if (parsed.is_discarded())
    throw ForgeError("expected " + std::string(what) + " as JSON, got \"" + cut_utf8(response.body, 80) +
                     "\"");
  return parsed;
}

void expect_status(const HttpResponse& response, std::string_view service, const HttpRequest& request,
                   std::string_view path, std::initializer_list<long> expected) {
  if (std::find(expected.begin(), expected.end(), response.status) != expected.end()) return;
  // Gitea, Woodpecker and Drone say why in {"message": "..."} or plain text.
  std::string why = response.body;
  if (auto message = json_text(json::parse(response.body, nullptr, false), "message"); !message.empty())
    why = std::move(message);
  // A server (or a proxy) may echo the credential it was sent: never repeat it.
  for (const auto& header : request.headers) {
    if (!header.starts_with("Authorization:")) continue;
    const std::string credential = header.substr(header.find_last_of(' ') + 1);
    for (auto at = why.find(credential); !credential.empty() && at != std::string::npos;
         at = why.find(credential, at))
      why.replace(at, credential.size(), "[redacted]");
  }
  why = valid_utf8(strip_ansi(why));
  why.erase(std::remove_if(why.begin(), why.end(), [](char c) { return c == '\n' || c == '\r'; }), why.end());
  throw ForgeError(std::string(service) + " answered " + std::to_string(response.status) + " to " +
                   request.method + " " + std::string(path) + (why.empty() ? "" : ": " + cut_utf8(why, 200)));
}

GiteaClient::GiteaClient(std::string url, std::string token)
    : api_(std::move(url) + "/api/v1"), token_(std::move(token)), http_(HttpSettings{}) {}

HttpResponse GiteaClient::call(HttpRequest request, std::initializer_list<long> expected) const {
  const std::string path = request.url;
  request.url = api_ + path;
  // Gitea's own scheme; the token is a header, never part of a URL that errors repeat.
  request.headers.push_back("Authorization: token " + token_);
  if (request.body.empty()) request.headers.emplace_back("Accept: application/json");
  HttpResponse response = http_.perform(request);
  // Nothing Gitea answers may carry the token on (an echo in an error, a field).
  for (auto at = response.body.find(token_); !token_.empty() && at != std::string::npos;
       at = response.body.find(token_, at))
    response.body.replace(at, token_.size(), "[redacted]");
  expect_status(response, "Gitea", request, path, expected);
  return response;
}

std::string GiteaClient::login() const {
  std::string login = json_text(forge_json(call({.url = "/user"}, {200}), "the token's user"), "login");
  if (login.empty()) throw ForgeError("Gitea's GET /user has no login");
  return login;
}

std::vector<IssueComment> GiteaClient::comments(const RepoName& repo, long long issue) const {
  const json list = forge_json(
      call({.url = issue_path(repo) + "/" + std::to_string(issue) + "/comments"}, {200}), "comments");
  if (!list.is_array()) throw ForgeError("Gitea's list of comments is not a list");
  std::vector<IssueComment> found;
  for (const auto& item : list) {
    if (!item.is_object() || !item.contains("id") || !item["id"].is_number_integer()) continue;
    IssueComment comment{.id = item["id"].get<long long>()};
    comment.author = json_text(item.value("user", json::object()), "login");
    comment.body = json_text(item, "body");
    found.push_back(std::move(comment));
  }
  return found;
}

long long GiteaClient::create_comment(const RepoName& repo, long long issue, const std::string& body) const {
  const json created = forge_json(
      call(HttpRequest::json(issue_path(repo) + "/" + std::to_string(issue) + "/comments", {{"body", body}}),
           {201}),
      "the new comment");
  if (!created.is_object() || !created.contains("id") || !created["id"].is_number_integer())
    throw ForgeError("Gitea created a comment but gave no id");
  return created["id"].get<long long>();
}

void GiteaClient::edit_comment(const RepoName& repo, long long id, const std::string& body) const {
  call(HttpRequest::json(issue_path(repo) + "/comments/" + std::to_string(id), {{"body", body}}, "PATCH"),
       {200, 201});
}

void GiteaClient::set_status(const RepoName& repo, const std::string& sha, const CommitStatus& status) const {
  json body = {{"state", status.state}, {"context", status.context}, {"description", status.description}};
  if (!status.target_url.empty()) body["target_url"] = status.target_url;
  call(HttpRequest::json("/repos/" + repo.full() + "/statuses/" + sha, body), {200, 201});
}

std::string GiteaClient::permission(const RepoName& repo, const std::string& login) const {
  const auto response =
      call({.url = "/repos/" + repo.full() + "/collaborators/" + url_encode(login) + "/permission"},
           {200, 403, 404});
  // Gitea answers 403/404 for a login that is no collaborator (or no user).
  if (response.status != 200) return "none";
  std::string permission = json_text(forge_json(response, "a permission"), "permission");
  if (permission.empty()) throw ForgeError("Gitea's permission answer has no \"permission\"");
  return permission;
}

PullRequest GiteaClient::pull_request(const RepoName& repo, long long number) const {
  const json pull =
      forge_json(call({.url = "/repos/" + repo.full() + "/pulls/" + std::to_string(number)}, {200}), "a PR");
  PullRequest found{.number = number, .state = json_text(pull, "state")};
  const json head = pull.is_object() ? pull.value("head", json::object()) : json::object();
  const json base = pull.is_object() ? pull.value("base", json::object()) : json::object();
  found.head_sha = json_text(head, "sha");
  found.base_ref = json_text(base, "ref");
  if (commit_id_problem(found.head_sha) || found.base_ref.empty())
    throw ForgeError("Gitea's PR #" + std::to_string(number) + " has no head commit or base branch");
  return found;
}

}  // namespace ccci
