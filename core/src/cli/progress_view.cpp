#include "cli/progress_view.hpp"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "base/markup.hpp"

namespace ccci {
namespace {

using Clock = std::chrono::steady_clock;

// "custom-html", or "custom-html upgrade" for a lane other than the fresh one.
std::string label(const RecipeJob& job) {
  return job.lane == Lane::fresh ? job.recipe : job.recipe + " " + std::string(to_string(job.lane));
}

// Every line printed goes through terminal_text: step names carry a PR's
// secret names, messages what apps and abra said.
std::string format_step(const RecipeJob& job, const StepResult& step) {
  return terminal_text("[" + label(job) + "]   " + std::string(to_string(step.status)) + "  " + step.name +
                       " (" + std::to_string(step.duration.count()) + " ms)" +
                       (step.message.empty() ? "" : ": " + step.message));
}

std::string format_result(const RecipeResult& result) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1fs", static_cast<double>(result.duration.count()) / 1000.0);
  return terminal_text("[" + result.recipe + "] " + std::string(to_string(result.status)) + ", level " +
                       std::to_string(result.level) + " in " + seconds);
}

// One line per event, for logs and CI.
class PlainView final : public ProgressView {
 public:
  Progress callbacks() override {
    Progress progress;
    progress.phase_started = [this](const RecipeJob& job, Phase phase) {
      print("[" + label(job) + "] " + std::string(to_string(phase)) +
            (phase == Phase::deploy ? " on " + job.server + " as " + job.domain : std::string()));
    };
    progress.step_finished = [this](const RecipeJob& job, const StepResult& step) {
      print(format_step(job, step));
    };
    progress.recipe_finished = [this](const RecipeResult& result) { print(format_result(result)); };
    return progress;
  }
  void finish() override {}

 private:
  void print(const std::string& line) {
    std::scoped_lock lock(mutex_);
    std::cout << terminal_text(line) << std::endl;
  }
  std::mutex mutex_;
};

// A block of lines, one per running recipe, redrawn in place; finished
// recipes and failed steps are printed above it and stay.
class LiveView final : public ProgressView {
 public:
  explicit LiveView(std::size_t recipes) : total_(recipes), painter_([this] { paint_until_finished(); }) {}
  ~LiveView() override { finish(); }

  Progress callbacks() override {
    Progress progress;
    progress.phase_started = [this](const RecipeJob& job, Phase phase) {
      std::scoped_lock lock(mutex_);
      auto& entry = running_[label(job)];
      if (phase == Phase::deploy) entry.started = Clock::now();
      entry.phase = std::string(to_string(phase));
      entry.server = job.server;
    };
    progress.step_finished = [this](const RecipeJob& job, const StepResult& step) {
      if (step.status == Status::failed || step.status == Status::errored) keep(format_step(job, step));
    };
    progress.lane_finished = [this](const RecipeJob& job, const RecipeResult&) {
      std::scoped_lock lock(mutex_);
      running_.erase(label(job));
    };
    progress.recipe_finished = [this](const RecipeResult& result) {
      {
        std::scoped_lock lock(mutex_);
        ++done_;
      }
      keep(format_result(result));
    };
    return progress;
  }

  void finish() override {
    {
      std::scoped_lock lock(mutex_);
      if (finished_) return;
      finished_ = true;
    }
    wake_.notify_all();
    if (painter_.joinable()) painter_.join();
    std::scoped_lock lock(mutex_);
    erase_block();
    std::cout.flush();
  }

 private:
  struct Running {
    std::string phase = "starting";
    std::string server;
    Clock::time_point started = Clock::now();
  };

  // Prints a line above the block, which is then redrawn under it.
  void keep(const std::string& line) {
    std::scoped_lock lock(mutex_);
    erase_block();
    std::cout << line << '\n';
    draw_block();
  }

  void erase_block() {
    if (block_lines_ > 0) std::cout << "\x1b[" << block_lines_ << "F\x1b[J";  // up to its start, clear below
    block_lines_ = 0;
  }

  void draw_block() {
    std::cout << "cc-ci: " << done_ << "/" << total_ << " done, " << running_.size() << " running\n";
    block_lines_ = 1;
    for (const auto& [recipe, entry] : running_) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - entry.started).count();
      char line[256];
      std::snprintf(line, sizeof line, "  %-24s %-9s %6.1fs  on %s", recipe.c_str(), entry.phase.c_str(),
                    elapsed, entry.server.c_str());
      std::cout << terminal_text(line) << '\n';
      ++block_lines_;
    }
    std::cout.flush();
  }

  void paint_until_finished() {
    std::unique_lock lock(mutex_);
    while (!finished_) {
      erase_block();
      draw_block();
      wake_.wait_for(lock, std::chrono::milliseconds(250));
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Running> running_;
  std::size_t total_;
  std::size_t done_ = 0;
  int block_lines_ = 0;
  bool finished_ = false;
  std::thread painter_;  // last: it starts painting as soon as it exists
};

}  // namespace

bool wants_live_view() {
  auto set = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0';
  };
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) == 1 && !set("NO_COLOR") && !set("CI") &&
         !(term != nullptr && std::string(term) == "dumb");
}

std::unique_ptr<ProgressView> make_progress_view(std::size_t recipes) {
  if (wants_live_view()) return std::make_unique<LiveView>(recipes);
  return std::make_unique<PlainView>();
}

}  // namespace ccci
