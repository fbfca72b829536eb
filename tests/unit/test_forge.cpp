// The forge side's pure parts: webhook signatures, what counts as `!testme`,
// repository names and commit ids, and the commit status a result gives.
#include <doctest/doctest.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "forge/gitea.hpp"
#include "forge/pr_publish.hpp"
#include "forge/webhook.hpp"
#include "model/result_json.hpp"

using nlohmann::json;

namespace ccci {

TEST_SUITE("forge") {
  TEST_CASE("the webhook signature is HMAC-SHA256 in hex (RFC 4231, test case 2)") {
    const std::string expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    CHECK(webhook_signature("Jefe", "what do ya want for nothing?") == expected);
    CHECK(signature_matches("Jefe", "what do ya want for nothing?", expected));
    std::string upper = expected;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(signature_matches("Jefe", "what do ya want for nothing?", upper));
    CHECK_FALSE(signature_matches("Jefe", "what do ya want for nothing? ", expected));
    CHECK_FALSE(signature_matches("jefe", "what do ya want for nothing?", expected));
    CHECK_FALSE(signature_matches("Jefe", "what do ya want for nothing?", ""));
    CHECK_FALSE(signature_matches("Jefe", "what do ya want for nothing?", expected.substr(0, 63)));
    CHECK_FALSE(signature_matches("Jefe", "what do ya want for nothing?", "sha256=" + expected));
  }

  TEST_CASE("a new !testme comment on a pull request, and nothing else, asks for a build") {
    auto payload = [](std::string text, std::string action = "created", bool pull = true) {
      return json{{"action", action},
                  {"is_pull", pull},
                  {"issue", {{"number", 12}, {"pull_request", pull ? json::object() : json()}}},
                  {"comment",
                   {{"id", 777},
                    {"body", text},
                    {"created_at", "2026-12-03T10:00:00+01:00"},
                    {"user", {{"login", "maintainer"}}}}},
                  {"repository", {{"full_name", "coop-cloud/custom-html"}}}}
          .dump();
    };
    std::string why;
    for (const char* text : {"!testme", "  !testme\n", "   !testme", "!testme please", "!testme\tplease",
                             "!testme\nthanks", "!testme\r\nthanks"}) {
      const auto found = testme_comment("issue_comment", payload(text), why);
      REQUIRE(found);
      CHECK(found->repo == "coop-cloud/custom-html");
      CHECK(found->pr == 12);
      CHECK(found->login == "maintainer");
      CHECK(found->comment == 777);
      CHECK(found->written_at == "2026-12-03T10:00:00+01:00");
    }
    for (const char* text : {"!testmenow", "please !testme", "", "!test me", "> !testme", "\n!testme"}) {
      CHECK_FALSE(testme_comment("issue_comment", payload(text), why));
      CHECK(why == "the comment is not !testme");
    }
    CHECK_FALSE(testme_comment("issue_comment", payload("!testme", "edited"), why));
    CHECK(why == "not a new comment (action \"edited\")");
    CHECK_FALSE(testme_comment("issue_comment", payload("!testme", "created", false), why));
    CHECK(why == "a comment on an issue, not a pull request");
    CHECK_FALSE(testme_comment("push", payload("!testme"), why));
    CHECK(why == "not a comment (event \"push\")");
    CHECK_FALSE(testme_comment("issue_comment", "not json", why));
    CHECK_FALSE(testme_comment("issue_comment",
                               R"({"action":"created","is_pull":true,"comment":{"body":"!testme"}})", why));
    CHECK(why == "the payload lacks the repository, the PR number, the commenter or the comment's id");
  }

  TEST_CASE("!testme shown as Markdown code does not count") {
    // Four spaces or a tab make an indented code block; a fence opens a fenced one.
    for (const char* code : {"    !testme", "     !testme please", "\t!testme", "  \t!testme",
                             "```\n!testme\n```", "~~~\n!testme\n~~~", "```\n    !testme\n```"})
      CHECK_FALSE(is_testme(code));
    CHECK(is_testme("   !testme"));
    CHECK(is_testme("!testme\n```\ncode\n```"));
  }

  TEST_CASE("a comment's time is read as Gitea writes it, in RFC 3339") {
    namespace chrono = std::chrono;  // not a using-directive: tools/lint reads the tests as one unit
    const auto noon_utc = chrono::sys_days(chrono::year(2026) / 12 / 3) + chrono::hours(12);
    CHECK(parse_rfc3339("2026-12-03T12:00:00Z") == noon_utc);
    CHECK(parse_rfc3339("2026-12-03t12:00:00z") == noon_utc);
    CHECK(parse_rfc3339("2026-12-03T13:30:00+01:30") == noon_utc);
    CHECK(parse_rfc3339("2026-12-03T07:00:00-05:00") == noon_utc);
    CHECK(parse_rfc3339("2026-12-03T12:00:00.250Z") == noon_utc + chrono::milliseconds(250));
    CHECK(parse_rfc3339("2026-12-03T12:00:00.000000001Z") == noon_utc + chrono::nanoseconds(1));
    for (const char* bad :
         {"", "2026-12-03", "2026-12-03T12:00:00", "2026-12-03 12:00:00Z", "2026-13-03T12:00:00Z",
          "2026-02-30T12:00:00Z", "2026-12-03T24:00:00Z", "2026-12-03T12:00:00.Z",
          "2026-12-03T12:00:00.0000000001Z", "2026-12-03T12:00:00+0100", "2026-12-03T12:00:00Zjunk",
          "2026-12-03T12:00:00+24:00", "２026-12-03T12:00:00Z"})
      CHECK_MESSAGE(!parse_rfc3339(bad), bad);
  }

  TEST_CASE("repository names and commit ids are checked before they reach a URL") {
    const auto repo = RepoName::parse("coop-cloud/custom-html");
    REQUIRE(repo);
    CHECK(repo->owner == "coop-cloud");
    CHECK(repo->full() == "coop-cloud/custom-html");
    for (const char* bad :
         {"custom-html", "/custom-html", "coop-cloud/", "a/b/c", "../x", "a/..", "a b/c", "a/c?x=1"})
      CHECK_FALSE(RepoName::parse(bad));
    CHECK_FALSE(commit_id_problem(std::string(40, 'a')));
    CHECK_FALSE(commit_id_problem(std::string(64, '0')));
    CHECK(commit_id_problem("HEAD"));
    CHECK(commit_id_problem(std::string(40, 'A')));
    CHECK(commit_id_problem(std::string(39, 'a')));
  }

  TEST_CASE("only a finished pass gives a success status") {
    const RecipeResult passed{.recipe = "custom-html", .status = Status::passed, .level = 6};
    const CommitStatus green = recipe_status(passed, false, "https://ci.example.org/runs/7");
    CHECK(green.state == "success");
    CHECK(green.context == "cc-ci/custom-html");
    CHECK(green.description == "level 6");
    CHECK(green.target_url == "https://ci.example.org/runs/7/index.html");
    CHECK(recipe_status(passed, true, "").state == "error");
    CHECK(recipe_status(passed, true, "").description == "level 6 (interrupted)");
    CHECK(recipe_status(passed, false, "").target_url.empty());
    CHECK(recipe_status({.recipe = "x", .status = Status::failed, .level = 2}, false, "").state == "failure");
    CHECK(recipe_status({.recipe = "x", .status = Status::errored, .level = 0}, false, "").state == "error");
    const CommitStatus skipped =
        recipe_status({.recipe = "x", .status = Status::skipped, .level = 0}, false, "");
    CHECK(skipped.state == "error");
    CHECK(skipped.description == "level 0 (not tested)");
  }
}

}  // namespace ccci
