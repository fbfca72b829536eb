// Reading abra's tables: every box style its libraries draw (light, heavy,
// double, rounded, ASCII, Markdown pipes), wrapped rows, colour codes and log
// lines around them. `recipe lint` and `app secret generate` are read here.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "abra_forms.hpp"
#include "ccci/abra_client.hpp"
#include "ccci/text.hpp"

namespace ccci {
namespace {

// A character of Unicode's Box Drawing block (U+2500-U+257F) at `at`: three
// bytes, E2 94 80 to E2 95 BF. Every table style abra's libraries draw (light,
// heavy, double, rounded, dashed) is made of these.
bool is_box_drawing(std::string_view line, size_t at) {
  if (at + 2 >= line.size() || static_cast<unsigned char>(line[at]) != 0xE2) return false;
  const auto second = static_cast<unsigned char>(line[at + 1]);
  const auto third = static_cast<unsigned char>(line[at + 2]);
  return (second == 0x94 || second == 0x95) && third >= 0x80 && third <= 0xBF;
}

// A vertical line of the block (a cell separator): light │, heavy ┃, double ║,
// and the dashed ones ┆ ┇ ┊ ┋ ╎ ╏.
bool is_box_vertical(std::string_view line, size_t at) {
  if (!is_box_drawing(line, at)) return false;
  const auto second = static_cast<unsigned char>(line[at + 1]);
  const auto third = static_cast<unsigned char>(line[at + 2]);
  if (second == 0x94)
    return third == 0x82 || third == 0x83 || third == 0x86 || third == 0x87 || third == 0x8A || third == 0x8B;
  return third == 0x8E || third == 0x8F || third == 0x91;
}

std::vector<std::string> split_all_cells(const std::string& line) {
  // A box-drawing separator is three bytes; plain "|" (ASCII and Markdown) is one.
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 0; i < line.size();) {
    const size_t width = is_box_vertical(line, i) ? 3 : line[i] == '|' ? 1 : 0;
    if (width > 0) {
      cells.push_back(cell);
      cell.clear();
      i += width;
    } else {
      cell += line[i++];
    }
  }
  cells.push_back(cell);
  for (auto& c : cells) {
    const auto first = c.find_first_not_of(' ');
    const auto last = c.find_last_not_of(' ');
    c = first == std::string::npos ? "" : c.substr(first, last - first + 1);
  }
  return cells;
}

// The cells of a table row, empty ones included, without the pieces outside
// its outer borders.
std::vector<std::string> row_cells(const std::string& line) {
  std::vector<std::string> cells = split_all_cells(line);
  if (cells.size() >= 2 && cells.front().empty()) cells.erase(cells.begin());
  if (cells.size() >= 2 && cells.back().empty()) cells.pop_back();
  return cells;
}

template <size_t N>
bool is_one_of(std::string_view text, const std::string_view (&words)[N]) {
  return std::find(std::begin(words), std::end(words), text) != std::end(words);
}

bool is_log_line(const std::string& line) {
  const auto first = line.find_first_not_of(" \t");
  return first != std::string::npos &&
         (line.compare(first, 4, "INFO") == 0 || line.compare(first, 4, "WARN") == 0 ||
          line.compare(first, 4, "DEBU") == 0 || line.compare(first, 4, "FATA") == 0);
}

// A rule of a table, not a row: box-drawing characters only (┌─┬─┐, ┏━┳━┓,
// ┣━╋━┫, ╔═╦═╗, ╭─┬─╮ …), or ASCII's +---+ and Markdown's |---|:--:|, with spaces.
bool is_table_border(std::string_view line) {
  bool any = false;
  for (size_t i = 0; i < line.size();) {
    if (is_box_drawing(line, i)) {
      any = true;
      i += 3;
    } else if (line[i] == '-' || line[i] == '+' || line[i] == '=' || line[i] == ':' || line[i] == '|') {
      any = any || line[i] != '|';
      ++i;
    } else if (line[i] == ' ') {
      ++i;
    } else {
      return false;
    }
  }
  return any;
}

// A box-drawn table in abra's output (after escape codes are stripped): the
// header row, found by `is_header`, and each row of the header's width.
// `understood` is false when any other line is there (text before the table,
// a wrapped or torn row): what it held is unknown, so a caller must not
// trust the table to be whole. Output of log lines only is an empty table.
struct AbraTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  bool understood = true;

  /// The index of the header cell `name`; the header was found by it, so it is there.
  size_t column(std::string_view name) const {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  }
};

AbraTable read_table(std::string_view raw_output,
                     const std::function<bool(const std::vector<std::string>&)>& is_header) {
  AbraTable table;
  std::istringstream lines{strip_ansi(raw_output)};
  for (std::string line; std::getline(lines, line);) {
    // Blank lines, abra's own log lines and the borders carry nothing.
    if (line.find_first_not_of(" \t") == std::string::npos || is_log_line(line) || is_table_border(line))
      continue;
    std::vector<std::string> cells = row_cells(line);
    if (table.header.empty() && is_header(cells))
      table.header = std::move(cells);
    else if (!table.header.empty() && cells.size() == table.header.size())
      table.rows.push_back(std::move(cells));
    else
      table.understood = false;
  }
  return table;
}

template <size_t N>
bool has_all(const std::vector<std::string>& cells, const std::string_view (&names)[N]) {
  return std::all_of(std::begin(names), std::end(names), [&](std::string_view name) {
    return std::find(cells.begin(), cells.end(), name) != cells.end();
  });
}

}  // namespace

GeneratedSecrets parse_generated_secrets(std::string_view raw_output) {
  const AbraTable table = read_table(raw_output, [](const std::vector<std::string>& cells) {
    return has_all(cells, AbraForms::kSecretColumns);
  });
  // Anything not read as the table (text before it, a wrapped row) may hold a value in pieces.
  GeneratedSecrets parsed{.understood = table.understood};
  if (table.header.empty()) return parsed;
  const size_t name = table.column(AbraForms::kSecretColumns[0]);
  const size_t value = table.column(AbraForms::kSecretColumns[1]);
  for (const auto& row : table.rows) parsed.secrets.emplace_back(row[name], row[value]);
  return parsed;
}

std::vector<LintRule> LintReport::failed_errors() const {
  std::vector<LintRule> failed;
  for (const auto& rule : rules)
    if (rule.severity == "error" && !rule.satisfied && !rule.skipped) failed.push_back(rule);
  return failed;
}

LintReport parse_lint_table(std::string_view raw_output) {
  const AbraTable table = read_table(raw_output, [](const std::vector<std::string>& cells) {
    return has_all(cells, AbraForms::kLintColumns);
  });
  LintReport report{.understood = table.understood && !table.rows.empty()};
  if (table.header.empty()) return report;
  auto yes_no = [](const std::string& cell, bool& value) {
    if (is_one_of(cell, AbraForms::kYes))
      value = true;
    else if (is_one_of(cell, AbraForms::kNo))
      value = false;
    else
      return false;
    return true;
  };
  const auto& columns = AbraForms::kLintColumns;  // REF, RULE, SEVERITY, SATISFIED, SKIPPED
  for (const auto& row : table.rows) {
    LintRule rule{.id = row[table.column(columns[0])],
                  .rule = row[table.column(columns[1])],
                  .severity = row[table.column(columns[2])]};
    if (rule.id.size() < 2 || rule.id[0] != 'R' || !yes_no(row[table.column(columns[3])], rule.satisfied) ||
        !yes_no(row[table.column(columns[4])], rule.skipped)) {
      report.understood = false;  // a row in words no one taught the parser: a rule may be missing
      continue;
    }
    report.rules.push_back(std::move(rule));
  }
  return report;
}

}  // namespace ccci
