// The files of one revision of a recipe, read as abra will deploy them, each
// at most once: a plan reads the same .env.sample and compose files for
// several lanes. Committed files come through one git process for the
// repository (GitObjects), however many files and revisions are read.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "recipe/git_objects.hpp"
#include "recipe/target.hpp"

namespace ccci {

class TargetFiles {
 public:
  TargetFiles() = default;
  /// `objects` reads the target's repository (shared by the revisions of one
  /// recipe read on one thread); nullptr: its own, started at the first read.
  explicit TargetFiles(RecipeTarget target, std::shared_ptr<GitObjects> objects = nullptr)
      : target_(std::move(target)), objects_(std::move(objects)) {}

  const RecipeTarget& target() const { return target_; }
  /// The git that reads the target's repository, for another revision of it.
  std::shared_ptr<GitObjects> objects() const {
    if (!objects_) objects_ = std::make_shared<GitObjects>(target_.repository);
    return objects_;
  }

  /// What read_target_file(target(), path) says (recipe/target.hpp): a
  /// committed file found folder by folder from the commit's top folder.
  std::optional<std::string> read(const std::string& path) const;

 private:
  std::optional<std::string> read_committed(const std::string& relative, const std::string& what) const;

  RecipeTarget target_;
  mutable std::shared_ptr<GitObjects> objects_;
  mutable std::optional<std::string> top_folder_;  // the commit's tree
  mutable std::map<std::string, std::optional<std::string>> read_;
};

}  // namespace ccci
