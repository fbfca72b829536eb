#include "ccci/readiness.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <variant>

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

std::optional<std::string> wait_until(Clock::time_point deadline,
                                      const std::function<std::optional<std::string>()>& not_yet,
                                      Backoff backoff) {
  std::optional<std::string> reason = "no time left to try";
  milliseconds delay = backoff.initial;
  // After the first attempt, one that would have less than the initial delay
  // left is not made: it could only time out and hide the real reason.
  for (bool first = true; first || Clock::now() + backoff.initial <= deadline; first = false) {
    if (Clock::now() >= deadline) break;
    reason = not_yet();
    if (!reason) return std::nullopt;
    const auto pause = std::min(delay, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    if (pause > milliseconds::zero()) std::this_thread::sleep_for(pause);
    delay = backoff.next(delay);
  }
  return reason;
}

nlohmann::json json_value(const JsonEquals& condition) {
  return std::visit([](const auto& value) { return nlohmann::json(value); }, condition.value);
}

ReadyWhen json_conditions(const std::vector<JsonEquals>& json_equals) {
  if (json_equals.empty()) return {};
  // Checked once, here: a bad pointer is the plugin's mistake, not the app's.
  std::vector<std::pair<nlohmann::json::json_pointer, nlohmann::json>> wanted;
  for (const auto& condition : json_equals) {
    try {
      wanted.emplace_back(nlohmann::json::json_pointer(condition.pointer), json_value(condition));
    } catch (const nlohmann::json::exception& error) {
      throw std::invalid_argument("readiness condition on " + condition.pointer + ": " + error.what());
    }
  }
  return [wanted](const HttpResponse& response) -> std::optional<std::string> {
    const auto document = nlohmann::json::parse(response.body, nullptr, false);
    if (document.is_discarded()) return "the body is not JSON yet";
    for (const auto& [where, expected] : wanted) {
      try {
        if (!document.contains(where)) return "JSON has no " + where.to_string() + " yet";
        if (document.at(where) != expected)
          return "JSON " + where.to_string() + " is " +
                 document.at(where).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                 ", waiting for " + expected.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      } catch (const nlohmann::json::exception&) {
        return "JSON has no " + where.to_string() + " yet";  // e.g. a name where the body has an array
      }
    }
    return std::nullopt;
  };
}

Readiness wait_until_ready(const HttpClient& client, const std::string& url, long expected_status,
                           Clock::time_point deadline, Backoff backoff, const ReadyWhen& also) {
  Readiness result;
  std::optional<std::string> previous;  // the last reason that was about the app, not about our clock
  const auto attempt = [&]() -> std::optional<std::string> {
    ++result.attempts;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    try {
      result.response =
          client.perform({.url = url, .timeout = std::clamp(left, milliseconds(1), milliseconds(10'000))});
    } catch (const HttpError& error) {
      // A last attempt cut short by the deadline says nothing new: keep what the app said before.
      if (Clock::now() >= deadline && previous) return previous;
      return error.what();
    }
    if (auto placeholder = proxy_placeholder(result.response)) return placeholder;
    if (expected_status != kAnyStatus && result.response.status != expected_status)
      return "answered HTTP " + std::to_string(result.response.status) + ", expected " +
             std::to_string(expected_status);
    if (also) return also(result.response);
    return std::nullopt;
  };
  const auto reason = wait_until(
      deadline,
      [&]() -> std::optional<std::string> {
        previous = attempt();
        return previous;
      },
      backoff);
  result.ready = !reason;
  result.last_reason = reason.value_or("");
  return result;
}

}  // namespace ccci
