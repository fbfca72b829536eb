// The Docker Engine API of one server, asked over one long-lived
// `docker --context SERVER system dial-stdio`. The docker CLI connects as it
// does for any of its commands (a local socket, SSH, TLS: whatever the context
// abra made for the server says) and relays bytes; every question after that
// is one HTTP/1.1 request on the same connection, not a docker process of its
// own: a lane that polls convergence and lists leftovers starts one process
// instead of dozens (each a Go program's start, and an SSH session's through
// an SSH context).
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ccci/conversation.hpp"

namespace ccci {

/// One listing of the engine's API: GET /<what>?<options>filters=<filters>.
struct EngineListing {
  std::string what;        ///< "services", "volumes", "containers/json", …
  nlohmann::json filters;  ///< e.g. {"name": {"x": true}}: what of it to list
  std::string options{};   ///< further parameters, each followed by '&' ("status=true&")
  /// As a plan and an error show it, the filters not escaped.
  std::string path() const;
};

class DockerEngine {
 public:
  /// Nothing is started until the first question.
  DockerEngine(std::string docker, std::string server);
  DockerEngine(const DockerEngine&) = delete;
  DockerEngine& operator=(const DockerEngine&) = delete;
  ~DockerEngine();

  /// The command that makes the connection (for plans and messages).
  std::vector<std::string> dial_command() const;

  /// The engine's answer to `listing`, asked by `deadline` (at least a second,
  /// at most a minute). Throws CommandError when the engine cannot be reached,
  /// answers anything but 200, or not JSON.
  nlohmann::json list(const EngineListing& listing, std::chrono::steady_clock::time_point deadline);

 private:
  std::string docker_;
  std::string server_;
  std::unique_ptr<Conversation> dialer_;  // the connection, while it lasts
  bool dialer_used_ = false;              // it has answered before
};

}  // namespace ccci
