#include <signal.h>

#include "ccci/process.hpp"
#include "support.hpp"

using namespace ccci;
using namespace std::chrono_literals;

TEST_SUITE("process") {
  TEST_CASE("run_command captures output and the exit code") {
    const auto result = run_command({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
    CHECK(result.exit_code == 3);
    CHECK_FALSE(result.ok());
    CHECK(result.output.find("out\n") != std::string::npos);
    CHECK(result.output.find("err\n") != std::string::npos);
    CHECK(result.describe() == "exited 3");
  }

  TEST_CASE("added environment variables reach the command") {
    const auto result =
        run_command({.argv = {"sh", "-c", "printf %s \"$CCCI_PROBE\""}, .env = {{"CCCI_PROBE", "x y"}}});
    CHECK(result.ok());
    CHECK(result.output == "x y");
  }

  TEST_CASE("a pseudo-terminal is a terminal for the command, and carriage returns are dropped") {
    const auto result = run_command(
        {.argv = {"sh", "-c", "test -t 0 && test -t 1 && echo tty"}, .output = Output::pseudo_terminal});
    CHECK(result.ok());
    CHECK(result.output == "tty\n");
    const auto piped = run_command({.argv = {"sh", "-c", "test -t 1 || echo no tty"}});
    CHECK(piped.output == "no tty\n");
  }

  TEST_CASE("a timeout kills the whole process group, grandchildren included") {
    test::TemporaryDirectory folder;
    const auto pid_file = folder.path() / "grandchild.pid";
    const auto result = run_command(
        {.argv = {"sh", "-c", "sleep 60 & echo $! > " + pid_file.string() + "; wait"}, .timeout = 300ms});
    CHECK(result.timed_out);
    CHECK_FALSE(result.ok());
    CHECK(result.describe().starts_with("timed out after"));
    REQUIRE(std::filesystem::exists(pid_file));
    const pid_t grandchild = std::stoi(test::read_file(pid_file));
    // The grandchild may need a moment to be reaped by init.
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = ::kill(grandchild, 0) != 0;
      if (!gone) std::this_thread::sleep_for(20ms);
    }
    CHECK(gone);
  }

  TEST_CASE("a command killed by a signal is described by that signal") {
    const auto result = run_command({.argv = {"sh", "-c", "kill -SEGV $$"}});
    CHECK(result.signal == SIGSEGV);
    CHECK(result.exit_code == -1);
    CHECK(result.describe().find("signal 11") != std::string::npos);
  }

  TEST_CASE("a missing executable is a CommandError that names it") {
    CHECK_THROWS_WITH_AS(run_command({.argv = {"cc-ci-no-such-program"}}),
                         doctest::Contains("cc-ci-no-such-program: command not found"), CommandError);
    CHECK_THROWS_AS(run_command({.argv = {"/nonexistent/abra"}}), CommandError);
  }

  TEST_CASE("output can be appended to a file") {
    test::TemporaryDirectory folder;
    const auto log = folder.path() / "out.log";
    run_command({.argv = {"echo", "first"}, .output = Output::file, .output_file = log.string()});
    run_command({.argv = {"echo", "second"}, .output = Output::file, .output_file = log.string()});
    CHECK(test::read_file(log) == "first\nsecond\n");
  }
}
