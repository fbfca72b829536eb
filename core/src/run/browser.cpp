#include "run/browser.hpp"

#include <openssl/evp.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <fstream>
#include <vector>

#include "ccci/command_error.hpp"
#include "ccci/process.hpp"
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
  // --disable-dev-shm-usage: a container's /dev/shm is 64 MB; Debian's chromium
  // launcher adds it there, its headless-shell launcher does not.
  std::vector<std::string> argv = {
      setup.executable,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      "--window-size=" + std::to_string(kWindowWidth) + "," + std::to_string(kWindowHeight),
      "--host-resolver-rules=" + setup.resolver_rules,
      "--user-data-dir=" + profile.string()};
  argv.emplace_back("about:blank");
  return argv;
}

// Each certificate of `ca_file` (one PEM block each), for certutil -A, which
// reads the first certificate of a file only.
std::vector<std::string> pem_certificates(const fs::path& ca_file) {
  std::ifstream in(ca_file);
  if (!in) throw CommandError("cannot read --ca-file " + ca_file.string());
  std::vector<std::string> certificates;
  std::string line;
  std::string block;
  while (std::getline(in, line)) {
    if (line.starts_with("-----BEGIN CERTIFICATE-----")) block.clear();
    block += line + "\n";
    if (line.starts_with("-----END CERTIFICATE-----")) certificates.push_back(block);
  }
  if (certificates.empty()) throw CommandError("--ca-file " + ca_file.string() + " holds no PEM certificate");
  return certificates;
}

// Chromium on Linux trusts the roots of the NSS database in $HOME/.pki/nssdb
// besides the system's: the run's CA goes there, so the browser verifies each
// app's certificate as curl does with --ca-file, its names included.
void trust_in_profile(const fs::path& profile, const fs::path& ca_file) {
  const std::string certutil = boost::process::search_path("certutil").string();
  if (certutil.empty())
    throw CommandError("certutil is not installed (Debian: apt-get install libnss3-tools)");
  const fs::path database = profile / ".pki" / "nssdb";
  fs::create_directories(database);
  const std::string where = "sql:" + database.string();
  auto run = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), certutil);
    const CommandResult result = run_command({.argv = argv, .timeout = std::chrono::seconds(30)});
    if (!result.ok())
      throw CommandError("certutil " + argv[1] + " " + result.describe() + ": " + last_line(result.output));
  };
  run({"-N", "-d", where, "--empty-password"});
  const auto certificates = pem_certificates(ca_file);
  for (size_t i = 0; i < certificates.size(); ++i) {
    const fs::path file = profile / ("ca-" + std::to_string(i) + ".pem");
    std::ofstream(file) << certificates[i];
    run({"-A", "-d", where, "-n", "cc-ci run CA " + std::to_string(i + 1), "-t", "C,,", "-i", file.string()});
  }
}

fs::path profile_of(const TemporaryFolder& folder, const fs::path& ca_file) {
  if (folder.path().empty()) throw CommandError("no temporary folder for the browser's profile");
  if (!ca_file.empty()) trust_in_profile(folder.path(), ca_file);
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
    try {
      open(deadline);
    } catch (...) {
      close();  // what was opened before the failure
      throw;
    }
  }
  OpenPage(const OpenPage&) = delete;
  OpenPage& operator=(const OpenPage&) = delete;
  ~OpenPage() { close(); }
  const std::string& session() const { return session_; }

 private:
  void open(Browser::Clock::time_point deadline) {
    DevTools& devtools = devtools_;
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
  void close() noexcept {
    if (devtools_.broken()) return;  // a broken browser is replaced whole
    const auto soon = Browser::Clock::now() + std::chrono::seconds(5);
    try {
      if (!target_.empty()) devtools_.call("Target.closeTarget", {{"targetId", target_}}, {}, soon);
      if (!context_.empty())
        devtools_.call("Target.disposeBrowserContext", {{"browserContextId", context_}}, {}, soon);
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): at worst one page stays open
    }
    target_.clear();
    context_.clear();
  }

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
      devtools_(browser_argv(setup, profile_of(profile_, setup.ca_file)),
                {{"HOME", profile_.path().string()}}) {
  devtools_.on_event([this](const nlohmann::json& event) { decide(event); });
  try {
    devtools_.call("Fetch.enable", {{"patterns", nlohmann::json::array({{{"urlPattern", "*"}}})}});
  } catch (const DevToolsError& error) {
    // Its first answer: a browser that ended never started; one that answered refused.
    if (devtools_.broken()) throw CommandError(error.what());
    throw CommandError(std::string("the browser would not let cc-ci vet its requests: ") + error.what());
  }
}

void Browser::decide(const nlohmann::json& event) {
  if (event.value("method", "") != "Fetch.requestPaused") return;
  const auto& params = event.value("params", nlohmann::json::object());
  const std::string id = params.value("requestId", "");
  std::string url;
  if (const auto request = params.find("request"); request != params.end() && request->is_object())
    url = request->value("url", "");
  // The origin itself, then a path, query or fragment: https://app.test.evil/ is not https://app.test.
  const bool own = !origin_.empty() && url.starts_with(origin_) &&
                   (url.size() == origin_.size() ||
                    std::string_view("/?#").find(url[origin_.size()]) != std::string_view::npos);
  try {
    if (own)
      devtools_.post("Fetch.continueRequest", {{"requestId", id}});
    else
      devtools_.post("Fetch.failRequest", {{"requestId", id}, {"errorReason", "BlockedByClient"}});
  } catch (const DevToolsError&) {  // NOLINT(bugprone-empty-catch): broken now; the waiting call says so
  }
}

std::optional<std::string> Browser::shoot(const std::string& url, const fs::path& output,
                                          Clock::time_point deadline, int attempts) {
  std::error_code ignored;
  fs::create_directories(output.parent_path(), ignored);
  std::string last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (deadline - Clock::now() < std::chrono::seconds(2))
      return last.empty() ? "no time was left in the probe phase" : last;
    const auto limit = Clock::now() + kLongestTry;
    fs::remove(output, ignored);
    try {
      if (auto why = shoot_once(url, output, std::min(deadline, limit))) {
        fs::remove(output, ignored);
        return why;  // the page did not load: another try would not change that
      }
    } catch (const DevToolsTimeout&) {
      fs::remove(output, ignored);
      return Clock::now() >= deadline
                 ? "no time was left in the probe phase for " + url + " to settle"
                 : url + " did not settle within " + std::to_string(kLongestTry.count()) +
                       " s (a fetch that never ends, or a dialog)";
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
  // Only while this page is shot: between shots no request goes anywhere.
  struct OwnOrigin {
    std::string& origin;
    ~OwnOrigin() { origin.clear(); }
  } own{origin_ = url.substr(0, url.find('/', url.find("://") + 3))};
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
