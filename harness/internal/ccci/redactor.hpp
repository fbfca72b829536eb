// Keeps secret values out of everything cc-ci writes.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ccci {

/// A thread-safe set of secret values, each replaced by "[REDACTED]" wherever
/// it appears in text that is about to be logged or reported, also in the
/// forms a secret takes on its way through HTTP and JSON: URL-encoded,
/// JSON-escaped, and base64 (as in `Authorization: Basic base64(user:secret)`).
class Redactor {
 public:
  static constexpr std::string_view kMask = "[REDACTED]";
  /// Told each new secret as it is added (the child hands them to the host).
  using Listener = std::function<void(const std::string& secret)>;

  Redactor() = default;
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  /// Adds a secret and its encoded forms. Empty values are ignored (they would match everywhere).
  void add(const std::string& secret);
  /// Every secret `other` knows.
  void add_all(const Redactor& other);
  /// `text` with every known secret masked, longest first.
  std::string apply(std::string_view text) const;
  bool empty() const;
  void set_listener(Listener listener);

 private:
  void insert_form(std::string form);  // mutex_ held

  mutable std::mutex mutex_;
  std::vector<std::string> originals_;
  std::vector<std::string> forms_;  // originals and encodings, longest first
  Listener listener_;
};

}  // namespace ccci
