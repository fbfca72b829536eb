#include "run/plugin_loader.hpp"
#include "support.hpp"

using namespace ccci;

namespace {
std::filesystem::path test_plugin(const char* folder) {
  return test::environment_path("CC_CI_TEST_PLUGINS") / folder;
}
std::filesystem::path recipes() {
  return test::environment_path("CC_CI_RECIPES");
}
std::filesystem::path cc_ci() {
  return test::environment_path("CC_CI");
}
}  // namespace

TEST_SUITE("plugin loader") {
  TEST_CASE("the bundled plugins load, sorted by recipe, and create tests") {
    const auto plugins = load_plugins({recipes()}, cc_ci());
    std::vector<std::string> names;
    names.reserve(plugins.size());
    for (const auto& plugin : plugins) names.push_back(plugin.recipe());
    CHECK(names == std::vector<std::string>{"custom-html", "gitea", "hedgedoc", "keycloak", "matrix-synapse",
                                            "nextcloud"});
    REQUIRE_FALSE(plugins.empty());
    CHECK(plugins[0].info().tags == std::vector<std::string>{"static", "nginx"});  // told by a child
    auto test = LoadedPlugin(plugins[0].file()).create();
    REQUIRE(test != nullptr);
    CHECK(test->info().tags == std::vector<std::string>{"static", "nginx"});
  }

  TEST_CASE("a test object keeps its library loaded after the plugin handle is gone") {
    std::shared_ptr<RecipeTest> test;
    {
      const LoadedPlugin plugin(recipes() / "custom-html" / "custom-html.so");
      test = plugin.create();
    }
    CHECK(test->info().ready.path == "/");  // would crash were the code unmapped
  }

  TEST_CASE("a file that is not a shared library is refused with one line naming it") {
    const auto file = test_plugin("bad-not-elf") / "not-a-plugin.so";
    CHECK_THROWS_WITH_AS(LoadedPlugin{file},
                         doctest::Contains((file.string() + ": not a loadable shared library").c_str()),
                         PluginError);
  }

  TEST_CASE("a library without the entry point is refused") {
    CHECK_THROWS_WITH_AS(load_plugins({test_plugin("bad-no-entry")}, cc_ci()),
                         doctest::Contains("missing entry point ccci_plugin_info"), PluginError);
  }

  TEST_CASE("an ABI mismatch names both versions before anything else is used") {
    const std::string expected = "ABI version " + std::to_string(kAbiVersion + 998) +
                                 " does not match this cc-ci's ABI version " + std::to_string(kAbiVersion);
    CHECK_THROWS_WITH_AS(load_plugins({test_plugin("bad-abi")}, cc_ci()), doctest::Contains(expected.c_str()),
                         PluginError);
  }

  TEST_CASE("two plugins claiming one recipe are refused, naming both files") {
    try {
      load_plugins({recipes(), test_plugin("duplicate")}, cc_ci());
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

  TEST_CASE("the ABI version is read from the ELF file without loading it") {
    CHECK(read_abi_version(recipes() / "custom-html" / "custom-html.so") == kAbiVersion);
    CHECK(read_abi_version(test_plugin("bad-abi") / "abi-mismatch.so") == kAbiVersion + 998);
    CHECK_THROWS_WITH_AS(read_abi_version_from("\x7f"
                                               "ELF",
                                               "x.so"),
                         doctest::Contains("x.so: not a loadable"), PluginError);
    CHECK_THROWS_WITH_AS(read_abi_version_from("#!/bin/sh\n", "x.so"), doctest::Contains("not an ELF file"),
                         PluginError);
    // Every truncation of a real plugin is refused with a PluginError, never read out of bounds.
    std::ifstream in(recipes() / "custom-html" / "custom-html.so", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t size : {size_t{16}, size_t{64}, size_t{4096}, bytes.size() / 2})
      CHECK_THROWS_AS(read_abi_version_from(std::string_view(bytes).substr(0, size), "cut.so"), PluginError);
  }
}
