// Fuzzes the compose reader with what a pull request controls: the input is
// both the env file and compose.yml. Whatever it holds, reading ends in a
// layout or a ComposeError (never another exception, a crash or a hang), and
// every service backupbot backs up is one of the recipe's services.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "recipe/compose.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ccci::EnvValues env;
  try {
    ccci::read_env_file(text, env);  // most YAML is no env file: then the compose reading goes on without it
  } catch (const ccci::ComposeError&) {
  }
  try {
    ccci::read_abra_sh_exports(text, env);
    env["STACK_NAME"] = "fuzz_ci_test";
    const auto reading = ccci::read_compose(
        [&](const std::string&) { return std::optional<std::string>(text); }, env, "fuzz_ci_test");
    for (const auto& backup : reading.layout.backups)
      if (std::find(reading.layout.services.begin(), reading.layout.services.end(), backup.service) ==
          reading.layout.services.end())
        __builtin_trap();
    (void)ccci::describe_backups(reading.layout);
  } catch (const ccci::ComposeError&) {
  }
  return 0;
}
