#include "run/shared_browser.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "ccci/command_error.hpp"

namespace ccci {

namespace fs = std::filesystem;

void ShotClaim::withdraw() {
  const std::scoped_lock lock(mutex_);
  withdrawn_ = true;
}

bool ShotClaim::write_unless_withdrawn(const std::function<void()>& write) {
  const std::scoped_lock lock(mutex_);
  if (withdrawn_) return false;
  write();
  return true;
}

SharedBrowser::SharedBrowser(std::vector<std::string> domains)
    : domains_(std::move(domains)), thread_([this](const std::stop_token& stop) { serve(stop); }) {}

SharedBrowser::~SharedBrowser() {
  thread_.request_stop();
  {
    // A shot under way would hold the run's end (or a Ctrl-C) up to its limit.
    const std::scoped_lock lock(mutex_);
    for (const pid_t group : running_) ::killpg(group, SIGKILL);
  }
  wake_.notify_all();
  thread_.join();
}

std::future<std::optional<std::string>> SharedBrowser::shoot(ScreenshotRequest request,
                                                             std::shared_ptr<ShotClaim> claim) {
  Job job{.request = std::move(request), .claim = std::move(claim), .answer = {}};
  auto future = job.answer.get_future();
  if (std::find(domains_.begin(), domains_.end(), job.request.domain) == domains_.end()) {
    job.answer.set_value(job.request.domain + " is not one of this run's apps");
    return future;
  }
  {
    const std::scoped_lock lock(mutex_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_all();
  return future;
}

void SharedBrowser::serve(const std::stop_token& stop) {
  for (;;) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, stop, [this] { return !queue_.empty(); });
    if (stop.stop_requested()) break;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::optional<std::string> missing;
    try {
      missing = shoot_now(job);
    } catch (const std::exception& error) {  // the run goes on without this picture
      missing = std::string("the screenshot failed: ") + error.what();
    }
    job.answer.set_value(std::move(missing));
  }
  // Here, not in the destructor: a browser is killed when this thread ends.
  while (!browsers_.empty()) forget(browsers_.begin()->first);
  const std::scoped_lock lock(mutex_);
  for (auto& job : queue_) job.answer.set_value("the run ended before the page was shot");
  queue_.clear();
}

std::optional<std::string> SharedBrowser::shoot_now(const Job& job) {
  const ScreenshotRequest& request = job.request;
  if (request.deadline - std::chrono::steady_clock::now() < std::chrono::seconds(2))
    return "no time was left in the probe phase";
  std::string why;
  const auto setup = browser_setup(request, domains_, why);
  if (!setup) return why;
  Browser* browser = nullptr;
  try {
    browser = &browser_for(*setup);
  } catch (const CommandError& error) {
    return std::string("the browser could not start: ") + error.what();
  }
  // Shot beside its file, and moved there only while the lane still claims it.
  const fs::path part = request.output.string() + ".part";
  auto missing = browser->shoot(page_url(request), part, request.deadline, request.attempts);
  if (missing) return missing;
  std::error_code moved;
  const bool claimed =
      !job.claim || job.claim->write_unless_withdrawn([&] { fs::rename(part, request.output, moved); });
  std::error_code ignored;
  if (claimed && !moved) return std::nullopt;
  fs::remove(part, ignored);
  return claimed ? "the picture could not be moved to " + request.output.string() + ": " + moved.message()
                 : "the lane ended before its page was shot";
}

Browser& SharedBrowser::browser_for(const BrowserSetup& setup) {
  const std::string key = setup.executable + '\n' + setup.trusted_key;
  if (const auto found = browsers_.find(key); found != browsers_.end()) {
    if (!found->second->broken()) return *found->second;
    forget(key);  // ended or garbled: a new one
  }
  if (browsers_.size() >= kMostBrowsers)
    while (!browsers_.empty()) forget(browsers_.begin()->first);
  auto browser = std::make_unique<Browser>(setup);
  {
    const std::scoped_lock lock(mutex_);
    running_.push_back(browser->pid());
  }
  return *(browsers_[key] = std::move(browser));
}

void SharedBrowser::forget(const std::string& key) {
  const auto found = browsers_.find(key);
  if (found == browsers_.end()) return;
  {
    // Before it is reaped: its id must not be signalled once it may be reused.
    const std::scoped_lock lock(mutex_);
    running_.erase(std::remove(running_.begin(), running_.end(), found->second->pid()), running_.end());
  }
  browsers_.erase(found);
}

}  // namespace ccci
