#include <algorithm>
#include <fstream>

#include "run/leftovers.hpp"
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

// A recipe test without abra: each hook does what the test case says.
struct Scripted final : RecipeTest {
  std::function<void(Context&)> on_deploy = [](Context& ctx) { ctx.step("deploy it", [] {}); };
  std::function<void(Context&)> on_probe = [](Context& ctx) { ctx.check("works", [] {}); };
  std::vector<std::string> calls;
  RecipeInfo info() const override { return {.ready = {.path = "/health"}}; }
  void deploy(Context& ctx) override {
    calls.push_back("deploy");
    on_deploy(ctx);
  }
  void probe(Context& ctx) override {
    calls.push_back("probe");
    on_probe(ctx);
  }
  void teardown(Context& ctx) override {
    calls.push_back("teardown");
    ctx.step("tear it down", [] {});
  }
};

RecipeJob job() {
  RecipeJob job;
  job.recipe = "scripted";
  job.server = "default";
  job.domain = "scri-000000.cc-ci.test";
  job.timeouts = {std::chrono::seconds(5), std::chrono::seconds(1), std::chrono::seconds(5)};
  return job;
}

}  // namespace

TEST_SUITE("lifecycle") {
  TEST_CASE("a deploy that fails skips the probe, and teardown still runs") {
    Scripted test;
    test.on_deploy = [](Context& ctx) {
      ctx.step("deploy it", [] { throw CheckFailure("FATA deploy failed"); });
    };
    Recorder recorder;
    run_lifecycle(test, job(), recorder);
    CHECK(test.calls == std::vector<std::string>{"deploy", "teardown"});
    CHECK(recorder.phases == std::vector<Phase>{Phase::deploy, Phase::probe, Phase::teardown});
    REQUIRE(recorder.find("deploy it"));
    CHECK(recorder.step("deploy it").status == Status::failed);
    REQUIRE(recorder.find("readiness and checks"));
    CHECK(recorder.step("readiness and checks").status == Status::skipped);
    CHECK(recorder.torn_down);
  }

  TEST_CASE("an exception escaping a hook is one errored step, and teardown still runs") {
    Scripted test;
    test.on_deploy = [](Context&) { throw std::runtime_error("boom"); };
    Recorder recorder;
    run_lifecycle(test, job(), recorder);
    REQUIRE(recorder.find("deploy()"));
    CHECK(recorder.step("deploy()").status == Status::errored);
    CHECK(recorder.step("deploy()").message == "uncaught exception: boom");
    CHECK(recorder.torn_down);
  }

  TEST_CASE("a check that throws CheckFailure fails; any other exception errors") {
    Scripted test;
    Recorder recorder;
    RecipeJob quick = job();
    // Nothing listens on this domain: readiness fails fast, so drive checks directly.
    test.on_deploy = [](Context& ctx) {
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
    test.on_deploy = [](Context& ctx) {
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
    CHECK(test.calls.back() != "teardown");
    CHECK_FALSE(recorder.torn_down);
    CHECK(recorder.kept_what.find("abra app undeploy scri-000000.cc-ci.test") != std::string::npos);
  }

  TEST_CASE("--keep on-failure keeps only a failed app") {
    RecipeJob keep = job();
    keep.keep = KeepPolicy::on_failure;
    Scripted failing;
    failing.on_deploy = [](Context& ctx) { ctx.step("deploy it", [] { throw CheckFailure("no"); }); };
    Recorder failed;
    run_lifecycle(failing, keep, failed);
    CHECK_FALSE(failed.kept_what.empty());
    CHECK_FALSE(failed.torn_down);
  }

  TEST_CASE("a plan lists every action and check in order and runs nothing") {
    Scripted test;
    bool ran = false;
    test.on_probe = [&](Context& ctx) { ctx.check("works", [&] { ran = true; }); };
    test.on_deploy = [](Context& ctx) { ctx.step("deploy it", [&ctx] { ctx.abra().deploy(ctx.domain()); }); };
    std::vector<std::string> lines;
    plan_lifecycle(test, job(), [&](Phase phase, std::string_view line) {
      lines.push_back(std::string(to_string(phase)) + ": " + std::string(line));
    });
    CHECK_FALSE(ran);
    REQUIRE(lines.size() == 4);
    // The job names no release: unreleased code, deployed as abra does it.
    CHECK(lines[0] ==
          "deploy: abra -n app deploy scri-000000.cc-ci.test --chaos --no-domain-checks "
          "--no-converge-checks");
    CHECK(lines[1].starts_with("probe: wait until GET https://scri-000000.cc-ci.test/health answers 200"));
    CHECK(lines[2] == "probe: check: works");
    // No seed hook: the plan says the data rungs will not be tested, and why.
    CHECK(lines[3] == "persistence: skip seed(): " + std::string(kNoSeedHook));
  }
}

TEST_SUITE("lifecycle") {
  TEST_CASE("the upgrade lane's hooks see the release's layout, then the target's after the move") {
    struct Layouts final : RecipeTest {
      std::vector<std::string> seen;
      void deploy(Context& ctx) override {
        ctx.step("deploy it", [] {});
      }
      void probe(Context& ctx) override {
        ctx.check("works", [] {});
      }
      void teardown(Context& ctx) override {
        ctx.step("tear it down", [] {});
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

TEST_SUITE("lifecycle") {
  TEST_CASE("a stack converged when every service runs all its replicas, as docker service ls says") {
    test::TemporaryDirectory folder;
    const auto docker = folder.path() / "docker";
    const auto answer = folder.path() / "answer";
    // A docker that prints `answer` and records its arguments.
    std::ofstream(docker) << "#!/bin/sh\necho \"$@\" > " << (folder.path() / "argv").string() << "\ncat "
                          << answer.string() << "\n";
    std::filesystem::permissions(docker, std::filesystem::perms::owner_all);
    const LeftoverQuery query{.docker = docker.string(), .server = "default", .domain = "cust-1.cc-ci.test"};
    auto says = [&](const std::string& text) {
      std::ofstream(answer) << text;
      return services_not_converged(query);
    };
    CHECK(says("cust-1_cc-ci_test_app 1/1\ncust-1_cc-ci_test_db 2/2 (max 1 per node)\n").empty());
    CHECK(test::read_file(folder.path() / "argv") ==
          "--context default service ls --filter label=com.docker.stack.namespace=cust-1_cc-ci_test "
          "--format {{.Name}} {{.Replicas}}\n");
    CHECK(says("cust-1_cc-ci_test_app 0/1\ncust-1_cc-ci_test_db 1/1\n") ==
          std::vector<std::string>{"cust-1_cc-ci_test_app 0/1"});
    CHECK(says("cust-1_cc-ci_test_app 0/0\n") == std::vector<std::string>{"cust-1_cc-ci_test_app 0/0"});
    CHECK(says("") == std::vector<std::string>{"stack cust-1_cc-ci_test has no service"});
    CHECK_THROWS_WITH_AS(says("what is this\n"), doctest::Contains("cannot read"), CommandError);
  }
}
