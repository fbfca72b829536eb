#include "run/browser.hpp"

#include <openssl/evp.h>
#include <stdlib.h>

#include <fstream>
#include <vector>

#include "ccci/command_error.hpp"
#include "run/screenshot.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

constexpr int kWindowWidth = 1280;
constexpr int kWindowHeight = 800;
// Virtual time the page runs (timers, fetches) before it is shot: "settled"
// without waiting out real seconds on a slow machine.
constexpr int kSettleMilliseconds = 5'000;

std::vector<std::string> browser_argv(const BrowserSetup& setup, const fs::path& profile) {
  std::vector<std::string> argv = {
      setup.executable,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      "--window-size=" + std::to_string(kWindowWidth) + "," + std::to_string(kWindowHeight),
      "--host-resolver-rules=" + setup.resolver_rules,
      "--user-data-dir=" + profile.string()};
  if (!setup.trusted_key.empty())
    argv.push_back("--ignore-certificate-errors-spki-list=" + setup.trusted_key);
  argv.emplace_back("about:blank");
  return argv;
}

fs::path profile_of(const TemporaryFolder& folder) {
  if (folder.path().empty()) throw CommandError("no temporary folder for the browser's profile");
  return folder.path();
}

// Base64 as DevTools sends it (padded); nullopt when it is not.
std::optional<std::string> from_base64(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string bytes(text.size() / 4 * 3, '\0');
  const int size =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (size < 0) return std::nullopt;
  const size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  bytes.resize(static_cast<size_t>(size) - padding);  // EVP_DecodeBlock counts padding as zero bytes
  return bytes;
}

// Closes a page and its context however its shot ended.
class OpenPage {
 public:
  OpenPage(DevTools& devtools, Browser::Clock::time_point deadline) : devtools_(devtools) {
    context_ = devtools.call("Target.createBrowserContext", {{"disposeOnDetach", true}}, {}, deadline)
                   .value("browserContextId", "");
    target_ = devtools
                  .call("Target.createTarget",
                        {{"url", "about:blank"},
                         {"browserContextId", context_},
                         {"width", kWindowWidth},
                         {"height", kWindowHeight}},
                        {}, deadline)
                  .value("targetId", "");
    session_ =
        devtools.call("Target.attachToTarget", {{"targetId", target_}, {"flatten", true}}, {}, deadline)
            .value("sessionId", "");
    if (session_.empty()) throw DevToolsError("the browser opened no page");
  }
  OpenPage(const OpenPage&) = delete;
  OpenPage& operator=(const OpenPage&) = delete;
  ~OpenPage() {
    const auto soon = Browser::Clock::now() + std::chrono::seconds(5);
    try {
      if (!target_.empty()) devtools_.call("Target.closeTarget", {{"targetId", target_}}, {}, soon);
      if (!context_.empty())
        devtools_.call("Target.disposeBrowserContext", {{"browserContextId", context_}}, {}, soon);
    } catch (const DevToolsError&) {  // NOLINT(bugprone-empty-catch): a broken browser is replaced whole
    }
  }
  const std::string& session() const { return session_; }

 private:
  DevTools& devtools_;
  std::string context_;
  std::string target_;
  std::string session_;
};

}  // namespace

TemporaryFolder::TemporaryFolder(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TemporaryFolder::~TemporaryFolder() {
  std::error_code ignored;
  if (!path_.empty()) fs::remove_all(path_, ignored);
}

Browser::Browser(const BrowserSetup& setup)
    : profile_("cc-ci-browser-"),
      // Its own HOME: nothing of the user's browser configuration is read.
      devtools_(browser_argv(setup, profile_of(profile_)), {{"HOME", profile_.path().string()}}) {}

std::optional<std::string> Browser::shoot(const std::string& url, const fs::path& output,
                                          Clock::time_point deadline, int attempts) {
  std::error_code ignored;
  fs::create_directories(output.parent_path(), ignored);
  std::string last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (deadline - Clock::now() < std::chrono::seconds(2))
      return last.empty() ? "no time was left in the probe phase" : last;
    fs::remove(output, ignored);
    try {
      if (auto why = shoot_once(url, output, deadline)) {
        fs::remove(output, ignored);
        return why;  // the page did not load: another try would not change that
      }
    } catch (const DevToolsError& error) {
      fs::remove(output, ignored);
      return std::string("the browser failed: ") + error.what();
    }
    const auto problem = png_problem(output);
    if (!problem) return std::nullopt;
    last = "the page was " + *problem + " after " + std::to_string(attempt) + " tries";
  }
  fs::remove(output, ignored);
  return last;
}

std::optional<std::string> Browser::shoot_once(const std::string& url, const fs::path& output,
                                               Clock::time_point deadline) {
  const OpenPage page(devtools_, deadline);
  const std::string& session = page.session();
  devtools_.call("Page.enable", nlohmann::json::object(), session, deadline);
  devtools_.call(
      "Emulation.setDeviceMetricsOverride",
      {{"width", kWindowWidth}, {"height", kWindowHeight}, {"deviceScaleFactor", 1}, {"mobile", false}},
      session, deadline);
  // The page's clock stands still until it is loaded (a budget set on the
  // blank page would run out before the navigation began), then runs this far
  // ahead, pausing while the page fetches: settled, in a fraction of the time.
  devtools_.call("Emulation.setVirtualTimePolicy", {{"policy", "pause"}}, session, deadline);
  const auto navigated = devtools_.call("Page.navigate", {{"url", url}}, session, deadline);
  if (const auto error = navigated.value("errorText", ""); !error.empty())
    return "the browser could not load " + url + ": " + error;
  devtools_.call("Emulation.setVirtualTimePolicy",
                 {{"policy", "pauseIfNetworkFetchesPending"}, {"budget", kSettleMilliseconds}}, session,
                 deadline);
  devtools_.wait_for_event("Emulation.virtualTimeBudgetExpired", session, deadline);
  const auto shot = devtools_.call("Page.captureScreenshot", {{"format", "png"}}, session, deadline);
  const auto png = from_base64(shot.value("data", ""));
  if (!png) throw DevToolsError("the browser's picture is not base64");
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out.write(png->data(), static_cast<std::streamsize>(png->size()));
  out.close();
  if (!out) return "the picture could not be written to " + output.string();
  return std::nullopt;
}

}  // namespace ccci
