// The files of a run every CI server reads: results.json and junit.xml.
#pragma once

#include <filesystem>
#include <string>

#include "model/result.hpp"

namespace ccci {

/// The JUnit XML of a run: a testsuite per recipe, a testcase per step and per rung.
std::string to_junit(const RunReport& report);
/// results.json and junit.xml in `directory`.
void write_reports(const RunReport& report, const std::filesystem::path& directory);

}  // namespace ccci
