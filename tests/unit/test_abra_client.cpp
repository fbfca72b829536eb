#include <fstream>

#include "ccci/abra_client.hpp"
#include "ccci/redactor.hpp"
#include "support.hpp"

using namespace ccci;
namespace fs = std::filesystem;

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

  TEST_CASE("every table style abra's libraries draw is read, heavy first") {
    using Secrets = std::vector<std::pair<std::string, std::string>>;
    const Secrets expected{{"db_password", "0a1b2c"}, {"api_token", "t0k3n"}};
    // abra 0.10+ (lipgloss): heavy borders, centred headers, as in a real `abra app ls`.
    const std::string heavy =
        "┏━━━━━━━━━━━━━┳━━━━━━━━┓\n┃    NAME     ┃ VALUE  ┃\n┣━━━━━━━━━━━━━╋━━━━━━━━┫\n"
        "┃ db_password ┃ 0a1b2c ┃\n┃ api_token   ┃ t0k3n  ┃\n┗━━━━━━━━━━━━━┻━━━━━━━━┛\n";
    const std::string light =
        "┌─────────────┬────────┐\n│ NAME        │ VALUE  │\n├─────────────┼────────┤\n"
        "│ db_password │ 0a1b2c │\n│ api_token   │ t0k3n  │\n└─────────────┴────────┘\n";
    const std::string dbl =
        "╔═════════════╦════════╗\n║ NAME        ║ VALUE  ║\n╠═════════════╬════════╣\n"
        "║ db_password ║ 0a1b2c ║\n║ api_token   ║ t0k3n  ║\n╚═════════════╩════════╝\n";
    const std::string rounded =
        "╭─────────────┬────────╮\n│ NAME        │ VALUE  │\n├─────────────┼────────┤\n"
        "│ db_password │ 0a1b2c │\n│ api_token   │ t0k3n  │\n╰─────────────┴────────╯\n";
    const std::string ascii =
        "+-------------+--------+\n| NAME        | VALUE  |\n+-------------+--------+\n"
        "| db_password | 0a1b2c |\n| api_token   | t0k3n  |\n+-------------+--------+\n";
    const std::string markdown =
        "| NAME | VALUE |\n|:-----|------:|\n| db_password | 0a1b2c |\n| api_token | t0k3n |\n";
    const std::string coloured_heavy =
        "\x1b[1;36mINFO\x1b[0m generating secrets\n┏━━━━━━━━━━━━━┳━━━━━━━━┓\n"
        "┃ \x1b[1m   NAME    \x1b[0m ┃ \x1b[1mVALUE \x1b[0m ┃\n┣━━━━━━━━━━━━━╋━━━━━━━━┫\n"
        "┃ db_password ┃ 0a1b2c ┃\n┃ api_token   ┃ t0k3n  ┃\n┗━━━━━━━━━━━━━┻━━━━━━━━┛\n";
    for (const auto& styled :
         std::vector<std::pair<std::string, std::string>>{{"heavy", heavy},
                                                          {"light", light},
                                                          {"double", dbl},
                                                          {"rounded", rounded},
                                                          {"ascii", ascii},
                                                          {"markdown", markdown},
                                                          {"coloured heavy", coloured_heavy}}) {
      const std::string& style = styled.first;  // a plain name: doctest's CAPTURE takes it in a lambda
      CAPTURE(style);
      const auto parsed = parse_generated_secrets(styled.second);
      CHECK(parsed.understood);
      CHECK(parsed.secrets == expected);
    }
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

  TEST_CASE("a compose overlay is appended to COMPOSE_FILE once and hidden from git") {
    FakeAbra fake;
    const std::string domain = "test-ovl001.cc-ci.test";
    fake.abra.app_new("test-app", "default", domain);
    const std::filesystem::path overlay = fake.folder.path() / "test-app.compose.yml";
    std::ofstream(overlay) << "services: {}\n";
    CHECK_FALSE(fake.abra.env_value(domain, "COMPOSE_FILE").has_value());
    // Quoted, as recipes write it: the overlay is chained after it, as a recipe adds a file.
    fake.abra.set_env(domain, "COMPOSE_FILE", "\"compose.yml\"  # as a maintainer set it");
    fake.abra.add_compose_overlay(domain, "test-app", overlay);
    fake.abra.add_compose_overlay(domain, "test-app", overlay);  // a second deploy adds nothing
    const std::string env = test::read_file(fake.env_file(domain));
    CHECK(env.find("\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.cc-ci.yml\"\n") != std::string::npos);
    CHECK(env.find("$COMPOSE_FILE:compose.cc-ci.yml") == env.rfind("$COMPOSE_FILE:compose.cc-ci.yml"));
    const std::filesystem::path checkout = fake.folder.path() / "abra/recipes/test-app";
    CHECK(test::read_file(checkout / "compose.cc-ci.yml") == "services: {}\n");
    CHECK(test::read_file(checkout / ".git/info/exclude").ends_with("\n/compose.cc-ci.yml\n"));
    fake.abra.generate_secrets(domain);  // the fake deploys what COMPOSE_FILE names, or says which is missing
    CHECK(
        fake.abra.run({"app", "deploy", domain, "--chaos", "--no-domain-checks"}).find("deploy succeeded") !=
        std::string::npos);
    CHECK_THROWS_WITH_AS(fake.abra.install_compose_overlay("no-such-recipe", overlay),
                         doctest::Contains("no recipe checkout at"), CommandError);
    fake.abra.undeploy(domain);
    fake.abra.remove(domain);
    // An env file without a COMPOSE_FILE value has nothing to chain: compose.yml, then the overlay.
    const std::string bare = "test-ovl002.cc-ci.test";
    fake.abra.app_new("test-app", "default", bare);
    fake.abra.add_compose_overlay(bare, "test-app", overlay);
    CHECK(fake.abra.env_value(bare, "COMPOSE_FILE") == "\"compose.yml:compose.cc-ci.yml\"");
    fake.abra.remove(bare);
  }

  TEST_CASE("a dry client only describes its commands") {
    Redactor redactor;
    std::vector<std::string> plan;
    AbraClient dry(
        {.executable = "abra"}, redactor, [](std::string_view) {},
        [&](std::string_view line) { plan.emplace_back(line); });
    dry.app_new("custom-html", "default", "cust-000000.example.test");
    dry.deploy("cust-000000.example.test");
    REQUIRE(plan.size() == 3);
    // No release given: the checkout as it is, the way abra deploys unreleased code.
    CHECK(plan[0] ==
          "abra -n app new custom-html --server default --domain cust-000000.example.test --chaos");
    CHECK(plan[1] == "set LETS_ENCRYPT_ENV= in cust-000000.example.test.env");
    CHECK(plan[2] ==
          "abra -n app deploy cust-000000.example.test --chaos --no-domain-checks --no-converge-checks");
  }

  TEST_CASE("a release is created and deployed by version; abra's own checks are asked for only when set") {
    Redactor redactor;
    std::vector<std::string> plan;
    AbraClient dry(
        {.executable = "abra",
         .deploy = {.version = "1.6.0+1.25.3",
                    .domain_checks = true,
                    .converge_checks = true,
                    .lets_encrypt_env = "production"}},
        redactor, [](std::string_view) {}, [&](std::string_view line) { plan.emplace_back(line); });
    dry.app_new("custom-html", "default", "cust-000000.example.test");
    dry.deploy("cust-000000.example.test");
    dry.upgrade("cust-000000.example.test", "1.7.0+1.26.0");
    REQUIRE(plan.size() == 4);
    CHECK(plan[0] ==
          "abra -n app new custom-html 1.6.0+1.25.3 --server default --domain cust-000000.example.test");
    CHECK(plan[1] == "set LETS_ENCRYPT_ENV=production in cust-000000.example.test.env");
    CHECK(plan[2] == "abra -n app deploy cust-000000.example.test");
    CHECK(plan[3] == "abra -n app upgrade cust-000000.example.test 1.7.0+1.26.0");
  }

  TEST_CASE("the fake refuses what real abra refuses: unreleased code or local changes without --chaos") {
    FakeAbra fake;
    const std::string domain = "cust-chaos1.cc-ci.test";
    fake.abra.app_new("custom-html", "default", domain);  // no release: the checkout, at an unreleased commit
    fake.abra.generate_secrets(domain);
    CHECK_THROWS_WITH_AS(fake.abra.run({"app", "deploy", domain, "--no-domain-checks"}),
                         doctest::Contains("not a published version; deploy it with --chaos"), AbraFailure);
    CHECK_THROWS_WITH_AS(fake.abra.run({"app", "deploy", domain, "--chaos"}),
                         doctest::Contains("unable to resolve cust-chaos1.cc-ci.test"), AbraFailure);
    fake.abra.deploy(domain);  // --chaos --no-domain-checks --no-converge-checks
    CHECK(fake.abra.undeploy(domain));
    CHECK(fake.abra.remove(domain));
  }

  TEST_CASE("abra's answer on a server without a backupbot is NoBackupbot; other refusals are not") {
    FakeAbra fake;  // `server add` deploys no backupbot, as on a real server
    const std::string domain = "cust-nobot1.cc-ci.test";
    fake.abra.app_new("custom-html", "default", domain);
    fake.abra.deploy(domain);
    CHECK_THROWS_WITH_AS(fake.abra.backup(domain),
                         doctest::Contains("FATA no backupbot discovered, is it deployed?"), NoBackupbot);
    CHECK_THROWS_AS(fake.abra.restore(domain), NoBackupbot);
    // With a backupbot (the file swarm's record of one), the same server backs up and restores.
    std::ofstream(fake.folder.path() / "abra/servers/default/.swarm/backupbot.json")
        << R"({"service": "backup-bot-two_app", "labels": {"coop-cloud.backupbot.enabled": "true"}})";
    CHECK_NOTHROW(fake.abra.backup(domain));
    CHECK_NOTHROW(fake.abra.restore(domain));
    // Any other refusal stays a plain AbraFailure: it is the recipe's, not the server's.
    CHECK(fake.abra.undeploy(domain));
    bool plain = false;
    try {
      fake.abra.backup(domain);
    } catch (const NoBackupbot&) {
    } catch (const AbraFailure& failure) {
      plain = std::string(failure.what()).find("is not deployed") != std::string::npos;
    }
    CHECK(plain);
    CHECK(fake.abra.remove(domain));
  }

  TEST_CASE("the fake stops a release deploy as abra does, in abra's words (tests/data/abra-output)") {
    const fs::path samples = test::environment_path("CC_CI_SOURCE") / "tests" / "data" / "abra-output";
    // The part of each recorded line that is abra's own, not the recipe's or the path's.
    const std::string changes = test::read_file(samples / "app-deploy-local-changes.txt");
    const std::string lint = test::read_file(samples / "app-deploy-release-lint-fatal.txt");
    const auto after = [](const std::string& line, const std::string& from) {
      return line.substr(line.find(from), line.find_last_not_of('\n') + 1 - line.find(from));
    };
    FakeAbra fake;
    const std::string domain = "cust-rel001.cc-ci.test";
    fake.abra.run({"app", "new", "custom-html", "1.6.0+1.25.3", "--server", "default", "--domain", domain});
    fake.abra.generate_secrets(domain);
    const fs::path checkout = fake.folder.path() / "abra" / "recipes" / "custom-html";
    // A file only .git/info/exclude hides is a local change: whether abra's
    // git library honours that file is unverified, so the fake does not.
    std::ofstream(checkout / "compose.ci.yml") << "services: {}\n";
    std::ofstream(checkout / ".git" / "info" / "exclude", std::ios::app) << "/compose.ci.yml\n";
    CHECK_THROWS_WITH_AS(fake.abra.run({"app", "deploy", domain, "--no-domain-checks"}),
                         doctest::Contains(after(changes, " has locally unstaged changes?").c_str()),
                         AbraFailure);
    fs::remove(checkout / "compose.ci.yml");
    // A failed error rule stops a release deploy, after the lint abra runs first.
    std::ofstream(checkout / ".fake", std::ios::app) << "lint_fail=R014\n";
    run_command({.argv = {"git", "-C", checkout.string(), "-c", "user.name=t", "-c", "user.email=t@t",
                          "commit", "--quiet", "--all", "--message", "lint fails"}});
    run_command(
        {.argv = {"git", "-C", checkout.string(), "tag", "--annotate", "1.6.1+1.25.3", "--message", "r"}});
    CHECK_THROWS_WITH_AS(
        fake.abra.run({"app", "deploy", domain, "1.6.1+1.25.3", "--no-domain-checks"}),
        doctest::Contains(
            after(lint, "configs: \"invalid lightweight tags\" failed lint checks (R014)").c_str()),
        AbraFailure);
    CHECK(fake.abra.remove(domain));
  }

  TEST_CASE("every wording abra uses for an app that is already gone counts as gone") {
    for (const char* wording : {"", "alt"}) {
      CAPTURE(wording);
      FakeAbra fake;
      const test::ScopedEnvironment words("FAKE_ABRA_WORDING", wording);
      const std::string domain = "cust-gone01.cc-ci.test";
      CHECK_FALSE(fake.abra.undeploy(domain));  // no env file
      CHECK_FALSE(fake.abra.remove(domain));
      fake.abra.app_new("custom-html", "default", domain);
      CHECK_FALSE(fake.abra.undeploy(domain));  // not deployed
      CHECK(fake.abra.remove(domain));
      CHECK_FALSE(std::filesystem::exists(fake.env_file(domain)));
    }
  }
}

TEST_SUITE("recipe lint table") {
  // As `abra recipe lint` prints it (the fake's table; columns as remembered from abra's source).
  const std::string kFailing =
      "┌──────┬─────────────────────────────────────┬──────────┬───────────┬─────────┬──────────┐\n"
      "│ REF  │ RULE                                │ SEVERITY │ SATISFIED │ SKIPPED │ RESOLVE  │\n"
      "├──────┼─────────────────────────────────────┼──────────┼───────────┼─────────┼──────────┤\n"
      "│ R001 │ compose config has expected version │ warning  │ ✅        │ ❌      │          │\n"
      "│ R006 │ has published catalogue version     │ warning  │ ❌        │ ✅      │          │\n"
      "│ R010 │ traefik routing enabled             │ error    │ ❌        │ ❌      │ see docs │\n"
      "│ R014 │ invalid lightweight tags            │ error    │ ✅        │ ❌      │          │\n"
      "└──────┴─────────────────────────────────────┴──────────┴───────────┴─────────┴──────────┘\n"
      "WARN critical errors present in custom-html config\n";

  TEST_CASE("rules are read with their severity, and failed error rules are found although abra exits 0") {
    const LintReport report = parse_lint_table(kFailing);
    CHECK(report.understood);
    REQUIRE(report.rules.size() == 4);
    CHECK(report.rules[0] == LintRule{.id = "R001",
                                      .rule = "compose config has expected version",
                                      .severity = "warning",
                                      .satisfied = true,
                                      .skipped = false});
    CHECK(report.rules[1].skipped);
    const auto failed = report.failed_errors();
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].id == "R010");
  }

  TEST_CASE("a passing table has no failed error rule; colour is no obstacle") {
    std::string passing = kFailing;
    passing.replace(passing.find("│ error    │ ❌"), std::string("│ error    │ ❌").size(), "│ error    │ ✅");
    passing.replace(passing.find("RULE"), 4, "\x1b[1mRULE\x1b[0m");
    const LintReport report = parse_lint_table(passing);
    CHECK(report.understood);
    CHECK(report.rules.size() == 4);
    CHECK(report.failed_errors().empty());
  }

  TEST_CASE("a table that cannot be read whole is flagged, never taken as passing") {
    CHECK_FALSE(parse_lint_table("").understood);
    CHECK_FALSE(parse_lint_table("FATA unable to lint: no such recipe\n").understood);
    // Wrapped by a narrow terminal: a row in pieces.
    std::string wrapped = kFailing;
    wrapped.insert(wrapped.find("│ R010") + 40, "\n");
    CHECK_FALSE(parse_lint_table(wrapped).understood);
    // A satisfied cell in words no one taught the parser.
    std::string unknown = kFailing;
    unknown.replace(unknown.find("✅"), std::string("✅").size(), "maybe");
    CHECK_FALSE(parse_lint_table(unknown).understood);
  }

  TEST_CASE("abra's output as recorded in tests/data/abra-output is read as abra means it") {
    const fs::path samples = test::environment_path("CC_CI_SOURCE") / "tests" / "data" / "abra-output";
    using Secrets = std::vector<std::pair<std::string, std::string>>;
    const Secrets secrets{
        {"db_password", "Xq3vTz9LmA0pRk2sWd8yNc4b"},
        {"session_cookie_key", "f0d1c2b3a4958677e6d5c4b3a2918070f0e1d2c3b4a5968778695a4b3c2d1e0f"},
        {"sign_salt", "aT7Kp2Qm9Xw4Rz1Ly8Vn5Hc3"}};
    for (const char* name : {"app-secret-generate.heavy.txt", "app-secret-generate.heavy.ansi.txt"}) {
      CAPTURE(name);
      const auto generated = parse_generated_secrets(test::read_file(samples / name));
      CHECK(generated.understood);
      CHECK(generated.secrets == secrets);
    }
    const LintReport failing = parse_lint_table(test::read_file(samples / "recipe-lint.heavy.txt"));
    CHECK(failing.understood);
    CHECK(failing.rules.size() == 16);
    CHECK(failing.rules.at(0).severity == "warn");
    CHECK(failing.rules.at(5).skipped);
    REQUIRE(failing.failed_errors().size() == 1);
    CHECK(failing.failed_errors()[0].id == "R014");
    const LintReport clean = parse_lint_table(test::read_file(samples / "recipe-lint.clean.heavy.txt"));
    CHECK(clean.understood);
    CHECK(clean.rules.size() == 16);
    CHECK(clean.failed_errors().empty());
  }

  TEST_CASE("the fake's lint says so in its table and exits 0, as abra does") {
    FakeAbra fake;
    const LintReport clean = fake.abra.lint("custom-html");
    CHECK(clean.understood);
    CHECK(clean.rules.size() == 16);
    CHECK(clean.failed_errors().empty());
    // A local change in the checkout fails R016 (no unstaged changes), an error rule.
    std::ofstream(fake.folder.path() / "abra/recipes/custom-html/new-file") << "change\n";
    const LintReport dirty = fake.abra.lint("custom-html");
    REQUIRE(dirty.failed_errors().size() == 1);
    CHECK(dirty.failed_errors()[0].id == "R016");
  }
}
