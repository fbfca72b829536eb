// The bridge's memory: what it keeps across restarts, what it forgets when,
// and the first format it still reads.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "forge/bridge_state.hpp"
#include "support.hpp"

using nlohmann::json;

namespace ccci {

namespace {

// An alias, not a using-directive: tools/lint reads all unit tests as one unit.
namespace chrono = std::chrono;

const std::string kRepo = "coop-cloud/custom-html";
const std::string kCommit(40, 'a');
const BridgeClock::time_point kNoon = chrono::sys_days(chrono::year(2026) / 12 / 3) + chrono::hours(12);

json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file) << text;
}

}  // namespace

TEST_SUITE("bridge state") {
  TEST_CASE("a build is remembered across restarts, first as starting, then with its number") {
    test::TemporaryDirectory folder;
    const auto file = folder.path() / "state.json";
    {
      BridgeState state(file, kNoon);
      CHECK_FALSE(state.build(kRepo, kCommit));
      state.record_starting(kRepo, kCommit, kNoon);
      REQUIRE(BridgeState(file, kNoon).build(kRepo, kCommit));
      CHECK(BridgeState(file, kNoon).build(kRepo, kCommit)->step == BridgeState::BuildStep::starting);
      state.record_started(kRepo, kCommit, 7, kNoon + chrono::seconds(3));
    }
    const auto build = BridgeState(file, kNoon + chrono::hours(1)).build(kRepo, kCommit);
    REQUIRE(build);
    CHECK(build->step == BridgeState::BuildStep::started);
    CHECK(build->number == 7);
    CHECK(build->at == kNoon);  // when it was asked for
    CHECK(read_json(file)["builds"][kRepo][kCommit] ==
          json{{"state", "started"}, {"build", 7}, {"at", "2026-12-03T12:00:00.000Z"}});

    BridgeState state(file, kNoon);
    state.forget(kRepo, kCommit, kNoon);
    CHECK_FALSE(BridgeState(file, kNoon).build(kRepo, kCommit));
    CHECK(read_json(file)["builds"] == json::object());
  }

  TEST_CASE("a delivery and its comment are each acted on once, while the comment is fresh") {
    test::TemporaryDirectory folder;
    const auto file = folder.path() / "state.json";
    BridgeState state(file, kNoon);
    CHECK(state.remember_delivery("d-1", "c-1", kNoon, kNoon) == BridgeState::Delivery::fresh);
    CHECK(state.remember_delivery("d-1", "c-2", kNoon, kNoon) == BridgeState::Delivery::seen_delivery);
    // A replay under a made-up delivery id: the comment's id is signed, and gives it away.
    CHECK(state.remember_delivery("d-2", "c-1", kNoon, kNoon) == BridgeState::Delivery::seen_comment);
    // Remembered across a restart...
    BridgeState restarted(file, kNoon + chrono::minutes(10));
    CHECK(restarted.remember_delivery("d-1", "c-9", kNoon, kNoon + chrono::minutes(10)) ==
          BridgeState::Delivery::seen_delivery);
    // ...until the comment is older than the window, which refuses it by itself.
    CHECK(restarted.remember_delivery("d-3", "c-3", kNoon + chrono::minutes(16),
                                      kNoon + chrono::minutes(16)) == BridgeState::Delivery::fresh);
    const json saved = read_json(file);
    CHECK(saved["deliveries"] == json{{"d-3", "2026-12-03T12:16:00.000Z"}});
    CHECK(saved["comments"] == json{{"c-3", "2026-12-03T12:16:00.000Z"}});
  }

  TEST_CASE("a flood of deliveries within one window is refused, not forgotten early") {
    test::TemporaryDirectory folder;
    BridgeState state(folder.path() / "state.json", kNoon, 3);
    for (std::size_t i = 0; i < 3; ++i)
      REQUIRE(state.remember_delivery("d-" + std::to_string(i), "c-" + std::to_string(i), kNoon, kNoon) ==
              BridgeState::Delivery::fresh);
    CHECK(state.remember_delivery("d-x", "c-x", kNoon, kNoon + chrono::minutes(1)) ==
          BridgeState::Delivery::full);
    CHECK(state.remember_delivery("d-0", "c-x", kNoon, kNoon + chrono::minutes(1)) ==
          BridgeState::Delivery::seen_delivery);
    CHECK(state.remember_delivery("d-x", "c-x", kNoon + chrono::minutes(16), kNoon + chrono::minutes(16)) ==
          BridgeState::Delivery::fresh);
  }

  TEST_CASE("builds older than the build memory are dropped when the file is written") {
    test::TemporaryDirectory folder;
    const auto file = folder.path() / "state.json";
    const std::string recent(40, 'b');
    {
      BridgeState state(file, kNoon);
      state.record_started(kRepo, kCommit, 1, kNoon);
      state.record_started("coop-cloud/other", kCommit, 2, kNoon);
      state.record_started(kRepo, recent, 3, kNoon + chrono::days(20));
    }
    const auto later = kNoon + kBuildMemory + chrono::days(1);
    BridgeState state(file, later);
    CHECK_FALSE(state.build(kRepo, kCommit));
    CHECK(state.build(kRepo, recent));
    state.remember_delivery("d-1", "c-1", later, later);
    const json builds = read_json(file)["builds"];
    CHECK(builds.size() == 1);
    CHECK(builds[kRepo].size() == 1);
    CHECK(builds[kRepo].contains(recent));
  }

  TEST_CASE("the first format (repository, commit, build number) is read and rewritten in this one") {
    test::TemporaryDirectory folder;
    const auto file = folder.path() / "state.json";
    write_text(file, json{{kRepo, {{kCommit, 4}}}}.dump());
    BridgeState state(file, kNoon);
    const auto build = state.build(kRepo, kCommit);
    REQUIRE(build);
    CHECK(build->step == BridgeState::BuildStep::started);
    CHECK(build->number == 4);
    state.remember_delivery("d-1", "c-1", kNoon, kNoon);
    const json saved = read_json(file);
    CHECK(saved["version"] == 2);
    CHECK(saved["builds"][kRepo][kCommit]["build"] == 4);
  }

  TEST_CASE("a file that is not the bridge's state is refused with one line") {
    test::TemporaryDirectory folder;
    const auto file = folder.path() / "state.json";
    for (const char* text : {"[1, 2]", "not json", R"({"coop-cloud/x": 3})", R"({"version": 3})",
                             R"({"version": 2, "builds": {"o/r": {"c": {"state": "running", "at": "x"}}}})",
                             R"({"version": 2, "deliveries": {"d": "yesterday"}})"}) {
      write_text(file, text);
      CHECK_THROWS_WITH_AS(BridgeState(file, kNoon), doctest::Contains("not a cc-ci bridge state file"),
                           std::runtime_error);
    }
  }
}

}  // namespace ccci
