// The PR comment of a run: summary.md, made from its report and the lane
// logs beside it. It says each recipe's level and why it is not higher, the
// rungs with their status and time, the failing steps with the last lines of
// their lane's log, the commit tested and the release it upgraded from.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "model/result.hpp"

namespace ccci {

/// Gitea's and GitHub's comment limit is 65,536 characters; this leaves room.
inline constexpr std::size_t kSummaryMaxBytes = 60'000;

struct SummaryLinks {
  /// Where the report folder is served (https://ci.example.org/runs/42), or
  /// empty: then the comment links nothing and embeds no picture.
  std::string base_url{};
  bool has_dashboard = false;  ///< index.html is there to link to
  bool has_card = false;       ///< card.png is there to show
};

/// summary.md for `results` (as results.json holds it). `report_dir` is where
/// the lane logs named in it are read from; a log path that leaves the folder
/// is not read. Never longer than kSummaryMaxBytes: log excerpts go first,
/// then the list of failing steps is cut, saying so.
std::string summary_markdown(const RunReport& results, const std::filesystem::path& report_dir,
                             const SummaryLinks& links);

/// A run's recipes by status, in words ("1 passed, 1 failed, 0 errored, 0 not tested").
std::string counts_words(const RunReport& results);

/// What was tested, in words ("commit C, release V · upgraded from P"): text
/// from the target goes through `escape`, the commit between `code_open` and
/// `code_close`. The PR comment and the run page both say it so.
std::string target_words(const RecipeTarget& target,
                         const std::function<std::string(std::string_view)>& escape,
                         std::string_view code_open, std::string_view code_close);

/// The recipe's landing-page picture, screenshots/<recipe>.png, when
/// the result names it and it is in `report_dir`; else nullopt.
std::optional<std::string> screenshot_file(const RecipeResult& recipe,
                                           const std::filesystem::path& report_dir);

/// The last `count` lines of the file at `relative` inside `report_dir` up to
/// the first line containing `until` (the whole file when empty or absent),
/// or nothing when the file is missing or would lead out of the folder.
std::string last_log_lines(const std::filesystem::path& report_dir, const std::string& relative,
                           std::size_t count, std::string_view until = {});

}  // namespace ccci
