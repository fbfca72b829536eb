// One headless browser for a whole run: started when the first landing page
// is to be shot and kept for every lane's page after it, so a run pays one
// browser start instead of one per fresh lane. Pages are shot one at a time,
// in the order asked, on a thread of its own: a browser dies with the thread
// that started it (ccci/process.hpp), and this one lives as long as the run.
#pragma once

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "run/browser.hpp"
#include "run/screenshot.hpp"

namespace ccci {

class SharedBrowser {
 public:
  /// `domains`: the apps of the run whose pages may be shot. The browser
  /// resolves these names alone, so it is started once for all of them.
  explicit SharedBrowser(std::vector<std::string> domains);
  SharedBrowser(const SharedBrowser&) = delete;
  SharedBrowser& operator=(const SharedBrowser&) = delete;
  /// Answers what is still queued ("the run ended"), then ends the browsers.
  ~SharedBrowser();

  /// Shoots `request`'s page; the answer is take_screenshot()'s. A domain
  /// that is not one of the run's is refused.
  std::future<std::optional<std::string>> shoot(ScreenshotRequest request);

 private:
  using Answer = std::promise<std::optional<std::string>>;
  void serve(const std::stop_token& stop);
  std::optional<std::string> shoot_now(const ScreenshotRequest& request);

  const std::vector<std::string> domains_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<std::pair<ScreenshotRequest, Answer>> queue_;
  // The serving thread's alone: a browser per certificate key it trusts
  // (usually one: the run's servers share a wildcard certificate).
  std::map<std::string, std::unique_ptr<Browser>> browsers_;
  std::jthread thread_;  // last: it starts once everything it uses exists
};

}  // namespace ccci
