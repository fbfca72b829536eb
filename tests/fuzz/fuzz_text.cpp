// Fuzzes the UTF-8 helpers reports rely on: valid_utf8's output is valid
// (repairing it again changes nothing), and cut_utf8 never splits a character.
#include <cstdint>
#include <string_view>

#include "ccci/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t limit = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string valid = ccci::valid_utf8(input);
  if (ccci::valid_utf8(valid) != valid) __builtin_trap();
  const std::string cut = ccci::cut_utf8(valid, limit);
  if (cut.size() > limit && cut.size() != valid.size()) __builtin_trap();
  if (valid.compare(0, cut.size(), cut) != 0) __builtin_trap();
  if (ccci::valid_utf8(cut) != cut) __builtin_trap();
  return 0;
}
