#include "run/devtools.hpp"

#include <algorithm>
#include <utility>

#include "ccci/command_error.hpp"

namespace ccci {

namespace {

Command browser_command(std::vector<std::string> argv, std::map<std::string, std::string> env) {
  argv.emplace_back("--remote-debugging-pipe");
  // Each answer has its own deadline (call()); the command's timeout is not used.
  return Command{.argv = std::move(argv), .env = std::move(env), .timeout = DevTools::kAnswerTime};
}

}  // namespace

DevTools::DevTools(std::vector<std::string> argv, std::map<std::string, std::string> env)
    : browser_(browser_command(std::move(argv), std::move(env)), Channel::fds_3_and_4) {}

DevTools::~DevTools() {
  if (broken_) return;  // the Conversation's end kills what is left of it
  try {
    // A closing browser answers, or ends; either way its profile is written out.
    call("Browser.close", nlohmann::json::object(), {}, Clock::now() + std::chrono::seconds(5));
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): it is ended below whatever it said
  }
}

void DevTools::post(std::string_view method, const nlohmann::json& params, const std::string& session) {
  send(++last_id_, method, params, session);
}

void DevTools::send(std::int64_t id, std::string_view method, const nlohmann::json& params,
                    const std::string& session) {
  if (broken_) throw DevToolsError("the browser is no longer usable");
  nlohmann::json message{{"id", id}, {"method", method}, {"params", params}};
  if (!session.empty()) message["sessionId"] = session;
  try {
    browser_.send(message.dump() + '\0');
  } catch (const CommandError& error) {
    broken_ = true;
    throw DevToolsError(error.what());
  }
}

nlohmann::json DevTools::call(std::string_view method, const nlohmann::json& params,
                              const std::string& session, Clock::time_point deadline) {
  const std::int64_t id = ++last_id_;
  send(id, method, params, session);
  for (;;) {
    nlohmann::json answer = next_message(deadline);
    if (!answer.contains("id")) {
      keep_event(std::move(answer));
      continue;
    }
    if (answer["id"] != id) continue;  // the answer to a call that gave up waiting
    if (const auto error = answer.find("error"); error != answer.end())
      throw DevToolsError(std::string(method) + ": " + error->value("message", error->dump()));
    return answer.value("result", nlohmann::json::object());
  }
}

nlohmann::json DevTools::wait_for_event(std::string_view method, const std::string& session,
                                        Clock::time_point deadline) {
  const auto matches = [&](const nlohmann::json& event) {
    return event.value("method", "") == method && event.value("sessionId", "") == session;
  };
  if (const auto kept = std::find_if(events_.begin(), events_.end(), matches); kept != events_.end()) {
    nlohmann::json event = std::move(*kept);
    events_.erase(kept);
    return event.value("params", nlohmann::json::object());
  }
  for (;;) {
    nlohmann::json message = next_message(deadline);
    if (message.contains("id")) continue;  // an answer nobody waits for any more
    if (matches(message)) return message.value("params", nlohmann::json::object());
    keep_event(std::move(message));
  }
}

nlohmann::json DevTools::next_message(Clock::time_point deadline) {
  std::string text;
  try {
    text = browser_.read_until('\0', kLongestMessage, deadline);
  } catch (const CommandError& error) {
    // Too slow: what it sent so far stays buffered, the next read goes on from there.
    if (Clock::now() >= deadline && browser_.running()) throw DevToolsTimeout(error.what());
    // Ended or garbled: the conversation's place in the stream is lost.
    broken_ = true;
    throw DevToolsError(error.what());
  }
  nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
  if (!message.is_object()) {
    broken_ = true;
    throw DevToolsError("the browser sent something that is not a DevTools message");
  }
  if (handler_ && !message.contains("id")) handler_(message);
  return message;
}

void DevTools::keep_event(nlohmann::json event) {
  events_.push_back(std::move(event));
  if (events_.size() > kEventsKept) events_.pop_front();
}

}  // namespace ccci
