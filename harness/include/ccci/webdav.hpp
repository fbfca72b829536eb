// WebDAV file transfer (Nextcloud, ownCloud and the like) for checks.
#pragma once

#include <string>

#include "ccci/http.hpp"

namespace ccci::webdav {

/// Uploads `content` to `url`; a 201 or 204 passes, anything else fails the check.
void put(const HttpClient& client, const std::string& url, const Credentials& credentials,
         const std::string& content);
/// Downloads `url`; a 200 passes and returns the body, anything else fails the check.
std::string get(const HttpClient& client, const std::string& url, const Credentials& credentials);
/// Deletes `url`; a 204 or 404 passes.
void remove(const HttpClient& client, const std::string& url, const Credentials& credentials);

}  // namespace ccci::webdav
