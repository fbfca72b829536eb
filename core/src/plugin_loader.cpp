#include "plugin_loader.hpp"

#include <algorithm>
#include <map>

namespace ccci {

namespace fs = std::filesystem;

namespace {
constexpr const char* kInfoSymbol = "ccci_plugin_info";
constexpr const char* kFactorySymbol = "ccci_create_recipe_test";
}  // namespace

Plugin::Plugin(const fs::path& file) : file_(file) {
  const std::string name = file.string();
  boost::system::error_code error;
  library_ = std::make_shared<boost::dll::shared_library>();
  library_->load(boost::dll::fs::path(name),
                 boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, error);
  if (error) {
    // dlerror() says why (e.g. "invalid ELF header", a missing dependency).
    std::string why = error.message();
    throw PluginError("plugin " + name + ": not a loadable shared library (" + why + ")");
  }
  // The plain C info comes first: nothing else is used before the ABI matches.
  if (!library_->has(kInfoSymbol))
    throw PluginError("plugin " + name + ": missing entry point " + kInfoSymbol +
                      " (was it built with CCCI_PLUGIN?)");
  const auto& info = library_->get<const PluginInfo>(kInfoSymbol);
  if (info.abi_version != kAbiVersion)
    throw PluginError("plugin " + name + ": ABI version " + std::to_string(info.abi_version) +
                      " does not match this cc-ci's ABI version " + std::to_string(kAbiVersion) +
                      "; rebuild the plugin against this cc-ci");
  if (info.recipe == nullptr || *info.recipe == '\0')
    throw PluginError("plugin " + name + ": names no recipe in " + kInfoSymbol);
  recipe_ = info.recipe;
  if (!library_->has(kFactorySymbol))
    throw PluginError("plugin " + name + ": missing entry point " + kFactorySymbol +
                      " (was it built with CCCI_PLUGIN?)");
  factory_ = &library_->get_alias<RecipeTestFactory>(kFactorySymbol);
}

std::shared_ptr<RecipeTest> Plugin::create() const {
  std::unique_ptr<RecipeTest> test = factory_();
  if (!test) throw PluginError("plugin " + file_.string() + ": its factory returned nothing");
  // The deleter holds the library, so the code of ~RecipeTest is still mapped when it runs.
  auto library = library_;
  RecipeTest* raw = test.release();
  return std::shared_ptr<RecipeTest>(raw, [library](RecipeTest* object) { delete object; });
}

std::vector<fs::path> find_plugin_files(const std::vector<fs::path>& locations) {
  std::vector<fs::path> files;
  for (const auto& location : locations) {
    std::error_code error;
    const auto status = fs::status(location, error);
    if (!fs::exists(status))
      throw PluginError("plugin path " + location.string() + ": no such file or directory");
    if (fs::is_regular_file(status)) {
      files.push_back(location);
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(location, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_regular_file() && it->path().extension() == ".so") files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

std::vector<Plugin> load_plugins(const std::vector<fs::path>& locations) {
  std::vector<Plugin> plugins;
  std::map<std::string, fs::path> claimed;
  for (const auto& file : find_plugin_files(locations)) {
    Plugin plugin(file);
    auto [existing, inserted] = claimed.emplace(plugin.recipe(), file);
    if (!inserted)
      throw PluginError("plugins " + existing->second.string() + " and " + file.string() +
                        " both claim recipe " + plugin.recipe() + "; keep one");
    plugins.push_back(std::move(plugin));
  }
  std::sort(plugins.begin(), plugins.end(),
            [](const Plugin& a, const Plugin& b) { return a.recipe() < b.recipe(); });
  return plugins;
}

}  // namespace ccci
