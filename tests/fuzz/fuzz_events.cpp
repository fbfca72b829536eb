// Fuzzes the host's reader of the child's event lines: whatever a misbehaving
// test process writes, the host neither crashes nor throws.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "run/events.hpp"

namespace {
struct Ignore final : ccci::LifecycleObserver {
  void phase_started(ccci::Phase, std::chrono::seconds) override {}
  void step_finished(const ccci::StepResult&) override {}
  void teardown_finished() override {}
  void kept(const std::string&) override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string file = "/tmp/cc-ci-fuzz-events-" + std::to_string(::getpid()) + ".jsonl";
  std::ofstream(file, std::ios::trunc | std::ios::binary)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  Ignore observer;
  ccci::EventReader reader(file);
  (void)reader.drain(observer);
  (void)reader.drain(observer);
  return 0;
}
