#include "forge/ci_engine.hpp"

#include <stdexcept>

namespace ccci {

using nlohmann::json;

namespace {

// The variables every build gets, by the names the pipelines read.
std::vector<std::pair<std::string, std::string>> build_variables(const BuildRequest& request) {
  return {{"CC_CI_PR", std::to_string(request.pr)},
          {"CC_CI_COMMIT", request.commit},
          {"CC_CI_REQUESTED_BY", request.requested_by}};
}

class EngineClient {
 public:
  EngineClient(std::string service, std::string url, std::string token)
      : service_(std::move(service)), url_(std::move(url)), token_(std::move(token)), http_(HttpSettings{}) {}

  const std::string& url() const { return url_; }

  json call(HttpRequest request, std::string_view what) const {
    const std::string path = request.url;
    const HttpResponse response = perform(request);
    expect_status(response, service_, request, path.substr(0, path.find('?')), {200, 201});
    return forge_json(response, what);
  }

  // The call that starts a build. Once it is sent, only the engine's own
  // answer says whether the build started: no answer, or a gateway's 502 or
  // 504 (it did not hear the engine's answer), leaves it unknown.
  json start_call(HttpRequest request, std::string_view what) const {
    const std::string path = request.url.substr(0, request.url.find('?'));
    HttpResponse response;
    try {
      response = perform(request);
    } catch (const HttpError& error) {
      throw BuildOutcomeUnknown(service_ + " gave no answer: " + std::string(error.what()));
    }
    if (response.status == 502 || response.status == 504)
      throw BuildOutcomeUnknown(service_ + " answered " + std::to_string(response.status) + " to " +
                                request.method + " " + path +
                                ", a gateway that did not hear the engine's answer");
    expect_status(response, service_, request, path, {200, 201});
    try {
      return forge_json(response, what);
    } catch (const ForgeError& error) {
      throw BuildOutcomeUnknown(service_ + " took " + request.method + " " + path + " but " + error.what());
    }
  }

 private:
  HttpResponse perform(HttpRequest& request) const {
    request.url = url_ + request.url;
    request.bearer(token_);
    if (request.body.empty()) request.headers.emplace_back("Accept: application/json");
    return http_.perform(request);
  }

  std::string service_;
  std::string url_;
  std::string token_;
  HttpClient http_;
};

long long build_number(const json& build, std::string_view service) {
  if (!build.is_object() || !build.contains("number") || !build["number"].is_number_integer())
    throw BuildOutcomeUnknown(std::string(service) + " took the build but gave no number for it");
  return build["number"].get<long long>();
}

// Woodpecker 1.x and later: a manual pipeline on a branch, with variables.
class Woodpecker final : public CiEngine {
 public:
  Woodpecker(std::string url, std::string token) : client_("Woodpecker", std::move(url), std::move(token)) {}
  std::string name() const override { return "woodpecker"; }

  StartedBuild start(const BuildRequest& request) const override {
    const json repo = client_.call({.url = "/api/repos/lookup/" + request.repo.full()}, "a repository");
    if (!repo.is_object() || !repo.contains("id") || !repo["id"].is_number_integer())
      throw ForgeError("Woodpecker does not know " + request.repo.full() + " by an id");
    json variables = json::object();
    for (const auto& [name, value] : build_variables(request)) variables[name] = value;
    const std::string repo_path = "/repos/" + std::to_string(repo["id"].get<long long>());
    const json pipeline =
        client_.start_call(HttpRequest::json("/api" + repo_path + "/pipelines",
                                             {{"branch", request.branch}, {"variables", variables}}),
                           "the new pipeline");
    const long long number = build_number(pipeline, "Woodpecker");
    // Woodpecker 2's web address of a pipeline (1.x named the repository instead of its id).
    return {number, client_.url() + repo_path + "/pipeline/" + std::to_string(number)};
  }

 private:
  EngineClient client_;
};

// Drone: a custom build of a branch; query parameters become the build's environment.
class Drone final : public CiEngine {
 public:
  Drone(std::string url, std::string token) : client_("Drone", std::move(url), std::move(token)) {}
  std::string name() const override { return "drone"; }

  StartedBuild start(const BuildRequest& request) const override {
    // Asked first so that an engine that is down, or a repository it does
    // not know, is a plain "not started" rather than an unknown outcome.
    client_.call({.url = "/api/repos/" + request.repo.full()}, "a repository");
    std::string path = "/api/repos/" + request.repo.full() + "/builds?branch=" + url_encode(request.branch);
    for (const auto& [name, value] : build_variables(request)) path += "&" + name + "=" + url_encode(value);
    const long long number =
        build_number(client_.start_call({.method = "POST", .url = path}, "the new build"), "Drone");
    return {number, client_.url() + "/" + request.repo.full() + "/" + std::to_string(number)};
  }

 private:
  EngineClient client_;
};

}  // namespace

std::unique_ptr<CiEngine> make_ci_engine(const std::string& engine, std::string url, std::string token) {
  if (engine == "woodpecker") return std::make_unique<Woodpecker>(std::move(url), std::move(token));
  if (engine == "drone") return std::make_unique<Drone>(std::move(url), std::move(token));
  throw std::invalid_argument("unknown CI engine \"" + engine + "\"");
}

}  // namespace ccci
