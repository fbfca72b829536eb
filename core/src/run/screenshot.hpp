// The app's landing page as a picture: headless Chromium (Debian's package)
// shoots https://<domain><page> at 1280x800 once the app is ready, before
// teardown. The browser reaches the app's own domain only, the way the
// checks do (--connect-to, --ca-file), from a fresh profile; a frame of one
// colour is taken again, then reported as no screenshot.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ccci/plugin.hpp"

namespace ccci {

struct ScreenshotRequest {
  std::string browser;  ///< the executable (on PATH or a path); empty: screenshots are off
  std::string domain;
  std::string page = "/";
  HttpSettings http{};
  std::filesystem::path output;  ///< the PNG to write
  std::chrono::steady_clock::time_point deadline;
  int attempts = 3;  ///< a blank frame is retried this many times in all
};

/// Writes `output` and returns nullopt, or returns why there is no screenshot
/// (and leaves no file). Never throws for the browser's failures.
std::optional<std::string> take_screenshot(const ScreenshotRequest& request);

/// Chromium's --host-resolver-rules for `domain` under the run's --connect-to
/// specs: the domain goes where curl would send it, every other name fails.
std::string host_resolver_rules(const std::string& domain, const std::vector<std::string>& connect_to);

/// Why the PNG at `file` is not a picture worth showing ("blank: every pixel
/// is #ffffff", "not a PNG"), or nullopt.
std::optional<std::string> png_problem(const std::filesystem::path& file);

}  // namespace ccci
