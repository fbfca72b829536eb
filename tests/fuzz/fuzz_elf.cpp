// Fuzzes the ELF reader that learns a plugin's ABI version without loading
// it: any file is a version or a PluginError, never an out-of-bounds read.
#include <cstdint>
#include <string_view>

#include "run/plugin_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)ccci::read_abi_version_from(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.so");
  } catch (const ccci::PluginError&) {
  }
  return 0;
}
