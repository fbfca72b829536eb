#include <algorithm>
#include <fstream>

#include "run/lifecycle.hpp"
#include "support.hpp"

using namespace ccci;

namespace {

// Records what the lifecycle reports.
struct Recorder final : LifecycleObserver {
  std::vector<Phase> phases;
  std::vector<StepResult> steps;
  bool torn_down = false;
  std::string kept_what;
  void phase_started(Phase phase, std::chrono::seconds) override { phases.push_back(phase); }
  void step_finished(const StepResult& step) override { steps.push_back(step); }
  void teardown_finished() override { torn_down = true; }
  void kept(const std::string& what) override { kept_what = what; }
  const StepResult* find(const std::string& name) const {
    for (const auto& step : steps)
      if (step.name == name) return &step;
    return nullptr;
  }
  /// The step of that name; the test fails (not crashes) when there is none.
  const StepResult& step(const std::string& name) const {
    const StepResult* found = find(name);
    REQUIRE_MESSAGE(found != nullptr, "no step named \"" << name << "\"");
    return *found;
  }
};

// A recipe test whose hooks do what the test case says.
struct Scripted final : RecipeTest {
  std::function<void(Context&)> on_configure = [](Context& ctx) { ctx.step("configure it", [] {}); };
  std::function<void(Context&)> on_probe = [](Context& ctx) { ctx.check("works", [] {}); };
  std::vector<std::string> calls;
  RecipeInfo info() const override { return {.ready = {.path = "/health"}}; }
  void configure(Context& ctx) override {
    calls.push_back("configure");
    on_configure(ctx);
  }
  void probe(Context& ctx) override {
    calls.push_back("probe");
    on_probe(ctx);
  }
  void before_teardown(Context& ctx) override {
    calls.push_back("before_teardown");
    ctx.step("collect diagnostics", [] {});
  }
};

// An abra that says yes to everything and makes the env file `app new`
// makes, so the host's deploy and teardown run their steps here.
const std::filesystem::path& abra_dir() {
  static const test::TemporaryDirectory folder;
  static const bool written = [] {
    std::ofstream(folder.path() / "abra")
        << "#!/bin/sh\n[ \"$2 $3\" = \"app new\" ] && mkdir -p \"$ABRA_DIR/servers/default\" && "
           ": > \"$ABRA_DIR/servers/default/scri-000000.cc-ci.test.env\"\nexit 0\n";
    std::filesystem::permissions(folder.path() / "abra", std::filesystem::perms::owner_all);
    return true;
  }();
  (void)written;
  return folder.path();
}

RecipeJob job() {
  RecipeJob job;
  job.recipe = "scripted";
  job.server = "default";
  job.domain = "scri-000000.cc-ci.test";
  job.timeouts = {std::chrono::seconds(5), std::chrono::seconds(1), std::chrono::seconds(5)};
  job.abra.executable = (abra_dir() / "abra").string();
  job.abra.abra_dir = abra_dir().string();
  return job;
}

}  // namespace

TEST_SUITE("lifecycle") {
  TEST_CASE("a configure step that fails stops the deploy and skips the probe; the host still tears down") {
    Scripted test;
    test.on_configure = [](Context& ctx) {
      ctx.step("configure it", [] { throw CheckFailure("FATA no such setting"); });
    };
    Recorder recorder;
    run_lifecycle(test, job(), recorder);
    CHECK(test.calls == std::vector<std::string>{"configure", "before_teardown"});
    CHECK(recorder.phases == std::vector<Phase>{Phase::deploy, Phase::probe, Phase::teardown});
    CHECK(recorder.step("app new").status == Status::passed);
    CHECK(recorder.step("configure it").status == Status::failed);
    CHECK_FALSE(recorder.find("app deploy"));
    CHECK(recorder.step("readiness and checks").status == Status::skipped);
    CHECK(recorder.step("app undeploy").status == Status::passed);
    CHECK(recorder.step("app rm").status == Status::passed);
    CHECK(recorder.torn_down);
  }

  TEST_CASE("an exception escaping a hook is one errored step, and teardown still runs") {
    Scripted test;
    test.on_configure = [](Context&) { throw std::runtime_error("boom"); };
    Recorder recorder;
    run_lifecycle(test, job(), recorder);
    CHECK(recorder.step("configure()").status == Status::errored);
    CHECK(recorder.step("configure()").message == "uncaught exception: boom");
    CHECK_FALSE(recorder.find("app deploy"));
    CHECK(recorder.step("app rm").status == Status::passed);
    CHECK(recorder.torn_down);
  }

  TEST_CASE("a before_teardown that throws cannot keep the host from undeploying and removing the app") {
    struct Stubborn final : RecipeTest {
      void probe(Context&) override {}
      void before_teardown(Context&) override { throw std::runtime_error("not now"); }
    } test;
    Recorder recorder;
    run_lifecycle(test, job(), recorder);
    CHECK(recorder.step("before_teardown()").status == Status::errored);
    CHECK(recorder.step("app undeploy").status == Status::passed);
    CHECK(recorder.step("app rm").status == Status::passed);
  }

  TEST_CASE("a check that throws CheckFailure fails; any other exception errors") {
    Scripted test;
    Recorder recorder;
    RecipeJob quick = job();
    // Nothing listens on this domain: readiness fails fast, so drive checks directly.
    test.on_configure = [](Context& ctx) {
      CHECK_FALSE(ctx.check("says no", [] { throw CheckFailure("no"); }));
      CHECK_FALSE(ctx.check("cannot run", [] { throw std::logic_error("broken"); }));
      CHECK(ctx.check("says yes", [] {}));
    };
    run_lifecycle(test, quick, recorder);
    CHECK(recorder.step("says no").status == Status::failed);
    CHECK(recorder.step("cannot run").status == Status::errored);
    CHECK(recorder.step("says yes").status == Status::passed);
  }

  TEST_CASE("secrets registered by a plugin are redacted from step messages") {
    Scripted test;
    test.on_configure = [](Context& ctx) {
      ctx.add_secret("pa55word");
      ctx.step("login", [] { throw CheckFailure("pa55word was refused"); });
    };
    Recorder recorder;
    run_lifecycle(test, job(), recorder);
    CHECK(recorder.step("login").message == "[REDACTED] was refused");
  }

  TEST_CASE("--keep always skips teardown and says how to remove the app") {
    Scripted test;
    RecipeJob keep = job();
    keep.keep = KeepPolicy::always;
    Recorder recorder;
    run_lifecycle(test, keep, recorder);
    CHECK(test.calls.back() != "before_teardown");
    CHECK_FALSE(recorder.find("app undeploy"));
    CHECK_FALSE(recorder.torn_down);
    CHECK(recorder.kept_what.find("abra app undeploy scri-000000.cc-ci.test") != std::string::npos);
  }

  TEST_CASE("--keep on-failure keeps only a failed app") {
    RecipeJob keep = job();
    keep.keep = KeepPolicy::on_failure;
    Scripted failing;
    failing.on_configure = [](Context& ctx) { ctx.step("configure it", [] { throw CheckFailure("no"); }); };
    Recorder failed;
    run_lifecycle(failing, keep, failed);
    CHECK_FALSE(failed.kept_what.empty());
    CHECK_FALSE(failed.torn_down);
  }

  TEST_CASE("a plan lists every action, step and check in order and runs none of the plugin's") {
    Scripted test;
    bool ran = false;
    test.on_probe = [&](Context& ctx) { ctx.check("works", [&] { ran = true; }); };
    test.on_configure = [&](Context& ctx) {
      ctx.abra().set_env("KEY", "v");                     // abra is dry in a plan: the command is shown
      ctx.step("create the admin", [&] { ran = true; });  // a step may do anything: only named
    };
    std::vector<std::string> lines;
    RecipeJob planned = job();
    planned.abra.executable = "abra";  // a plan shows the command a user would type
    plan_lifecycle(test, planned, [&](Phase phase, std::string_view line) {
      lines.push_back(std::string(to_string(phase)) + ": " + std::string(line));
    });
    CHECK_FALSE(ran);
    // The job names no release: unreleased code, created and deployed as abra does it.
    auto at = [&](const std::string& line) {
      return std::find(lines.begin(), lines.end(), line) - lines.begin();
    };
    const auto app_new =
        at("deploy: abra -n app new scripted --server default --domain scri-000000.cc-ci.test --chaos");
    const auto plugin_setting =
        std::find_if(lines.begin(), lines.end(),
                     [](const std::string& line) {
                       return line.starts_with("deploy: ") && line.find("KEY") != std::string::npos;
                     }) -
        lines.begin();
    const auto plugin_step = at("deploy: step: create the admin");
    const auto deploy = at(
        "deploy: abra -n app deploy scri-000000.cc-ci.test --chaos --no-domain-checks --no-converge-checks");
    const auto readiness =
        std::find_if(lines.begin(), lines.end(),
                     [](const std::string& line) {
                       return line.starts_with(
                           "probe: wait until GET https://scri-000000.cc-ci.test/health answers 200");
                     }) -
        lines.begin();
    const auto works = at("probe: check: works");
    // No seed hook: the plan says the data rungs will not be tested, and why.
    const auto no_seed = at("persistence: skip seed(): " + std::string(kNoSeedHook));
    const auto undeploy = at("teardown: abra -n app undeploy scri-000000.cc-ci.test");
    const auto size = static_cast<std::ptrdiff_t>(lines.size());
    CHECK(app_new < plugin_setting);
    CHECK(plugin_setting < plugin_step);
    CHECK(plugin_step < deploy);
    CHECK(deploy < readiness);
    CHECK(readiness < works);
    CHECK(works < no_seed);
    CHECK(no_seed < undeploy);
    CHECK(undeploy < size);
  }
}

TEST_SUITE("lifecycle") {
  TEST_CASE("a plan with --keep always says what is kept and lists no teardown") {
    Scripted test;
    RecipeJob planned = job();
    planned.abra.executable = "abra";
    planned.keep = KeepPolicy::always;
    auto plan = [&] {
      std::vector<std::string> lines;
      plan_lifecycle(test, planned, [&](Phase, std::string_view line) { lines.emplace_back(line); });
      return lines;
    };
    auto removes = [](const std::vector<std::string>& lines) {
      return std::any_of(lines.begin(), lines.end(),
                         [](const std::string& line) { return line.starts_with("abra -n app rm"); });
    };
    const auto kept = plan();
    REQUIRE_FALSE(kept.empty());
    CHECK(kept.back().starts_with("app scri-000000.cc-ci.test on server default kept (--keep always)"));
    CHECK_FALSE(removes(kept));
    planned.keep = KeepPolicy::never;
    CHECK(removes(plan()));
  }

  TEST_CASE("the upgrade lane's hooks see the release's layout, then the target's after the move") {
    struct Layouts final : RecipeTest {
      std::vector<std::string> seen;
      void probe(Context& ctx) override {
        ctx.check("works", [] {});
      }
      void seed(Context& ctx) override {
        seen.push_back("seed " + ctx.compose().files.at(0));
        ctx.step("seed it", [] {});
      }
      void verify_seeded(Context& ctx) override {
        seen.push_back("verify " + ctx.compose().files.at(0));
        ctx.check("it is there", [] {});
      }
    } test;
    RecipeJob upgrade = job();
    upgrade.abra.executable = "abra";
    upgrade.lane = Lane::upgrade;
    upgrade.target = {.ref = "2.0.0+1.0", .commit = std::string(40, 'b'), .version = "2.0.0+1.0"};
    upgrade.abra.deploy.version = "1.0.0+1.0";
    upgrade.compose.files = {"compose.release.yml"};
    upgrade.compose_after_move.files = {"compose.target.yml"};
    std::vector<std::string> lines;
    plan_lifecycle(test, upgrade, [&](Phase, std::string_view line) { lines.emplace_back(line); });
    CHECK(test.seen == std::vector<std::string>{"seed compose.release.yml", "verify compose.target.yml"});
    CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
      return line.starts_with("abra -n app upgrade scri-000000.cc-ci.test 2.0.0+1.0");
    }));
  }

  TEST_CASE("job.json carries every member of a job to the child and back") {
    RecipeJob sent = job();
    sent.target = {.ref = "main", .commit = std::string(40, 'a'), .previous_release = "1.5.0+1.25.3"};
    sent.abra.deploy = {.version = "", .converge_checks = true, .lets_encrypt_env = "staging"};
    sent.abra.command_timeout = std::chrono::seconds(77);
    sent.http = {.ca_file = "/ca.pem", .connect_to = {"::127.0.0.1:8443"}};
    sent.timeouts = {.deploy = std::chrono::seconds(1),
                     .probe = std::chrono::seconds(2),
                     .teardown = std::chrono::seconds(3)};
    sent.keep = KeepPolicy::on_failure;
    sent.retries = 2;
    const nlohmann::json wire = to_json(sent);
    CHECK(wire.at("keep") == "on-failure");
    CHECK(wire.at("timeouts").at("teardown") == 3);  // whole seconds
    const RecipeJob received = job_from_json(nlohmann::json::parse(wire.dump()));
    CHECK(to_json(received) == wire);
    CHECK(received.target.commit == sent.target.commit);
    CHECK(received.abra.deploy.lets_encrypt_env == "staging");
    CHECK(received.abra.command_timeout == std::chrono::seconds(77));
    CHECK(received.keep == KeepPolicy::on_failure);
  }

  TEST_CASE("a job.json with a member missing or of the wrong type is refused, never half-read") {
    nlohmann::json wire = to_json(job());
    wire.erase("domain");
    CHECK_THROWS_AS(job_from_json(wire), nlohmann::json::exception);
    wire = to_json(job());
    wire["retries"] = "two";
    CHECK_THROWS_AS(job_from_json(wire), nlohmann::json::exception);
    wire = to_json(job());
    wire["keep"] = "sometimes";
    CHECK_THROWS_AS(job_from_json(wire), std::invalid_argument);
  }
}
