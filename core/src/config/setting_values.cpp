// Checks of single setting values (a server, a URL, a --connect-to rule):
// one clear line for what is wrong, before anything runs.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace ccci {
namespace {

void validate_port(const std::string& spec, const std::string& port) {
  if (port.empty()) return;
  int value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
    throw UsageError("--connect-to " + spec + ": \"" + port + "\" is not a port from 1 to 65535");
}

}  // namespace

ServerSlot parse_server(const std::string& text) {
  const auto colon = text.rfind(':');
  ServerSlot slot{.name = text.substr(0, colon)};
  if (colon != std::string::npos) {
    const std::string capacity = text.substr(colon + 1);
    int value = 0;
    const auto [end, error] = std::from_chars(capacity.data(), capacity.data() + capacity.size(), value);
    if (capacity.empty() || error != std::errc() || end != capacity.data() + capacity.size() || value < 1 ||
        value > 1000)
      throw UsageError("--server " + text + ": CAPACITY must be a whole number from 1 to 1000");
    slot.capacity = value;
  }
  if (slot.name.empty()) throw UsageError("--server " + text + ": the server needs a name");
  // The name becomes a folder under $ABRA_DIR/servers: nothing that walks out of it.
  if (slot.name == "." || slot.name == ".." || slot.name.find('/') != std::string::npos ||
      slot.name.find('\0') != std::string::npos)
    throw UsageError("--server " + text + ": not a server name");
  return slot;
}

std::optional<std::string> web_url_problem(std::string_view url) {
  const bool web = url.starts_with("https://") || url.starts_with("http://");
  const std::size_t host = url.find("://") + 3;
  if (!web || host >= url.size() || url[host] == '/')
    return "give an http(s) URL with a host, e.g. https://ci.example.org/cc-ci";
  // A URL is printed in errors and logs: credentials never go in one.
  if (url.substr(host, url.find_first_of("/?#", host) - host).find('@') != std::string_view::npos)
    return "a user or password in the URL would be printed; give the token in its file instead";
  return std::nullopt;
}

std::optional<std::string> dashboard_url_problem(std::string_view url) {
  if (url.empty()) return std::nullopt;
  if (auto problem = web_url_problem(url)) return problem;
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 ||
        std::string_view("<>()\"'`\\").find(c) != std::string_view::npos)
      return "a URL has no spaces, quotes, brackets or backslashes: they would end the link in summary.md";
  return std::nullopt;
}

std::vector<std::string> connect_to_fields(std::string_view spec) {
  std::vector<std::string> fields(1);
  bool bracket = false;
  for (const char c : spec) {
    if (c == '[') bracket = true;
    if (c == ']') bracket = false;
    if (c == ':' && !bracket)
      fields.emplace_back();
    else
      fields.back() += c;
  }
  return fields;
}

void validate_connect_to(const std::string& spec) {
  // Four fields; a host may be an IPv6 address in brackets, with colons inside.
  const std::vector<std::string> fields = connect_to_fields(spec);
  const auto open = spec.rfind('[');
  const auto close = spec.rfind(']');
  const bool bracket_left_open = open != std::string::npos && (close == std::string::npos || close < open);
  if (fields.size() != 4 || bracket_left_open)
    throw UsageError("--connect-to " + spec +
                     ": expected HOST:PORT:CONNECT_HOST:CONNECT_PORT (fields may be empty)");
  validate_port(spec, fields[1]);
  validate_port(spec, fields[3]);
  for (const auto& host : {fields[0], fields[2]})
    if (host.find_first_of(" \t\r\n/") != std::string::npos)
      throw UsageError("--connect-to " + spec + ": \"" + host + "\" is not a host name or address");
}

}  // namespace ccci
