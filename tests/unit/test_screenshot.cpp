// What the browser may reach, and what counts as a picture.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ccci/process.hpp"
#include "run/host_requests.hpp"
#include "run/screenshot.hpp"
#include "support.hpp"

using namespace ccci;
using ccci::test::TemporaryDirectory;

TEST_SUITE("screenshot") {
  TEST_CASE("only the app's domain resolves, where --connect-to sends it") {
    CHECK(host_resolver_rules("app.test", {}) == "MAP * ~NOTFOUND, EXCLUDE app.test");
    CHECK(host_resolver_rules("app.test", {"::127.0.0.1:8443"}) ==
          "MAP app.test 127.0.0.1:8443, MAP * ~NOTFOUND");
    CHECK(host_resolver_rules("app.test", {"app.test:443:[::1]:"}) == "MAP app.test [::1], MAP * ~NOTFOUND");
    // Specs for another host or port are curl's business, not this page's.
    CHECK(host_resolver_rules("app.test", {"other.test::127.0.0.1:1", "app.test:80:127.0.0.1:2"}) ==
          "MAP * ~NOTFOUND, EXCLUDE app.test");
    // The first matching spec wins, as in curl.
    CHECK(host_resolver_rules("app.test", {"app.test::10.0.0.1:", "::127.0.0.1:9"}) ==
          "MAP app.test 10.0.0.1, MAP * ~NOTFOUND");
  }

  TEST_CASE(
      "a run's browser resolves every app of the run, each where curl would send it, and nothing else") {
    CHECK(host_resolver_rules(std::vector<std::string>{"a.test", "b.test"},
                              {"a.test::127.0.0.1:1", "b.test::127.0.0.1:2"}) ==
          "MAP a.test 127.0.0.1:1, MAP b.test 127.0.0.1:2, MAP * ~NOTFOUND");
    CHECK(host_resolver_rules(std::vector<std::string>{"a.test", "b.test"}, {"a.test::127.0.0.1:1"}) ==
          "MAP a.test 127.0.0.1:1, MAP * ~NOTFOUND, EXCLUDE b.test");
    CHECK(host_resolver_rules(std::vector<std::string>{"a.test", "b.test"}, {}) ==
          "MAP * ~NOTFOUND, EXCLUDE a.test, EXCLUDE b.test");
  }

  TEST_CASE("the browser verifies the app's certificate against --ca-file, its name included") {
    // A CA, a certificate for app.test from it, and openssl's own HTTPS server on loopback.
    // tools/test installs both (tools/bootstrap): without them this would check nothing.
    REQUIRE_MESSAGE(!boost::process::search_path("chromium").empty(), "chromium is not installed");
    REQUIRE_MESSAGE(!boost::process::search_path("certutil").empty(),
                    "certutil (libnss3-tools) is not installed");
    const TemporaryDirectory folder;
    const auto dir = folder.path().string();
    const std::string make =
        "cd '" + dir +
        "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca "
        "&& "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other "
        "&& "
        "openssl req -newkey rsa:2048 -nodes -keyout app.key -out app.csr -subj /CN=app.test && "
        "printf 'subjectAltName=DNS:app.test\\n' > san && "
        "openssl x509 -req -in app.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out app.pem -days 2 "
        "-extfile san";
    REQUIRE(run_command({.argv = {"sh", "-c", make}, .timeout = std::chrono::seconds(60)}).ok());
    // A free port: the kernel's choice, let go just before the server takes it.
    int port = 0;
    {
      const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t length = sizeof address;
      REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
      REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length) == 0);
      port = ntohs(address.sin_port);
      ::close(probe);
    }
    Subprocess server({.argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                                "-cert", dir + "/app.pem", "-key", dir + "/app.key", "-www", "-quiet"},
                       .timeout = std::chrono::milliseconds::max()});
    auto shoot = [&](const std::string& domain, const std::string& ca) {
      return take_screenshot({.browser = "chromium",
                              .domain = domain,
                              .http = {.ca_file = dir + "/" + ca,
                                       .connect_to = {domain + ":443:127.0.0.1:" + std::to_string(port)}},
                              .output = folder.path() / (domain + ".png"),
                              .deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60)});
    };
    // openssl's status page, once the server listens: its CA, its name.
    std::optional<std::string> shot;
    for (int tries = 0; tries < 300; ++tries) {  // up to a minute on a loaded machine
      shot = shoot("app.test", "ca.pem");
      if (!shot || shot->find("ERR_CONNECTION_REFUSED") == std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    CHECK_MESSAGE(!shot, shot.value_or(""));
    CHECK(std::filesystem::exists(folder.path() / "app.test.png"));
    // Another CA: nothing is skipped.
    const auto untrusted = shoot("app.test", "other.pem");
    REQUIRE(untrusted);
    CHECK(untrusted->find("ERR_CERT_AUTHORITY_INVALID") != std::string::npos);
    // The CA's certificate, for another name.
    const auto misnamed = shoot("wrong.test", "ca.pem");
    REQUIRE(misnamed);
    CHECK(misnamed->find("ERR_CERT_COMMON_NAME_INVALID") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(folder.path() / "wrong.test.png"));
  }

  TEST_CASE("a page to shoot is a path on the app's domain, by one rule for plugins and test processes") {
    for (const std::string page : {"/", "/login", "/a/b?c=d#e", "/%40"})
      CHECK_MESSAGE(is_page_path(page), page);
    for (const std::string& page :
         std::vector<std::string>{"", "login", "//evil.test/", "/@evil.test", "/a\\b", "/ a", "/a\tb",
                                  "/a\nb", std::string("/a\x01"), "/a\x7f", "https://evil.test/"})
      CHECK_FALSE_MESSAGE(is_page_path(page), page);
    CHECK(is_page_path("/" + std::string(2047, 'a')));
    CHECK_FALSE(is_page_path("/" + std::string(2048, 'a')));
  }

  TEST_CASE("a test process may ask the host for its own app's page, and nothing else") {
    RecipeJob job;
    job.domain = "app.test";
    job.browser = "chromium";
    job.screenshot_file = "/nonexistent/x.png";
    // No browser in this run: every request is answered, and none is shot.
    HostRequests host(job, nullptr,
                      [] { return std::chrono::steady_clock::now() + std::chrono::seconds(5); });
    const int child = host.child_end();
    auto ask = [&](const std::string& line) {
      std::string reply;
      if (::send(child, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
        return reply;
      char buffer[256];
      for (int tries = 0; tries < 500 && reply.find('\n') == std::string::npos; ++tries) {
        host.serve();
        pollfd waiting{child, POLLIN, 0};
        if (::poll(&waiting, 1, 10) == 1) {
          const ssize_t count = ::read(child, buffer, sizeof buffer);
          if (count > 0) reply.append(buffer, static_cast<size_t>(count));
        }
      }
      return reply;
    };
    CHECK(ask("{\"shoot\":\"/\"}\n") == "{\"missing\":\"screenshots are off in this run\"}\n");
    // A path that looks like a host is refused, as a plugin naming it is at load.
    CHECK(ask("{\"shoot\":\"//evil.test/\"}\n").find("not a path") != std::string::npos);
    CHECK(ask("{\"shoot\":\"@evil.test\"}\n") ==
          "{\"missing\":\"the page to shoot is not a path on the app's domain\"}\n");
    CHECK(ask("{\"shoot\":\"/ a\"}\n").find("not a path") != std::string::npos);
    CHECK(ask("{\"run\":\"abra app rm other.test\"}\n") ==
          "{\"missing\":\"the host was asked something it does not do\"}\n");
    CHECK(ask("{\"shoot\":\"/\",\"domain\":\"other.test\"}\n").find("does not do") != std::string::npos);
    CHECK(ask("not json\n").find("does not do") != std::string::npos);
    // Eight refusals in all (six above, two here): the child is not heard any more, and sees the socket
    // closed.
    for (int more = 0; more < 2; ++more) CHECK(ask("junk\n").find("does not do") != std::string::npos);
    CHECK(ask("{\"shoot\":\"/\"}\n").empty());
    char byte = 0;
    CHECK(::read(child, &byte, 1) == 0);
  }

  TEST_CASE("a child that floods the request socket is cut off, and the host's loop goes on") {
    RecipeJob job;
    job.domain = "app.test";
    HostRequests host(job, nullptr,
                      [] { return std::chrono::steady_clock::now() + std::chrono::seconds(5); });
    const int child = host.child_end();
    ::fcntl(child, F_SETFL, O_NONBLOCK);
    const std::string junk(size_t{1} << 16, '\n');
    size_t written = 0;
    for (int round = 0; round < 100; ++round) {
      const ssize_t count = ::send(child, junk.data(), junk.size(), MSG_NOSIGNAL);
      if (count > 0) written += static_cast<size_t>(count);
      host.serve();  // one read at most: it returns whatever the child keeps writing
    }
    CHECK(written > 0);
    // Cut off after a few refusals: what it writes now meets a closed socket.
    CHECK(::send(child, "x", 1, MSG_NOSIGNAL) < 0);
    std::string answers;
    char buffer[4096];
    for (ssize_t count = 0; (count = ::read(child, buffer, sizeof buffer)) > 0;)
      answers.append(buffer, static_cast<size_t>(count));
    CHECK(std::count(answers.begin(), answers.end(), '\n') == 8);
  }

  TEST_CASE("a picture of one colour is blank; a file that is no PNG is said so") {
    const TemporaryDirectory folder;
    // 2x1 RGB PNGs: white and white, white and black.
    const unsigned char white[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
        0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7b, 0x40, 0xe8, 0xdd, 0x00,
        0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0x0f, 0x06, 0x00, 0x14, 0xf2, 0x05,
        0xfb, 0xa4, 0x0d, 0x7c, 0x5e, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    };
    const unsigned char contrast[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7b,
        0x40, 0xe8, 0xdd, 0x00, 0x00, 0x00, 0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0xff, 0xff, 0x3f, 0x03, 0x03, 0x03, 0x00, 0x0e, 0xf8, 0x02, 0xfe, 0xc9, 0x8b, 0x83, 0xf5,
        0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    };
    std::ofstream(folder.path() / "white.png", std::ios::binary)
        .write(reinterpret_cast<const char*>(white), sizeof white);
    std::ofstream(folder.path() / "contrast.png", std::ios::binary)
        .write(reinterpret_cast<const char*>(contrast), sizeof contrast);
    std::ofstream(folder.path() / "text.png") << "not a picture";
    CHECK(png_problem(folder.path() / "white.png") == "blank: every pixel is #ffffff");
    CHECK_FALSE(png_problem(folder.path() / "contrast.png"));
    CHECK(png_problem(folder.path() / "text.png") == "not a PNG");
    CHECK(png_problem(folder.path() / "missing.png") == "not a PNG");
  }

  TEST_CASE("no browser, no picture, and a reason") {
    const TemporaryDirectory folder;
    const auto off =
        take_screenshot({.browser = "", .domain = "app.test", .output = folder.path() / "x.png"});
    CHECK(off == "screenshots are off (--browser is empty)");
    const auto missing = take_screenshot({.browser = (folder.path() / "no-browser").string(),
                                          .domain = "app.test",
                                          .output = folder.path() / "x.png"});
    REQUIRE(missing);
    CHECK(missing->ends_with("is not installed (Debian: apt-get install chromium-headless-shell)"));
    CHECK_FALSE(std::filesystem::exists(folder.path() / "x.png"));
  }
}
