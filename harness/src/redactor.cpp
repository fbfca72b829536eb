#include "ccci/redactor.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

namespace ccci {
namespace {

// A base64 fragment shorter than this could match ordinary text.
constexpr size_t kShortestBase64Form = 8;

std::string base64(std::string_view bytes) {
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned value = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kDigits[(value >> shift) & 63];
  }
  if (i < bytes.size()) {
    unsigned value = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) value |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kDigits[(value >> 18) & 63];
    out += kDigits[(value >> 12) & 63];
    out += i + 1 < bytes.size() ? kDigits[(value >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// The base64 digits that depend on `secret` alone, for each of the three
// positions it can take after a prefix (e.g. "user:"): whatever comes before
// or after, these digits appear in the encoding.
std::vector<std::string> base64_forms(const std::string& secret) {
  std::vector<std::string> forms;
  for (size_t offset = 0; offset < 3; ++offset) {
    const std::string encoded = base64(std::string(offset, '\0') + secret);
    const size_t first = (offset * 8 + 5) / 6;             // digits mixing prefix bits are dropped
    const size_t last = (offset + secret.size()) * 8 / 6;  // as are those mixing what follows
    if (last > first && last - first >= kShortestBase64Form)
      forms.push_back(encoded.substr(first, last - first));
  }
  return forms;
}

std::string url_encoded(const std::string& secret) {
  const std::unique_ptr<char, decltype(&curl_free)> escaped(
      curl_easy_escape(nullptr, secret.data(), static_cast<int>(secret.size())), &curl_free);
  return escaped ? std::string(escaped.get()) : secret;
}

std::string json_escaped(const std::string& secret) {
  const std::string quoted =
      nlohmann::json(secret).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

void Redactor::insert_form(std::string form) {
  if (form.empty() || std::find(forms_.begin(), forms_.end(), form) != forms_.end()) return;
  // Longest first, so a secret that contains another is masked whole.
  auto position = std::find_if(forms_.begin(), forms_.end(),
                               [&](const std::string& known) { return known.size() < form.size(); });
  forms_.insert(position, std::move(form));
}

void Redactor::add(const std::string& secret) {
  if (secret.empty()) return;
  Listener listener;
  {
    std::scoped_lock lock(mutex_);
    if (std::find(originals_.begin(), originals_.end(), secret) != originals_.end()) return;
    originals_.push_back(secret);
    insert_form(secret);
    insert_form(url_encoded(secret));
    insert_form(json_escaped(secret));
    for (auto& form : base64_forms(secret)) insert_form(std::move(form));
    listener = listener_;
  }
  if (listener) listener(secret);
}

void Redactor::add_all(const Redactor& other) {
  std::vector<std::string> secrets;
  {
    std::scoped_lock lock(other.mutex_);
    secrets = other.originals_;
  }
  for (const auto& secret : secrets) add(secret);
}

std::string Redactor::apply(std::string_view text) const {
  std::string result(text);
  std::scoped_lock lock(mutex_);
  for (const auto& secret : forms_) {
    for (auto at = result.find(secret); at != std::string::npos; at = result.find(secret, at + kMask.size()))
      result.replace(at, secret.size(), kMask);
  }
  return result;
}

bool Redactor::empty() const {
  std::scoped_lock lock(mutex_);
  return originals_.empty();
}

void Redactor::set_listener(Listener listener) {
  std::scoped_lock lock(mutex_);
  listener_ = std::move(listener);
}

}  // namespace ccci
