#include <regex>
#include <set>

#include "config/settings.hpp"
#include "recipe/names.hpp"
#include "run/runner.hpp"
#include "support.hpp"

using namespace ccci;

namespace {
std::filesystem::path write_config(const test::TemporaryDirectory& folder, const std::string& text) {
  auto path = folder.path() / "cc-ci.json";
  std::ofstream(path) << text;
  return path;
}
GivenSettings flags(std::initializer_list<std::pair<std::string, std::vector<std::string>>> given,
                    std::optional<std::string> config = std::nullopt) {
  GivenSettings settings{.config_file = std::move(config)};
  for (const auto& [key, values] : given) settings.flags[key] = values;
  return settings;
}

Settings from_config(const test::TemporaryDirectory& folder, const std::string& text) {
  return resolve_settings({.config_file = write_config(folder, text).string()}, {});
}
}  // namespace

TEST_SUITE("settings") {
  TEST_CASE("flags win over the environment, which wins over the config file") {
    test::TemporaryDirectory folder;
    const auto config = write_config(folder, R"({"abra": "/from/config", "jobs": 3, "server": ["a", "b"],
                                                "domain_suffix": "config.test", "keep": "always"})");
    test::ScopedEnvironment abra("CC_CI_ABRA", "/from/env");
    test::ScopedEnvironment suffix("CC_CI_DOMAIN_SUFFIX", "env.test");
    const Settings settings =
        resolve_settings(flags({{"domain_suffix", {"flag.test"}}}, config.string()), {"/default/plugins"});
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

  TEST_CASE("the browser by default: chromium-headless-shell when it is on PATH, else chromium") {
    const test::TemporaryDirectory bin;
    {
      const test::ScopedEnvironment path("PATH", bin.path().string());
      CHECK(resolve_settings({}, {}).browser == "chromium");
      const auto shell = bin.path() / "chromium-headless-shell";
      std::ofstream(shell) << "#!/bin/sh\n";
      std::filesystem::permissions(shell, std::filesystem::perms::owner_all);
      CHECK(resolve_settings({}, {}).browser == "chromium-headless-shell");
      CHECK(resolve_settings(flags({{"browser", {"/opt/chromium"}}}), {}).browser == "/opt/chromium");
    }
  }

  TEST_CASE("--lanes picks lanes in their own order; an unknown lane is refused by name") {
    CHECK(resolve_settings({}, {}).lanes == std::vector<Lane>{Lane::fresh, Lane::upgrade, Lane::lint});
    CHECK(resolve_settings(flags({{"lanes", {"lint,fresh"}}}), {}).lanes ==
          std::vector<Lane>{Lane::fresh, Lane::lint});
    CHECK(resolve_settings(flags({{"lanes", {"upgrade", "upgrade"}}}), {}).lanes ==
          std::vector<Lane>{Lane::upgrade});
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"lanes", {"fresh,upgarde"}}}), {}),
                         "--lanes: unknown lane \"upgarde\" (the lanes are fresh, upgrade and lint)",
                         UsageError);
  }

  TEST_CASE("every key of the settings table is accepted in the config file") {
    test::TemporaryDirectory folder;
    const Settings settings = from_config(folder, R"({"timeout": 60, "fail_fast": true, "retries": 2,
        "history": "old", "timeout_deploy": 5, "timeout_probe": 6, "timeout_teardown": 7, "jobs": 2,
        "connect_to": "::127.0.0.1:8443", "keep": "on-failure", "report_dir": "r", "plugins": ["p"],
        "abra": "a", "server": "s:2", "domain_suffix": "ci.test"})");
    CHECK(settings.run_timeout == std::chrono::seconds(60));
    CHECK(settings.fail_fast);
    CHECK(settings.retries == 2);
    CHECK(settings.history == "old");
    CHECK(settings.timeouts.teardown == std::chrono::seconds(7));
    CHECK(settings.servers == std::vector<ServerSlot>{{"s", 2}});
    // And the table names each key once.
    std::set<std::string_view> keys;
    for (const auto& spec : settings_table()) CHECK(keys.insert(spec.key).second);
  }

  TEST_CASE("./cc-ci.json in the working directory is never read unless named") {
    test::TemporaryDirectory folder;
    write_config(folder, R"({"jobs": 7})");
    const auto previous = std::filesystem::current_path();
    std::filesystem::current_path(folder.path());
    const Settings settings = resolve_settings({}, {});
    std::filesystem::current_path(previous);
    CHECK(settings.jobs == 1);
  }

  TEST_CASE("integers are whole numbers in range, wherever they come from") {
    test::TemporaryDirectory folder;
    for (const char* bad : {R"({"jobs": 2.7})", R"({"jobs": true})", R"({"jobs": "2"})", R"({"jobs": 1e20})"})
      CHECK_THROWS_WITH_AS(from_config(folder, bad), doctest::Contains("must be a whole number"), UsageError);
    CHECK_THROWS_WITH_AS(from_config(folder, R"({"jobs": 4294967297})"), doctest::Contains("from 1 to 256"),
                         UsageError);
    CHECK_THROWS_WITH_AS(from_config(folder, R"({"fail_fast": "yes"})"), doctest::Contains("true or false"),
                         UsageError);
    for (const char* bad : {"0", "2.7", "", "9223372036854775807", "99999999999999999999", "-1", "3x"})
      CHECK_THROWS_WITH_AS(resolve_settings(flags({{"timeout", {bad}}}), {}),
                           doctest::Contains("--timeout: expected a whole number from 1 to 604800"),
                           UsageError);
    test::ScopedEnvironment jobs("CC_CI_JOBS", "0");
    CHECK_THROWS_WITH_AS(resolve_settings({}, {}), doctest::Contains("CC_CI_JOBS"), UsageError);
  }

  TEST_CASE("bad settings are one clear UsageError each") {
    test::TemporaryDirectory folder;
    CHECK_THROWS_WITH_AS(from_config(folder, R"({"jbos": 2})"), doctest::Contains("unknown key \"jbos\""),
                         UsageError);
    CHECK_THROWS_WITH_AS(from_config(folder, "[1, 2]"), doctest::Contains("is not a JSON object"),
                         UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings({.config_file = (folder.path() / "missing.json").string()}, {}),
                         doctest::Contains("does not exist"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"jobs", {"0"}}}), {}), doctest::Contains("--jobs"),
                         UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"keep", {"sometimes"}}}), {}),
                         doctest::Contains("never, on-failure or always"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"connect_to", {"127.0.0.1:443"}}}), {}),
                         doctest::Contains("HOST:PORT:CONNECT_HOST:CONNECT_PORT"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"connect_to", {"::127.0.0.1:99999"}}}), {}),
                         doctest::Contains("not a port"), UsageError);
    CHECK_NOTHROW(validate_connect_to("app.test:443:[::1]:8443"));
    CHECK_NOTHROW(validate_connect_to(":::"));
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"ca_file", {"/no/such/ca.pem"}}}), {}),
                         doctest::Contains("no such file"), UsageError);
    const auto not_pem = write_config(folder, "not a certificate");
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"ca_file", {not_pem.string()}}}), {}),
                         doctest::Contains("no PEM certificate"), UsageError);
  }

  TEST_CASE("the domain suffix is a short lower-case DNS name, never a path") {
    for (const char* bad : {"/../../../../etc/passwd", "a/b.test", "CI.example", "a..b", "-a.test", "a-.test",
                            "a_b.test", "x.test/", "a b.test"})
      CHECK_THROWS_WITH_AS(resolve_settings(flags({{"domain_suffix", {bad}}}), {}),
                           doctest::Contains("--domain-suffix"), UsageError);
    const std::string long_suffix = std::string(50, 'a') + ".test";
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"domain_suffix", {long_suffix}}}), {}),
                         doctest::Contains("64-character"), UsageError);
    CHECK(resolve_settings(flags({{"domain_suffix", {".ci.example.org"}}}), {}).domain_suffix ==
          "ci.example.org");
  }

  TEST_CASE("each recipe may name one target: a ref or a local checkout") {
    test::TemporaryDirectory folder;
    const Settings given = resolve_settings(
        flags({{"ref", {"custom-html=main", "gitea=1.2.0+1.21.4"}}, {"recipe_dir", {"hedgedoc=/work/pr"}}}),
        {});
    REQUIRE(given.targets.size() == 3);
    CHECK(given.targets.at("custom-html").ref == "main");
    CHECK_FALSE(given.targets.at("custom-html").recipe_dir);
    CHECK(given.targets.at("gitea").ref == "1.2.0+1.21.4");  // only the first '=' separates
    CHECK(given.targets.at("hedgedoc").recipe_dir == std::filesystem::path("/work/pr"));
    const Settings configured =
        from_config(folder, R"({"ref": ["custom-html=abc123"], "recipes_from": "/srv/recipes",
                                "lets_encrypt_env": "staging", "domain_checks": true, "converge_checks": true})");
    CHECK(configured.targets.at("custom-html").ref == "abc123");
    CHECK(configured.recipes_from == "/srv/recipes");
    CHECK(configured.deploy.lets_encrypt_env == "staging");
    CHECK(configured.deploy.domain_checks);
    CHECK(configured.deploy.converge_checks);
    // The defaults: no ACME, no DNS check, no convergence wait by abra; abra's clones.
    const test::ScopedEnvironment abra_dir("ABRA_DIR", "/var/lib/abra");
    const Settings defaults = resolve_settings({}, {});
    CHECK(defaults.deploy.lets_encrypt_env.empty());
    CHECK_FALSE(defaults.deploy.domain_checks);
    CHECK_FALSE(defaults.deploy.converge_checks);
    CHECK(defaults.recipes_from == "/var/lib/abra/recipes");
    for (const auto& [bad, fragment] :
         std::vector<std::pair<std::string, std::string>>{{"custom-html", "expected RECIPE=REF"},
                                                          {"=main", "expected RECIPE=REF"},
                                                          {"custom-html=", "expected RECIPE=REF"}})
      CHECK_THROWS_WITH_AS(resolve_settings(flags({{"ref", {bad}}}), {}), doctest::Contains(fragment.c_str()),
                           UsageError);
    CHECK_THROWS_WITH_AS(
        resolve_settings(flags({{"ref", {"custom-html=main"}}, {"recipe_dir", {"custom-html=/x"}}}), {}),
        doctest::Contains("already has a target"), UsageError);
  }

  TEST_CASE("servers may carry a capacity") {
    CHECK(parse_server("default") == ServerSlot{"default", 0});
    CHECK(parse_server("swarm-1.example.org:3") == ServerSlot{"swarm-1.example.org", 3});
    CHECK_THROWS_WITH_AS(parse_server("s:0"), doctest::Contains("from 1 to 1000"), UsageError);
    CHECK_THROWS_WITH_AS(parse_server("s:x"), doctest::Contains("CAPACITY"), UsageError);
    CHECK_THROWS_WITH_AS(parse_server(":2"), doctest::Contains("needs a name"), UsageError);
    CHECK_THROWS_WITH_AS(parse_server("../x"), doctest::Contains("not a server name"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"server", {"a", "a:2"}}}), {}),
                         doctest::Contains("given twice"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_settings(flags({{"retries", {"11"}}}), {}), doctest::Contains("--retries"),
                         UsageError);
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
