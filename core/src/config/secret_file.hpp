// Secrets the forge commands need (the Gitea token, the webhook secret, the CI
// engine's token) are read from files only: a file named by a setting, or a
// systemd credential. A value on a command line or in the environment would be
// visible to every process on the host.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ccci {

/// The secret in `file`; when `file` is empty, in the systemd credential
/// `credential` ($CREDENTIALS_DIRECTORY/<credential>). Surrounding whitespace
/// (an editor's final newline) is dropped. Throws UsageError naming the file
/// and `flag`, never the content: missing, unreadable, empty, or neither given.
std::string read_secret(const std::filesystem::path& file, std::string_view credential,
                        std::string_view flag);

}  // namespace ccci
