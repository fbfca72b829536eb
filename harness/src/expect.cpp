#include "ccci/expect.hpp"

#include "ccci/text.hpp"

namespace ccci {
namespace {

// Enough of a body to recognise it in a failure message, on one line.
std::string excerpt(const std::string& body) {
  constexpr size_t kLimit = 120;
  std::string shown = cut_utf8(body, kLimit);
  for (char& c : shown)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return "\"" + shown + (body.size() > kLimit ? "…\"" : "\"");
}

}  // namespace

HttpExpectation::HttpExpectation(HttpClient client, HttpRequest request)
    : client_(std::move(client)), request_(std::move(request)) {}

const HttpResponse& HttpExpectation::response() {
  if (!response_) {
    try {
      response_ = client_.perform(request_);
    } catch (const HttpError& error) {
      // The app did not answer: that is the app failing the check.
      throw CheckFailure(error.what());
    }
  }
  return *response_;
}

void HttpExpectation::fail(const std::string& what) const {
  throw CheckFailure(request_.method + " " + request_.url + ": " + what);
}

HttpExpectation& HttpExpectation::status(long expected) {
  const auto& got = response();
  if (got.status != expected)
    fail("expected status " + std::to_string(expected) + ", got " + std::to_string(got.status) + " (body " +
         excerpt(got.body) + ")");
  return *this;
}

HttpExpectation& HttpExpectation::body_contains(std::string_view needle) {
  const auto& got = response();
  if (got.body.find(needle) == std::string::npos)
    fail("body does not contain \"" + std::string(needle) + "\" (body " + excerpt(got.body) + ")");
  return *this;
}

HttpExpectation& HttpExpectation::header_contains(std::string_view name, std::string_view needle) {
  const auto& got = response();
  const std::string value = got.header(name);
  if (value.find(needle) == std::string::npos)
    fail("header " + std::string(name) + " is \"" + value + "\", expected it to contain \"" +
         std::string(needle) + "\"");
  return *this;
}

HttpExpectation& HttpExpectation::json_equals(std::string_view pointer, const nlohmann::json& expected) {
  const nlohmann::json actual = json_at(pointer);
  if (actual != expected)
    fail("JSON " + std::string(pointer) + " is " + actual.dump() + ", expected " + expected.dump());
  return *this;
}

nlohmann::json HttpExpectation::json_at(std::string_view pointer) {
  const nlohmann::json document = response().json();
  try {
    return document.at(nlohmann::json::json_pointer(std::string(pointer)));
  } catch (const nlohmann::json::exception&) {
    fail("JSON body has no " + std::string(pointer) + " (body " + excerpt(response().body) + ")");
  }
}

HttpExpectation& HttpExpectation::redirects_to(std::string_view needle) {
  const auto& got = response();
  if (got.status < 300 || got.status > 399)
    fail("expected a redirect, got status " + std::to_string(got.status) + " (body " + excerpt(got.body) +
         ")");
  const std::string location = got.header("location");
  if (location.find(needle) == std::string::npos)
    fail("redirects to \"" + location + "\", expected it to contain \"" + std::string(needle) + "\"");
  return *this;
}

HttpExpectation expect_http(const HttpClient& client, HttpRequest request) {
  return HttpExpectation(client, std::move(request));
}

HttpExpectation expect_http(const Context& ctx, std::string_view path_or_url, std::string method) {
  const bool whole_url = path_or_url.starts_with("http://") || path_or_url.starts_with("https://");
  HttpRequest request{.method = std::move(method),
                      .url = whole_url ? std::string(path_or_url) : ctx.url(path_or_url)};
  return HttpExpectation(HttpClient(ctx.http()), std::move(request));
}

}  // namespace ccci
