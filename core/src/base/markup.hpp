// Escaping for the formats cc-ci writes by hand: XML (JUnit, SVG) and the
// Markdown of the PR comment. Text from apps, abra and plugins goes through
// here, so none of it can become markup in a report.
#pragma once

#include <string>
#include <string_view>

namespace ccci {

/// Text safe inside an XML element or attribute: the five entities escaped,
/// control characters XML forbids replaced by a space, bytes that are not
/// UTF-8 replaced by U+FFFD.
std::string xml_escape(std::string_view raw);

/// Text safe inline in Markdown (a paragraph or a table cell) as Gitea and
/// GitHub render it: no HTML, link, emphasis, code or table syntax survives,
/// and line breaks become spaces.
std::string markdown_text(std::string_view raw);

/// Text safe on a terminal, in a CI log or in a log file: no escape
/// sequence, no control character but newline and tab (each shown as '?'),
/// valid UTF-8. Names and messages may come from a pull request (its secret
/// names), an app or abra: none of them may move the cursor or retitle a window.
std::string terminal_text(std::string_view raw);

/// A results.json name for people: "clean_teardown" -> "clean teardown".
std::string name_words(std::string_view name);

/// A duration for people: "932 ms", "1.5 s", "2 min 10 s".
std::string duration_words(long long milliseconds);

/// A fenced code block holding `raw` verbatim: its fence is longer than any
/// run of backticks inside, so the text cannot close it.
std::string markdown_code_block(std::string_view raw);

}  // namespace ccci
