// The error of a user's bad input (flags, config, environment, a recipe name):
// one line for the user, exit code 2.
#pragma once

#include <stdexcept>

namespace ccci {

/// Bad flags, config or environment: one line for the user, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ccci
