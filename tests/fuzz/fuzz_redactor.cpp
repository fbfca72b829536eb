// Fuzzes redaction: once a secret is known, it never survives in text that
// is redacted, wherever it stands. (Secrets made of the mask's own characters
// are left out: masking can rebuild those from the mask and their neighbours.)
#include <cstdint>
#include <string>

#include "ccci/redactor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find('\n');
  if (split == std::string::npos) return 0;
  const std::string secret = input.substr(0, split);
  const std::string text = input.substr(split + 1);
  if (secret.size() < 6 || secret.find_first_of("[REDACTED]") != std::string::npos) return 0;
  ccci::Redactor redactor;
  redactor.add(secret);
  const std::string redacted = redactor.apply(text + secret + text);
  if (redacted.find(secret) != std::string::npos) __builtin_trap();
  return 0;
}
