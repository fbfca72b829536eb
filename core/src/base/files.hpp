// Writing files that readers may be reading.
#pragma once

#include <filesystem>
#include <string>

namespace ccci {

/// Writes `content` to `path` through a temporary file and a rename, so a
/// reader never sees half a file.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace ccci
