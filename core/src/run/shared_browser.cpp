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

SharedBrowser::SharedBrowser(const std::string& browser, const HttpSettings& http,
                             std::vector<std::string> domains)
    : domains_(std::move(domains)),
      setup_(browser_setup(browser, http, domains_, unusable_)),
      thread_([this](const std::stop_token& stop) { serve(stop); }) {}

SharedBrowser::~SharedBrowser() {
  thread_.request_stop();
  {
    // A start or a shot under way would hold the run's end (or a Ctrl-C) up to its limit.
    const std::scoped_lock lock(mutex_);
    if (running_ > 0) ::killpg(running_, SIGKILL);
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
  // Started now, while the first apps deploy: the first page finds it ready.
  // A failure is told to the page that needs it, when it tries again.
  if (setup_) start();
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
  stop_browser();
  const std::scoped_lock lock(mutex_);
  for (auto& job : queue_) job.answer.set_value("the run ended before the page was shot");
  queue_.clear();
}

std::optional<std::string> SharedBrowser::start() {
  if (browser_ && !browser_->broken()) return std::nullopt;
  stop_browser();  // ended or garbled: a new one
  try {
    browser_ = std::make_unique<Browser>(*setup_);
  } catch (const CommandError& error) {
    return std::string("the browser could not start: ") + error.what();
  }
  const std::scoped_lock lock(mutex_);
  running_ = browser_->pid();
  return std::nullopt;
}

void SharedBrowser::stop_browser() {
  {
    // Before it is reaped: its id must not be signalled once it may be reused.
    const std::scoped_lock lock(mutex_);
    running_ = -1;
  }
  browser_.reset();
}

std::optional<std::string> SharedBrowser::shoot_now(const Job& job) {
  const ScreenshotRequest& request = job.request;
  if (!setup_) return unusable_;
  if (request.deadline - std::chrono::steady_clock::now() < std::chrono::seconds(2))
    return "no time was left in the probe phase";
  if (auto why = start()) return why;
  // Shot beside its file, and moved there only while the lane still claims it.
  const fs::path part = request.output.string() + ".part";
  auto missing = browser_->shoot(page_url(request), part, request.deadline, request.attempts);
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

}  // namespace ccci
