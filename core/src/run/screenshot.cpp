#include "run/screenshot.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <png.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <cstdio>
#include <memory>

#include "ccci/process.hpp"
#include "config/settings.hpp"

namespace ccci {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kWindowWidth = 1280;
constexpr int kWindowHeight = 800;
// Virtual time Chromium lets the page run (timers, fetches) before it shoots:
// "settled" without waiting out real seconds on a slow machine.
constexpr int kSettleMilliseconds = 5'000;

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

// The base64 SHA-256 of the public key of the certificate the app serves,
// taken over a connection curl verified against --ca-file. Chromium skips
// certificate errors for that key only: the test CA is trusted as the checks
// trust it, for this one certificate, in this one throwaway profile.
std::optional<std::string> verified_server_key(const std::string& url, const HttpSettings& http,
                                               std::string& why) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return std::nullopt;
  curl_slist* connect_to = nullptr;
  for (const auto& spec : http.connect_to) connect_to = curl_slist_append(connect_to, spec.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 15L);
  curl_easy_setopt(curl.get(), CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl.get(), CURLOPT_CAINFO, http.ca_file.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CAPATH, "/etc/ssl/certs");
  if (connect_to) curl_easy_setopt(curl.get(), CURLOPT_CONNECT_TO, connect_to);
  const CURLcode code = curl_easy_perform(curl.get());
  curl_slist_free_all(connect_to);
  if (code != CURLE_OK) {
    why = std::string("the app's certificate could not be verified: ") + curl_easy_strerror(code);
    return std::nullopt;
  }
  curl_certinfo* chain = nullptr;
  curl_easy_getinfo(curl.get(), CURLINFO_CERTINFO, &chain);
  if (chain == nullptr || chain->num_of_certs < 1) {
    why = "curl gave no certificate of the app";
    return std::nullopt;
  }
  std::string pem;
  for (curl_slist* item = chain->certinfo[0]; item != nullptr; item = item->next)
    if (std::string_view(item->data).starts_with("Cert:")) pem = item->data + 5;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> certificate(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, &X509_free);
  if (!certificate) {
    why = "the app's certificate could not be read";
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate.get()), &der);
  if (size <= 0) {
    why = "the app's certificate has no public key";
    return std::nullopt;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(size), digest);
  OPENSSL_free(der);
  unsigned char encoded[64] = {};
  EVP_EncodeBlock(encoded, digest, SHA256_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(encoded));
}

// A fresh, empty profile folder, removed with this object.
class TemporaryProfile {
 public:
  TemporaryProfile() {
    std::string pattern = (fs::temp_directory_path() / "cc-ci-browser-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TemporaryProfile(const TemporaryProfile&) = delete;
  TemporaryProfile& operator=(const TemporaryProfile&) = delete;
  ~TemporaryProfile() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

std::string host_resolver_rules(const std::string& domain, const std::vector<std::string>& connect_to) {
  std::string rules;
  for (const auto& spec : connect_to) {
    const auto fields = connect_to_fields(spec);
    if (fields.size() != 4) continue;
    const auto& [host, port, to_host, to_port] = std::tie(fields[0], fields[1], fields[2], fields[3]);
    if ((!host.empty() && host != domain) || (!port.empty() && port != "443")) continue;
    rules =
        "MAP " + domain + " " + (to_host.empty() ? domain : to_host) + (to_port.empty() ? "" : ":" + to_port);
    break;  // curl uses the first spec that matches
  }
  // Nothing but the app's domain resolves: no page of the run reaches elsewhere.
  if (rules.empty()) return "MAP * ~NOTFOUND, EXCLUDE " + domain;
  return rules + ", MAP * ~NOTFOUND";
}

std::optional<std::string> png_problem(const fs::path& file) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&image, file.c_str()) == 0) {
    png_image_free(&image);
    return "not a PNG";
  }
  image.format = PNG_FORMAT_RGBA;
  std::vector<png_byte> pixels(static_cast<size_t>(PNG_IMAGE_ROW_STRIDE(image)) * image.height);
  if (png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr) == 0) {
    png_image_free(&image);
    return "an unreadable PNG";
  }
  if (image.width == 0 || image.height == 0) return "an empty picture";
  const auto* first = pixels.data();
  for (size_t offset = 4; offset < pixels.size(); offset += 4)
    if (!std::equal(first, first + 4, pixels.data() + offset)) return std::nullopt;
  char colour[16];
  std::snprintf(colour, sizeof colour, "#%02x%02x%02x", first[0], first[1], first[2]);
  return std::string("blank: every pixel is ") + colour;
}

std::optional<std::string> take_screenshot(const ScreenshotRequest& request) {
  if (request.browser.empty()) return "screenshots are off (--browser is empty)";
  const std::string browser = request.browser.find('/') == std::string::npos
                                  ? boost::process::search_path(request.browser).string()
                                  : request.browser;
  if (browser.empty() || !fs::exists(browser))
    return request.browser + " is not installed (Debian: apt-get install chromium)";
  const std::string url = "https://" + request.domain + request.page;
  std::vector<std::string> argv = {
      browser,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      "--window-size=" + std::to_string(kWindowWidth) + "," + std::to_string(kWindowHeight),
      "--virtual-time-budget=" + std::to_string(kSettleMilliseconds),
      "--host-resolver-rules=" + host_resolver_rules(request.domain, request.http.connect_to)};
  if (!request.http.ca_file.empty()) {
    std::string why;
    const auto key = verified_server_key(url, request.http, why);
    if (!key) return why;
    argv.push_back("--ignore-certificate-errors-spki-list=" + *key);
  }
  std::error_code ignored;
  fs::create_directories(request.output.parent_path(), ignored);
  std::string last;
  for (int attempt = 1; attempt <= request.attempts; ++attempt) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(request.deadline - Clock::now());
    if (left < std::chrono::seconds(2)) return last.empty() ? "no time was left in the probe phase" : last;
    const TemporaryProfile profile;  // fresh each time: nothing carries over
    if (profile.path().empty()) return "no temporary folder for the browser's profile";
    fs::remove(request.output, ignored);
    Command command{.argv = argv,
                    .timeout = std::min<std::chrono::milliseconds>(left, std::chrono::seconds(90))};
    command.argv.push_back("--user-data-dir=" + profile.path().string());
    command.argv.push_back("--screenshot=" + request.output.string());
    command.argv.push_back(url);
    // Its own HOME: nothing of the user's browser configuration is read.
    command.env["HOME"] = profile.path().string();
    const CommandResult result = run_command(command);
    if (!result.ok() || !fs::exists(request.output)) {
      last = "the browser " + result.describe() + " without a picture";
      continue;
    }
    const auto problem = png_problem(request.output);
    if (!problem) return std::nullopt;
    last = "the page was " + *problem + " after " + std::to_string(attempt) + " tries";
  }
  fs::remove(request.output, ignored);
  return last;
}

}  // namespace ccci
