#include "plugin_loader.hpp"
#include "support.hpp"

using namespace ccci;

namespace {
std::filesystem::path test_plugin(const char* folder) {
  return test::environment_path("CC_CI_TEST_PLUGINS") / folder;
}
std::filesystem::path recipes() {
  return test::environment_path("CC_CI_RECIPES");
}
}  // namespace

TEST_SUITE("plugin loader") {
  TEST_CASE("the bundled plugins load, sorted by recipe, and create tests") {
    const auto plugins = load_plugins({recipes()});
    std::vector<std::string> names;
    for (const auto& plugin : plugins) names.push_back(plugin.recipe());
    CHECK(names == std::vector<std::string>{"custom-html", "gitea", "hedgedoc", "keycloak", "matrix-synapse",
                                            "nextcloud"});
    REQUIRE_FALSE(plugins.empty());
    auto test = plugins[0].create();
    REQUIRE(test != nullptr);
    CHECK(test->info().tags == std::vector<std::string>{"static", "nginx"});
  }

  TEST_CASE("a test object keeps its library loaded after the plugin handle is gone") {
    std::shared_ptr<RecipeTest> test;
    {
      const Plugin plugin(recipes() / "custom-html" / "custom-html.so");
      test = plugin.create();
    }
    CHECK(test->info().ready.path == "/");  // would crash were the code unmapped
  }

  TEST_CASE("a file that is not a shared library is refused with one line naming it") {
    const auto file = test_plugin("bad-not-elf") / "not-a-plugin.so";
    CHECK_THROWS_WITH_AS(Plugin{file},
                         doctest::Contains((file.string() + ": not a loadable shared library").c_str()),
                         PluginError);
  }

  TEST_CASE("a library without the entry point is refused") {
    CHECK_THROWS_WITH_AS(load_plugins({test_plugin("bad-no-entry")}),
                         doctest::Contains("missing entry point ccci_plugin_info"), PluginError);
  }

  TEST_CASE("an ABI mismatch names both versions before anything else is used") {
    const std::string expected = "ABI version " + std::to_string(kAbiVersion + 998) +
                                 " does not match this cc-ci's ABI version " + std::to_string(kAbiVersion);
    CHECK_THROWS_WITH_AS(load_plugins({test_plugin("bad-abi")}), doctest::Contains(expected.c_str()),
                         PluginError);
  }

  TEST_CASE("two plugins claiming one recipe are refused, naming both files") {
    try {
      load_plugins({recipes(), test_plugin("duplicate")});
      FAIL("expected a PluginError");
    } catch (const PluginError& error) {
      const std::string message = error.what();
      CHECK(message.find("custom-html.so") != std::string::npos);
      CHECK(message.find("custom-html-again.so") != std::string::npos);
      CHECK(message.find("both claim recipe custom-html") != std::string::npos);
    }
  }

  TEST_CASE("a missing plugin path is an error; directories are searched recursively") {
    CHECK_THROWS_WITH_AS(find_plugin_files({"/no/such/plugins"}),
                         doctest::Contains("no such file or directory"), PluginError);
    const auto files = find_plugin_files({test::environment_path("CC_CI_TEST_PLUGINS")});
    CHECK(files.size() >= 6);
  }
}
