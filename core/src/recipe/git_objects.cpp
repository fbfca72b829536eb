#include "recipe/git_objects.hpp"

#include <charconv>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "ccci/conversation.hpp"
#include "recipe/git.hpp"

namespace ccci {

namespace {

// What cc-ci reads of one folder, and of all folders of a repository.
constexpr std::uintmax_t kFolderMaxBytes = std::uintmax_t{1} << 20;
constexpr std::uintmax_t kFoldersMaxBytes = std::uintmax_t{64} << 20;
// "OBJECT TYPE SIZE", or a name git echoes back with " missing".
constexpr std::size_t kHeaderMaxBytes = 4096;

bool is_object_id(std::string_view text) {
  return (text.size() == 40 || text.size() == 64) &&
         text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size() * 2);
  for (const unsigned char byte : bytes) {
    text += kDigits[byte >> 4];
    text += kDigits[byte & 0xf];
  }
  return text;
}

// S_IFMT of a tree entry's mode. As git reads a mode (canon_mode): a regular
// file or a link is a file, a folder a folder, and anything else a submodule,
// which a checkout leaves empty.
constexpr unsigned kTypeBits = 0170000;
constexpr unsigned kFolderMode = 0040000;
constexpr unsigned kFileMode = 0100000;
constexpr unsigned kLinkMode = 0120000;

GitObjects::Entry::Type entry_type(unsigned mode) {
  switch (mode & kTypeBits) {
    case kFileMode:
    case kLinkMode:
      return GitObjects::Entry::Type::file;
    case kFolderMode:
      return GitObjects::Entry::Type::folder;
    default:
      return GitObjects::Entry::Type::submodule;
  }
}

}  // namespace

GitObjects::GitObjects(std::filesystem::path repository) : repository_(std::move(repository)) {}

GitObjects::~GitObjects() = default;

void GitObjects::refuse(const std::string& what) const {
  throw std::runtime_error("git cat-file in " + repository_.string() + ": " + what);
}

Conversation& GitObjects::git() {
  if (!git_)
    git_ = std::make_unique<Conversation>(
        Command{.argv = {"git", "-C", repository_.string(), "cat-file", "--batch-command"},
                .env = Git::environment(),
                .timeout = std::chrono::minutes(2)});
  return *git_;
}

std::optional<GitObjects::Header> GitObjects::info(const std::string& name) {
  // git takes a '\r' off the end of a line it reads: its echo would differ.
  if (name.empty() || name.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos)
    refuse("not an object name: a line break or NUL in it");
  std::string line;
  try {
    git().send("info " + name + "\n");
    line = git().read_line(kHeaderMaxBytes);
  } catch (...) {  // its next answer could be the rest of this one
    git_.reset();
    throw;
  }
  if (line == name + " missing" || line == name + " ambiguous") return std::nullopt;
  const auto first = line.find(' ');
  const auto second = first == std::string::npos ? first : line.find(' ', first + 1);
  Header header;
  if (second != std::string::npos) {
    header.object = line.substr(0, first);
    header.type = line.substr(first + 1, second - first - 1);
    const char* end = line.data() + line.size();
    const auto [at, error] = std::from_chars(line.data() + second + 1, end, header.size);
    if (error == std::errc() && at == end && is_object_id(header.object)) return header;
  }
  git_.reset();
  refuse("an answer cc-ci cannot read");
}

std::string GitObjects::contents(const Header& header) {
  try {
    git().send("contents " + header.object + "\n");
    const std::string line = git().read_line(kHeaderMaxBytes);
    if (line == header.object + " " + header.type + " " + std::to_string(header.size)) {
      std::string bytes = git().read_bytes(header.size + 1);
      if (bytes.back() == '\n') {
        bytes.pop_back();
        return bytes;
      }
    }
  } catch (...) {  // its next answer could be the rest of this one
    git_.reset();
    throw;
  }
  git_.reset();
  refuse("the contents of " + header.object + " are not what its header said");
}

std::optional<std::string> GitObjects::commit_of(const std::string& name) {
  const auto found = info(name + "^{commit}");
  if (!found) return std::nullopt;
  if (found->type != "commit") refuse(name + "^{commit} is a " + found->type);
  return found->object;
}

std::string GitObjects::tree_of(const std::string& commit) {
  const auto found = info(commit + "^{tree}");
  if (!found || found->type != "tree") refuse("no folder of commit " + commit);
  return found->object;
}

const std::string& GitObjects::folder(const std::string& tree) {
  if (const auto known = folders_.find(tree); known != folders_.end()) return known->second;
  const auto found = info(tree);
  if (!found) refuse("folder " + tree + " is missing from the repository");
  if (found->type != "tree") refuse(tree + " is a " + found->type + ", not a folder");
  if (found->size > kFolderMaxBytes)
    refuse("a folder of " + std::to_string(found->size) + " bytes, more than cc-ci reads of one");
  if (folder_bytes_ + found->size > kFoldersMaxBytes)
    refuse("folders of more than " + std::to_string(kFoldersMaxBytes >> 20) + " MiB, more than cc-ci reads");
  folder_bytes_ += found->size;
  return folders_.emplace(tree, contents(*found)).first->second;
}

// Each entry of a folder: "MODE NAME\0" and the object id's bytes (20 for
// SHA-1, 32 for SHA-256), read where they lie; only the id of the entry found
// is spelled out.
std::optional<GitObjects::Entry> GitObjects::entry(const std::string& tree, const std::string& name) {
  const std::string& bytes = folder(tree);
  const std::size_t id_bytes = tree.size() / 2;
  std::optional<Entry> found;
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    const auto nul = rest.find('\0');
    if (space == std::string_view::npos || nul == std::string_view::npos || nul < space ||
        rest.size() < nul + 1 + id_bytes)
      refuse("folder " + tree + " holds an entry cc-ci cannot read");
    unsigned mode = 0;
    const auto [at, error] = std::from_chars(rest.data(), rest.data() + space, mode, 8);
    const std::string_view entry_name = rest.substr(space + 1, nul - space - 1);
    if (error != std::errc() || at != rest.data() + space || entry_name.empty() ||
        entry_name.find('/') != std::string_view::npos)
      refuse("folder " + tree + " holds an entry cc-ci cannot read");
    if (entry_name == name) {
      if (found) refuse("folder " + tree + " names two entries alike");
      found = Entry{.type = entry_type(mode), .object = hex(rest.substr(nul + 1, id_bytes))};
    }
    rest.remove_prefix(nul + 1 + id_bytes);
  }
  return found;
}

std::optional<std::string> GitObjects::file(const std::string& blob, std::uintmax_t max_bytes) {
  const auto found = info(blob);
  if (!found) refuse("file " + blob + " is missing from the repository");
  if (found->type != "blob") refuse(blob + " is a " + found->type + ", not a file");
  if (found->size > max_bytes) return std::nullopt;
  return contents(*found);
}

}  // namespace ccci
