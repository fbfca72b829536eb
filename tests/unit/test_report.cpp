#include "base/files.hpp"
#include "model/judge.hpp"
#include "model/result.hpp"
#include "model/result_json.hpp"
#include "report/results_files.hpp"
#include "support.hpp"

using namespace ccci;
using std::chrono::milliseconds;

namespace {

StepResult step(Phase phase, StepKind kind, Status status, std::string name = "step") {
  return {
      .phase = phase, .kind = kind, .name = std::move(name), .status = status, .duration = milliseconds(5)};
}

RecipeResult judged(std::vector<StepResult> steps) {
  RecipeResult result{.recipe = "custom-html"};
  result.steps = std::move(steps);
  judge(result);
  return result;
}

const auto kDeployed = step(Phase::deploy, StepKind::action, Status::passed, "app deploy");
const auto kReady = step(Phase::probe, StepKind::readiness, Status::passed, "ready");
const auto kCheck = step(Phase::probe, StepKind::check, Status::passed, "index");
const auto kTornDown = step(Phase::teardown, StepKind::action, Status::passed, "app rm");

}  // namespace

TEST_SUITE("levels") {
  TEST_CASE("level 0 when deploy fails, with the failing step as the reason") {
    const auto result =
        judged({step(Phase::deploy, StepKind::action, Status::failed, "app deploy"), kTornDown});
    CHECK(result.level == 0);
    CHECK(result.status == Status::failed);
    CHECK(result.level_reason.find("\"app deploy\" failed") != std::string::npos);
  }

  TEST_CASE("level 1 when it deploys but does not serve HTTPS") {
    const auto result =
        judged({kDeployed, step(Phase::probe, StepKind::readiness, Status::failed, "ready"), kTornDown});
    CHECK(result.level == 1);
    CHECK(result.level_reason.find("valid HTTPS") != std::string::npos);
  }

  TEST_CASE("level 2 when a recipe check fails, or when there is none") {
    auto failing =
        judged({kDeployed, kReady, step(Phase::probe, StepKind::check, Status::failed, "login"), kTornDown});
    CHECK(failing.level == 2);
    CHECK(failing.level_reason.find("\"login\" failed") != std::string::npos);
    auto none = judged({kDeployed, kReady, kTornDown});
    CHECK(none.level == 2);
    CHECK(none.level_reason.find("no recipe-specific checks") != std::string::npos);
  }

  TEST_CASE("level 3 when every check passes; level 4 is named as untested") {
    const auto result = judged({kDeployed, kReady, kCheck, kTornDown});
    CHECK(result.level == 3);
    CHECK(result.status == Status::passed);
    CHECK(result.level_reason.find("level 4") != std::string::npos);
  }

  TEST_CASE("every recipe result carries all eight rungs; untested ones are unverified, never passed") {
    const auto result = judged({kDeployed, kReady, kCheck, kTornDown});
    REQUIRE(result.rungs.size() == kRungs.size());
    for (size_t i = 0; i < kRungs.size(); ++i) {
      CAPTURE(i);
      CHECK(result.rungs[i].rung == kRungs[i]);
      CHECK(result.rungs[i].status == (i < 3 ? RungStatus::passed : RungStatus::unverified));
      if (i >= 3) CHECK_FALSE(result.rungs[i].reason.empty());
    }
    CHECK(result.rungs[4].reason == "the upgrade lane did not run");
    CHECK(result.rungs[6].reason == "the lint lane did not run");
    CHECK(result.rungs[7].reason.find("nothing inspected the server after teardown") != std::string::npos);
    CHECK(result.level_reason.find("level 4 (keeps its data across undeploy and redeploy) is unverified") !=
          std::string::npos);
    // A failed deploy leaves the rungs above it unjudged, not passed.
    const auto failed =
        judged({step(Phase::deploy, StepKind::action, Status::errored, "app new"), kTornDown});
    CHECK(failed.rungs[0].status == RungStatus::errored);
    CHECK(failed.rungs[1].status == RungStatus::unverified);
    CHECK(failed.rungs[1].reason == "not reached: a lower rung did not pass");
  }

  TEST_CASE("the level is the highest rung with every rung below it passed, for every status on every rung") {
    const RungStatus kNotPassed[] = {RungStatus::failed, RungStatus::errored, RungStatus::not_applicable,
                                     RungStatus::unverified};
    for (size_t capped = 0; capped < kRungs.size(); ++capped) {
      for (const RungStatus status : kNotPassed) {
        for (const RungStatus above : {RungStatus::passed, RungStatus::failed, RungStatus::unverified}) {
          CAPTURE(capped);
          CAPTURE(to_string(status));
          CAPTURE(to_string(above));
          std::vector<RungResult> rungs;
          for (size_t i = 0; i < kRungs.size(); ++i)
            rungs.push_back({kRungs[i],
                             i < capped    ? RungStatus::passed
                             : i == capped ? status
                                           : above,
                             "why"});
          const Grade graded = grade(rungs);
          CHECK(graded.level == static_cast<int>(capped));
          REQUIRE(graded.capped_by);
          CHECK(*graded.capped_by == kRungs[capped]);
          CHECK(graded.reason.find(std::string(describe(kRungs[capped]))) != std::string::npos);
          CHECK(graded.reason.find(status == RungStatus::not_applicable
                                       ? "does not apply"
                                       : to_string(status)) != std::string::npos);
        }
      }
    }
    std::vector<RungResult> all(kRungs.size());
    for (size_t i = 0; i < kRungs.size(); ++i) all[i] = {kRungs[i], RungStatus::passed};
    CHECK(grade(all).level == 8);
    CHECK_FALSE(grade(all).capped_by);
    // A rung nobody judged is unverified.
    all.erase(all.begin() + 4);
    CHECK(grade(all).level == 4);
    CHECK(grade(all).reason.find("is unverified: no reason given") != std::string::npos);
  }

  TEST_CASE("each data rung and the clean teardown are judged from their own phase") {
    const auto seeded = step(Phase::persistence, StepKind::action, Status::passed, "seed");
    const auto kept = step(Phase::persistence, StepKind::check, Status::passed, "still there");
    const auto restored = step(Phase::backup_restore, StepKind::check, Status::passed, "back");
    const auto inspected = step(Phase::teardown, StepKind::check, Status::passed, std::string(kNothingLeft));
    auto rung = [](const RecipeResult& result, Rung which) {
      return result.rungs[static_cast<size_t>(which) - 1];
    };

    const auto all = judged({kDeployed, kReady, kCheck, seeded, kept, restored, kTornDown, inspected});
    CHECK(rung(all, Rung::persistence).status == RungStatus::passed);
    CHECK(rung(all, Rung::backup_restore).status == RungStatus::passed);
    CHECK(rung(all, Rung::clean_teardown).status == RungStatus::passed);
    CHECK(all.level == 4);  // the upgrade lane did not run
    CHECK(all.status == Status::passed);

    const auto lost =
        judged({kDeployed, kReady, kCheck, seeded,
                step(Phase::persistence, StepKind::check, Status::failed, "still there"), kTornDown});
    CHECK(rung(lost, Rung::persistence).status == RungStatus::failed);
    CHECK(rung(lost, Rung::persistence).reason.find("\"still there\" failed") != std::string::npos);
    CHECK(lost.level == 3);
    CHECK(lost.status == Status::failed);

    const auto no_hook =
        judged({kDeployed, kReady, kCheck,
                step(Phase::persistence, StepKind::check, Status::skipped, "seed()"), kTornDown});
    CHECK(rung(no_hook, Rung::persistence).status == RungStatus::unverified);
    CHECK(no_hook.status == Status::passed);

    auto not_applicable = step(Phase::backup_restore, StepKind::check, Status::skipped, "backup and restore");
    not_applicable.message = std::string(kNotApplicable) + "a static site";
    const auto static_site = judged({kDeployed, kReady, kCheck, seeded, kept, not_applicable, kTornDown});
    CHECK(rung(static_site, Rung::backup_restore).status == RungStatus::not_applicable);
    CHECK(rung(static_site, Rung::backup_restore).reason == "a static site");

    // Teardown's actions passing proves nothing about leftovers; only the inspection does.
    CHECK(rung(all, Rung::clean_teardown).status == RungStatus::passed);
    const auto uninspected = judged({kDeployed, kReady, kCheck, kTornDown});
    CHECK(rung(uninspected, Rung::clean_teardown).status == RungStatus::unverified);
    const auto leaked =
        judged({kDeployed, kReady, kCheck, kTornDown,
                step(Phase::teardown, StepKind::check, Status::failed, std::string(kNothingLeft))});
    CHECK(rung(leaked, Rung::clean_teardown).status == RungStatus::failed);
  }

  TEST_CASE("the upgrade, lint and clean-teardown rungs come from their own lanes") {
    auto in = [](Lane lane, StepResult s) {
      s.lane = lane;
      return s;
    };
    auto rung = [](const RecipeResult& result, Rung which) {
      return result.rungs[static_cast<size_t>(which) - 1];
    };
    const auto inspected = step(Phase::teardown, StepKind::check, Status::passed, std::string(kNothingLeft));
    const auto upgraded = step(Phase::upgrade, StepKind::check, Status::passed, "still there");
    const auto linted = step(Phase::lint, StepKind::check, Status::passed, "no error rule fails");

    const auto good = judged({kDeployed, kReady, kCheck, kTornDown, inspected, in(Lane::upgrade, kDeployed),
                              in(Lane::upgrade, upgraded), in(Lane::upgrade, kTornDown),
                              in(Lane::upgrade, inspected), in(Lane::lint, linted)});
    CHECK(rung(good, Rung::upgrade).status == RungStatus::passed);
    CHECK(rung(good, Rung::lint).status == RungStatus::passed);
    CHECK(rung(good, Rung::clean_teardown).status == RungStatus::passed);
    // The upgrade lane's own deployment does not stand in for the fresh lane's checks.
    CHECK(rung(good, Rung::checks).status == RungStatus::passed);

    // The upgrade lane leaked: rung 8 fails and says which lane.
    const auto leaked = judged({kDeployed, kReady, kCheck, kTornDown, inspected, in(Lane::upgrade, kDeployed),
                                in(Lane::upgrade, kTornDown),
                                in(Lane::upgrade, step(Phase::teardown, StepKind::check, Status::failed,
                                                       std::string(kNothingLeft)))});
    CHECK(rung(leaked, Rung::clean_teardown).status == RungStatus::failed);
    CHECK(rung(leaked, Rung::clean_teardown).reason.starts_with("upgrade lane: "));

    // The previous release would not deploy: the upgrade could not be tried.
    const auto no_base = judged({kDeployed, kReady, kCheck,
                                 in(Lane::upgrade, step(Phase::deploy, StepKind::action, Status::failed))});
    CHECK(rung(no_base, Rung::upgrade).status == RungStatus::errored);

    auto not_run = step(Phase::upgrade, StepKind::check, Status::skipped, "upgrade lane");
    not_run.message = "there is no release before 1.0.0+x to upgrade from";
    const auto first_release = judged({kDeployed, kReady, kCheck, in(Lane::upgrade, not_run)});
    CHECK(rung(first_release, Rung::upgrade).status == RungStatus::unverified);
    CHECK(rung(first_release, Rung::upgrade).reason.find("no release before") != std::string::npos);

    const auto lint_failed =
        judged({kDeployed, in(Lane::lint, step(Phase::lint, StepKind::check, Status::failed, "rules"))});
    CHECK(rung(lint_failed, Rung::lint).status == RungStatus::failed);
  }

  TEST_CASE("a failed teardown fails the recipe but not its level") {
    const auto result =
        judged({kDeployed, kReady, kCheck, step(Phase::teardown, StepKind::action, Status::errored)});
    CHECK(result.status == Status::errored);
    CHECK(result.level == 3);
  }
}

TEST_SUITE("report") {
  TEST_CASE("a run passes only when every recipe was tested and passed") {
    RunReport report;
    CHECK_FALSE(run_passed(report));  // nothing tested is no pass
    report.recipes.push_back({.recipe = "a", .status = Status::passed});
    report.recipes.push_back({.recipe = "b", .status = Status::flaky});
    CHECK(run_passed(report));
    report.recipes.push_back({.recipe = "c", .status = Status::skipped});  // e.g. the run's --timeout
    CHECK_FALSE(run_passed(report));
    const StatusCounts counts = count_statuses(report);
    CHECK(counts.passed == 1);
    CHECK(counts.flaky == 1);
    CHECK(counts.skipped == 1);
  }

  TEST_CASE("a recipe whose deploy recorded nothing is errored, never passed") {
    RecipeResult result;
    result.steps.push_back({.phase = Phase::probe, .kind = StepKind::check, .name = "c"});
    judge(result);
    CHECK(result.status == Status::errored);
    CHECK(result.level == 0);
  }

  TEST_CASE("errored beats failed beats passed; nothing run is skipped") {
    CHECK(overall_status({}) == Status::skipped);
    CHECK(overall_status({kDeployed, step(Phase::probe, StepKind::check, Status::skipped)}) ==
          Status::passed);
    CHECK(overall_status({step(Phase::probe, StepKind::check, Status::skipped)}) == Status::skipped);
    CHECK(overall_status({step(Phase::probe, StepKind::check, Status::failed), kDeployed}) == Status::failed);
    CHECK(overall_status({step(Phase::probe, StepKind::check, Status::failed),
                          step(Phase::teardown, StepKind::action, Status::errored)}) == Status::errored);
  }

  TEST_CASE("a step survives a JSON round trip") {
    const StepResult original{.phase = Phase::teardown,
                              .kind = StepKind::readiness,
                              .name = "n",
                              .status = Status::errored,
                              .duration = milliseconds(42),
                              .message = "m"};
    const StepResult copy = step_from_json(to_json(original));
    CHECK(copy.phase == original.phase);
    CHECK(copy.kind == original.kind);
    CHECK(copy.name == original.name);
    CHECK(copy.status == original.status);
    CHECK(copy.duration == original.duration);
    CHECK(copy.message == original.message);
    CHECK_THROWS_AS(step_from_json({{"phase", "sideways"}, {"name", "x"}, {"status", "passed"}}),
                    std::invalid_argument);
  }

  TEST_CASE("results.json follows cc-ci/results/v1 and counts recipes by status") {
    RunReport report{.run_id = "run-1"};
    report.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    report.finished_at = report.started_at + milliseconds(1500);
    report.recipes.push_back(judged({kDeployed, kReady, kCheck, kTornDown}));
    report.recipes.push_back(judged({step(Phase::deploy, StepKind::action, Status::failed)}));
    const auto json = to_json(report);
    CHECK(json["schema"] == "cc-ci/results/v1");
    CHECK(json["started_at"] == "2023-11-14T22:13:20.000Z");
    CHECK(json["duration_ms"] == 1500);
    CHECK(json["summary"]["passed"] == 1);
    CHECK(json["summary"]["failed"] == 1);
    CHECK(json["recipes"][0]["level"] == 3);
    CHECK(json["recipes"][0]["steps"].size() == 4);
    CHECK(json["recipes"][0]["steps"][0]["phase"] == "deploy");
  }

  TEST_CASE("junit.xml has a testsuite per recipe and escapes what it quotes") {
    RunReport report{.run_id = "run-1"};
    auto result = judged({kDeployed, step(Phase::probe, StepKind::check, Status::failed, "a<b")});
    result.steps.back().message = "got \"500\" & <html>";
    report.recipes.push_back(result);
    const std::string xml = to_junit(report);
    // Two steps and the eight rungs; the rungs nothing checked are skipped, with their reason.
    CHECK(
        xml.find("<testsuite name=\"custom-html\" tests=\"10\" failures=\"1\" errors=\"0\" skipped=\"7\"") !=
        std::string::npos);
    CHECK(xml.find("<testcase classname=\"custom-html.rungs\" name=\"1 deploys\" time=\"0.000\"/>") !=
          std::string::npos);
    CHECK(xml.find("<skipped message=\"unverified: the upgrade lane did not run\"/>") != std::string::npos);
    CHECK(xml.find("name=\"a&lt;b\"") != std::string::npos);
    CHECK(xml.find("got &quot;500&quot; &amp; &lt;html&gt;") != std::string::npos);
    CHECK(xml.find("<failure") != std::string::npos);
  }

  TEST_CASE("reports are replaced atomically") {
    test::TemporaryDirectory folder;
    const auto path = folder.path() / "results.json";
    write_file_atomically(path, "one");
    // A reader that opened the old report keeps reading it whole: the new one
    // is a new file renamed over it, not the old one rewritten in place.
    std::ifstream reader(path);
    write_file_atomically(path, "two");
    std::string seen;
    reader >> seen;
    CHECK(seen == "one");
    CHECK(test::read_file(path) == "two");
    int files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder.path())) ++files;
    CHECK(files == 1);  // no temporary left behind
  }

  TEST_CASE("a report that cannot be written says why and leaves no temporary file") {
    test::TemporaryDirectory folder;
    std::filesystem::create_directory(folder.path() / "taken");
    // rename() cannot replace a folder with a file: the write fails after the temporary was made.
    CHECK_THROWS_WITH_AS(write_file_atomically(folder.path() / "taken", "x"),
                         doctest::Contains("cannot rename"), std::runtime_error);
    int files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder.path())) ++files;
    CHECK(files == 1);
  }

  TEST_CASE("bytes that are not UTF-8 never stop a report") {
    RunReport report;
    report.recipes.push_back({.recipe = "r", .status = Status::failed});
    report.recipes[0].steps.push_back(
        {.name = "app undeploy", .status = Status::failed, .message = "abra said \xff\xfe\xc3 and stopped"});
    test::TemporaryDirectory folder;
    write_reports(report, folder.path());
    const auto results = nlohmann::json::parse(test::read_file(folder.path() / "results.json"));
    CHECK(results["recipes"][0]["steps"][0]["message"] == "abra said \ufffd\ufffd\ufffd and stopped");
    CHECK(test::read_file(folder.path() / "junit.xml").find('\xff') == std::string::npos);
  }
}
