// Test-only: a shared library that is not a cc-ci plugin (no CCCI_PLUGIN).
extern "C" __attribute__((visibility("default"))) int not_a_plugin() {
  return 42;
}
