// Keeps secret values out of everything cc-ci writes.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ccci {

/// A thread-safe set of secret values, each replaced by "[REDACTED]" wherever
/// it appears in text that is about to be logged or reported.
class Redactor {
 public:
  static constexpr std::string_view kMask = "[REDACTED]";

  /// Adds a secret. Empty values are ignored (they would match everywhere).
  void add(std::string secret);
  /// `text` with every known secret masked, longest secrets first.
  std::string apply(std::string_view text) const;
  bool empty() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> secrets_;  // sorted by length, longest first
};

}  // namespace ccci
