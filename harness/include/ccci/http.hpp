// HTTP(S) requests on libcurl, TLS verification always on.
#pragma once

#include <chrono>
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

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers{};  ///< "Name: value"
  std::string body{};
  bool follow_redirects = false;
  std::chrono::milliseconds timeout{15'000};
};

struct HttpResponse {
  long status = 0;
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};  ///< names lower-cased
  std::string effective_url{};

  /// The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

/// Performs requests with the run's TLS and routing settings. Not thread-safe;
/// cheap to create.
class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  /// Throws HttpError when no HTTP answer arrived; any status is a response.
  HttpResponse perform(const HttpRequest& request) const;
  HttpResponse get(const std::string& url) const { return perform({.url = url}); }

 private:
  HttpSettings settings_;
};

}  // namespace ccci
