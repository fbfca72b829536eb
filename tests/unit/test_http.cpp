#include "ccci/expect.hpp"
#include "ccci/http.hpp"
#include "ccci/readiness.hpp"
#include "support.hpp"

using namespace ccci;
using namespace std::chrono_literals;

TEST_SUITE("http") {
  TEST_CASE("TLS is verified against the given CA and requests reach loopback through connect-to") {
    test::HttpsServer server;
    const HttpClient client({.ca_file = server.ca_file(), .connect_to = {server.connect_to()}});
    const auto response = client.get(test::kAppBase + "/status/200");
    CHECK(response.status == 200);
    CHECK(response.body == "status 200");
  }

  TEST_CASE("a certificate from an unknown CA is refused") {
    test::HttpsServer server;
    const HttpClient client({.connect_to = {server.connect_to()}});
    CHECK_THROWS_AS(client.get(test::kAppBase + "/status/200"), HttpError);
  }

  TEST_CASE("a name the certificate does not cover is refused") {
    test::HttpsServer server;
    const HttpClient client({.ca_file = server.ca_file(), .connect_to = {server.connect_to()}});
    CHECK_THROWS_WITH_AS(client.get("https://other.example.org/status/200"),
                         doctest::Contains("other.example.org"), HttpError);
  }

  TEST_CASE("methods, bodies and headers go through; response headers are read") {
    test::HttpsServer server;
    const HttpClient client({.ca_file = server.ca_file(), .connect_to = {server.connect_to()}});
    const auto response = client.perform(
        {.method = "PUT", .url = test::kAppBase + "/echo", .headers = {"X-Test: yes"}, .body = "payload"});
    CHECK(response.status == 200);
    CHECK(response.body == "PUT payload");
    CHECK(response.header("x-test") == "yes");
    CHECK(response.header("Content-Type") == "text/plain");
  }

  TEST_CASE("expect_http says what it saw when an assertion fails") {
    test::HttpsServer server;
    struct FixedContext final : Context {
      std::string recipe_ = "r", server_ = "s", domain_ = "app.cc-ci.test";
      HttpSettings http_;
      const std::string& recipe() const override { return recipe_; }
      const std::string& server() const override { return server_; }
      const std::string& domain() const override { return domain_; }
      Abra& abra() override { throw std::logic_error("unused"); }
      const HttpSettings& http() const override { return http_; }
      std::chrono::steady_clock::time_point deadline() const override { return {}; }
      Lane lane() const override { return Lane::fresh; }
      Rung rung() const override { return Rung::checks; }
      const std::filesystem::path& plugin_dir() const override { return plugin_dir_; }
      const ComposeLayout& compose() const override { return compose_; }
      std::filesystem::path plugin_dir_;
      ComposeLayout compose_;
      void log(std::string_view) override {}
      void add_secret(std::string) override {}
      bool step(const std::string&, const std::function<void()>&) override { return true; }
      bool check(const std::string&, const std::function<void()>&) override { return true; }
    } ctx;
    ctx.http_ = {.ca_file = server.ca_file(), .connect_to = {server.connect_to()}};

    expect_http(ctx, "/status/200").status(200).body_contains("status");
    CHECK_THROWS_WITH_AS(
        expect_http(ctx, "/status/500").status(200),
        "GET https://app.cc-ci.test/status/500: expected status 200, got 500 (body \"status 500\")",
        CheckFailure);
    CHECK_THROWS_WITH_AS(expect_http(ctx, "/status/200").body_contains("welcome"),
                         doctest::Contains("body does not contain \"welcome\""), CheckFailure);
    CHECK_THROWS_WITH_AS(expect_http(ctx, "/echo").header_contains("x-test", "yes"),
                         doctest::Contains("header x-test is \"\""), CheckFailure);
    ctx.http_.ca_file.clear();  // now TLS fails: the app "did not answer", a failure
    CHECK_THROWS_AS(expect_http(ctx, "/status/200").status(200), CheckFailure);
  }
}

TEST_SUITE("readiness") {
  TEST_CASE("proxy placeholders are not the app") {
    CHECK(proxy_placeholder({.status = 404, .body = "404 page not found\n"}));
    CHECK(proxy_placeholder({.status = 502}));
    CHECK(proxy_placeholder({.status = 503}));
    CHECK(proxy_placeholder({.status = 504}));
    CHECK_FALSE(proxy_placeholder({.status = 404, .body = "<html>nginx 404</html>"}));
    CHECK_FALSE(proxy_placeholder({.status = 200}));
    CHECK_FALSE(proxy_placeholder({.status = 500}));
  }

  TEST_CASE("backoff grows by its factor up to its cap") {
    const Backoff backoff{.initial = 100ms, .factor = 2.0, .cap = 350ms};
    CHECK(backoff.next(100ms) == 200ms);
    CHECK(backoff.next(200ms) == 350ms);
    CHECK(backoff.next(350ms) == 350ms);
  }

  TEST_CASE("polls through 502s until the app answers") {
    test::HttpsServer server;
    const HttpClient client({.ca_file = server.ca_file(), .connect_to = {server.connect_to()}});
    const auto result =
        wait_until_ready(client, test::kAppBase + "/ready-after/3", 200,
                         std::chrono::steady_clock::now() + 20s, {.initial = 10ms, .cap = 50ms});
    CHECK(result.ready);
    CHECK(result.attempts == 4);
    CHECK(result.response.body == "ready");
  }

  TEST_CASE("Traefik's 404 never counts as ready, even when 404 is expected") {
    test::HttpsServer server;
    const HttpClient client({.ca_file = server.ca_file(), .connect_to = {server.connect_to()}});
    const auto result = wait_until_ready(client, test::kAppBase + "/traefik-404", 404,
                                         std::chrono::steady_clock::now() + 500ms, {.initial = 50ms});
    CHECK_FALSE(result.ready);
    CHECK(result.attempts >= 2);
    CHECK(result.last_reason.find("Traefik") != std::string::npos);
  }

  TEST_CASE("a TLS failure is reported as the reason it never became ready") {
    test::HttpsServer server;
    const HttpClient client({.connect_to = {server.connect_to()}});  // no CA
    // Seconds, not milliseconds: on a loaded machine (or under ASan) a first
    // handshake cut by the deadline would report the cut, not the certificate.
    const auto result =
        wait_until_ready(client, test::kAppBase + "/status/200", 200, std::chrono::steady_clock::now() + 3s);
    CHECK_FALSE(result.ready);
    CHECK(result.last_reason.find("certificate") != std::string::npos);
  }
}
