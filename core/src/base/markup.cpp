#include "base/markup.hpp"

#include <algorithm>

#include "ccci/text.hpp"

namespace ccci {

std::string xml_escape(std::string_view raw) {
  const std::string text = valid_utf8(raw);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
}

std::string markdown_text(std::string_view raw) {
  const std::string text = valid_utf8(raw);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      // HTML: an app's message must never become a tag or an image in the PR.
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      // CommonMark's backslash escapes for what could start a link or an
      // image ([ ]), emphasis, code or strike-through, or end a table cell.
      // The text never starts a line, so headings and lists cannot start.
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '|':
      case '~':
        out += '\\';
        out += c;
        break;
      case '\n':
      case '\r':
      case '\t':
        out += ' ';
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) continue;
        out += c;
    }
  }
  return out;
}

std::string terminal_text(std::string_view raw) {
  std::string text = valid_utf8(strip_ansi(raw));
  for (char& c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f) c = '?';
  }
  // C1 controls (U+0080-U+009F, 0xC2 0x80-0x9F in UTF-8): some terminals obey them too.
  for (std::size_t at = text.find('\xc2'); at != std::string::npos && at + 1 < text.size();
       at = text.find('\xc2', at + 1))
    if (static_cast<unsigned char>(text[at + 1]) >= 0x80 && static_cast<unsigned char>(text[at + 1]) <= 0x9f)
      text.replace(at, 2, "?");
  return text;
}

std::string markdown_code_block(std::string_view raw) {
  std::string text = valid_utf8(raw);
  std::size_t longest = 0;
  std::size_t run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  if (!text.empty() && text.back() != '\n') text += '\n';
  return fence + "text\n" + text + fence + "\n";
}

std::string name_words(std::string_view name) {
  std::string text(name);
  std::replace(text.begin(), text.end(), '_', ' ');
  return text;
}

std::string duration_words(long long milliseconds) {
  if (milliseconds < 1000) return std::to_string(milliseconds) + " ms";
  const long long tenths = (milliseconds + 50) / 100;
  if (tenths < 600) return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
  const long long seconds = (milliseconds + 500) / 1000;
  return std::to_string(seconds / 60) + " min " + std::to_string(seconds % 60) + " s";
}

}  // namespace ccci
