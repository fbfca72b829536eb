// HTTP(S) requests on libcurl, TLS verification always on.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ccci/plugin.hpp"

namespace ccci {

/// The request never got an HTTP answer (DNS, connect, TLS, timeout).
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Basic-auth credentials, given to curl directly (never put in a header we log).
struct Credentials {
  std::string username;
  std::string password;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers{};  ///< "Name: value"
  std::string body{};
  std::optional<Credentials> basic_auth{};
  bool follow_redirects = false;
  std::chrono::milliseconds timeout{15'000};

  /// A form POST (application/x-www-form-urlencoded), values URL-encoded.
  static HttpRequest form(std::string url, const std::vector<std::pair<std::string, std::string>>& fields);
  /// A request with a JSON body (POST unless `method` says otherwise).
  static HttpRequest json(std::string url, const nlohmann::json& body, std::string method = "POST");
  /// Adds "Authorization: Bearer <token>".
  HttpRequest& bearer(const std::string& token);
};

struct HttpResponse {
  long status = 0;
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};  ///< names lower-cased
  std::string effective_url{};

  /// The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
  /// The body parsed as JSON; throws CheckFailure when it is not JSON.
  nlohmann::json json() const;
};

/// Performs requests with the run's TLS and routing settings, like one browser
/// session: cookies set by a response are sent with the later requests of the
/// same client (and its copies), and its connections and TLS sessions are
/// kept for them. Not thread-safe; cheap to create.
class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  /// Throws HttpError when no HTTP answer arrived; any status is a response.
  HttpResponse perform(const HttpRequest& request) const;
  HttpResponse get(const std::string& url) const { return perform({.url = url}); }
  const HttpSettings& settings() const { return settings_; }

 private:
  struct CookieJar;
  HttpSettings settings_;
  std::shared_ptr<CookieJar> cookies_;
};

/// `text` percent-encoded for a URL query or form field.
std::string url_encode(std::string_view text);

}  // namespace ccci
