// Finding, checking and loading recipe plugins (Boost.DLL).
#pragma once

#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ccci/plugin.hpp"

namespace ccci {

/// A plugin file that cannot be trusted or used. The message is one line that
/// names the file; the command line turns it into exit code 2.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A loaded, checked plugin. The library stays loaded as long as this (or any
/// test it created) lives.
class Plugin {
 public:
  /// Loads `file` and checks its ABI version before touching anything else.
  explicit Plugin(const std::filesystem::path& file);

  const std::string& recipe() const { return recipe_; }
  const std::filesystem::path& file() const { return file_; }
  /// A new test object; it keeps the library loaded for its lifetime.
  std::shared_ptr<RecipeTest> create() const;

 private:
  std::filesystem::path file_;
  std::shared_ptr<boost::dll::shared_library> library_;
  std::string recipe_;
  RecipeTestFactory* factory_ = nullptr;
};

/// Every "*.so" under the given files or directories (searched recursively), sorted.
std::vector<std::filesystem::path> find_plugin_files(const std::vector<std::filesystem::path>& locations);

/// Loads every plugin; two plugins claiming one recipe is an error naming both.
std::vector<Plugin> load_plugins(const std::vector<std::filesystem::path>& locations);

}  // namespace ccci
