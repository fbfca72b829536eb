// The one reader of results.json: the typed RunReport back from what
// to_json(RunReport) writes (docs/results-v1.schema.json). A results.json may
// come from anywhere (an old cc-ci, a hand edit, a folder in a pull request),
// so it is read whole or not at all, before anything renders it: a missing
// field, a field of the wrong type or a status outside its list is one clear
// problem, never a default rendered in its place, an exception halfway
// through a page, or a word injected into one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "model/result.hpp"

namespace ccci {

/// A results.json that does not read whole. what() is one line that names
/// the field ("recipes[2].status: not one of passed, failed, …").
class ResultsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Far more than a run of the whole catalogue writes (a few MiB), far less
/// than would hurt to read.
inline constexpr std::uintmax_t kResultsMaxBytes = std::uintmax_t{64} << 20;

/// The run report `results` holds. Every field the schema requires is there
/// with its type and range, every status one of its words; the fields cc-ci
/// derives (the summary's counts, each rung's name, the target's deployed_as)
/// agree with what they are derived from, and the run's duration_ms is taken
/// from its two times, not from the file. Fields v1 may add are ignored.
/// to_json(read_results(j)) == j for every results.json cc-ci writes.
/// Throws ResultsError.
RunReport read_results(const nlohmann::json& results);

/// The run report in the results.json at `file`: a plain file of its own
/// (never a link, a FIFO or a device), no larger than kResultsMaxBytes, JSON,
/// read by read_results. Throws ResultsError, one line starting with `file`.
RunReport read_results_file(const std::filesystem::path& file);

}  // namespace ccci
