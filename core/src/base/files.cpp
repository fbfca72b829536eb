#include "base/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "ccci/process.hpp"

namespace ccci {

namespace {

[[noreturn]] void fail_io(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  // Temp file, fsync, rename, fsync of the folder: after a crash or power
  // loss a reader finds the old file or the new one, whole, never half.
  const std::string temporary = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_io("cannot create " + temporary);
  int open_fd = fd;  // -1 once closed
  // Every failure after the temporary exists removes it, and reports the first errno.
  auto give_up = [&](const std::string& what) {
    const int error = errno;
    if (open_fd >= 0) ::close(open_fd);
    ::unlink(temporary.c_str());
    errno = error;
    fail_io(what);
  };
  if (!write_all(fd, content)) give_up("cannot write " + temporary);
  if (::fsync(fd) < 0) give_up("cannot sync " + temporary);
  open_fd = -1;  // close() releases the descriptor even when it fails
  if (::close(fd) < 0) give_up("cannot close " + temporary);
  if (::rename(temporary.c_str(), path.c_str()) < 0)
    give_up("cannot rename " + temporary + " to " + path.string());
  const std::string folder = path.has_parent_path() ? path.parent_path().string() : ".";
  const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder_fd >= 0) {
    ::fsync(folder_fd);
    ::close(folder_fd);
  }
}

}  // namespace ccci
