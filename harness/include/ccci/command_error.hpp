// The error a plugin sees when a command (abra, git) could not run at all or
// ran out of time: recorded as `errored`, where a CheckFailure is `failed`.
#pragma once

#include <boost/config.hpp>
#include <stdexcept>

namespace ccci {

/// A command that could not be run at all, or ran out of time. Recorded as `errored`.
class BOOST_SYMBOL_VISIBLE CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ccci
