// What the terminal shows while a run goes on: on a TTY a live view (each
// running recipe's phase and elapsed time, redrawn in place), otherwise (or
// with NO_COLOR or CI set, or TERM=dumb) one plain line per event.
#pragma once

#include <memory>
#include <string>

#include "run/supervisor.hpp"

namespace ccci {

class ProgressView {
 public:
  virtual ~ProgressView() = default;
  /// The callbacks to hand the scheduler; they may be called from any worker.
  virtual Progress callbacks() = 0;
  /// Stops redrawing and leaves the terminal clean for the summary.
  virtual void finish() = 0;
};

/// The live view when stdout is a terminal and the environment allows it, else the plain one.
std::unique_ptr<ProgressView> make_progress_view(std::size_t recipes);

/// True when stdout is a TTY and neither NO_COLOR nor CI is set, nor TERM=dumb.
bool wants_live_view();

}  // namespace ccci
