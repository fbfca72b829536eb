#include "run/shared_browser.hpp"

#include <algorithm>

#include "ccci/command_error.hpp"

namespace ccci {

SharedBrowser::SharedBrowser(std::vector<std::string> domains)
    : domains_(std::move(domains)), thread_([this](const std::stop_token& stop) { serve(stop); }) {}

SharedBrowser::~SharedBrowser() {
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

std::future<std::optional<std::string>> SharedBrowser::shoot(ScreenshotRequest request) {
  Answer answer;
  auto future = answer.get_future();
  if (std::find(domains_.begin(), domains_.end(), request.domain) == domains_.end()) {
    answer.set_value(request.domain + " is not one of this run's apps");
    return future;
  }
  {
    const std::scoped_lock lock(mutex_);
    queue_.emplace_back(std::move(request), std::move(answer));
  }
  wake_.notify_all();
  return future;
}

void SharedBrowser::serve(const std::stop_token& stop) {
  for (;;) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, stop, [this] { return !queue_.empty(); });
    if (stop.stop_requested()) break;
    auto [request, answer] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    answer.set_value(shoot_now(request));
  }
  // Here, not in the destructor: a browser is killed when this thread ends.
  browsers_.clear();
  const std::scoped_lock lock(mutex_);
  for (auto& [request, answer] : queue_) answer.set_value("the run ended before the page was shot");
  queue_.clear();
}

std::optional<std::string> SharedBrowser::shoot_now(const ScreenshotRequest& request) {
  std::string why;
  const auto setup = browser_setup(request, domains_, why);
  if (!setup) return why;
  const std::string key = setup->executable + '\n' + setup->trusted_key;
  auto& browser = browsers_[key];
  if (browser && browser->broken()) browser.reset();  // ended or lost: a new one
  if (!browser) {
    try {
      browser = std::make_unique<Browser>(*setup);
    } catch (const CommandError& error) {
      return std::string("the browser could not start: ") + error.what();
    }
  }
  return browser->shoot(page_url(request), request.output, request.deadline, request.attempts);
}

}  // namespace ccci
