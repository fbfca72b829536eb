#include "report/report_folder.hpp"

#include <fstream>

#include "config/settings.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

fs::path absolute_normal(const fs::path& path) {
  std::error_code ignored;
  return fs::absolute(path, ignored).lexically_normal();
}

// `path` with every link in it resolved, as far as it exists.
fs::path resolved(const fs::path& path) {
  std::error_code error;
  fs::path real = fs::weakly_canonical(absolute_normal(path), error);
  return error ? absolute_normal(path) : real;
}

}  // namespace

bool is_within(const fs::path& path, const fs::path& folder) {
  const fs::path relative = absolute_normal(path).lexically_relative(absolute_normal(folder));
  return !relative.empty() && *relative.begin() != "..";
}

void claim_report_folder(const fs::path& folder, const std::vector<fs::path>& checkouts) {
  const std::string what = "--report-dir " + folder.string();
  for (const auto& checkout : checkouts) {
    // As written and as the links lead: a link in the checkout must not carry
    // the report into it, nor a link elsewhere make it look outside.
    if (is_within(folder, checkout) || is_within(resolved(folder), resolved(checkout)))
      throw UsageError(what + ": inside the checkout under test (" + checkout.string() +
                       "), which the change controls; put the report outside it");
    // The folder is emptied for the run: never with a checkout in it.
    if (is_within(checkout, folder) || is_within(resolved(checkout), resolved(folder)))
      throw UsageError(what + ": holds the checkout under test (" + checkout.string() +
                       "); put the report beside it");
  }
  std::error_code error;
  const auto status = fs::symlink_status(folder, error);
  if (fs::is_symlink(status))
    throw UsageError(what + ": a symbolic link; cc-ci writes its report only into a folder of its own");
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) throw UsageError(what + ": not a folder");
    const bool empty = fs::is_empty(folder, error);
    if (error) throw UsageError(what + ": cannot read it (" + error.message() + ")");
    if (!empty) {
      if (!fs::is_regular_file(fs::symlink_status(folder / kReportMarker, error)))
        throw UsageError(what +
                         ": not empty, and not a report folder cc-ci made; give a new or empty folder");
      // An earlier run's report: nothing of it may pass for this run's.
      std::vector<fs::path> entries;
      for (const auto& entry : fs::directory_iterator(folder, error)) entries.push_back(entry.path());
      if (error) throw UsageError(what + ": cannot read it (" + error.message() + ")");
      for (const auto& entry : entries) {
        fs::remove_all(entry, error);  // a link is removed, never followed
        if (error)
          throw UsageError(what + ": cannot empty it (" + entry.string() + ": " + error.message() + ")");
      }
    }
  }
  fs::create_directories(folder, error);
  if (error) throw UsageError(what + ": cannot make it (" + error.message() + ")");
  // Made by us just now; a link appearing in its place is refused, not followed.
  if (!fs::is_directory(fs::symlink_status(folder, error)))
    throw UsageError(what + ": not a folder of cc-ci's own");
  std::ofstream marker(folder / kReportMarker, std::ios::trunc);
  marker << "A cc-ci report folder: each run empties it and writes its report anew.\n";
  if (!marker.flush()) throw UsageError(what + ": cannot write there");
}

}  // namespace ccci
