// A report's seal: proof that a report folder is what a `cc-ci run` on this
// host wrote, file for file. Publishing (`cc-ci gitea`) posts only a sealed
// report, so a folder a pull request committed, or a report edited after the
// run, can never become a green status or the bot's comment.
//
// The seal is seal.json in the report folder: the SHA-256 of every other file
// in it, and an HMAC-SHA256 of that list under a key only this host holds
// (seal.key in cc-ci's state folder, made on first use, mode 0600). A PR's
// code never runs on the host with that key (the pipelines run the base
// branch's steps), so it can neither read the key nor forge a seal.
#pragma once

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>

namespace ccci {

/// A report that is not sealed, or not as sealed; what() is one line.
class SealError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kSealFile = "seal.json";

/// The host's seal key from `state_dir`/seal.key, made there when absent.
/// Throws SealError when it cannot be made or read, or when others may read it.
std::string seal_key(const std::filesystem::path& state_dir);

/// The host's seal key when it exists; throws SealError when it does not.
std::string existing_seal_key(const std::filesystem::path& state_dir);

/// Writes seal.json over every file in `report_dir`. Throws SealError when the
/// folder holds a link or anything but files and folders, or cannot be read.
void seal_report(const std::filesystem::path& report_dir, const std::string& key);

/// Throws SealError unless `report_dir` is exactly what its seal.json says
/// (no file missing, changed or added) and the seal was made with `key`.
/// Files for which `remade` is true are not compared: `cc-ci report` makes
/// them anew from the others before it seals again.
void verify_seal(const std::filesystem::path& report_dir, const std::string& key,
                 const std::function<bool(const std::string&)>& remade = {});

}  // namespace ccci
