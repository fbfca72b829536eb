// Small helpers for checks that read text and make secrets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ccci/plugin.hpp"

namespace ccci {

/// The text between the first `before` and the next `after`, if both are there.
std::optional<std::string> text_between(std::string_view text, std::string_view before,
                                        std::string_view after);

/// A random password of `length` letters and digits, registered with the
/// context so that it is redacted from every log and report.
std::string new_secret(Context& ctx, size_t length = 24);

}  // namespace ccci
