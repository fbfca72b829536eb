// The app's landing page as a picture: headless Chromium (Debian's package,
// run/browser.hpp) shoots https://<domain><page> at 1280x800 once the app is
// ready, before teardown. The browser reaches the run's apps only, the way
// the checks do (--connect-to, --ca-file); a frame of one colour is taken
// again, then reported as no screenshot. A run keeps one browser for all its
// pages (run/shared_browser.hpp); take_screenshot() starts one for one page.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ccci/plugin.hpp"
#include "run/browser.hpp"

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

/// Whether `page` is a path on the app's domain, as a plugin may name it
/// (RecipeInfo::screenshot) and a test process may ask for it: one leading
/// '/', no second one (a host), no '@', '\\', space or control character, at
/// most 2048 bytes. The one rule for both.
bool is_page_path(const std::string& page);

/// https://<domain><page>.
std::string page_url(const ScreenshotRequest& request);

/// The browser (`--browser`) that may shoot pages of `domains`: the
/// executable found, resolver rules for `domains` under --connect-to, and
/// --ca-file to trust as the checks trust it. Or nullopt, and `why` there
/// is no picture.
std::optional<BrowserSetup> browser_setup(const std::string& browser, const HttpSettings& http,
                                          const std::vector<std::string>& domains, std::string& why);

/// Chromium's --host-resolver-rules for `domains` under the run's --connect-to
/// specs: each domain goes where curl would send it, every other name fails.
std::string host_resolver_rules(const std::vector<std::string>& domains,
                                const std::vector<std::string>& connect_to);
std::string host_resolver_rules(const std::string& domain, const std::vector<std::string>& connect_to);

/// Why the PNG at `file` is not a picture worth showing ("blank: every pixel
/// is #ffffff", "not a PNG"), or nullopt.
std::optional<std::string> png_problem(const std::filesystem::path& file);

}  // namespace ccci
