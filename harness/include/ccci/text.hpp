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

/// `text` without ANSI escape sequences (colour, cursor moves, OSC titles):
/// abra styles its output on a terminal, and parsers and logs want the words.
std::string strip_ansi(std::string_view text);

/// At most `max_bytes` of `text`, cut on a UTF-8 character boundary so the
/// result never ends inside a character.
std::string cut_utf8(std::string_view text, size_t max_bytes);

/// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD,
/// so reports can always be written as JSON and XML.
std::string valid_utf8(std::string_view text);

/// A random password of `length` letters and digits, registered with the
/// context so that it is redacted from every log and report.
std::string new_secret(Context& ctx, size_t length = 24);

}  // namespace ccci
