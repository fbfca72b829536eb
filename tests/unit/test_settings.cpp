#include <regex>

#include "runner.hpp"
#include "settings.hpp"
#include "support.hpp"

using namespace ccci;

namespace {
std::filesystem::path write_config(const test::TemporaryDirectory& folder, const std::string& text) {
  auto path = folder.path() / "cc-ci.json";
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_SUITE("settings") {
  TEST_CASE("flags win over the environment, which wins over the config file") {
    test::TemporaryDirectory folder;
    const auto config = write_config(folder, R"({"abra": "/from/config", "jobs": 3, "server": ["a", "b"],
                                                "domain_suffix": "config.test", "keep": "always"})");
    test::ScopedEnvironment abra("CC_CI_ABRA", "/from/env");
    test::ScopedEnvironment suffix("CC_CI_DOMAIN_SUFFIX", "env.test");
    GivenSettings given{.config_file = config.string()};
    given.domain_suffix = "flag.test";
    const Settings settings = resolve_settings(given, {"/default/plugins"});
    CHECK(settings.abra == "/from/env");
    CHECK(settings.domain_suffix == "flag.test");
    CHECK(settings.jobs == 3);
    CHECK(settings.servers == std::vector<ServerSlot>{{"a", 0}, {"b", 0}});
    CHECK(settings.keep == KeepPolicy::always);
    REQUIRE(settings.plugin_paths.size() == 1);
    CHECK(settings.plugin_paths[0] == "/default/plugins");
  }

  TEST_CASE("defaults: server default, one job, never keep, ./cc-ci-report") {
    const Settings settings = resolve_settings({}, {});
    CHECK(settings.servers == std::vector<ServerSlot>{{"default", 0}});
    CHECK(settings.retries == 0);
    CHECK_FALSE(settings.fail_fast);
    CHECK_FALSE(settings.run_timeout);
    CHECK(settings.jobs == 1);
    CHECK(settings.keep == KeepPolicy::never);
    CHECK(settings.report_dir == "cc-ci-report");
  }

  TEST_CASE("bad settings are one clear UsageError each") {
    test::TemporaryDirectory folder;
    CHECK_THROWS_WITH_AS(
        resolve_settings({.config_file = write_config(folder, R"({"jbos": 2})").string()}, {}),
        doctest::Contains("unknown key \"jbos\""), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings({.config_file = write_config(folder, "[1, 2]").string()}, {}),
                         doctest::Contains("is not a JSON object"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings({.config_file = (folder.path() / "missing.json").string()}, {}),
                         doctest::Contains("does not exist"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings({.jobs = 0}, {}), doctest::Contains("--jobs"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings({.keep = "sometimes"}, {}),
                         doctest::Contains("never, on-failure or always"), UsageError);
    GivenSettings connect;
    connect.connect_to = {"127.0.0.1:443"};
    CHECK_THROWS_WITH_AS(resolve_settings(connect, {}),
                         doctest::Contains("HOST:PORT:CONNECT_HOST:CONNECT_PORT"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings({.ca_file = "/no/such/ca.pem"}, {}),
                         doctest::Contains("no such file"), UsageError);
  }

  TEST_CASE("servers may carry a capacity") {
    CHECK(parse_server("default") == ServerSlot{"default", 0});
    CHECK(parse_server("swarm-1.example.org:3") == ServerSlot{"swarm-1.example.org", 3});
    CHECK_THROWS_WITH_AS(parse_server("s:0"), doctest::Contains("from 1 to 1000"), UsageError);
    CHECK_THROWS_WITH_AS(parse_server("s:x"), doctest::Contains("CAPACITY"), UsageError);
    CHECK_THROWS_WITH_AS(parse_server(":2"), doctest::Contains("needs a name"), UsageError);
    GivenSettings twice;
    twice.servers = {"a", "a:2"};
    CHECK_THROWS_WITH_AS(resolve_settings(twice, {}), doctest::Contains("given twice"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings({.retries = 11}, {}), doctest::Contains("--retries"), UsageError);
  }

  TEST_CASE("timeouts: the user's, else the plugin's, else the defaults") {
    const Timeouts plugin{.deploy = std::chrono::seconds(1200)};
    TimeoutOverrides user;
    user.probe = std::chrono::seconds(5);
    const PhaseTimeouts resolved = resolve_timeouts(plugin, user);
    CHECK(resolved.deploy.count() == 1200);
    CHECK(resolved.probe.count() == 5);
    CHECK(resolved.teardown == PhaseTimeouts{}.teardown);
  }

  TEST_CASE("app domains are one short DNS label under the suffix, and unique") {
    const std::regex shape(R"(cust-[0-9a-f]{6}\.ci\.example\.org)");
    const std::string first = make_domain("custom-html", "ci.example.org");
    CHECK(std::regex_match(first, shape));
    CHECK(make_domain("custom-html", "ci.example.org") != first);
    CHECK(make_domain("a-b", "x.test").starts_with("a-b-"));
    const std::string dashed = make_domain("abc-def", "x.test");  // "abc-" loses its dash: no "--"
    CHECK(dashed.starts_with("abc-"));
    CHECK(dashed.find("--") == std::string::npos);
  }
}
