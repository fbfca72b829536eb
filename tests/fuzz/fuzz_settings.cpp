// Fuzzes what users type: config files, --connect-to specs, domain suffixes
// and server names. Bad input is a UsageError, never a crash or another throw.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "config/settings.hpp"
#include "recipe/names.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: {
        static const std::string file = "/tmp/cc-ci-fuzz-config-" + std::to_string(::getpid()) + ".json";
        std::ofstream(file, std::ios::trunc | std::ios::binary) << input;
        (void)ccci::resolve_settings({.config_file = file}, {"/plugins"});
        break;
      }
      case 1:
        ccci::validate_connect_to(input);
        break;
      case 2:
        if (!ccci::domain_suffix_problem(input) &&
            (input.find('/') != std::string::npos || input.size() + 12 > ccci::kDockerNameMax))
          __builtin_trap();
        break;
      default:
        (void)ccci::parse_server(input);
    }
  } catch (const ccci::UsageError&) {
  }
  return 0;
}
