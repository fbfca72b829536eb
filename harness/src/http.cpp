#include "ccci/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "ccci/text.hpp"

namespace ccci {
namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

Slist make_list(const std::vector<std::string>& items) {
  curl_slist* list = nullptr;
  for (const auto& item : items) {
    curl_slist* extended = curl_slist_append(list, item.c_str());
    if (!extended) {
      curl_slist_free_all(list);
      throw HttpError("out of memory building a curl list");
    }
    list = extended;
  }
  return Slist(list);
}

// The most of one answer's body kept in memory. An app, a forge or a proxy
// may answer anything; far above any page, API answer or file a check reads.
constexpr size_t kMaxBodyBytes = size_t{16} << 20;

struct BodySink {
  std::string& body;
  bool too_large = false;
};

size_t append_body(char* data, size_t size, size_t count, void* target) {
  auto* sink = static_cast<BodySink*>(target);
  if (sink->body.size() + size * count > kMaxBodyBytes) {
    sink->too_large = true;
    return 0;  // curl stops the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(data, size * count);
  return size * count;
}

size_t append_header(char* data, size_t size, size_t count, void* target) {
  auto* response = static_cast<HttpResponse*>(target);
  std::string_view line(data, size * count);
  // A new status line (after a redirect or a 100) starts a new set of headers.
  if (line.starts_with("HTTP/")) response->headers.clear();
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    response->headers.emplace_back(std::move(name), std::string(value));
  }
  return size * count;
}

}  // namespace

// A curl share handle holding the cookies of one client, and its open
// connections and TLS sessions: a readiness wait that asks every 50 ms (or a
// check of many pages) reuses one connection instead of a TLS handshake each
// time. (The name is the one the installed header gives it.)
struct HttpClient::CookieJar {
  CURLSH* share = curl_share_init();
  CookieJar() {
    for (const auto data : {CURL_LOCK_DATA_COOKIE, CURL_LOCK_DATA_CONNECT, CURL_LOCK_DATA_SSL_SESSION})
      curl_share_setopt(share, CURLSHOPT_SHARE, data);
  }
  CookieJar(const CookieJar&) = delete;
  CookieJar& operator=(const CookieJar&) = delete;
  ~CookieJar() { curl_share_cleanup(share); }
};

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

HttpRequest HttpRequest::form(std::string url,
                              const std::vector<std::pair<std::string, std::string>>& fields) {
  HttpRequest request{.method = "POST", .url = std::move(url)};
  for (const auto& [name, value] : fields)
    request.body += (request.body.empty() ? "" : "&") + url_encode(name) + "=" + url_encode(value);
  request.headers.emplace_back("Content-Type: application/x-www-form-urlencoded");
  return request;
}

HttpRequest HttpRequest::json(std::string url, const nlohmann::json& body, std::string method) {
  HttpRequest request{.method = std::move(method), .url = std::move(url), .body = body.dump()};
  request.headers.emplace_back("Content-Type: application/json");
  request.headers.emplace_back("Accept: application/json");
  return request;
}

HttpRequest& HttpRequest::bearer(const std::string& token) {
  headers.push_back("Authorization: Bearer " + token);
  return *this;
}

nlohmann::json HttpResponse::json() const {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    std::string shown = cut_utf8(body, 80);
    throw CheckFailure("expected a JSON body, got \"" + shown + (body.size() > 80 ? "…\"" : "\""));
  }
  return parsed;
}

std::string HttpResponse::header(std::string_view name) const {
  std::string wanted(name);
  std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [key, value] : headers)
    if (key == wanted) return value;
  return {};
}

namespace {

// What the request itself asks for: credentials, headers, method and body.
void set_request(CURL* curl, const HttpRequest& request, const Slist& headers) {
  if (request.basic_auth) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.basic_auth->username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.basic_auth->password.c_str());
  }
  if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
}

}  // namespace

HttpClient::HttpClient(HttpSettings settings)
    : settings_(std::move(settings)), cookies_((global_init_once(), std::make_shared<CookieJar>())) {}

HttpResponse HttpClient::perform(const HttpRequest& request) const {
  std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
  if (!handle) throw HttpError("curl_easy_init failed");
  CURL* curl = handle.get();
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {};

  Slist headers = make_list(request.headers);
  Slist connect_to = make_list(settings_.connect_to);

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "cc-ci/0.1");
  // Verification is never turned off: a recipe that does not serve valid TLS fails.
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!settings_.ca_file.empty()) {
    // CAINFO is our extra CA; CAPATH keeps the system store trusted as well.
    curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_CAPATH, "/etc/ssl/certs");
  }
  if (connect_to) curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to.get());
  curl_easy_setopt(curl, CURLOPT_SHARE, cookies_->share);
  // A kept connection idle longer than a server's keep-alive (nginx: 75 s) may
  // be closed under it, and curl 7.88 can take it for alive and send again
  // (curl #10646): connections are kept for a readiness wait or a check's
  // requests, not for a long-lived client's next webhook.
  curl_easy_setopt(curl, CURLOPT_MAXAGE_CONN, 30L);
  curl_easy_setopt(curl, CURLOPT_COOKIEFILE, "");  // the cookie engine, in memory only
  set_request(curl, request, headers);
  BodySink sink{response.body};
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxBodyBytes));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);

  const CURLcode code = curl_easy_perform(curl);
  if (sink.too_large || code == CURLE_FILESIZE_EXCEEDED)
    throw HttpError(request.method + " " + request.url + ": the answer is larger than " +
                    std::to_string(kMaxBodyBytes >> 20) + " MiB, more than cc-ci reads");
  if (code != CURLE_OK) {
    const std::string detail = error[0] ? error : curl_easy_strerror(code);
    throw HttpError(request.method + " " + request.url + ": " + detail);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective) response.effective_url = effective;
  return response;
}

}  // namespace ccci
