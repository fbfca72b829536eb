// `cc-ci new-recipe`: a buildable, out-of-tree plugin project to start from.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ccci {

/// Writes <parent>/<recipe>/{meson.build,<recipe>.cpp,README.md} and returns
/// the files written. Throws UsageError for a name abra would not accept or
/// a folder that already has content.
std::vector<std::filesystem::path> scaffold_recipe(const std::string& recipe,
                                                   const std::filesystem::path& parent);

}  // namespace ccci
