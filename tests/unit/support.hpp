// Shared helpers for the unit tests.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "ccci/process.hpp"

namespace ccci::test {

namespace fs = std::filesystem;

/// A path given by the Meson test environment; fails the test when missing.
inline fs::path environment_path(const char* name) {
  const char* value = std::getenv(name);
  REQUIRE_MESSAGE(value != nullptr, name << " is not set: run the unit tests through meson test");
  return value;
}

inline fs::path fake_abra() {
  return environment_path("FAKE_ABRA_DIR") / "abra";
}

/// A fresh folder, removed with everything in it at the end of the test.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    std::string pattern = (fs::temp_directory_path() / "cc-ci-unit-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Sets an environment variable for the scope of a test.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) previous_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnvironment() {
    if (previous_)
      ::setenv(name_, previous_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> previous_;
};

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The app URL the HTTPS tests ask for; HttpsServer answers for any host.
inline const std::string kAppBase = "https://app.cc-ci.test";

/// tests/support/https_server.py on 127.0.0.1 with its own test CA.
class HttpsServer {
 public:
  HttpsServer()
      : process_(Command{
            .argv = {"python3", (environment_path("CC_CI_SOURCE") / "tests/support/https_server.py").string(),
                     folder_.path().string()},
            .output = Output::capture}) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(folder_.path() / "port")) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < give_up, "the test HTTPS server did not start");
      REQUIRE_MESSAGE(!process_.poll(), "the test HTTPS server exited");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    port_ = std::stoi(read_file(folder_.path() / "port"));
  }
  int port() const { return port_; }
  std::string ca_file() const { return (folder_.path() / "tls" / "ca.pem").string(); }
  /// Sends every host to this server, as the CI host's --connect-to does.
  std::string connect_to() const { return "::127.0.0.1:" + std::to_string(port_); }

 private:
  TemporaryDirectory folder_;
  Subprocess process_;
  int port_ = 0;
};

/// base64 of `bytes`, from coreutils' base64: an oracle independent of cc-ci's own encoder.
inline std::string base64(const std::string& bytes) {
  char name[] = "/tmp/cc-ci-base64-XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(name, std::ios::binary) << bytes;
  const auto result = run_command({.argv = {"base64", "-w0", name}});
  std::filesystem::remove(name);
  REQUIRE(result.ok());
  return result.output;
}

}  // namespace ccci::test
