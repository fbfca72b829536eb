// Fuzzes the parsers of abra's terminal output: the secrets table (with or
// without colour) must never crash, and a table read as understood must hold
// every value it found, without escape codes; the recipe lint table must never
// crash, and a rule it read has an R-id and no escape codes.
#include <cstdint>
#include <string_view>

#include "ccci/abra_client.hpp"
#include "ccci/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = ccci::parse_generated_secrets(input);
  for (const auto& [name, value] : parsed.secrets)
    if (name.find('\x1b') != std::string::npos || value.find('\x1b') != std::string::npos) __builtin_trap();
  const auto lint = ccci::parse_lint_table(input);
  for (const auto& rule : lint.rules)
    if (rule.id.empty() || rule.id[0] != 'R' ||
        (rule.id + rule.rule + rule.severity).find('\x1b') != std::string::npos)
      __builtin_trap();
  if (lint.understood && lint.rules.empty()) __builtin_trap();
  const std::string stripped = ccci::strip_ansi(input);
  if (stripped.size() > input.size() || stripped.find('\x1b') != std::string::npos) __builtin_trap();
  return 0;
}
