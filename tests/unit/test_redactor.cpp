#include <doctest/doctest.h>

#include "ccci/redactor.hpp"
#include "support.hpp"

using ccci::Redactor;
namespace test = ccci::test;

TEST_SUITE("redactor") {
  TEST_CASE("every occurrence of a secret is masked") {
    Redactor redactor;
    redactor.add("hunter2");
    CHECK(redactor.apply("pw=hunter2, again hunter2") == "pw=[REDACTED], again [REDACTED]");
    CHECK(redactor.apply("nothing secret") == "nothing secret");
  }

  TEST_CASE("a secret containing another is masked whole") {
    Redactor redactor;
    redactor.add("abc");
    redactor.add("xxabcxx");
    CHECK(redactor.apply("[xxabcxx] [abc]") == "[[REDACTED]] [[REDACTED]]");
  }

  TEST_CASE("empty secrets are ignored, duplicates kept once") {
    Redactor redactor;
    CHECK(redactor.empty());
    redactor.add("");
    CHECK(redactor.empty());
    redactor.add("s3cr3t");
    redactor.add("s3cr3t");
    CHECK(redactor.apply("s3cr3t") == "[REDACTED]");
  }

  TEST_CASE("a mask that contains a secret does not loop") {
    Redactor redactor;
    redactor.add("RED");
    CHECK(redactor.apply("RED RED") == "[REDACTED] [REDACTED]");
  }

  TEST_CASE("encoded forms of a secret are masked too") {
    Redactor redactor;
    const std::string secret = "p@ss w\"ord/42+x";
    redactor.add(secret);
    CHECK(redactor.apply("q=p%40ss%20w%22ord%2F42%2Bx") == "q=[REDACTED]");             // URL-encoded
    CHECK(redactor.apply(R"({"pw":"p@ss w\"ord/42+x"})") == R"({"pw":"[REDACTED]"})");  // JSON-escaped
    // HTTP basic auth: base64("admin:" + secret), and the same after prefixes of other lengths.
    for (const std::string user : {"admin:", "ad:", "a:"}) {
      const std::string header = "Authorization: Basic " + test::base64(user + secret);
      const std::string masked = redactor.apply(header);
      CHECK(masked.find("[REDACTED]") != std::string::npos);
      CHECK(masked.find(test::base64(user + secret)) == std::string::npos);
    }
  }

  TEST_CASE("a listener hears each new secret once, and add_all copies them") {
    Redactor redactor;
    std::vector<std::string> heard;
    redactor.set_listener([&](const std::string& secret) { heard.push_back(secret); });
    redactor.add("first-secret");
    redactor.add("first-secret");
    redactor.add("second-secret");
    CHECK(heard == std::vector<std::string>{"first-secret", "second-secret"});
    Redactor copy;
    copy.add_all(redactor);
    CHECK(copy.apply("first-secret second-secret") == "[REDACTED] [REDACTED]");
  }
}
