#include "config/secret_file.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "config/settings.hpp"

namespace ccci {

std::string read_secret(const std::filesystem::path& file, std::string_view credential,
                        std::string_view flag) {
  std::filesystem::path path = file;
  if (path.empty()) {
    const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
    if (credentials == nullptr || *credentials == '\0')
      throw UsageError("give " + std::string(flag) + " FILE, or run under systemd with the credential " +
                       std::string(credential));
    path = std::filesystem::path(credentials) / credential;
  }
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw UsageError(std::string(flag) + " " + path.string() + ": no such file");
  std::ifstream in(path, std::ios::binary);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw UsageError(std::string(flag) + " " + path.string() + ": cannot be read");
  const auto first = secret.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    throw UsageError(std::string(flag) + " " + path.string() + ": the file is empty");
  secret.erase(0, first);
  secret.erase(secret.find_last_not_of(" \t\r\n") + 1);
  if (secret.find_first_of("\r\n") != std::string::npos)
    throw UsageError(std::string(flag) + " " + path.string() + ": holds more than one line");
  return secret;
}

}  // namespace ccci
