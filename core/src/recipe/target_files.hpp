// The files of one revision of a recipe, read as abra will deploy them, each
// at most once: a plan reads the same .env.sample and compose files for
// several lanes, and each read was three git processes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "recipe/target.hpp"

namespace ccci {

class TargetFiles {
 public:
  TargetFiles() = default;
  explicit TargetFiles(RecipeTarget target) : target_(std::move(target)) {}

  const RecipeTarget& target() const { return target_; }

  /// What read_target_file(target(), path) says (recipe/target.hpp), from
  /// one listing of the commit's tree and one `git cat-file` per file.
  std::optional<std::string> read(const std::string& path) const;

 private:
  // A committed file as `git ls-tree --long` lists it.
  struct Entry {
    std::string type;  // blob, commit (a submodule)
    std::string object;
    std::uintmax_t size = 0;
  };
  const std::map<std::string, Entry>& tree() const;
  std::optional<std::string> read_committed(const std::string& relative, const std::string& what) const;

  RecipeTarget target_;
  mutable std::optional<std::map<std::string, Entry>> tree_;
  mutable std::map<std::string, std::optional<std::string>> read_;
};

}  // namespace ccci
