#include "ccci/expect.hpp"
#include "ccci/git.hpp"
#include "ccci/http.hpp"
#include "ccci/readiness.hpp"
#include "ccci/text.hpp"
#include "ccci/webdav.hpp"
#include "support.hpp"

using namespace ccci;
using namespace std::chrono_literals;

namespace {

HttpClient client_for(const test::HttpsServer& server) {
  return HttpClient({.ca_file = server.ca_file(), .connect_to = {server.connect_to()}});
}

}  // namespace

TEST_SUITE("helpers") {
  TEST_CASE("strip_ansi removes colour, cursor and title sequences, and nothing else") {
    CHECK(ccci::strip_ansi("\x1b[1;36mINFO\x1b[0m done") == "INFO done");
    CHECK(ccci::strip_ansi("\x1b]0;title\x07│ NAME │\x1b[2K") == "│ NAME │");
    CHECK(ccci::strip_ansi("plain │ text") == "plain │ text");
    CHECK(ccci::strip_ansi("cut \x1b[") == "cut ");  // a truncated sequence at the end
  }

  TEST_CASE("cut_utf8 never splits a character; valid_utf8 replaces broken bytes") {
    const std::string text = "ab\u00e9\u20ac";  // a b é €: 1+1+2+3 bytes
    CHECK(ccci::cut_utf8(text, 3) == "ab");
    CHECK(ccci::cut_utf8(text, 4) == "ab\u00e9");
    CHECK(ccci::cut_utf8(text, 6) == "ab\u00e9");
    CHECK(ccci::cut_utf8(text, 100) == text);
    CHECK(ccci::valid_utf8(text) == text);
    CHECK(ccci::valid_utf8("a\xff\xc3") == "a\ufffd\ufffd");
    CHECK(ccci::valid_utf8("\xed\xa0\x80") == "\ufffd\ufffd\ufffd");  // a surrogate is not UTF-8
    CHECK(ccci::valid_utf8("\xc0\xaf") == "\ufffd\ufffd");            // nor an overlong '/'
  }

  TEST_CASE("text_between finds the first enclosed text") {
    CHECK(text_between("generated random password is 'x1y2'\nok", "is '", "'") == "x1y2");
    CHECK_FALSE(text_between("nothing here", "is '", "'"));
    CHECK_FALSE(text_between("is 'unterminated", "is '", "'"));
  }

  TEST_CASE("url_encode keeps unreserved characters only") {
    CHECK(url_encode("a-b_c.d~e") == "a-b_c.d~e");
    CHECK(url_encode("p@ss word&=+") == "p%40ss%20word%26%3D%2B");
  }

  TEST_CASE("form and JSON requests set their body and content type") {
    const auto form = HttpRequest::form("https://x/token", {{"grant_type", "password"}, {"password", "a&b"}});
    CHECK(form.method == "POST");
    CHECK(form.body == "grant_type=password&password=a%26b");
    CHECK(form.headers == std::vector<std::string>{"Content-Type: application/x-www-form-urlencoded"});
    auto json = HttpRequest::json("https://x/api", {{"name", "n"}}, "PUT");
    json.bearer("t0k");
    CHECK(json.method == "PUT");
    CHECK(nlohmann::json::parse(json.body) == nlohmann::json{{"name", "n"}});
    CHECK(json.headers.back() == "Authorization: Bearer t0k");
  }

  TEST_CASE("readiness JSON conditions say what they wait for") {
    const auto ready = json_conditions({{"/installed", true}, {"/maintenance", false}});
    CHECK_FALSE(ready({.status = 200, .body = R"({"installed": true, "maintenance": false})"}));
    CHECK(ready({.status = 200, .body = R"({"installed": false, "maintenance": false})"}).value() ==
          "JSON /installed is false, waiting for true");
    CHECK(ready({.status = 200, .body = "<html>"}).value() == "the body is not JSON yet");
    CHECK(ready({.status = 200, .body = R"({"installed": true})"}).value() == "JSON has no /maintenance yet");
    CHECK_FALSE(json_conditions({}));
  }

  TEST_CASE("readiness JSON conditions are typed: a string is not the number or boolean it spells") {
    const auto ready =
        json_conditions({{"/status", "pass"}, {"/version", std::int64_t{3}}, {"/error", nullptr}});
    CHECK_FALSE(ready({.status = 200, .body = R"({"status": "pass", "version": 3, "error": null})"}));
    CHECK(ready({.status = 200, .body = R"({"status": "pass", "version": "3", "error": null})"}).value() ==
          "JSON /version is \"3\", waiting for 3");
    CHECK(json_conditions({{"/ok", "true"}})({.status = 200, .body = R"({"ok": true})"}).value() ==
          "JSON /ok is true, waiting for \"true\"");
    CHECK_THROWS_AS(json_conditions({{"no-slash", true}}), std::invalid_argument);
  }

  TEST_CASE("wait_until retries with backoff and reports the last reason") {
    int calls = 0;
    const auto done = wait_until(
        std::chrono::steady_clock::now() + 5s,
        [&]() -> std::optional<std::string> {
          return ++calls < 3 ? std::optional<std::string>("not yet " + std::to_string(calls)) : std::nullopt;
        },
        {.initial = 5ms});
    CHECK_FALSE(done);
    CHECK(calls == 3);
    const auto never =
        wait_until(std::chrono::steady_clock::now() + 100ms,
                   []() -> std::optional<std::string> { return "still starting"; }, {.initial = 10ms});
    CHECK(never == "still starting");
  }

  TEST_CASE("JSON pointer assertions and redirects") {
    test::HttpsServer server;
    const auto http = client_for(server);
    auto json = expect_http(http, {.url = test::kAppBase + "/json"});
    json.status(200).json_equals("/a/b/1", 2).json_equals("/name", "x");
    CHECK(json.json_at("/a/b") == nlohmann::json{1, 2});
    CHECK_THROWS_WITH_AS(json.json_equals("/name", "y"),
                         doctest::Contains("JSON /name is \"x\", expected \"y\""), CheckFailure);
    CHECK_THROWS_WITH_AS(json.json_at("/missing"), doctest::Contains("JSON body has no /missing"),
                         CheckFailure);
    CHECK_THROWS_WITH_AS(expect_http(http, {.url = test::kAppBase + "/echo"}).json_at("/a"),
                         doctest::Contains("expected a JSON body"), CheckFailure);
    expect_http(http, {.url = test::kAppBase + "/redirect"}).redirects_to("/target");
    CHECK_THROWS_WITH_AS(expect_http(http, {.url = test::kAppBase + "/json"}).redirects_to("/"),
                         doctest::Contains("expected a redirect, got status 200"), CheckFailure);
  }

  TEST_CASE("a client keeps its cookies, as one browser session") {
    test::HttpsServer server;
    const auto session = client_for(server);
    session.get(test::kAppBase + "/set-cookie");
    CHECK(session.get(test::kAppBase + "/cookie").body == "session=abc123");
    // NOLINTNEXTLINE(performance-unnecessary-copy-initialization): the copy is what is tested
    auto copy = session;  // copies share the session
    CHECK(copy.get(test::kAppBase + "/cookie").body == "session=abc123");
    CHECK(client_for(server).get(test::kAppBase + "/cookie").body.empty());  // a new client is a new session
  }

  TEST_CASE("WebDAV put, get and remove with basic auth") {
    test::HttpsServer server;
    const auto http = client_for(server);
    const Credentials user{"u", "p"};
    webdav::put(http, test::kAppBase + "/dav/f.txt", user, "hello");
    CHECK(webdav::get(http, test::kAppBase + "/dav/f.txt", user) == "hello");
    webdav::remove(http, test::kAppBase + "/dav/f.txt", user);
    CHECK_THROWS_WITH_AS(webdav::get(http, test::kAppBase + "/dav/f.txt", user),
                         doctest::Contains("HTTP 404"), CheckFailure);
    CHECK_THROWS_WITH_AS(webdav::put(http, test::kAppBase + "/dav/f.txt", {"u", "wrong"}, "x"),
                         doctest::Contains("WebDAV PUT https://app.cc-ci.test/dav/f.txt: HTTP 401"),
                         CheckFailure);
  }

  TEST_CASE("git gets the run's routing as configuration, and no credential on its command line") {
    std::string log;
    GitClient git({.ca_file = "/ca.pem", .connect_to = {"::127.0.0.1:8443"}}, "gitea.cc-ci.test",
                  [&](std::string_view line) { (log += line) += '\n'; });
    const auto& settings = git.configuration();
    auto has = [&](const std::string& setting) {
      return std::find(settings.begin(), settings.end(), setting) != settings.end();
    };
    CHECK(has("url.https://gitea.cc-ci.test:8443/.insteadOf=https://gitea.cc-ci.test/"));
    CHECK(has("http.curloptResolve=gitea.cc-ci.test:8443:127.0.0.1"));
    CHECK(has("credential.helper="));

    const auto work = git.scratch("repo");
    git.run({"init", "-q"}, work, Credentials{"someone", "pa55-never-shown"});
    git.run({"commit", "-q", "--allow-empty", "-m", "first"}, work);
    CHECK(git.run({"log", "--format=%s"}, work) == "first\n");
    CHECK(log.find("$ git init -q") != std::string::npos);
    CHECK(log.find("pa55-never-shown") == std::string::npos);
    CHECK_THROWS_AS(git.run({"not-a-git-command"}, work), CheckFailure);
  }

  TEST_CASE("a connect-to entry for another host leaves git alone") {
    GitClient git({.connect_to = {"other.test:443:127.0.0.1:8443"}}, "gitea.cc-ci.test",
                  [](std::string_view) {});
    for (const auto& setting : git.configuration())
      CHECK(setting.find("curloptResolve") == std::string::npos);
  }
}
