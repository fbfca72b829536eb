#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>

#include "ccci/conversation.hpp"
#include "ccci/process.hpp"
#include "support.hpp"

using namespace ccci;
using namespace std::chrono_literals;

TEST_SUITE("process") {
  TEST_CASE("a variable that is set is replaced, not doubled; the rest are inherited") {
    const test::ScopedEnvironment home("CCCI_INHERITED", "kept");
    const auto result =
        run_command({.argv = {"sh", "-c", "env | grep -c '^CCCI_PROBE='; printf %s \"$CCCI_INHERITED\""},
                     .env = {{"CCCI_PROBE", "1"}}});
    const test::ScopedEnvironment probe("CCCI_PROBE", "0");
    const auto replaced =
        run_command({.argv = {"sh", "-c", "env | grep -c '^CCCI_PROBE='"}, .env = {{"CCCI_PROBE", "1"}}});
    CHECK(result.output == "1\nkept");
    CHECK(replaced.output == "1\n");
  }

  TEST_CASE("only stdio and the extra descriptor reach the command; no other file leaks") {
    const int leaked = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC, like a log file opened with fopen
    REQUIRE(leaked >= 0);
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    const auto result =
        run_command({.argv = {"sh", "-c", "ls /proc/self/fd; echo hello >&3"}, .extra_fds = {pipe_fds[1]}});
    ::close(leaked);
    ::close(pipe_fds[1]);
    char buffer[16] = {};
    CHECK(::read(pipe_fds[0], buffer, sizeof buffer - 1) == 6);
    ::close(pipe_fds[0]);
    CHECK(std::string(buffer) == "hello\n");
    // 0, 1, 2, 3 and the one ls itself opens to read the folder.
    std::istringstream listed(result.output);
    int count = 0;
    for (std::string line; std::getline(listed, line);) count += !line.empty();
    CHECK(count == 5);
  }

  TEST_CASE("extra descriptors arrive as 3, 4, … in the order given, whatever their numbers here") {
    int first[2];
    int second[2];
    REQUIRE(::pipe2(first, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(second, O_CLOEXEC) == 0);
    // The higher-numbered descriptor first: moving it to 3 must not close the other.
    const auto result = run_command(
        {.argv = {"sh", "-c", "echo three >&3; echo four >&4"}, .extra_fds = {second[1], first[1]}});
    ::close(first[1]);
    ::close(second[1]);
    CHECK(result.ok());
    char buffer[16] = {};
    CHECK(::read(second[0], buffer, sizeof buffer - 1) == 6);
    CHECK(std::string(buffer) == "three\n");
    std::fill(std::begin(buffer), std::end(buffer), '\0');
    CHECK(::read(first[0], buffer, sizeof buffer - 1) == 5);
    CHECK(std::string(buffer) == "four\n");
    ::close(first[0]);
    ::close(second[0]);
    CHECK_THROWS_AS(run_command({.argv = {"true"}, .extra_fds = {0, 1, 2, 0, 1}}), CommandError);
  }

  TEST_CASE("output beyond the cap keeps its start and end and says how much was cut") {
    const auto result = run_command(
        {.argv = {"sh", "-c", "echo START; head -c 300000 /dev/zero | tr '\\0' x; echo; echo END"},
         .max_output = 1000});
    CHECK(result.ok());
    CHECK(result.output.size() < 1200);
    CHECK(result.output.starts_with("START\n"));
    CHECK(result.output.ends_with("END\n"));
    CHECK(result.output.find("bytes of output cut") != std::string::npos);
  }

  TEST_CASE("what a command leaves running in its group ends with it") {
    test::TemporaryDirectory folder;
    const auto pid_file = folder.path() / "pid";
    const auto result =
        run_command({.argv = {"sh", "-c", "sleep 300 & echo $! > " + pid_file.string()}, .timeout = 30s});
    CHECK(result.ok());
    std::ifstream in(pid_file);
    pid_t straggler = 0;
    in >> straggler;
    REQUIRE(straggler > 0);
    // Killed before the leader was reaped; at most a zombie until init reaps it.
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i) {
      std::ifstream stat("/proc/" + std::to_string(straggler) + "/stat");
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      gone = text.empty() || text.find(") Z") != std::string::npos;
      if (!gone) std::this_thread::sleep_for(10ms);
    }
    CHECK(gone);
  }

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

TEST_SUITE("conversation") {
  TEST_CASE("questions and answers go one at a time over one process, stderr kept apart") {
    // Each line asked is answered with its length and then itself; a warning
    // on stderr first, which must never land inside an answer.
    Conversation echo({.argv = {"sh", "-c",
                                "echo 'warning: ignore me' >&2; while IFS= read -r line; do "
                                "printf '%s\\n%s\\n' \"${#line}\" \"$line\"; done"}});
    for (const std::string question : {"first", "a b\tc", "third"}) {
      echo.send(question + "\n");
      CHECK(echo.read_line(64) == std::to_string(question.size()));
      CHECK(echo.read_bytes(question.size() + 1) == question + "\n");
    }
  }

  TEST_CASE("over fds 3 and 4 (Chromium's pipe), answers ended by NUL; its stdout and stderr kept apart") {
    // Chromium's convention: it reads fd 3 and writes fd 4; what it prints
    // on stdout or stderr must never land inside an answer.
    Conversation piped(
        {.argv = {"sh", "-c",
                  "echo 'noise on stdout'; echo 'warning' >&2; while IFS= read -r line <&3; do "
                  "printf '%s\\000' \"answer to $line\" >&4; done"}},
        Channel::fds_3_and_4);
    for (const std::string question : {"first", "second"}) {
      piped.send(question + "\n");
      CHECK(piped.read_until('\0', 64, std::chrono::steady_clock::now() + 30s) == "answer to " + question);
    }
    SUBCASE("the caller's deadline, not the command's timeout, bounds an answer") {
      piped.send("\n");
      CHECK(piped.read_until('\0', 64, std::chrono::steady_clock::now() + 30s) == "answer to ");
      CHECK_THROWS_WITH_AS(piped.read_until('\0', 64, std::chrono::steady_clock::now() + 100ms),
                           doctest::Contains("gave no answer in"), CommandError);
    }
  }

  TEST_CASE("a child that says more on stderr than a pipe holds still answers") {
    // Unread, 200 kB of warnings would block it before its answer.
    Conversation chatty(
        {.argv = {"sh", "-c",
                  "read line; head -c 200000 /dev/zero | tr '\\0' w >&2; echo \"answer to $line\""}});
    chatty.send("question\n");
    CHECK(chatty.read_line(64) == "answer to question");
  }

  TEST_CASE("an answer that ends, runs on or never comes is a CommandError that says why") {
    SUBCASE("it exits: its exit code and last words on stderr are named") {
      Conversation ended({.argv = {"sh", "-c", "read line; echo 'fatal: no such thing' >&2; exit 3"}});
      ended.send("question\n");
      CHECK_THROWS_WITH_AS(ended.read_line(64),
                           doctest::Contains("stopped answering (exited 3: fatal: no such thing)"),
                           CommandError);
    }
    SUBCASE("a line longer than asked for") {
      Conversation endless({.argv = {"sh", "-c", "read line; head -c 100000 /dev/zero | tr '\\0' x"}});
      endless.send("question\n");
      CHECK_THROWS_WITH_AS(endless.read_line(1000), doctest::Contains("longer than 1000 bytes"),
                           CommandError);
    }
    SUBCASE("no answer within the timeout") {
      Conversation silent({.argv = {"sleep", "60"}, .timeout = 200ms});
      silent.send("question\n");
      CHECK_THROWS_WITH_AS(silent.read_line(64), doctest::Contains("gave no answer in 200 ms"), CommandError);
    }
    SUBCASE("asking a process that is gone is an error, not a SIGPIPE that ends cc-ci") {
      Conversation gone({.argv = {"true"}});
      CHECK_THROWS_AS(gone.read_line(64), CommandError);  // its end of output: it has exited
      // Far more than a pipe holds, so a write must meet the closed end.
      CHECK_THROWS_WITH_AS(gone.send(std::string(1 << 20, 'x')), doctest::Contains("cannot be asked"),
                           CommandError);
    }
  }
}
