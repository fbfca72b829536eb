#include "ccci/readiness.hpp"

#include <algorithm>
#include <thread>

namespace ccci {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds Backoff::next(milliseconds previous) const {
  const auto grown =
      milliseconds(static_cast<milliseconds::rep>(static_cast<double>(previous.count()) * factor));
  return std::clamp(grown, initial, cap);
}

std::optional<std::string> proxy_placeholder(const HttpResponse& response) {
  if (response.status == 404 && response.body.starts_with("404 page not found"))
    return "the proxy has no route to the app yet (Traefik's 404 page not found)";
  if (response.status == 502 || response.status == 503 || response.status == 504)
    return "the proxy has no healthy backend yet (HTTP " + std::to_string(response.status) + ")";
  return std::nullopt;
}

Readiness wait_until_ready(const HttpClient& client, const std::string& url, long expected_status,
                           Clock::time_point deadline, Backoff backoff) {
  Readiness result;
  milliseconds delay = backoff.initial;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left <= milliseconds::zero()) break;
    ++result.attempts;
    try {
      result.response = client.perform({.url = url, .timeout = std::min(left, milliseconds(10'000))});
      if (auto placeholder = proxy_placeholder(result.response)) {
        result.last_reason = *placeholder;
      } else if (result.response.status != expected_status) {
        result.last_reason = "answered HTTP " + std::to_string(result.response.status) + ", expected " +
                             std::to_string(expected_status);
      } else {
        result.ready = true;
        result.last_reason.clear();
        return result;
      }
    } catch (const HttpError& error) {
      result.last_reason = error.what();
    }
    const auto pause = std::min(delay, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    if (pause > milliseconds::zero()) std::this_thread::sleep_for(pause);
    delay = backoff.next(delay);
  }
  if (result.last_reason.empty()) result.last_reason = "no time left to try";
  return result;
}

}  // namespace ccci
