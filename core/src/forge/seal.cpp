#include "forge/seal.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/files.hpp"
#include "ccci/process.hpp"
#include "forge/webhook.hpp"
#include "model/result.hpp"

namespace ccci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kSchema = "cc-ci/seal/v1";
constexpr std::size_t kKeyBytes = 32;

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

// Reads the key file without following a link; refuses one others may read.
std::optional<std::string> read_key(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw SealError(file.string() + ": cannot be read (" + std::strerror(errno) + ")");
  }
  struct stat info {};
  std::string key(kKeyBytes * 2 + 1, '\0');
  ssize_t count = -1;
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & 077) == 0)
    count = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (!S_ISREG(info.st_mode) || (info.st_mode & 077) != 0)
    throw SealError(file.string() + ": not a file only its owner may read (chmod 600 it)");
  if (count != static_cast<ssize_t>(kKeyBytes * 2))
    throw SealError(file.string() + ": not a cc-ci seal key (64 hex digits)");
  key.resize(kKeyBytes * 2);
  return key;
}

std::string file_sha256(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw SealError(file.string() + ": cannot be read (" + std::strerror(errno) + ")");
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  char buffer[65536];
  ssize_t count = 0;
  while ((count = ::read(fd, buffer, sizeof buffer)) > 0)
    EVP_DigestUpdate(context, buffer, static_cast<std::size_t>(count));
  ::close(fd);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(context, digest, &size);
  EVP_MD_CTX_free(context);
  if (count < 0) throw SealError(file.string() + ": cannot be read");
  return hex(digest, size);
}

// Every file of the folder but the seal, by its path inside the folder.
std::map<std::string, std::string> folder_digests(const fs::path& report_dir) {
  std::map<std::string, std::string> files;
  std::error_code error;
  fs::recursive_directory_iterator walk(report_dir, error);
  if (error) throw SealError(report_dir.string() + ": cannot be read (" + error.message() + ")");
  for (const auto& entry : walk) {
    const auto status = entry.symlink_status();
    const std::string relative = entry.path().lexically_relative(report_dir).generic_string();
    if (fs::is_directory(status)) continue;
    if (!fs::is_regular_file(status))
      throw SealError(report_dir.string() + ": " + relative +
                      (fs::is_symlink(status) ? " is a link" : " is not a file") +
                      "; a report folder holds only files cc-ci wrote");
    if (relative == kSealFile) continue;
    files.emplace(relative, file_sha256(entry.path()));
  }
  return files;
}

std::string seal_mac(const std::string& key, const json& files) {
  return webhook_signature(key, std::string(kSchema) + "\n" + files.dump());
}

}  // namespace

std::string existing_seal_key(const fs::path& state_dir) {
  const fs::path file = state_dir / "seal.key";
  auto key = read_key(file);
  if (!key)
    throw SealError("no seal key at " + file.string() +
                    ": only a report that a `cc-ci run` on this host wrote and sealed can be published");
  return *key;
}

std::string seal_key(const fs::path& state_dir) {
  const fs::path file = state_dir / "seal.key";
  if (auto key = read_key(file)) return *key;
  std::error_code error;
  fs::create_directories(state_dir, error);
  unsigned char random[kKeyBytes];
  if (RAND_bytes(random, sizeof random) != 1) throw SealError("no random bytes for a seal key");
  const std::string key = hex(random, sizeof random);
  // Written whole under a name of its own, then linked into place: a run
  // started at the same moment finds no key or a whole one, and one wins.
  const fs::path partial = file.string() + ".new." + std::to_string(::getpid());
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    throw SealError("cannot make the seal key " + file.string() + " (" + std::strerror(errno) + ")");
  const bool written = write_all(fd, key) && ::fsync(fd) == 0;
  ::close(fd);
  const bool linked = written && (::link(partial.c_str(), file.c_str()) == 0 || errno == EEXIST);
  ::unlink(partial.c_str());
  if (!linked) throw SealError("cannot make the seal key " + file.string());
  return existing_seal_key(state_dir);
}

void seal_report(const fs::path& report_dir, const std::string& key) {
  const json files = folder_digests(report_dir);
  const json seal = {{"schema", kSchema}, {"files", files}, {"hmac", seal_mac(key, files)}};
  write_file_atomically(report_dir / kSealFile, seal.dump(1) + "\n");
}

void verify_seal(const fs::path& report_dir, const std::string& key,
                 const std::function<bool(const std::string&)>& remade) {
  const std::string where = report_dir.string();
  const fs::path file = report_dir / kSealFile;
  if (!fs::is_regular_file(fs::symlink_status(file)))
    throw SealError(where + ": not sealed (no seal.json): not a report a `cc-ci run` on this host wrote");
  std::ifstream in(file, std::ios::binary);
  const json seal = json::parse(in, nullptr, false);
  if (!seal.is_object() || !seal.contains("schema") || seal["schema"] != std::string(kSchema) ||
      !seal.contains("files") || !seal["files"].is_object() || !seal.contains("hmac") ||
      !seal["hmac"].is_string())
    throw SealError(where + ": seal.json is not a cc-ci seal");
  if (!signature_matches(key, std::string(kSchema) + "\n" + seal["files"].dump(),
                         seal["hmac"].get<std::string>()))
    throw SealError(where + ": the seal was not made by this host's cc-ci (or its file list was changed)");
  const json found = folder_digests(report_dir);
  for (const auto& [name, digest] : seal["files"].items()) {
    if (remade && remade(name)) continue;
    if (!found.contains(name)) throw SealError(where + ": " + name + " is sealed but missing");
    if (found[name] != digest) throw SealError(where + ": " + name + " was changed after the run sealed it");
  }
  for (const auto& [name, digest] : found.items())
    if (!seal["files"].contains(name) && !(remade && remade(name)))
      throw SealError(where + ": " + name + " was added after the run sealed it");
}

}  // namespace ccci
