#include "run/docker_engine.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

namespace ccci {

using Clock = std::chrono::steady_clock;

namespace {

// Far above any listing of one stack's objects; a server's whole list of
// containers stays well under it.
constexpr size_t kMostAnswerBytes = size_t{16} << 20;
constexpr size_t kMostLineBytes = 16 << 10;
constexpr int kMostHeaders = 200;

// The query parameter, escaped by curl's own rules. (libcurl is not asked to
// make the request: curl 7.88, Debian 12's, cannot be handed a connected
// socket, and a GET with a length or chunks is little to read.)
std::string escaped(const std::string& text) {
  char* done = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  if (!done) throw CommandError("out of memory");
  std::string copy(done);
  curl_free(done);
  return copy;
}

std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

size_t number(std::string_view text, int base, const std::string& what) {
  size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end == text.data())
    throw CommandError("the engine's " + what + " is not a number");
  return value;
}

struct Answer {
  int status = 0;
  std::string body;
  bool closes = false;  // "Connection: close": the engine hangs up after it
};

// One HTTP/1.1 answer: the status line, the headers, and a body framed by
// Content-Length or chunks (the engine's Go server sends one or the other).
Answer read_answer(Conversation& dialer, Clock::time_point deadline) {
  const auto line = [&] {
    std::string text = dialer.read_until('\n', kMostLineBytes, deadline);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return text;
  };
  Answer answer;
  const std::string status = line();
  if (!status.starts_with("HTTP/1.") || status.size() < 12) throw CommandError("answered no HTTP: " + status);
  answer.status = static_cast<int>(number(std::string_view(status).substr(9, 3), 10, "status"));
  std::optional<size_t> length;
  bool chunked = false;
  for (int headers = 0;; ++headers) {
    const std::string header = line();
    if (header.empty()) break;
    if (headers == kMostHeaders)
      throw CommandError("answered more than " + std::to_string(kMostHeaders) + " headers");
    const auto colon = header.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = lowered(header.substr(0, colon));
    const std::string value =
        header.substr(std::min(header.find_first_not_of(" \t", colon + 1), header.size()));
    if (name == "content-length") length = number(value, 10, "Content-Length");
    if (name == "transfer-encoding") chunked = lowered(value).find("chunked") != std::string::npos;
    if (name == "connection") answer.closes = lowered(value).find("close") != std::string::npos;
  }
  const auto take = [&](size_t count) {
    if (answer.body.size() + count > kMostAnswerBytes)
      throw CommandError("answered more than " + std::to_string(kMostAnswerBytes >> 20) + " MiB");
    answer.body += dialer.read_bytes(count, deadline);
  };
  if (chunked) {
    for (;;) {
      const std::string size = line();
      const size_t count = number(size.substr(0, size.find(';')), 16, "chunk size");
      if (count == 0) break;
      take(count);
      if (!line().empty()) throw CommandError("answered a chunk longer than it said");
    }
    while (!line().empty()) {  // trailers, none expected
    }
  } else if (length) {
    take(*length);
  } else {
    throw CommandError("answered without a length or chunks");
  }
  return answer;
}

}  // namespace

std::string EngineListing::path() const {
  return "/" + what + "?" + options + "filters=" + filters.dump();
}

DockerEngine::DockerEngine(std::string docker, std::string server)
    : docker_(std::move(docker)), server_(std::move(server)) {}

DockerEngine::~DockerEngine() = default;

std::vector<std::string> DockerEngine::dial_command() const {
  return {docker_, "--context", server_, "system", "dial-stdio"};
}

nlohmann::json DockerEngine::list(const EngineListing& listing, Clock::time_point deadline) {
  // Unversioned: the engine's own API. Docker 29 refuses versions before
  // 1.44, Debian 12's engine knows none after 1.41; these listings read the
  // same in both.
  const std::string target =
      "/" + listing.what + "?" + listing.options + "filters=" + escaped(listing.filters.dump());
  const auto fail = [&](const std::string& why) {
    return CommandError("the Docker engine of server " + server_ + " (through " + docker_ + " --context " +
                        server_ + " system dial-stdio) did not answer GET " + listing.path() + ": " + why);
  };
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  const auto until =
      Clock::now() + std::clamp(left, std::chrono::milliseconds(1000), std::chrono::milliseconds(60'000));
  Answer answer;
  for (;;) {
    if (dialer_ && !dialer_->running()) dialer_.reset();
    const bool reused = dialer_ && dialer_used_;
    try {
      if (!dialer_) {
        dialer_ = std::make_unique<Conversation>(Command{.argv = dial_command()});
        dialer_used_ = false;
      }
      dialer_->send("GET " + target + " HTTP/1.1\r\nHost: docker\r\nUser-Agent: cc-ci\r\n\r\n");
      answer = read_answer(*dialer_, until);
      dialer_used_ = true;
      break;
    } catch (const CommandError& error) {
      dialer_.reset();  // the connection is in no known state: never asked again
      // A kept connection that an SSH server or the engine dropped while it
      // was idle fails at once: once more, on a new one.
      if (reused && Clock::now() < until) continue;
      throw fail(error.what());
    }
  }
  if (answer.closes) dialer_.reset();
  nlohmann::json parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status != 200) {
    // The engine says why in {"message": "..."}.
    const bool said = parsed.is_object() && parsed.contains("message") && parsed["message"].is_string();
    throw fail("HTTP " + std::to_string(answer.status) + ": " +
               (said ? parsed["message"].get<std::string>() : answer.body.substr(0, 200)));
  }
  if (parsed.is_discarded()) throw fail("the answer is not JSON: " + answer.body.substr(0, 200));
  return parsed;
}

}  // namespace ccci
