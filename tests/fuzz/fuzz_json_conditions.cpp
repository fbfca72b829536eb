// Fuzzes readiness conditions: a JSON pointer, the JSON text expected there,
// and a response body. Building refuses a bad pointer or text up front; a
// built condition answers for any body without throwing.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "ccci/readiness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto first = input.find('\n');
  const auto second = first == std::string::npos ? std::string::npos : input.find('\n', first + 1);
  if (second == std::string::npos) return 0;
  ccci::ReadyWhen condition;
  try {
    condition =
        ccci::json_conditions({{input.substr(0, first), input.substr(first + 1, second - first - 1)}});
  } catch (const std::invalid_argument&) {
    return 0;
  }
  ccci::HttpResponse response;
  response.status = 200;
  response.body = input.substr(second + 1);
  (void)condition(response);
  return 0;
}
