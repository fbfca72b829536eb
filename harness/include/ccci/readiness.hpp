// Waiting until a freshly deployed app really answers.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "ccci/http.hpp"

namespace ccci {

/// Capped exponential backoff between polls.
struct Backoff {
  std::chrono::milliseconds initial{50};
  double factor = 1.6;
  std::chrono::milliseconds cap{1000};

  std::chrono::milliseconds next(std::chrono::milliseconds previous) const;
};

/// Why `response` came from the reverse proxy in front of the app rather than
/// from the app: Traefik's own "404 page not found" (no router yet) or a
/// 502/503/504 (no healthy backend yet). nullopt when it is the app speaking.
std::optional<std::string> proxy_placeholder(const HttpResponse& response);

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
                           std::chrono::steady_clock::time_point deadline, Backoff backoff = {});

}  // namespace ccci
