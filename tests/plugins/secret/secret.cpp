// Test-only: a plugin that handles secrets carelessly, to prove that cc-ci
// redacts them anyway: it inserts one (value from CCCI_TEST_SECRET), logs it,
// prints it (and its JSON form) to stdout and stderr, and fails a check with it
// in the message.
#include <ccci/harness.hpp>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

namespace {
std::string test_secret() {
  const char* value = std::getenv("CCCI_TEST_SECRET");
  return value ? value : "";
}

class Secret final : public ccci::RecipeTest {
  void configure(ccci::Context& ctx) override {
    ctx.step("insert smtp_password", [&] { ctx.abra().insert_secret("smtp_password", "v1", test_secret()); });
  }
  void probe(ccci::Context& ctx) override {
    ctx.check("logs the secret", [&] { ctx.log("the smtp password is " + test_secret()); });
    ctx.check("prints the secret and its JSON form", [&] {
      std::cout << "stdout: the smtp password is " << test_secret() << std::endl;
      std::cerr << "stderr: " << nlohmann::json{{"password", test_secret()}}.dump() << std::endl;
    });
    ctx.check("fails with the secret in its message",
              [&] { throw ccci::CheckFailure("login with " + test_secret() + " was refused"); });
  }
};
}  // namespace

CCCI_PLUGIN(Secret, "secret-test")
