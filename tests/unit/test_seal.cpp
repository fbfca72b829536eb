// What a pull request controls, read as hostile: the report's seal, the
// report folder, results.json's shape (read_results) and text for terminals.
#include <sys/stat.h>

#include <fstream>

#include "base/markup.hpp"
#include "config/settings.hpp"
#include "forge/seal.hpp"
#include "model/judge.hpp"
#include "model/result_json.hpp"
#include "model/results_reader.hpp"
#include "report/report_folder.hpp"
#include "support.hpp"

using namespace ccci;
using ccci::test::TemporaryDirectory;
using nlohmann::json;
namespace fs = std::filesystem;

// Names of their own: tools/lint reads the unit tests as one unity unit.
namespace {

void put_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string what_fails(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& error) {
    return error.what();
  }
  return {};
}

bool says(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("seal") {
  TEST_CASE("a sealed folder verifies until any file is changed, added or removed") {
    TemporaryDirectory state;
    TemporaryDirectory report;
    const std::string key = seal_key(state.path());
    CHECK(key.size() == 64);
    CHECK(seal_key(state.path()) == key);  // made once, then read
    CHECK((fs::status(state.path() / "seal.key").permissions() & fs::perms::group_all) == fs::perms::none);
    put_file(report.path() / "results.json", "{}");
    put_file(report.path() / "logs" / "a.log", "line\n");
    seal_report(report.path(), key);
    CHECK(what_fails([&] { verify_seal(report.path(), key); }).empty());

    put_file(report.path() / "logs" / "a.log", "other\n");
    CHECK(says(what_fails([&] { verify_seal(report.path(), key); }), "logs/a.log was changed"));
    put_file(report.path() / "logs" / "a.log", "line\n");
    put_file(report.path() / "planted.html", "x");
    CHECK(says(what_fails([&] { verify_seal(report.path(), key); }), "planted.html was added"));
    fs::remove(report.path() / "planted.html");
    fs::remove(report.path() / "results.json");
    CHECK(says(what_fails([&] { verify_seal(report.path(), key); }), "results.json is sealed but missing"));
  }

  TEST_CASE("another key, a forged list or a link is refused") {
    TemporaryDirectory state;
    TemporaryDirectory other;
    TemporaryDirectory report;
    put_file(report.path() / "results.json", "{}");
    seal_report(report.path(), seal_key(state.path()));
    CHECK(says(what_fails([&] { verify_seal(report.path(), seal_key(other.path())); }),
               "not made by this host"));
    // A list that names a changed file with its new digest, under the old MAC.
    json seal = json::parse(std::ifstream(report.path() / "seal.json"));
    seal["files"]["results.json"] = std::string(64, '0');
    put_file(report.path() / "seal.json", seal.dump());
    CHECK(says(what_fails([&] { verify_seal(report.path(), seal_key(state.path())); }),
               "not made by this host"));
    fs::create_symlink("/etc/passwd", report.path() / "link");
    CHECK(says(what_fails([&] { seal_report(report.path(), seal_key(state.path())); }), "link is a link"));
  }

  TEST_CASE("a key others may read is refused, and none is made by a reader") {
    TemporaryDirectory state;
    CHECK(says(what_fails([&] { existing_seal_key(state.path()); }), "no seal key"));
    CHECK(!fs::exists(state.path() / "seal.key"));
    seal_key(state.path());
    ::chmod((state.path() / "seal.key").c_str(), 0644);
    CHECK(says(what_fails([&] { existing_seal_key(state.path()); }), "chmod 600"));
  }
}

TEST_SUITE("report folder") {
  TEST_CASE("only an empty folder, a new one or an earlier report is taken") {
    TemporaryDirectory root;
    const fs::path fresh = root.path() / "new" / "report";
    claim_report_folder(fresh, {});
    CHECK(fs::is_regular_file(fresh / kReportMarker));
    put_file(fresh / "results.json", "{}");
    claim_report_folder(fresh, {});  // an earlier report: emptied
    CHECK(!fs::exists(fresh / "results.json"));

    put_file(root.path() / "mine" / "notes.txt", "x");
    CHECK(says(what_fails([&] { claim_report_folder(root.path() / "mine", {}); }), "not a report folder"));
    CHECK(fs::exists(root.path() / "mine" / "notes.txt"));
    fs::create_symlink(fresh, root.path() / "link");
    CHECK(says(what_fails([&] { claim_report_folder(root.path() / "link", {}); }), "symbolic link"));
    CHECK(says(
        what_fails([&] { claim_report_folder(root.path() / "checkout" / "r", {root.path() / "checkout"}); }),
        "inside the checkout"));
    // An earlier report folder that holds the checkout is never emptied.
    claim_report_folder(root.path() / "old-report", {});
    put_file(root.path() / "old-report" / "ws" / "compose.yml", "x");
    CHECK(says(what_fails([&] {
                 claim_report_folder(root.path() / "old-report", {root.path() / "old-report" / "ws"});
               }),
               "holds the checkout"));
    CHECK(fs::exists(root.path() / "old-report" / "ws" / "compose.yml"));
    // A link from outside into the checkout is inside it once resolved.
    fs::create_directories(root.path() / "checkout" / "in");
    fs::create_symlink(root.path() / "checkout" / "in", root.path() / "via");
    CHECK(
        says(what_fails([&] { claim_report_folder(root.path() / "via" / "r", {root.path() / "checkout"}); }),
             "inside the checkout"));
  }
}

TEST_SUITE("hostile text") {
  TEST_CASE("results.json is checked whole before anything renders it") {
    RecipeResult recipe{.recipe = "custom-html"};
    recipe.steps = {{.phase = Phase::deploy, .name = "app deploy"}};
    recipe.target = {.commit = std::string(40, 'a')};
    judge(recipe);
    const RunReport report{.run_id = "r", .recipes = {recipe}};
    json results = to_json(report);
    const auto problem = [&] { return what_fails([&] { read_results(results); }); };
    CHECK(problem().empty());
    results["recipes"][0]["level"] = "8";
    CHECK(problem() == "recipes[0].level: not a whole number from 0 to 8");
    results["recipes"][0]["level"] = 9;
    CHECK(problem() == "recipes[0].level: not a whole number from 0 to 8");
    results["recipes"][0]["level"] = 1;
    results["recipes"][0]["rungs"][0]["status"] = "passed | ![](x)";
    CHECK(says(problem(), "recipes[0].rungs[0].status: not one of passed"));
    results["recipes"][0]["rungs"][0]["status"] = "passed";
    results["recipes"][0]["target"]["previous_release"] = 3;
    CHECK(problem() == "recipes[0].target.previous_release: not a string or null");
    CHECK(what_fails([] { read_results(json::array()); }) == "not a JSON object");
  }

  TEST_CASE("terminal_text keeps words and drops what a terminal would obey") {
    CHECK(terminal_text("plain words\n\tindented") == "plain words\n\tindented");
    CHECK(terminal_text("\x1b]0;owned\x07title") == "title");
    CHECK(terminal_text("a\x1b[2Jb\rc\x08"
                        "d") == "ab?c?d");
    CHECK(terminal_text("bad \xff byte") == "bad \xef\xbf\xbd byte");
    CHECK(terminal_text("c1 \xc2\x9b"
                        "31m") == "c1 ?31m");
    CHECK(terminal_text("grüße") == "grüße");
  }
}
