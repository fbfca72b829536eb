// A recipe repository's objects, asked of one `git cat-file --batch-command`
// that stays for the questions: a commit resolved, a folder listed, a file
// read, each a line written and an answer read instead of a git process.
//
// Why git and not a library in cc-ci's own process (libgit2): the objects
// come from the pull request under test. Parsed by git, a fault in the
// parser is a crashed child and one recipe's error, never the host's crash
// with a report left unwritten.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ccci {

class Conversation;

/// Each question throws std::runtime_error (naming the repository and git's
/// last words) when git fails, stops or answers what cc-ci cannot read; the
/// next question starts git again. Not thread-safe: one per thread (a plan
/// reads each recipe on one thread).
class GitObjects {
 public:
  /// One entry of a folder (a tree object), named byte for byte.
  struct Entry {
    enum class Type { file, folder, submodule } type = Type::file;  // a link is a file: its target
    std::string object;
  };

  explicit GitObjects(std::filesystem::path repository);
  GitObjects(const GitObjects&) = delete;
  GitObjects& operator=(const GitObjects&) = delete;
  ~GitObjects();

  const std::filesystem::path& repository() const { return repository_; }

  /// The commit `name` resolves to (a tag, branch or commit id, as
  /// `git rev-parse --verify NAME^{commit}` resolves it); nullopt when none.
  /// Throws std::runtime_error for a name with a line break or NUL.
  std::optional<std::string> commit_of(const std::string& name);
  /// The top folder (tree object) of `commit`.
  std::string tree_of(const std::string& commit);
  /// The entry `name` of the folder `tree`; nullopt when it has none. A
  /// folder is read once, at most 1 MiB of it and 64 MiB of all folders read:
  /// a recipe's are far smaller, and a hostile one must not fill memory.
  std::optional<Entry> entry(const std::string& tree, const std::string& name);
  /// A file's size, then its bytes: never read when over `max_bytes`
  /// (nullopt then).
  std::optional<std::string> file(const std::string& blob, std::uintmax_t max_bytes);

 private:
  struct Header {
    std::string object;
    std::string type;
    std::uintmax_t size = 0;
  };
  // "info NAME": the object's header; nullopt when missing.
  std::optional<Header> info(const std::string& name);
  // "contents OBJECT": the bytes of the object `header` describes.
  std::string contents(const Header& header);
  // git, started for the first question, and again after one that failed
  // (its answers would be out of step).
  Conversation& git();
  [[noreturn]] void refuse(const std::string& what) const;

  // The raw bytes of the folder `tree`, read once.
  const std::string& folder(const std::string& tree);

  std::filesystem::path repository_;
  std::unique_ptr<Conversation> git_;           // started at the first question
  std::map<std::string, std::string> folders_;  // tree object → its raw entries
  std::uintmax_t folder_bytes_ = 0;
};

}  // namespace ccci
