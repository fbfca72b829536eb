// The report folder is cc-ci's own. A pull request controls everything in its
// workspace, a committed `cc-ci-report/` and links included, so the folder a
// run writes into is made fresh by the run, is never reached through a link,
// and never lies inside a checkout under test. Whatever a PR committed there
// cannot survive into what is published.
#pragma once

#include <filesystem>
#include <vector>

namespace ccci {

/// The file that marks a folder as one cc-ci made for a report: only such a
/// folder (or an empty one) is emptied for a new run.
inline constexpr const char* kReportMarker = ".cc-ci-report";

/// Makes `folder` a fresh, empty report folder of this run's and writes its
/// marker. Refuses (UsageError, one line) a folder that is a symbolic link or
/// not a folder, one inside any of `checkouts` or holding one (compared both
/// as written and with links resolved), and a non-empty folder that holds no
/// earlier cc-ci report (cc-ci never empties a folder it did not make).
void claim_report_folder(const std::filesystem::path& folder,
                         const std::vector<std::filesystem::path>& checkouts);

/// Whether `path` lies inside `folder` or is it, lexically (both made absolute
/// and normal first).
bool is_within(const std::filesystem::path& path, const std::filesystem::path& folder);

}  // namespace ccci
