#include "run/screenshot.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <png.h>

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <cstdio>
#include <memory>

#include "ccci/command_error.hpp"
#include "config/settings.hpp"
#include "run/browser.hpp"

namespace ccci {

namespace fs = std::filesystem;
namespace {

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

}  // namespace

std::string host_resolver_rules(const std::vector<std::string>& domains,
                                const std::vector<std::string>& connect_to) {
  std::string mapped;
  std::string excluded;
  for (const auto& domain : domains) {
    std::string rule;
    for (const auto& spec : connect_to) {
      const auto fields = connect_to_fields(spec);
      if (fields.size() != 4) continue;
      const auto& [host, port, to_host, to_port] = std::tie(fields[0], fields[1], fields[2], fields[3]);
      if ((!host.empty() && host != domain) || (!port.empty() && port != "443")) continue;
      rule = "MAP " + domain + " " + (to_host.empty() ? domain : to_host) +
             (to_port.empty() ? "" : ":" + to_port);
      break;  // curl uses the first spec that matches
    }
    // A domain no spec sends elsewhere resolves as usual: it is excepted from the catch-all.
    std::string& into = rule.empty() ? excluded : mapped;
    into += rule.empty() ? ", EXCLUDE " + domain : rule + ", ";
  }
  // Nothing but the apps' domains resolves: no page of the run reaches elsewhere.
  return mapped + "MAP * ~NOTFOUND" + excluded;
}

std::string host_resolver_rules(const std::string& domain, const std::vector<std::string>& connect_to) {
  return host_resolver_rules(std::vector<std::string>{domain}, connect_to);
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

std::optional<BrowserSetup> browser_setup(const ScreenshotRequest& request,
                                          const std::vector<std::string>& domains, std::string& why) {
  if (request.browser.empty()) {
    why = "screenshots are off (--browser is empty)";
    return std::nullopt;
  }
  BrowserSetup setup{.executable = request.browser.find('/') == std::string::npos
                                       ? boost::process::search_path(request.browser).string()
                                       : request.browser,
                     .resolver_rules = host_resolver_rules(domains, request.http.connect_to)};
  if (setup.executable.empty() || !fs::exists(setup.executable)) {
    why = request.browser + " is not installed (Debian: apt-get install chromium)";
    return std::nullopt;
  }
  if (!request.http.ca_file.empty()) {
    auto key = verified_server_key(page_url(request), request.http, why);
    if (!key) return std::nullopt;
    setup.trusted_key = std::move(*key);
  }
  return setup;
}

std::string page_url(const ScreenshotRequest& request) {
  return "https://" + request.domain + request.page;
}

std::optional<std::string> take_screenshot(const ScreenshotRequest& request) {
  std::string why;
  const auto setup = browser_setup(request, {request.domain}, why);
  if (!setup) return why;
  try {
    Browser browser(*setup);
    return browser.shoot(page_url(request), request.output, request.deadline, request.attempts);
  } catch (const CommandError& error) {
    return std::string("the browser could not start: ") + error.what();
  }
}

}  // namespace ccci
