// Waiting until a freshly deployed app really answers.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ccci/http.hpp"

namespace ccci {

/// Capped exponential backoff between polls.
struct Backoff {
  std::chrono::milliseconds initial{25};
  double factor = 1.5;
  std::chrono::milliseconds cap{50};  // a ready app is seen within ~50 ms (bench/README.md)

  std::chrono::milliseconds next(std::chrono::milliseconds previous) const;
};

/// Why `response` came from the reverse proxy in front of the app rather than
/// from the app: Traefik's own "404 page not found" (no router yet) or a
/// 502/503/504 (no healthy backend yet). nullopt when it is the app speaking.
std::optional<std::string> proxy_placeholder(const HttpResponse& response);

/// Calls `not_yet` with backoff until it returns nullopt or `deadline` passes.
/// Returns nullopt once ready, else the last reason it gave.
std::optional<std::string> wait_until(std::chrono::steady_clock::time_point deadline,
                                      const std::function<std::optional<std::string>()>& not_yet,
                                      Backoff backoff = {});

/// Extra readiness conditions on a response: nullopt when satisfied, else why not.
using ReadyWhen = std::function<std::optional<std::string>(const HttpResponse&)>;

/// The conditions of a ReadinessProbe's json_equals: each pointer's value
/// equals the value given for it. Throws std::invalid_argument for a pointer
/// that is not one.
ReadyWhen json_conditions(const std::vector<JsonEquals>& json_equals);
/// A condition's value as JSON (what the app's answer must hold).
nlohmann::json json_value(const JsonEquals& condition);

struct Readiness {
  bool ready = false;
  int attempts = 0;
  std::string last_reason;  ///< why the last attempt was not ready
  HttpResponse response;    ///< the last response, if any
};

/// Polls `GET url` until it answers `expected_status` from the app itself, or
/// until `deadline`. Connection and TLS errors count as "not ready yet" (the
/// proxy may still serve a default certificate), so the reason is reported.
Readiness wait_until_ready(const HttpClient& client, const std::string& url, long expected_status,
                           std::chrono::steady_clock::time_point deadline, Backoff backoff = {},
                           const ReadyWhen& also = {});

}  // namespace ccci
