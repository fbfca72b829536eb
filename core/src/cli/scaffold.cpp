#include "cli/scaffold.hpp"

#include <regex>

#include "base/files.hpp"
#include "config/settings.hpp"
#include "model/result.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

constexpr const char* kMesonBuild =
    R"template(# The cc-ci test of the @RECIPE@ recipe, built against an installed cc-ci:
#   meson setup build && ninja -C build
#   cc-ci run --plugins build @RECIPE@
project('cc-ci-recipe-@RECIPE@', 'cpp',
  version : '0.1.0',
  default_options : ['cpp_std=c++20', 'warning_level=2'])

harness = dependency('cc-ci-harness')

shared_module('@RECIPE@', '@SOURCE@',
  name_prefix : '',
  gnu_symbol_visibility : 'hidden',
  dependencies : harness,
  install : true,
  install_dir : harness.get_variable(pkgconfig : 'plugindir'))
)template";

constexpr const char* kSource =
    R"template(// A cc-ci recipe test of @RECIPE@.
// cc-ci deploys the app with abra (app new, secret generate, deploy), waits
// until `ready` answers over verified HTTPS, runs probe(), and always tears
// the app down; the hooks in <ccci/plugin.hpp> add data to keep, secrets and
// settings. See docs/writing-a-recipe-test.md in cc-ci for the helpers.
#include <ccci/harness.hpp>

namespace {

class Recipe final : public ccci::RecipeTest {
 public:
  ccci::RecipeInfo info() const override {
    // Point .ready at a health endpoint if the app has one, e.g. {.path = "/api/health"}.
    return {.tags = {}, .ready = {.path = "/"}};
  }

  void probe(ccci::Context& ctx) override {
    ctx.check("the home page is served", [&] { ccci::expect_http(ctx, "/").status(200); });
    ctx.check("TODO: check what the app does for its users", [&] {
      throw ccci::CheckFailure("TODO: write this check (log in, create something, read it back)");
    });
  }
};

}  // namespace

CCCI_PLUGIN(Recipe, "@RECIPE@")
)template";

constexpr const char* kReadme = R"template(# cc-ci test for @RECIPE@

    meson setup build && ninja -C build       # needs cc-ci's SDK: pkg-config cc-ci-harness
    cc-ci plan --plugins build @RECIPE@        # what a run would do
    cc-ci run  --plugins build @RECIPE@ --domain-suffix ci.example.org

Write the checks in @SOURCE@: the placeholder check fails with a TODO until you do.
)template";

}  // namespace

std::vector<fs::path> scaffold_recipe(const std::string& recipe, const fs::path& parent) {
  // abra recipe names: lower-case letters, digits and dashes.
  static const std::regex kName("[a-z][a-z0-9-]{0,62}");
  if (!std::regex_match(recipe, kName) || recipe.back() == '-')
    throw UsageError("recipe name \"" + recipe +
                     "\" is not valid: use lower-case letters, digits and dashes, "
                     "starting with a letter");
  const fs::path folder = parent / recipe;
  if (fs::exists(folder) && !fs::is_empty(folder))
    throw UsageError(folder.string() + " already exists and is not empty; choose another --dir");
  fs::create_directories(folder);

  const std::string source = replace_all(recipe, "-", "_") + ".cpp";
  const std::vector<std::pair<fs::path, std::string>> files = {
      {folder / "meson.build", kMesonBuild}, {folder / source, kSource}, {folder / "README.md", kReadme}};
  std::vector<fs::path> written;
  for (const auto& [path, text] : files) {
    write_file_atomically(path, replace_all(replace_all(text, "@RECIPE@", recipe), "@SOURCE@", source));
    written.push_back(path);
  }
  return written;
}

}  // namespace ccci
