// Fluent HTTP assertions for recipe checks:
//   ccci::expect_http(ctx, "/").status(200).body_contains("Welcome");
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ccci/http.hpp"
#include "ccci/plugin.hpp"

namespace ccci {

/// One request, performed on the first assertion; each failed assertion
/// throws CheckFailure with the method, url and what was seen instead.
class HttpExpectation {
 public:
  HttpExpectation(HttpClient client, HttpRequest request);

  HttpExpectation& status(long expected);
  HttpExpectation& body_contains(std::string_view needle);
  /// The header exists and its value contains `needle`.
  HttpExpectation& header_contains(std::string_view name, std::string_view needle);
  /// The body is JSON and the value at `pointer` (RFC 6901, e.g. "/server/name") equals `expected`.
  HttpExpectation& json_equals(std::string_view pointer, const nlohmann::json& expected);
  /// The value at `pointer` of the JSON body; fails when the body is not JSON or has no such value.
  nlohmann::json json_at(std::string_view pointer);
  /// A redirect (3xx) whose Location contains `needle`.
  HttpExpectation& redirects_to(std::string_view needle);
  /// The response (performing the request if no assertion has yet).
  const HttpResponse& response();

 private:
  [[noreturn]] void fail(const std::string& what) const;

  HttpClient client_;
  HttpRequest request_;
  std::optional<HttpResponse> response_;
};

/// `path_or_url` is a path on the app's domain ("/login") or a whole URL.
HttpExpectation expect_http(const Context& ctx, std::string_view path_or_url, std::string method = "GET");
/// Any request, sent with `client` (whose cookies it shares: use one client per session).
HttpExpectation expect_http(const HttpClient& client, HttpRequest request);

}  // namespace ccci
