// The cc-ci plugin ABI: everything a recipe test needs from the host, in one header.
//
// A recipe plugin is a shared library that exports two symbols, both made by
// CCCI_PLUGIN():
//   ccci_plugin_info         a plain C struct (ABI version, recipe name) that the
//                            host reads and checks before it touches anything else;
//   ccci_create_recipe_test  a factory returning a new ccci::RecipeTest.
//
// The host owns the flow: it calls deploy(), waits until the app answers over
// HTTPS, calls probe(), and always calls teardown() once deploy was attempted.
// Most plugins derive from ccci::AbraRecipe (harness), which does the standard
// abra deploy and teardown, so they only write probe():
//
//   class CustomHtml final : public ccci::AbraRecipe {
//     void probe(ccci::Context& ctx) override {
//       ctx.check("index page is served", [&] {
//         ccci::expect_http(ctx, "/").status(200).body_contains("<h1>");
//       });
//     }
//   };
//   CCCI_PLUGIN(CustomHtml, "custom-html")
//
// Change anything in this header's types or meaning, or in any installed harness
// header => bump kAbiVersion (and `abi_version` in meson.build, which checks it).
#pragma once

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ccci {

/// The version of this header. The loader refuses a plugin built against another one.
inline constexpr int kAbiVersion = 3;

/// What the host reads from a plugin before trusting it (exported as `ccci_plugin_info`).
struct PluginInfo {
  int abi_version;
  const char* recipe;  ///< the abra recipe this plugin tests, e.g. "custom-html"
};

/// Per-phase time limits a recipe asks for; zero means "the host's default".
struct Timeouts {
  std::chrono::seconds deploy{0};
  std::chrono::seconds probe{0};
  std::chrono::seconds teardown{0};
};

/// When the host considers the deployed app ready: `GET https://<domain><path>`
/// answers `status`, the answer is not the reverse proxy's own 404/502/503/504,
/// and, for each {pointer, JSON text} in json_equals, the JSON body holds that
/// value there (e.g. {"/installed", "true"}).
struct ReadinessProbe {
  std::string path = "/";
  long status = 200;
  std::vector<std::pair<std::string, std::string>> json_equals{};
};

/// Static facts about a recipe test.
struct RecipeInfo {
  std::vector<std::string> tags{};
  ReadinessProbe ready{};
  Timeouts timeouts{};
};

/// How HTTP(S) requests reach the app (set by the host from --ca-file/--connect-to).
struct HttpSettings {
  std::string ca_file{};                  ///< extra CA trusted on top of the system store
  std::vector<std::string> connect_to{};  ///< curl syntax HOST:PORT:CONNECT_HOST:CONNECT_PORT
};

/// Thrown by a check that said no. Recorded as `failed`; any other exception
/// escaping a step is recorded as `errored` (the check could not be run).
class BOOST_SYMBOL_VISIBLE CheckFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class AbraClient;  // harness/include/ccci/abra_client.hpp

/// What the host gives a recipe test while it runs. Implemented by the host.
class BOOST_SYMBOL_VISIBLE Context {
 public:
  virtual ~Context() = default;

  virtual const std::string& recipe() const = 0;
  virtual const std::string& server() const = 0;
  virtual const std::string& domain() const = 0;
  /// `https://<domain><path>`.
  std::string url(std::string_view path = "/") const { return "https://" + domain() + std::string(path); }

  /// The abra client of this run (its own ABRA_DIR, -n, timeouts, redaction).
  virtual AbraClient& abra() = 0;
  virtual const HttpSettings& http() const = 0;
  /// When the current phase runs out of time.
  virtual std::chrono::steady_clock::time_point deadline() const = 0;
  /// True while `cc-ci plan` walks the recipe: tools only describe what they would do.
  virtual bool dry_run() const = 0;

  /// Appends a line to the recipe's log (secrets are redacted).
  virtual void log(std::string_view message) = 0;
  /// Registers a secret value: from now on it is redacted from logs and reports.
  virtual void add_secret(std::string value) = 0;

  /// Runs an action with side effects (deploy, teardown) as one recorded step.
  /// It runs in plans too, where the tools are dry. Returns true when it passed.
  virtual bool step(const std::string& name, const std::function<void()>& action) = 0;
  /// Runs one observation as one recorded step; in plans it is only listed.
  /// Returns true when it passed.
  virtual bool check(const std::string& name, const std::function<void()>& body) = 0;
};

/// One recipe's test. The host calls deploy(), then probe() if deploy passed,
/// then teardown() whatever happened.
class BOOST_SYMBOL_VISIBLE RecipeTest {
 public:
  virtual ~RecipeTest() = default;
  virtual RecipeInfo info() const { return {}; }
  virtual void deploy(Context& ctx) = 0;
  virtual void probe(Context& ctx) = 0;
  virtual void teardown(Context& ctx) = 0;
};

using RecipeTestFactory = std::unique_ptr<RecipeTest>();

}  // namespace ccci

/// Exports a recipe test class. Use once per plugin, at namespace scope.
#define CCCI_PLUGIN(TestClass, recipe_name)                                                  \
  extern "C" BOOST_SYMBOL_EXPORT const ::ccci::PluginInfo ccci_plugin_info;                  \
  extern "C" const ::ccci::PluginInfo ccci_plugin_info = {::ccci::kAbiVersion, recipe_name}; \
  namespace ccci_plugin_detail {                                                             \
  inline std::unique_ptr<::ccci::RecipeTest> create() {                                      \
    return std::make_unique<TestClass>();                                                    \
  }                                                                                          \
  }                                                                                          \
  BOOST_DLL_ALIAS(ccci_plugin_detail::create, ccci_create_recipe_test)
