// results.json read back into the typed report: what cc-ci writes reads back
// whole and writes out the same, and anything else is refused in one line that
// names the field.
#include <sys/stat.h>

#include <fstream>
#include <functional>

#include "model/judge.hpp"
#include "model/result.hpp"
#include "model/result_json.hpp"
#include "model/results_reader.hpp"
#include "report/results_files.hpp"
#include "support.hpp"

using namespace ccci;
using nlohmann::json;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

// Names of their own: tools/lint reads the unit tests as one unity unit.
namespace {

StepResult reader_step(Lane lane, Phase phase, StepKind kind, Status status, std::string name,
                       std::string message = {}) {
  return {.lane = lane,
          .phase = phase,
          .kind = kind,
          .name = std::move(name),
          .status = status,
          .duration = milliseconds(1200),
          .message = std::move(message)};
}

// Every lane, a release target, kept apps, a screenshot file, flaky and errored steps.
RecipeResult released_recipe() {
  RecipeResult recipe{.recipe = "custom-html",
                      .server = "server-1",
                      .domain = "custom-html.example.org",
                      .duration = milliseconds(95'000),
                      .log = "logs/custom-html.log",
                      .kept = "the fresh lane's app, for --keep",
                      .screenshot = {.attempted = true, .file = "screenshots/custom-html.png"}};
  recipe.target = {.ref = "1.6.0+1.25.3",
                   .commit = "0123456789abcdef0123456789abcdef01234567",
                   .version = "1.6.0+1.25.3",
                   .previous_release = "1.5.0+1.25.2"};
  recipe.steps = {
      reader_step(Lane::fresh, Phase::deploy, StepKind::action, Status::passed, "app deploy"),
      reader_step(Lane::fresh, Phase::probe, StepKind::readiness, Status::passed, "ready"),
      reader_step(Lane::fresh, Phase::probe, StepKind::check, Status::flaky, "index page",
                  "passed on retry 2"),
      reader_step(Lane::fresh, Phase::persistence, StepKind::check, Status::passed, "seed survives"),
      reader_step(Lane::fresh, Phase::backup_restore, StepKind::action, Status::errored, "backup",
                  "timed out"),
      reader_step(Lane::fresh, Phase::teardown, StepKind::check, Status::passed, std::string(kNothingLeft)),
      reader_step(Lane::upgrade, Phase::deploy, StepKind::action, Status::passed, "app deploy 1.5.0+1.25.2"),
      reader_step(Lane::upgrade, Phase::upgrade, StepKind::action, Status::passed, "app upgrade"),
      reader_step(Lane::lint, Phase::lint, StepKind::check, Status::skipped, "R014",
                  "not applicable: no rule"),
  };
  recipe.lanes = {{.lane = Lane::fresh,
                   .server = "server-1",
                   .domain = "custom-html.example.org",
                   .status = Status::errored,
                   .duration = milliseconds(60'000),
                   .log = "logs/custom-html.log",
                   .kept = "the app",
                   .abra_calls = {{"app deploy", 2}, {"app new", 1}}},
                  {.lane = Lane::upgrade,
                   .server = "server-2",
                   .status = Status::passed,
                   .log = "logs/custom-html.upgrade.log",
                   .from = "1.5.0+1.25.2",
                   .abra_calls = {{"app upgrade", 1}}},
                  {.lane = Lane::lint, .status = Status::skipped, .log = "logs/custom-html.lint.log"}};
  judge(recipe);
  return recipe;
}

// Unreleased code with local changes (null version and previous release), no screenshot.
RecipeResult chaos_recipe() {
  RecipeResult recipe{.recipe = "keycloak", .log = "logs/keycloak.log"};
  recipe.target = {
      .ref = "the working tree of /src/keycloak", .commit = std::string(64, 'e'), .local_changes = true};
  recipe.steps = {reader_step(Lane::fresh, Phase::deploy, StepKind::action, Status::failed, "app deploy",
                              "\"\xff\" <b>not UTF-8</b>")};
  recipe.screenshot = {.attempted = true, .missing = "the app never served its domain"};
  judge(recipe);
  return recipe;
}

RunReport rich_report() {
  const auto start = std::chrono::sys_days(std::chrono::year(2026) / 12 / 7) + std::chrono::hours(3) +
                     std::chrono::minutes(4) + std::chrono::seconds(5) + milliseconds(678);
  return {.run_id = "20261207T030405Z-abc123",
          .started_at = start,
          .finished_at = start + milliseconds(1'234'567),
          .interrupted = true,
          .recipes = {released_recipe(), chaos_recipe(), RecipeResult{.recipe = "gitea"}}};
}

// What read_results says of `results`, or "read whole".
std::string refusal(const json& results) {
  try {
    read_results(results);
  } catch (const ResultsError& error) {
    return error.what();
  }
  return "read whole";
}

}  // namespace

TEST_SUITE("results reader") {
  TEST_CASE("every results.json cc-ci writes reads back whole and writes out the same") {
    const json written = to_json(rich_report());
    const RunReport read = read_results(written);
    CHECK(to_json(read) == written);
    // Each optional part is there, typed.
    REQUIRE(read.recipes.size() == 3);
    const RecipeResult& released = read.recipes[0];
    CHECK(released.target.is_release());
    CHECK(released.screenshot.file == "screenshots/custom-html.png");
    CHECK(released.rungs.size() == 8);
    CHECK(released.lanes[1].from == "1.5.0+1.25.2");
    CHECK(released.lanes[0].kept == "the app");
    CHECK(released.lanes[0].abra_calls.at("app deploy") == 2);
    CHECK(released.steps[2].status == Status::flaky);
    CHECK(released.status == Status::errored);
    const RecipeResult& chaos = read.recipes[1];
    CHECK(chaos.target.version.empty());
    CHECK(chaos.target.previous_release.empty());
    CHECK(chaos.screenshot.missing == "the app never served its domain");
    CHECK(read.recipes[2].status == Status::skipped);
    CHECK(read.recipes[2].rungs.empty());
    CHECK(read.interrupted);
    CHECK(format_rfc3339(read.started_at) == "2026-12-07T03:04:05.678Z");
  }

  TEST_CASE("results.json on disk reads back as written, bytes that were not UTF-8 included") {
    test::TemporaryDirectory folder;
    write_reports(rich_report(), folder.path());
    const json on_disk = json::parse(test::read_file(folder.path() / "results.json"));
    CHECK(to_json(read_results_file(folder.path() / "results.json")) == on_disk);
  }

  TEST_CASE("the run's duration comes from its two times, not from the file") {
    json results = to_json(rich_report());
    CHECK(results["duration_ms"] == 1'234'567);
    results["duration_ms"] = 5;
    CHECK(to_json(read_results(results))["duration_ms"] == 1'234'567);
    // Times each cut to the millisecond as published: the duration is their difference.
    RunReport report = rich_report();
    report.started_at += std::chrono::microseconds(999);
    report.finished_at += std::chrono::microseconds(1);
    CHECK(to_json(report)["duration_ms"] == 1'234'567);
  }

  TEST_CASE("a results.json that does not read whole is refused, naming the field") {
    const json written = to_json(rich_report());
    const auto refused = [&](const std::function<void(json&)>& change) {
      json results = written;
      change(results);
      return refusal(results);
    };
    CHECK(refusal(json::array()) == "not a JSON object");
    CHECK(refused([](json& j) { j["schema"] = "cc-ci/results/v2"; }) == "schema: not cc-ci/results/v1");
    CHECK(refused([](json& j) { j.erase("started_at"); }) == "started_at: missing");
    CHECK(refused([](json& j) { j["finished_at"] = "yesterday"; }) == "finished_at: not an RFC 3339 time");
    CHECK(refused([](json& j) { j["interrupted"] = "yes"; }) == "interrupted: not true or false");
    CHECK(refused([](json& j) { j["recipes"] = json::object(); }) == "recipes: not a list");
    CHECK(refused([](json& j) { j["recipes"][1] = "keycloak"; }) == "recipes[1]: not an object");
    CHECK(refused([](json& j) { j["recipes"][2]["status"] = "green"; }) ==
          "recipes[2].status: not one of passed, failed, errored, skipped, flaky");
    CHECK(refused([](json& j) { j["recipes"][1]["steps"][0].erase("name"); }) ==
          "recipes[1].steps[0].name: missing");
    CHECK(refused([](json& j) { j["recipes"][0]["steps"][3]["phase"] = "sideways"; }) ==
          "recipes[0].steps[3].phase: not one of deploy, probe, persistence, backup_restore, upgrade, lint, "
          "teardown");
    CHECK(refused([](json& j) { j["recipes"][0]["steps"][0]["kind"] = "hook"; }) ==
          "recipes[0].steps[0].kind: not one of action, readiness, check");
    CHECK(refused([](json& j) { j["recipes"][0]["lanes"][1]["lane"] = "sideways"; }) ==
          "recipes[0].lanes[1].lane: not one of fresh, upgrade, lint");
    CHECK(refused([](json& j) { j["recipes"][0]["lanes"][0]["duration_ms"] = "12"; }) ==
          "recipes[0].lanes[0].duration_ms: not a whole number from 0 up");
    CHECK(refused([](json& j) { j["recipes"][0]["lanes"][0]["abra_calls"]["app new"] = 0; }) ==
          "recipes[0].lanes[0].abra_calls: the count of \"app new\" is not a whole number from 1 up");
    CHECK(refused([](json& j) { j["recipes"][0]["level"] = 9; }) ==
          "recipes[0].level: not a whole number from 0 to 8");
    CHECK(refused([](json& j) { j["recipes"][0]["rungs"][3]["status"] = "passed | ![](x)"; }) ==
          "recipes[0].rungs[3].status: not one of passed, failed, errored, not_applicable, unverified");
    CHECK(refused([](json& j) { j["recipes"][0]["target"]["previous_release"] = 3; }) ==
          "recipes[0].target.previous_release: not a string or null");
    CHECK(refused([](json& j) { j["recipes"][0]["target"]["version"] = ""; }) ==
          "recipes[0].target.version: empty (null says there is none)");
    CHECK(refused([](json& j) { j["recipes"][0]["target"]["commit"] = "HEAD"; }) ==
          "recipes[0].target.commit: not a commit id (40 to 64 hex digits)");
    CHECK(refused([](json& j) { j["recipes"][0]["screenshot"]["missing"] = "both"; }) ==
          "recipes[0].screenshot: not a file or why it is missing, exactly one of the two");
    CHECK(refused([](json& j) { j["recipes"][0]["recipe"] = ""; }) == "recipes[0].recipe: empty");
  }

  TEST_CASE("what cc-ci derives must agree with what it is derived from") {
    const json written = to_json(rich_report());
    const auto refused = [&](const std::function<void(json&)>& change) {
      json results = written;
      change(results);
      return refusal(results);
    };
    CHECK(refused([](json& j) { j["summary"]["errored"] = 0; }) ==
          "summary.errored: 0, but 1 recipes say errored");
    CHECK(refused([](json& j) { j["summary"].erase("skipped"); }) == "summary.skipped: missing");
    CHECK(refused([](json& j) { j["recipes"][0]["rungs"][1]["name"] = "checks"; }) ==
          "recipes[0].rungs[1].name: not serves, the name of rung 2");
    CHECK(refused([](json& j) { j["recipes"][0]["rungs"][1]["rung"] = 3; }) ==
          "recipes[0].rungs[1].rung: not 2 (the rungs go 1 to 8, in order)");
    CHECK(refused([](json& j) { j["recipes"][0]["rungs"].erase(7); }) == "recipes[0].rungs: not the 8 rungs");
    CHECK(refused([](json& j) { j["recipes"][0]["target"]["deployed_as"] = "chaos"; }) ==
          "recipes[0].target.deployed_as: not release, as its version and local_changes say");
    CHECK(refused([](json& j) { j["recipes"][1]["target"]["deployed_as"] = "sideways"; }) ==
          "recipes[1].target.deployed_as: not one of release, chaos");
  }

  TEST_CASE("a refusal is one line, and says nothing a terminal would obey") {
    json results = to_json(rich_report());
    results["recipes"][0]["lanes"][0]["abra_calls"]["app\n\x1b[2Jdeploy"] = -1;
    const std::string said = refusal(results);
    CHECK(said.find('\n') == std::string::npos);
    CHECK(said.find('\x1b') == std::string::npos);
  }

  TEST_CASE("results.json on disk: only a plain file, not too large, JSON, read whole") {
    test::TemporaryDirectory folder;
    const fs::path file = folder.path() / "results.json";
    CHECK_THROWS_WITH_AS(read_results_file(file), doctest::Contains("no results.json there"), ResultsError);
    fs::create_symlink("/dev/zero", file);
    CHECK_THROWS_WITH_AS(read_results_file(file), doctest::Contains("not a plain file"), ResultsError);
    fs::remove(file);
    REQUIRE(::mkfifo(file.c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(read_results_file(file), doctest::Contains("not a plain file"), ResultsError);
    fs::remove(file);
    std::ofstream(file) << "{";
    fs::resize_file(file, kResultsMaxBytes + 1);  // sparse: nothing is written
    CHECK_THROWS_WITH_AS(read_results_file(file), doctest::Contains("larger than 64 MiB"), ResultsError);
    std::ofstream(file, std::ios::trunc) << "{not json";
    const std::string not_json = file.string() + ": not JSON";
    CHECK_THROWS_WITH_AS(read_results_file(file), doctest::Contains(not_json.c_str()), ResultsError);
    json results = to_json(rich_report());
    results["recipes"][0]["level"] = "8";
    std::ofstream(file, std::ios::trunc) << results.dump(-1, ' ', false, json::error_handler_t::replace);
    CHECK_THROWS_WITH_AS(
        read_results_file(file),
        (file.string() + ": not a cc-ci results file (recipes[0].level: not a whole number from 0 to 8)")
            .c_str(),
        ResultsError);
  }
}
