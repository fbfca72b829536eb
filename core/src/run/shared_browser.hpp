// One headless browser for a whole run: started with the run, while the first
// apps deploy, and kept for every lane's page, so a run pays one browser start
// instead of one per fresh lane, and no lane waits for it. Pages are shot one
// at a time, in the order asked, on a thread of its own: a browser dies with
// the thread that started it (ccci/process.hpp), and this one lives as long
// as the run. A browser that ends is started again for the next page.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "run/browser.hpp"
#include "run/screenshot.hpp"

namespace ccci {

/// A lane's claim on the file its shot writes. Once the lane has ended it
/// withdraws the claim, and a shot that finishes later writes nothing there.
class ShotClaim {
 public:
  void withdraw();
  /// Runs `write` unless the claim was withdrawn; returns whether it ran.
  /// withdraw() waits for a `write` that is running.
  bool write_unless_withdrawn(const std::function<void()>& write);

 private:
  std::mutex mutex_;
  bool withdrawn_ = false;
};

class SharedBrowser {
 public:
  /// `browser` and `http` (--browser, --connect-to, --ca-file) as the lanes
  /// have them; `domains`: the apps of the run whose pages may be shot. The
  /// browser resolves these names alone, so it is started once for all.
  SharedBrowser(const std::string& browser, const HttpSettings& http, std::vector<std::string> domains);
  SharedBrowser(const SharedBrowser&) = delete;
  SharedBrowser& operator=(const SharedBrowser&) = delete;
  /// Ends the browsers at once (a shot under way fails), answers what is
  /// still queued ("the run ended"), and joins the thread.
  ~SharedBrowser();

  /// Shoots `request`'s page; the answer is take_screenshot()'s. A domain
  /// that is not one of the run's is refused. The picture reaches
  /// request.output only while `claim` is not withdrawn.
  std::future<std::optional<std::string>> shoot(ScreenshotRequest request, std::shared_ptr<ShotClaim> claim);

 private:
  struct Job {
    ScreenshotRequest request;
    std::shared_ptr<ShotClaim> claim;
    std::promise<std::optional<std::string>> answer;
  };
  void serve(const std::stop_token& stop);
  std::optional<std::string> shoot_now(const Job& job);
  // Starts the browser if none runs; returns why it cannot, or nullopt.
  std::optional<std::string> start();
  void stop_browser();

  const std::vector<std::string> domains_;
  std::string unusable_;               // why no browser can shoot (screenshots off, not installed)
  std::optional<BrowserSetup> setup_;  // else, how to start it
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Job> queue_;
  pid_t running_ = -1;                // the browser's process group, under mutex_
  std::unique_ptr<Browser> browser_;  // the serving thread's alone
  std::jthread thread_;               // last: it starts once everything it uses exists
};

}  // namespace ccci
