#include "ccci/redactor.hpp"

#include <algorithm>

namespace ccci {

void Redactor::add(std::string secret) {
  if (secret.empty()) return;
  std::scoped_lock lock(mutex_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  // Longest first, so a secret that contains another is masked whole.
  auto position = std::find_if(secrets_.begin(), secrets_.end(),
                               [&](const std::string& known) { return known.size() < secret.size(); });
  secrets_.insert(position, std::move(secret));
}

std::string Redactor::apply(std::string_view text) const {
  std::string result(text);
  std::scoped_lock lock(mutex_);
  for (const auto& secret : secrets_) {
    for (auto at = result.find(secret); at != std::string::npos; at = result.find(secret, at + kMask.size()))
      result.replace(at, secret.size(), kMask);
  }
  return result;
}

bool Redactor::empty() const {
  std::scoped_lock lock(mutex_);
  return secrets_.empty();
}

}  // namespace ccci
