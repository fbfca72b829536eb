#include <doctest/doctest.h>

#include "ccci/redactor.hpp"

using ccci::Redactor;

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
}
