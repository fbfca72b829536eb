#include "config/settings.hpp"
#include "recipe/target.hpp"
#include "recipe/target_files.hpp"
#include "support.hpp"

using namespace ccci;
namespace fs = std::filesystem;

namespace {

// A catalogue made by tests/fake_abra/catalogue.py from the custom-html
// fixture: releases 1.5.0+1.25.3 and 1.6.0+1.25.3, then an unreleased commit.
struct Catalogue {
  test::TemporaryDirectory folder;
  fs::path repository = folder.path() / "custom-html";

  Catalogue() {
    const auto source = test::environment_path("CC_CI_SOURCE");
    const auto made = run_command(
        {.argv = {"python3", (source / "tests/fake_abra/catalogue.py").string(), folder.path().string(),
                  (source / "tests/fake_abra/recipes/custom-html").string()}});
    REQUIRE_MESSAGE(made.ok(), made.output);
  }

  std::string git(const std::vector<std::string>& args, const fs::path& where) const {
    Command command{.argv = {"git", "-C", where.string()}};
    command.argv.insert(command.argv.end(), args.begin(), args.end());
    command.env = {{"GIT_CONFIG_NOSYSTEM", "1"},
                   {"GIT_AUTHOR_NAME", "t"},
                   {"GIT_AUTHOR_EMAIL", "t@t"},
                   {"GIT_COMMITTER_NAME", "t"},
                   {"GIT_COMMITTER_EMAIL", "t@t"}};
    const auto result = run_command(command);
    REQUIRE_MESSAGE(result.ok(), result.output);
    std::string out = result.output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::string commit_of(const std::string& ref) const {
    return git({"rev-parse", ref + "^{commit}"}, repository);
  }
};

}  // namespace

TEST_SUITE("target") {
  TEST_CASE("release versions are X.Y.Z+UPSTREAM") {
    CHECK(is_release_version("1.6.0+1.25.3"));
    CHECK(is_release_version("2.6.0+1.21.4-rootless"));
    CHECK_FALSE(is_release_version("1.6.0"));
    CHECK_FALSE(is_release_version("v1.6.0+1"));
    CHECK_FALSE(is_release_version("1.6+1.25"));
    CHECK_FALSE(is_release_version("1.6.0+"));
    CHECK_FALSE(is_release_version("main"));
  }

  TEST_CASE("without a ref the target is the latest release, and the one before it is the previous") {
    const Catalogue catalogue;
    const RecipeTarget target = resolve_target("custom-html", {}, catalogue.folder.path());
    CHECK(target.version == "1.6.0+1.25.3");
    CHECK(target.is_release());
    CHECK(target.commit == catalogue.commit_of("1.6.0+1.25.3"));
    CHECK(target.previous_release == "1.5.0+1.25.3");
    CHECK(target.describe() == "1.6.0+1.25.3");
  }

  TEST_CASE("an unreleased ref is a chaos target on top of the newest release it contains") {
    const Catalogue catalogue;
    const RecipeTarget head = resolve_target("custom-html", {.ref = "main"}, catalogue.folder.path());
    CHECK_FALSE(head.is_release());
    CHECK(head.version.empty());
    CHECK(head.commit == catalogue.commit_of("main"));
    CHECK(head.previous_release == "1.6.0+1.25.3");
    CHECK(head.describe() == "unreleased " + head.commit.substr(0, 8));
    // A commit id works as well as a branch; the first release has no previous one.
    const RecipeTarget first =
        resolve_target("custom-html", {.ref = catalogue.commit_of("1.5.0+1.25.3")}, catalogue.folder.path());
    CHECK(first.version == "1.5.0+1.25.3");
    CHECK(first.previous_release.empty());
  }

  TEST_CASE("the release an upgrade starts from is its tag's commit, read as released") {
    const Catalogue catalogue;
    const RecipeTarget head = resolve_target("custom-html", {.ref = "main"}, catalogue.folder.path());
    const auto previous = release_of(head, head.previous_release);
    REQUIRE(previous.has_value());
    CHECK(previous->commit == catalogue.commit_of("1.6.0+1.25.3"));
    CHECK(previous->is_release());
    CHECK(previous->repository == head.repository);
    CHECK(read_target_file(*previous, "compose.yml") == read_target_file(head, "compose.yml"));
    // Only a release tag of that repository: a branch, a commit or an option is none.
    CHECK_FALSE(release_of(head, "main").has_value());
    CHECK_FALSE(release_of(head, head.commit).has_value());
    CHECK_FALSE(release_of(head, "9.9.9+1.0.0").has_value());
    CHECK_FALSE(release_of(head, "--upload-pack=x+1").has_value());
    CHECK_FALSE(release_of(head, "1.6.0+1.25.3~1").has_value());  // a revision expression, not a tag
    catalogue.git({"tag", "9.9.9+lightweight"}, catalogue.repository);
    CHECK_FALSE(release_of(head, "9.9.9+lightweight").has_value());  // not annotated: not a release
  }

  TEST_CASE("bad refs, missing repositories and non-git folders are one clear usage error") {
    const Catalogue catalogue;
    CHECK_THROWS_WITH_AS(resolve_target("custom-html", {.ref = "no-such-branch"}, catalogue.folder.path()),
                         doctest::Contains("no such commit, branch or tag"), UsageError);
    CHECK_THROWS_WITH_AS(
        resolve_target("custom-html", {.ref = "--upload-pack=evil"}, catalogue.folder.path()),
        doctest::Contains("not a commit, branch or tag name"), UsageError);
    CHECK_THROWS_WITH_AS(resolve_target("gitea", {}, catalogue.folder.path()),
                         doctest::Contains("no git repository at"), UsageError);
    const test::TemporaryDirectory plain;
    CHECK_THROWS_WITH_AS(resolve_target("custom-html", {.recipe_dir = plain.path()}, catalogue.folder.path()),
                         doctest::Contains("not a git checkout"), UsageError);
    CHECK_THROWS_WITH_AS(
        resolve_target("custom-html", {.recipe_dir = plain.path() / "missing"}, catalogue.folder.path()),
        doctest::Contains("no such folder"), UsageError);
    // A lightweight tag is not a release: a repository with only that has none.
    catalogue.git({"tag", "-d", "1.5.0+1.25.3", "1.6.0+1.25.3"}, catalogue.repository);
    catalogue.git({"tag", "9.9.9+lightweight"}, catalogue.repository);
    CHECK_THROWS_WITH_AS(resolve_target("custom-html", {}, catalogue.folder.path()),
                         doctest::Contains("has no release tag"), UsageError);
  }

  TEST_CASE("a revision's committed files are listed once and each read once") {
    const Catalogue catalogue;
    const fs::path folder = catalogue.repository / "config";
    fs::create_directories(folder);
    std::ofstream(folder / "app.yml") << "key: value\n";
    catalogue.git({"add", "config"}, catalogue.repository);
    catalogue.git({"commit", "--quiet", "-m", "a folder"}, catalogue.repository);
    RecipeTarget head = resolve_target("custom-html", {.ref = "HEAD"}, catalogue.folder.path());
    const TargetFiles files(head);
    CHECK(files.read("config/app.yml") == "key: value\n");
    CHECK(files.read("/config/./app.yml") == "key: value\n");  // abra joins names to the folder
    CHECK_FALSE(files.read("no-such.yml").has_value());
    CHECK_THROWS_WITH_AS(files.read("config"), doctest::Contains("not a file"), UsageError);
    CHECK_THROWS_WITH_AS(files.read("config/"), doctest::Contains("not a file"), UsageError);
    const std::string compose = files.read("compose.yml").value();
    // Read once: with the repository gone, what was read is still there.
    fs::rename(catalogue.repository, catalogue.folder.path() / "gone");
    CHECK(files.read("compose.yml") == compose);
    CHECK(files.read("config/app.yml") == "key: value\n");
    CHECK_THROWS(read_target_file(head, "compose.yml"));  // a new reader asks git again, and git has nothing
  }

  TEST_CASE("a committed name that differs by a carriage return is another file, and a submodule none") {
    const Catalogue catalogue;
    // Sorted before compose.yml, and compose.yml once a '\r' is taken out.
    std::ofstream(catalogue.repository / "compose\r.yml") << "services: {decoy: {image: x}}\n";
    catalogue.git({"add", "--all"}, catalogue.repository);
    catalogue.git(
        {"update-index", "--add", "--cacheinfo", "160000," + catalogue.commit_of("HEAD") + ",vendored"},
        catalogue.repository);
    catalogue.git({"commit", "--quiet", "-m", "a decoy and a submodule"}, catalogue.repository);
    const RecipeTarget head = resolve_target("custom-html", {.ref = "HEAD"}, catalogue.folder.path());
    const TargetFiles files(head);
    const auto compose = files.read("compose.yml");
    REQUIRE(compose.has_value());
    CHECK(compose->find("decoy") == std::string::npos);
    CHECK(files.read("compose\r.yml") == "services: {decoy: {image: x}}\n");
    CHECK_FALSE(files.read("vendored").has_value());  // its files are in another repository
  }

  TEST_CASE("committed names are read byte for byte, folder by folder, and a file over the cap never") {
    const Catalogue catalogue;
    fs::create_directories(catalogue.repository / "deep/er");
    std::ofstream(catalogue.repository / "deep/er/app.yml") << "deep: true\n";
    std::ofstream(catalogue.repository / "line\nbreak.yml") << "odd: name\n";
    std::ofstream(catalogue.repository / "huge.yml") << std::string(kTargetFileMaxBytes + 1, '#');
    catalogue.git({"add", "--all"}, catalogue.repository);
    catalogue.git({"commit", "--quiet", "-m", "odd files"}, catalogue.repository);
    const RecipeTarget head = resolve_target("custom-html", {.ref = "HEAD"}, catalogue.folder.path());
    const TargetFiles files(head);
    CHECK(files.read("deep/er/app.yml") == "deep: true\n");
    CHECK(files.read("line\nbreak.yml") == "odd: name\n");
    CHECK_FALSE(files.read("line").has_value());
    CHECK_FALSE(files.read("compose.yml/below-a-file").has_value());
    CHECK_FALSE(files.read("deep/er/app.yml/more").has_value());
    CHECK_THROWS_WITH_AS(files.read("deep/er"), doctest::Contains("not a file"), UsageError);
    CHECK_THROWS_WITH_AS(files.read("huge.yml"), doctest::Contains("larger than 1024 KiB"), UsageError);
  }

  TEST_CASE("a hostile folder: an odd mode is a submodule as git reads it, and a huge folder is refused") {
    const Catalogue catalogue;
    const fs::path repository = catalogue.repository;
    const std::string blob = catalogue.git({"rev-parse", "HEAD:compose.yml"}, repository);
    std::string id;  // the blob's id as a folder stores it: raw bytes
    for (size_t at = 0; at < blob.size(); at += 2)
      id += static_cast<char>(std::stoi(blob.substr(at, 2), nullptr, 16));
    // Written as git would never write them, as a pull request can still ship them.
    const auto literal_tree = [&](const std::string& bytes) {
      const fs::path file = catalogue.folder.path() / "tree.bin";
      std::ofstream(file, std::ios::binary) << bytes;
      return catalogue.git({"hash-object", "-t", "tree", "-w", "--literally", file.string()}, repository);
    };
    const std::string odd = literal_tree("100644 .env.sample" + std::string(1, '\0') + id +
                                         "60000 compose.yml" + std::string(1, '\0') + id);
    const std::string odd_commit = catalogue.git({"commit-tree", odd, "-m", "odd modes"}, repository);
    const TargetFiles odd_files(resolve_target("custom-html", {.ref = odd_commit}, catalogue.folder.path()));
    CHECK(odd_files.read(".env.sample").has_value());
    CHECK_FALSE(odd_files.read("compose.yml").has_value());  // git checks it out as an empty submodule
    std::string entries;
    for (int i = 0; entries.size() <= (size_t{1} << 20); ++i)
      entries += "100644 f" + std::to_string(100000 + i) + std::string(1, '\0') + id;
    const std::string huge_commit =
        catalogue.git({"commit-tree", literal_tree(entries), "-m", "a huge folder"}, repository);
    const TargetFiles huge_files(
        resolve_target("custom-html", {.ref = huge_commit}, catalogue.folder.path()));
    CHECK_THROWS_WITH_AS(huge_files.read("compose.yml"), doctest::Contains("more than cc-ci reads of one"),
                         UsageError);
  }

  TEST_CASE("the revisions of one repository share one git, which a lost object does not stop") {
    const Catalogue catalogue;
    std::ofstream(catalogue.repository / "lost.yml") << "soon: gone\n";
    catalogue.git({"add", "lost.yml"}, catalogue.repository);
    catalogue.git({"commit", "--quiet", "-m", "a file to lose"}, catalogue.repository);
    const RecipeTarget head = resolve_target("custom-html", {.ref = "HEAD"}, catalogue.folder.path());
    const auto release = release_of(head, head.previous_release);
    REQUIRE(release.has_value());
    const TargetFiles files(head);
    const TargetFiles released(*release, files.objects());
    CHECK(released.objects() == files.objects());
    // The loose object of lost.yml removed: git answers "missing" for it.
    const std::string blob = catalogue.git({"rev-parse", "HEAD:lost.yml"}, catalogue.repository);
    fs::remove(catalogue.repository / ".git/objects" / blob.substr(0, 2) / blob.substr(2));
    CHECK_THROWS_WITH_AS(files.read("lost.yml"), doctest::Contains("missing from the repository"),
                         UsageError);
    CHECK(files.read("compose.yml").has_value());  // the same git goes on answering
    CHECK(released.read("compose.yml").has_value());
    CHECK_FALSE(released.read("lost.yml").has_value());  // not in the release
  }

  TEST_CASE("a local checkout is cloned with its uncommitted edits, new files and deletions") {
    const Catalogue catalogue;
    const test::TemporaryDirectory work;
    const fs::path checkout = work.path() / "pr";
    catalogue.git({"clone", "--quiet", catalogue.repository.string(), checkout.string()}, work.path());
    std::ofstream(checkout / "compose.yml", std::ios::app) << "# edited\n";
    std::ofstream(checkout / "new-file") << "added\n";
    fs::remove(checkout / "abra.sh");
    catalogue.git({"add", "new-file"}, checkout);  // staged, not committed: still part of the change

    const RecipeTarget target = resolve_target("custom-html", {.recipe_dir = checkout}, "/nonexistent");
    CHECK(target.local_changes);
    CHECK_FALSE(target.is_release());
    CHECK(target.previous_release == "1.6.0+1.25.3");
    CHECK(read_target_file(target, "new-file") == "added\n");

    const fs::path clone = work.path() / "abra/recipes/custom-html";
    check_out_target(target, clone);
    CHECK(test::read_file(clone / "compose.yml").ends_with("# edited\n"));
    CHECK(test::read_file(clone / "new-file") == "added\n");
    CHECK_FALSE(fs::exists(clone / "abra.sh"));
    CHECK(catalogue.git({"rev-parse", "HEAD"}, clone) == target.commit);
    // The clone's origin is the local checkout: abra's tag fetches need no network.
    CHECK(catalogue.git({"remote", "get-url", "origin"}, clone) == checkout.string());
  }

  TEST_CASE("a release target is checked out clean at its tag's commit") {
    const Catalogue catalogue;
    const test::TemporaryDirectory work;
    const RecipeTarget target =
        resolve_target("custom-html", {.ref = "1.5.0+1.25.3"}, catalogue.folder.path());
    check_out_target(target, work.path() / "custom-html");
    CHECK(catalogue.git({"rev-parse", "HEAD"}, work.path() / "custom-html") == target.commit);
    CHECK(catalogue.git({"status", "--porcelain"}, work.path() / "custom-html").empty());
    CHECK(test::read_file(work.path() / "custom-html/.fake").find("marker=1.5.0+1.25.3") !=
          std::string::npos);
  }

  TEST_CASE("the target travels to the child and back as JSON") {
    const RecipeTarget target{.ref = "main",
                              .commit = "abc",
                              .version = "",
                              .local_changes = true,
                              .previous_release = "1.0.0+1",
                              .repository = "/r",
                              .working_tree = "/w"};
    const RecipeTarget back = target_from_json(to_json(target));
    CHECK(back.ref == "main");
    CHECK(back.local_changes);
    CHECK(back.previous_release == "1.0.0+1");
    CHECK(back.working_tree == fs::path("/w"));
  }
}
