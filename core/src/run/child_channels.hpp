// The test process's two pipes back to the host: the secrets its plugin
// registers, and its raw output, which reaches the lane's log only redacted.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "ccci/redactor.hpp"

namespace ccci {

/// The secrets pipe carries one hex-encoded value per line and is never on
/// disk; the output pipe is the child's stdout and stderr, written to the log
/// after redaction with every secret seen so far.
class ChildChannels {
 public:
  /// Throws CommandError when the secrets pipe cannot be made.
  ChildChannels(const std::filesystem::path& log_file, Redactor& redactor);
  ChildChannels(const ChildChannels&) = delete;
  ChildChannels& operator=(const ChildChannels&) = delete;
  ~ChildChannels();

  int secrets_write_end() const { return secrets_write_; }
  /// Once the child has its copy, ours goes, so end of file means the child is gone.
  void child_started(int output_fd);

  /// Waits up to `wait` for either pipe, then takes in what there is: secrets
  /// first, so a value the child registered before printing it is masked.
  void pump(std::chrono::milliseconds wait);

  /// The rest, after the child ended.
  void finish();

 private:
  static std::string unhex(std::string_view hex);
  void read_secrets();
  void read_output();
  void write_log(const std::string& text);

  static constexpr size_t kLongestLine = size_t{64} * 1024;
  Redactor& redactor_;
  int secrets_read_ = -1;
  int secrets_write_ = -1;
  int output_fd_ = -1;
  int log_fd_ = -1;
  std::string pending_secrets_;
  std::string pending_output_;
};

}  // namespace ccci
