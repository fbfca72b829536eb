// Finding, checking and loading recipe plugins.
//
// No plugin code runs in the host process: the host reads a plugin's ABI
// version straight from its ELF file, and asks a short-lived child
// (`cc-ci exec-one --describe`) for its recipe name and info(): one child for
// all the plugins found, as each costs a process start of its own otherwise.
// Only a recipe's own test process runs a test (LoadedPlugin).
#pragma once

#include <boost/dll/shared_library.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ccci/plugin.hpp"
#include "model/job.hpp"
#include "model/result.hpp"
#include "model/result_json.hpp"

namespace ccci {

/// A plugin file that cannot be trusted or used. The message is one line that
/// names the file; the command line turns it into exit code 2.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The `abi_version` of the `ccci_plugin_info` record in an ELF shared
/// object, read from the file without loading it. Throws PluginError naming
/// what is wrong (not ELF, not 64-bit, no such symbol, a record outside the file).
int read_abi_version(const std::filesystem::path& file);
/// The same, from the file's bytes (what read_abi_version reads; fuzzed).
int read_abi_version_from(std::string_view elf, const std::string& name);

/// What the host knows of a plugin: learnt without running its code here.
class Plugin {
 public:
  Plugin(std::filesystem::path file, std::string recipe, RecipeInfo info)
      : file_(std::move(file)), recipe_(std::move(recipe)), info_(std::move(info)) {}
  const std::filesystem::path& file() const { return file_; }
  const std::string& recipe() const { return recipe_; }
  const RecipeInfo& info() const { return info_; }

 private:
  std::filesystem::path file_;
  std::string recipe_;
  RecipeInfo info_;
};

/// A plugin library loaded into this process: for the child that runs a test.
/// The library stays loaded as long as this (or any test it created) lives.
class LoadedPlugin {
 public:
  /// Checks the ABI version in the file, then loads it.
  explicit LoadedPlugin(const std::filesystem::path& file);

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

/// How long a plugin may take to describe itself or walk a plan (a child
/// given more than one gets a second more for each further one).
inline constexpr std::chrono::seconds kDescribeTimeout{60};

/// Every "*.so" under the given files or directories (searched recursively), sorted.
std::vector<std::filesystem::path> find_plugin_files(const std::vector<std::filesystem::path>& locations);

/// Checks every plugin's ABI, then describes them all in one child `self
/// exec-one --describe F…`; a plugin whose code kills, hangs or ends that
/// child is named. Two plugins claiming one recipe is an error naming both.
std::vector<Plugin> load_plugins(const std::vector<std::filesystem::path>& locations,
                                 const std::filesystem::path& self);

/// One line of a dry walk: what a run would do, in which phase.
struct PlanLine {
  Phase phase;
  std::string line;
};
/// The dry walk of each of `jobs`, in order, all in one child `self exec-one
/// --job FILE --plan`; a plugin whose code kills, hangs or ends it is named.
std::vector<std::vector<PlanLine>> plan_in_children(const std::filesystem::path& self,
                                                    const std::vector<RecipeJob>& jobs);

/// The child's side of --describe and --plan (run/plugin_wire.cpp): one JSON
/// line per plugin described or job walked (`jobs_file` holds a JSON array),
/// each written to `answer` as soon as it is done. Returns the exit code.
int describe_plugins(const std::vector<std::filesystem::path>& plugin_files,
                     const std::filesystem::path& answer);
int plan_jobs(const std::filesystem::path& jobs_file, const std::filesystem::path& answer);

nlohmann::json to_json(const RecipeInfo& info);
RecipeInfo recipe_info_from_json(const nlohmann::json& json);

}  // namespace ccci
