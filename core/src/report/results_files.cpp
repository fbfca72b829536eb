#include "report/results_files.hpp"

#include <cstdio>

#include "base/files.hpp"
#include "base/markup.hpp"
#include "model/result_json.hpp"

namespace ccci {
namespace {

std::string seconds(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

// JUnit's counts of one testsuite (and of all of them).
struct JunitCounts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  void add(Status status) {
    ++tests;
    failures += status == Status::failed;
    errors += status == Status::errored;
    skipped += status == Status::skipped;
  }
  void add(const JunitCounts& more) {
    tests += more.tests;
    failures += more.failures;
    errors += more.errors;
    skipped += more.skipped;
  }
  std::string attributes() const {
    return "tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" +
           std::to_string(errors) + "\" skipped=\"" + std::to_string(skipped) + "\"";
  }
};

// The end of a testcase element: "/>" when it passed, else its verdict inside.
std::string testcase_end(Status status, const std::string& message) {
  switch (status) {
    case Status::passed:
      return "/>\n";
    case Status::flaky:  // passed, but say so where CI servers show output
      return ">\n      <system-out>flaky: " + message + "</system-out>\n    </testcase>\n";
    case Status::failed:
      return ">\n      <failure message=\"" + message + "\">" + message + "</failure>\n    </testcase>\n";
    case Status::errored:
      return ">\n      <error message=\"" + message + "\">" + message + "</error>\n    </testcase>\n";
    case Status::skipped:
      return ">\n      <skipped message=\"" + message + "\"/>\n    </testcase>\n";
  }
  return "/>\n";
}

// One testcase per step, named by its lane and phase.
std::string step_cases(const RecipeResult& recipe, JunitCounts& counts) {
  std::string cases;
  for (const auto& step : recipe.steps) {
    counts.add(step.status);
    const std::string lane = step.lane == Lane::fresh ? "" : std::string(to_string(step.lane)) + ".";
    cases += "    <testcase classname=\"" +
             xml_escape(recipe.recipe + "." + lane + std::string(to_string(step.phase))) + "\" name=\"" +
             xml_escape(step.name) + "\" time=\"" + seconds(step.duration) + "\"" +
             testcase_end(step.status, xml_escape(step.message));
  }
  return cases;
}

// One testcase per rung, so a CI server's test view shows the ladder too.
std::string rung_cases(const RecipeResult& recipe, JunitCounts& counts) {
  std::string cases;
  for (const auto& rung : recipe.rungs) {
    Status status = Status::skipped;  // not_applicable and unverified: skipped, with which it was
    std::string message = std::string(to_string(rung.status)) + ": " + xml_escape(rung.reason);
    if (rung.status == RungStatus::passed || rung.status == RungStatus::failed ||
        rung.status == RungStatus::errored) {
      status = rung.status == RungStatus::passed   ? Status::passed
               : rung.status == RungStatus::failed ? Status::failed
                                                   : Status::errored;
      message = xml_escape(rung.reason);
    }
    counts.add(status);
    cases += "    <testcase classname=\"" + xml_escape(recipe.recipe) + ".rungs\" name=\"" +
             std::to_string(static_cast<int>(rung.rung)) + " " + std::string(to_string(rung.rung)) +
             "\" time=\"0.000\"" + testcase_end(status, message);
  }
  return cases;
}

// The properties of a recipe's testsuite: where it ran, what it tested, its level.
std::string suite_properties(const RecipeResult& recipe) {
  std::string text = "    <properties>\n      <property name=\"server\" value=\"" +
                     xml_escape(recipe.server) + "\"/>\n      <property name=\"domain\" value=\"" +
                     xml_escape(recipe.domain) + "\"/>\n";
  if (!recipe.target.commit.empty())
    text += "      <property name=\"target\" value=\"" + xml_escape(recipe.target.describe()) +
            "\"/>\n      <property name=\"commit\" value=\"" + xml_escape(recipe.target.commit) + "\"/>\n";
  return text + "      <property name=\"level\" value=\"" + std::to_string(recipe.level) +
         "\"/>\n      <property name=\"level_reason\" value=\"" + xml_escape(recipe.level_reason) +
         "\"/>\n    </properties>\n";
}

}  // namespace

std::string to_junit(const RunReport& report) {
  JunitCounts all;
  std::string suites;
  for (const auto& recipe : report.recipes) {
    JunitCounts counts;
    const std::string cases = step_cases(recipe, counts) + rung_cases(recipe, counts);
    all.add(counts);
    suites += "  <testsuite name=\"" + xml_escape(recipe.recipe) + "\" " + counts.attributes() + " time=\"" +
              seconds(recipe.duration) + "\" timestamp=\"" + format_rfc3339(report.started_at) + "\">\n" +
              suite_properties(recipe) + cases + "    <system-out>log: " + xml_escape(recipe.log) +
              "</system-out>\n  </testsuite>\n";
  }
  const auto total =
      std::chrono::duration_cast<std::chrono::milliseconds>(report.finished_at - report.started_at);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cc-ci\" " + all.attributes() +
         " time=\"" + seconds(total) + "\">\n" + suites + "</testsuites>\n";
}

void write_reports(const RunReport& report, const std::filesystem::path& directory) {
  std::filesystem::create_directories(directory);
  // Content never stops a report: bytes that are not UTF-8 become U+FFFD.
  write_file_atomically(directory / "results.json",
                        to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write_file_atomically(directory / "junit.xml", to_junit(report));
}

}  // namespace ccci
