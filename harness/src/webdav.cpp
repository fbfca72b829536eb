#include "ccci/webdav.hpp"

#include "ccci/text.hpp"

namespace ccci::webdav {
namespace {

HttpResponse send(const HttpClient& client, std::string method, const std::string& url,
                  const Credentials& credentials, std::string body = {}) {
  HttpRequest request{.method = std::move(method), .url = url, .body = std::move(body)};
  request.basic_auth = credentials;
  try {
    return client.perform(request);
  } catch (const HttpError& error) {
    throw CheckFailure(error.what());
  }
}

[[noreturn]] void refuse(const std::string& method, const std::string& url, const HttpResponse& response) {
  throw CheckFailure("WebDAV " + method + " " + url + ": HTTP " + std::to_string(response.status) +
                     (response.body.empty() ? "" : " (" + cut_utf8(response.body, 120) + ")"));
}

}  // namespace

void put(const HttpClient& client, const std::string& url, const Credentials& credentials,
         const std::string& content) {
  const auto response = send(client, "PUT", url, credentials, content);
  if (response.status != 201 && response.status != 204) refuse("PUT", url, response);
}

std::string get(const HttpClient& client, const std::string& url, const Credentials& credentials) {
  auto response = send(client, "GET", url, credentials);
  if (response.status != 200) refuse("GET", url, response);
  return std::move(response.body);
}

void remove(const HttpClient& client, const std::string& url, const Credentials& credentials) {
  const auto response = send(client, "DELETE", url, credentials);
  if (response.status != 204 && response.status != 404) refuse("DELETE", url, response);
}

}  // namespace ccci::webdav
