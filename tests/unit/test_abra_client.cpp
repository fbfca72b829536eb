#include "ccci/abra_client.hpp"
#include "support.hpp"

using namespace ccci;

namespace {

// An AbraClient on the fake abra with a fresh ABRA_DIR and server "default".
struct FakeAbra {
  test::TemporaryDirectory folder;
  Redactor redactor;
  std::string log;
  AbraClient abra{
      AbraSettings{.executable = test::fake_abra().string(), .abra_dir = (folder.path() / "abra").string()},
      redactor, [this](std::string_view text) { (log += text) += '\n'; }};

  FakeAbra() { abra.run({"server", "add", "--local"}); }
  std::filesystem::path env_file(const std::string& domain) const {
    return folder.path() / "abra/servers/default" / (domain + ".env");
  }
};

}  // namespace

TEST_SUITE("abra client") {
  TEST_CASE("command lines are shown as a shell would need them") {
    CHECK(format_command_line({"abra", "-n", "app", "new", "custom-html"}) == "abra -n app new custom-html");
    CHECK(format_command_line({"a b", "it's", ""}) == "'a b' 'it'\\''s' ''");
  }

  TEST_CASE("secret values are read from the table abra prints") {
    const std::string output =
        "┌──────────┬──────────┐\n│ NAME     │ VALUE    │\n├──────────┼──────────┤\n"
        "│ db_pass  │ s3cr3t1  │\n│ token    │ t0k3n    │\n└──────────┴──────────┘\n";
    using Secrets = std::vector<std::pair<std::string, std::string>>;
    CHECK(parse_generated_secrets(output).secrets == Secrets{{"db_pass", "s3cr3t1"}, {"token", "t0k3n"}});
    CHECK(parse_generated_secrets(output).understood);
    CHECK(parse_generated_secrets("| NAME | VALUE |\n| a | b |\n").secrets == Secrets{{"a", "b"}});
    CHECK(parse_generated_secrets("WARN no secrets to generate\n").secrets.empty());
    CHECK(parse_generated_secrets("WARN no secrets to generate\n").understood);
  }

  TEST_CASE("a coloured secrets table, as abra prints it on a terminal, is read whole") {
    // Captured shape: bold header cells, coloured log level, box-drawn borders.
    const std::string output =
        "\x1b[1;36mINFO\x1b[0m generating secrets for nextcloud\n"
        "┌────────────────┬──────────────────────────────────┐\n"
        "│ \x1b[1mNAME          \x1b[0m │ \x1b[1mVALUE                           \x1b[0m │\n"
        "├────────────────┼──────────────────────────────────┤\n"
        "│ admin_password │ 9f8e7d6c5b4a39281706f5e4d3c2b1a0 │\n"
        "│ db_password    │ 0a1b2c3d4e5f60718293a4b5c6d7e8f9 │\n"
        "└────────────────┴──────────────────────────────────┘\n";
    const auto parsed = parse_generated_secrets(output);
    CHECK(parsed.understood);
    REQUIRE(parsed.secrets.size() == 2);
    CHECK(parsed.secrets[1] ==
          std::pair<std::string, std::string>{"db_password", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"});
  }

  TEST_CASE("output that is not fully understood is flagged, so it is never logged") {
    // A table wrapped by a narrow terminal: the value is split over two rows.
    const std::string wrapped =
        "│ NAME        │ VALUE        │\n│ db_password │ 0a1b2c3d4e5f │\n60718293a4b5c6d7e8f9 │\n";
    CHECK_FALSE(parse_generated_secrets(wrapped).understood);
    CHECK_FALSE(parse_generated_secrets("db_password=0a1b2c3d\n").understood);  // no table at all
    CHECK_FALSE(parse_generated_secrets("│ NAME │ VALUE │\n│ a │ b │ c │\n").understood);
  }

  TEST_CASE("abra runs in a terminal, with -n and the client's ABRA_DIR") {
    FakeAbra fake;
    const std::string domain = "cust-abc123.cc-ci.test";
    fake.abra.app_new("custom-html", "default", domain);
    CHECK(std::filesystem::exists(fake.env_file(domain)));
    CHECK(fake.log.find("-n app new custom-html --server default --domain " + domain) != std::string::npos);
    CHECK(fake.log.find("-> exited 0") != std::string::npos);
  }

  TEST_CASE("without an ABRA_DIR of its own the client edits the env files abra itself would use") {
    FakeAbra fake;
    const std::string domain = "cust-def456.cc-ci.test";
    fake.abra.app_new("custom-html", "default", domain);
    Redactor redactor;
    AbraClient inheriting({.executable = test::fake_abra().string()}, redactor, [](std::string_view) {});
    {
      const test::ScopedEnvironment abra_dir("ABRA_DIR", (fake.folder.path() / "abra").string());
      CHECK(default_abra_dir() == fake.folder.path() / "abra");
      inheriting.set_env(domain, "EXTRA", "1");
    }
    CHECK(test::read_file(fake.env_file(domain)).find("EXTRA=1") != std::string::npos);
    const test::ScopedEnvironment no_abra_dir("ABRA_DIR", "");
    const test::ScopedEnvironment home("HOME", "/home/maintainer");
    CHECK(default_abra_dir() == std::filesystem::path("/home/maintainer/.abra"));
  }

  TEST_CASE("without a terminal the fake fails like abra 0.13, which is why the client uses one") {
    const auto result = run_command({.argv = {test::fake_abra().string(), "-n", "server", "ls"}});
    CHECK(result.exit_code == 1);
    CHECK(result.output.find("FATA inappropriate ioctl for device") != std::string::npos);
  }

  TEST_CASE("a FATA from abra is an AbraFailure carrying that line") {
    FakeAbra fake;
    CHECK_THROWS_WITH_AS(fake.abra.deploy("nope.cc-ci.test"),
                         doctest::Contains("FATA app nope.cc-ci.test does not exist"), AbraFailure);
  }

  TEST_CASE("an abra call that hangs is killed at the deadline and is a CommandError") {
    FakeAbra fake;
    test::ScopedEnvironment faults("FAKE_ABRA_FAULTS", "app.ls=hang");
    fake.abra.set_deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(400));
    CHECK_THROWS_WITH_AS(fake.abra.run({"app", "ls"}), doctest::Contains("timed out"), CommandError);
    fake.abra.set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
    CHECK_THROWS_WITH_AS(fake.abra.run({"app", "ls"}), doctest::Contains("no time left"), CommandError);
  }

  TEST_CASE("generated secrets never reach the log, and inserted ones neither") {
    FakeAbra fake;
    const std::string domain = "test-abc123.cc-ci.test";
    test::ScopedEnvironment secret_log("FAKE_ABRA_SECRET_LOG", (fake.folder.path() / "secrets.log").string());
    fake.abra.app_new("test-app", "default", domain);
    fake.abra.generate_secrets(domain);
    fake.abra.insert_secret(domain, "smtp_password", "v1", "inserted-value-42");
    const std::string values = test::read_file(fake.folder.path() / "secrets.log");
    REQUIRE(values.find("inserted-value-42") != std::string::npos);
    std::istringstream lines(values);
    int checked = 0;
    for (std::string value; std::getline(lines, value); ++checked)
      CHECK_MESSAGE(fake.log.find(value) == std::string::npos, "secret leaked into the log: " << value);
    CHECK(checked == 3);
    CHECK(fake.log.find("[REDACTED]") != std::string::npos);
    CHECK(fake.abra.secret("smtp_password") == "inserted-value-42");
    CHECK(values.find(fake.abra.secret("db_password")) != std::string::npos);
    CHECK_THROWS_AS(fake.abra.secret("no_such_secret"), CommandError);
  }

  TEST_CASE("undeploy and remove are idempotent") {
    FakeAbra fake;
    const std::string domain = "cust-idem01.cc-ci.test";
    CHECK_FALSE(fake.abra.remove(domain));
    fake.abra.app_new("custom-html", "default", domain);
    CHECK_FALSE(fake.abra.undeploy(domain));
    fake.abra.generate_secrets(domain);
    fake.abra.deploy(domain);
    CHECK(fake.abra.undeploy(domain));
    CHECK(fake.abra.remove(domain));
    CHECK_FALSE(std::filesystem::exists(fake.env_file(domain)));
  }

  TEST_CASE("set_env edits the app's env file in place, or appends") {
    FakeAbra fake;
    const std::string domain = "test-env001.cc-ci.test";
    fake.abra.app_new("test-app", "default", domain);
    fake.abra.set_env(domain, "LETS_ENCRYPT_ENV", "");
    fake.abra.set_env(domain, "ENABLE_REGISTRATION", "true");
    const std::string env = test::read_file(fake.env_file(domain));
    CHECK(env.find("LETS_ENCRYPT_ENV=\n") != std::string::npos);
    CHECK(env.find("LETS_ENCRYPT_ENV=production") == std::string::npos);
    CHECK(env.find("ENABLE_REGISTRATION=true\n") != std::string::npos);
    CHECK_THROWS_AS(fake.abra.set_env("nope.cc-ci.test", "A", "b"), AbraFailure);
    fake.abra.remove(domain);
  }

  TEST_CASE("a dry client only describes its commands") {
    Redactor redactor;
    std::vector<std::string> plan;
    AbraClient dry(
        {.executable = "abra"}, redactor, [](std::string_view) {},
        [&](std::string_view line) { plan.emplace_back(line); });
    dry.app_new("custom-html", "default", "cust-000000.example.test");
    dry.deploy("cust-000000.example.test");
    REQUIRE(plan.size() == 2);
    CHECK(plan[0] == "abra -n app new custom-html --server default --domain cust-000000.example.test");
    CHECK(plan[1] == "abra -n app deploy cust-000000.example.test");
  }
}
