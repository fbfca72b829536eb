// summary.md, the badges and the card: what a PR shows of a run.
#include <fstream>

#include "base/markup.hpp"
#include "ccci/text.hpp"
#include "model/judge.hpp"
#include "model/result.hpp"
#include "model/result_json.hpp"
#include "model/results_reader.hpp"
#include "report/artifacts.hpp"
#include "report/badge.hpp"
#include "report/dashboard.hpp"
#include "report/results_files.hpp"
#include "report/summary.hpp"
#include "support.hpp"

using namespace ccci;
using ccci::test::read_file;
using ccci::test::TemporaryDirectory;
using nlohmann::json;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

StepResult step(Lane lane, Phase phase, StepKind kind, Status status, std::string name,
                std::string message = {}) {
  return {.lane = lane,
          .phase = phase,
          .kind = kind,
          .name = std::move(name),
          .status = status,
          .duration = milliseconds(1500),
          .message = std::move(message)};
}

// custom-html at level 3: it deployed, served and passed its check, then the
// seeded page was gone after the redeploy.
RecipeResult capped_recipe(std::string message = "body does not contain \"seed\"") {
  RecipeResult recipe{
      .recipe = "custom-html", .duration = milliseconds(72'000), .log = "logs/custom-html.log"};
  recipe.target = {
      .ref = "main", .commit = "0123456789abcdef0123456789abcdef01234567", .previous_release = "1.6.0"};
  recipe.steps = {
      step(Lane::fresh, Phase::deploy, StepKind::action, Status::passed, "app deploy"),
      step(Lane::fresh, Phase::probe, StepKind::readiness, Status::passed, "ready"),
      step(Lane::fresh, Phase::probe, StepKind::check, Status::passed, "index page is served as HTML"),
      step(Lane::fresh, Phase::persistence, StepKind::check, Status::failed, "the written page is served",
           std::move(message)),
      step(Lane::fresh, Phase::teardown, StepKind::action, Status::passed, "app rm"),
  };
  recipe.lanes = {{.lane = Lane::fresh,
                   .status = Status::failed,
                   .log = "logs/custom-html.log",
                   .abra_calls = {{"app deploy", 3}, {"app new", 1}}}};
  judge(recipe);
  return recipe;
}

// The run as a renderer gets it: written as results.json, and read back.
RunReport results_of(std::vector<RecipeResult> recipes) {
  RunReport report{.run_id = "20261203T010000Z-abc123",
                   .started_at = std::chrono::system_clock::now(),
                   .finished_at = std::chrono::system_clock::now(),
                   .recipes = std::move(recipes)};
  return read_results(to_json(report));
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_SUITE("artifacts") {
  TEST_CASE("Markdown from apps and abra cannot become markup in the PR comment") {
    const std::string text =
        markdown_text("<img src=https://evil.example/x.png> [click](https://evil) `x` | a*b*\nnext");
    CHECK_FALSE(contains(text, "<img"));
    CHECK(contains(text, "&lt;img"));
    CHECK(contains(text, "\\[click\\](https://evil)"));
    CHECK(contains(text, "\\`x\\`"));
    CHECK(contains(text, "\\|"));
    CHECK_FALSE(contains(text, "\n"));
    // A log with a fence in it cannot close the block it is shown in.
    const std::string block = markdown_code_block("before\n````\n<b>after</b>");
    CHECK(block.starts_with("`````text\n"));
    CHECK(block.ends_with("\n`````\n"));
    CHECK(contains(block, "<b>after</b>"));  // verbatim inside a code block
    CHECK(xml_escape("a<b>&\"'\x01") == "a&lt;b&gt;&amp;&quot;&apos; ");
  }

  TEST_CASE("badges say the level in its colour, and 'not tested' when nothing was graded") {
    CHECK(level_colour(0) == "#e05d44");
    CHECK(level_colour(8) == "#44cc11");
    CHECK(level_colour(42) == level_colour(8));
    const RunReport results = results_of({capped_recipe()});
    const std::string badge = recipe_badge_svg(results.recipes[0]);
    CHECK(contains(badge, ">level 3</text>"));
    CHECK(contains(badge, std::string(level_colour(3))));
    CHECK(contains(badge, "aria-label=\"cc-ci: level 3\""));
    CHECK(run_badge_svg(results) == badge);  // one recipe: its badge is the run's

    RecipeResult untested{.recipe = "gitea"};  // --timeout ran out before it started
    const RunReport two = results_of({capped_recipe(), untested});
    CHECK(contains(recipe_badge_svg(two.recipes[1]), ">not tested</text>"));
    CHECK(contains(run_badge_svg(two), ">0/2 passed</text>"));
    CHECK(contains(badge_svg("cc-ci", "<script>", "#fff"), "&lt;script&gt;"));
  }

  TEST_CASE("the card has a row per recipe, each rung a cell, and says how many rows it left out") {
    std::vector<RecipeResult> many(30, capped_recipe());
    many[0].recipe = "<b>odd</b>";
    const std::string card = card_svg(results_of(many));
    CHECK(contains(card, "&lt;b&gt;odd&lt;/b&gt;"));
    CHECK(contains(card, "… and 6 more recipes"));
    CHECK(contains(card, "<title>4: failed</title>"));
    CHECK(contains(card, "<title>5: unverified</title>"));
    CHECK(contains(card, "01234567"));  // the commit
    CHECK(contains(card, "1 min 12 s"));
  }

  TEST_CASE("summary.md: level, why, the rungs with their time, failing steps and the log's last lines") {
    TemporaryDirectory folder;
    std::string log;
    for (int line = 1; line <= 50; ++line)
      log += line == 35 ? "-- persistence \"the written page is served\" failed: gone\n"
                        : "log line " + std::to_string(line) + "\n";
    write(folder.path() / "logs/custom-html.log", log);
    const std::string summary = summary_markdown(results_of({capped_recipe()}), folder.path(), {});

    CHECK(contains(summary, "## custom-html: level 3 ❌ failed"));
    CHECK(contains(summary,
                   "commit `0123456789ab` (main, not a release: deployed with --chaos) · upgraded from "
                   "1.6.0 · 1 min 12 s"));
    CHECK(contains(summary,
                   "**Why not higher:** level 4 (keeps its data across undeploy and redeploy) is failed"));
    CHECK(contains(summary, "| 1 | deploys | ✅ passed | 1.5 s |"));
    CHECK(contains(summary, "| 2 | serves | ✅ passed | 1.5 s |"));  // the readiness step's time
    CHECK(contains(summary, "| 4 | persistence | ❌ failed | 1.5 s |"));
    CHECK(contains(summary, "| 5 | upgrade | ❔ unverified |  |"));
    CHECK(contains(
        summary, "- ❌ fresh · persistence · **the written page is served** (1.5 s): body does not contain"));
    // The fresh lane's log up to its first failing step, 20 lines of it.
    CHECK(contains(summary, "up to \"the written page is served\" failed</summary>"));
    CHECK(contains(summary, "log line 16\n"));
    CHECK_FALSE(contains(summary, "log line 15\n"));
    CHECK(contains(summary, "-- persistence \"the written page is served\" failed: gone\n```"));
    CHECK_FALSE(contains(summary, "log line 36"));
    // Without a dashboard URL nothing is linked or embedded.
    CHECK_FALSE(contains(summary, "]("));
  }

  TEST_CASE("summary.md links and embeds from the dashboard URL when one is given") {
    TemporaryDirectory folder;
    const std::string summary = summary_markdown(
        results_of({capped_recipe()}), folder.path(),
        {.base_url = "https://ci.example.org/runs/7/", .has_dashboard = true, .has_card = true});
    CHECK(contains(summary, "![cc-ci: level 3](https://ci.example.org/runs/7/badges/custom-html.svg)"));
    CHECK(contains(summary, "![cc-ci summary card](https://ci.example.org/runs/7/card.png)"));
    CHECK(contains(summary, "[Dashboard](https://ci.example.org/runs/7/index.html)"));
    // A results.json from elsewhere: a name that is not a recipe name is never part of a link.
    RecipeResult hostile = capped_recipe();
    hostile.recipe = "x.svg) ![a](https://evil.example/a.png";
    const std::string attacked =
        summary_markdown(results_of({hostile}), folder.path(), {.base_url = "https://ci.example.org/runs/7"});
    CHECK_FALSE(contains(attacked, "![a](https://evil"));
    CHECK(contains(attacked, "!\\[a\\](https://evil"));  // shown as text
    CHECK_FALSE(contains(attacked, "badges/x"));
  }

  TEST_CASE("a log path that leads out of the report folder is never read") {
    TemporaryDirectory folder;
    write(folder.path() / "outside.log", "SECRET-OUTSIDE\n");
    write(folder.path() / "report/logs/ok.log", "inside\n");
    const fs::path report = folder.path() / "report";
    CHECK(last_log_lines(report, "logs/ok.log", 5) == "inside\n");
    CHECK(last_log_lines(report, "../outside.log", 5).empty());
    CHECK(last_log_lines(report, "logs/../../outside.log", 5).empty());
    CHECK(last_log_lines(report, (folder.path() / "outside.log").string(), 5).empty());
    fs::create_symlink(folder.path() / "outside.log", report / "logs/link.log");
    CHECK(last_log_lines(report, "logs/link.log", 5).empty());
  }

  TEST_CASE("summary.md stays under Gitea's limit: logs go first, then the list is cut, saying so") {
    TemporaryDirectory folder;
    write(folder.path() / "logs/custom-html.log", std::string(200, 'x') + "\n");
    // Logs that would push it over are dropped, the steps kept.
    std::vector<RecipeResult> several(300, capped_recipe());
    std::string summary = summary_markdown(results_of(several), folder.path(), {});
    CHECK(summary.size() <= kSummaryMaxBytes);
    CHECK(contains(summary, "… cut here"));
    // A huge message is cut on a character boundary.
    const std::string huge(100'000, 'y');
    summary = summary_markdown(results_of({capped_recipe("é" + huge)}), folder.path(), {});
    CHECK(summary.size() <= kSummaryMaxBytes);
    CHECK(contains(summary, "yyy …"));
    CHECK(valid_utf8(summary) == summary);
  }

  TEST_CASE("write_artifacts makes every file from results.json, and says what it could not draw") {
    TemporaryDirectory folder;
    RecipeResult hostile = capped_recipe();
    hostile.recipe = "../escape";
    write_reports({.run_id = "r", .recipes = {capped_recipe(), hostile}}, folder.path());

    const auto problems = write_artifacts(folder.path(), {.rsvg_convert = "/nonexistent/rsvg-convert"});
    REQUIRE(problems.size() == 2);
    CHECK(contains(problems[0], "no badge for a recipe named \"../escape\""));
    CHECK(contains(problems[1], "card.png not drawn: /nonexistent/rsvg-convert"));
    CHECK_FALSE(fs::exists(folder.path() / "escape.svg"));
    CHECK(fs::exists(folder.path() / "badges/custom-html.svg"));
    CHECK(contains(read_file(folder.path() / "badge.svg"), "0/2 passed"));
    CHECK(contains(read_file(folder.path() / "card.svg"), "custom-html"));
    CHECK_FALSE(fs::exists(folder.path() / "card.png"));
    CHECK(contains(read_file(folder.path() / "summary.md"), "## custom-html: level 3"));
  }

  TEST_CASE("card.png is a PNG drawn by rsvg-convert, and a run's earlier card never stays") {
    TemporaryDirectory folder;
    write_reports({.run_id = "r", .recipes = {capped_recipe()}}, folder.path());
    REQUIRE(write_artifacts(folder.path(), {}).empty());  // tools/test installs librsvg2-bin
    CHECK(read_file(folder.path() / "card.png").starts_with("\x89PNG\r\n\x1a\n"));
    write_artifacts(folder.path(), {.rsvg_convert = "false"});
    CHECK_FALSE(fs::exists(folder.path() / "card.png"));
    CHECK_FALSE(fs::exists(folder.path() / "card.png.tmp"));
  }

  TEST_CASE("a folder without a cc-ci results.json is refused in one line") {
    TemporaryDirectory folder;
    CHECK_THROWS_WITH_AS(write_artifacts(folder.path(), {}), doctest::Contains("no results.json there"),
                         std::runtime_error);
    write(folder.path() / "results.json", "{\"schema\": \"other\", \"recipes\": []}");
    CHECK_THROWS_WITH_AS(write_artifacts(folder.path(), {}), doctest::Contains("not a cc-ci results file"),
                         std::runtime_error);
    write(folder.path() / "results.json", "{not json");
    CHECK_THROWS_WITH_AS(write_artifacts(folder.path(), {}), doctest::Contains("not JSON"),
                         std::runtime_error);
  }
}

TEST_SUITE("dashboard") {
  TEST_CASE("the run page escapes what apps said and links only logs inside its folder") {
    TemporaryDirectory folder;
    write(folder.path() / "logs/custom-html.log", "log\n");
    RecipeResult hostile = capped_recipe("<script>alert(1)</script>");
    hostile.lanes.push_back({.lane = Lane::upgrade, .status = Status::failed, .log = "../../etc/passwd"});
    const std::string html = run_page_html(results_of({hostile}), folder.path());
    CHECK_FALSE(contains(html, "<script>"));
    CHECK(contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    CHECK(contains(html, "<a href=\"logs/custom-html.log\">log</a>"));
    CHECK(contains(html, "<td>app deploy 3, app new 1</td>"));
    CHECK_FALSE(contains(html, "passwd\">"));
    CHECK(contains(html, "level 3"));
    CHECK_FALSE(contains(html, "src=\"http"));  // nothing fetched from the network
    CHECK_FALSE(contains(html, "<link"));
  }

  TEST_CASE("the index shows each recipe's latest level and its history, newest first") {
    TemporaryDirectory root;
    RecipeResult passed = capped_recipe();
    passed.level = 8;
    passed.status = Status::passed;
    for (const auto& [folder, recipe, started] :
         {std::tuple{"run-old", capped_recipe(), "2026-12-01T10:00:00.000Z"},
          std::tuple{"custom-html/42", passed, "2026-12-02T10:00:00.000Z"}}) {
      RunReport results = results_of({recipe});
      results.started_at = parse_rfc3339(started).value();
      results.finished_at = results.started_at;
      write(root.path() / folder / "results.json", to_json(results).dump());
    }
    write(root.path() / "not-a-run/notes.txt", "");
    fs::create_directory_symlink(root.path() / "custom-html/42", root.path() / "custom-html/latest");
    write(root.path() / "broken/results.json", "{");
    const auto skipped = write_dashboard(root.path());
    REQUIRE(skipped.size() == 1);
    CHECK(contains(skipped[0], "not JSON"));
    const std::string html = read_file(root.path() / "index.html");
    const auto newest = html.find("href=\"custom-html/42/index.html#custom-html\">8</a>");
    const auto oldest = html.find("href=\"run-old/index.html#custom-html\">3</a>");
    REQUIRE(newest != std::string::npos);
    REQUIRE(oldest != std::string::npos);
    CHECK(newest < oldest);
    CHECK(contains(html, "recipes: 1 · runs: 2"));
  }
}
