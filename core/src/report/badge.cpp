#include "report/badge.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "base/markup.hpp"
#include "ccci/text.hpp"
#include "model/judge.hpp"
#include "model/result_json.hpp"

namespace ccci {
namespace {

constexpr std::string_view kGrey = "#9f9f9f";
constexpr std::string_view kFont = "Verdana,Geneva,DejaVu Sans,sans-serif";

// Verdana at 11 px, roughly: enough for the badge to fit its text without a
// font-metrics library. Wider guesses only leave a little more padding.
int text_width(std::string_view text) {
  double width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte: counted with its lead
    if (std::string_view("iljtfr.,:;|!' ").find(static_cast<char>(c)) != std::string_view::npos)
      width += 3.9;
    else if (std::string_view("mwMW@").find(static_cast<char>(c)) != std::string_view::npos)
      width += 10.5;
    else if (c >= 'A' && c <= 'Z')
      width += 7.6;
    else
      width += 6.9;
  }
  return static_cast<int>(std::lround(width));
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

// The card: a row per recipe; a run of many recipes shows the first ones and says how many more.
constexpr std::size_t kMaxRows = 24;
constexpr int kWidth = 960;
constexpr int kHeader = 64;
constexpr int kRow = 44;
constexpr int kFooter = 40;

// The card's top: the run, when it started, and the numbers over the rung cells.
std::string card_header(const RunReport& results, int height) {
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kWidth) +
                    "\" height=\"" + std::to_string(height) + "\" font-family=\"" + std::string(kFont) +
                    "\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  std::string when = format_rfc3339(results.started_at).substr(0, 16);  // 2026-12-03T01:06
  if (when.size() > 10 && when[10] == 'T') when[10] = ' ';
  svg += "<text x=\"24\" y=\"38\" font-size=\"22\" font-weight=\"bold\" fill=\"#24292f\">cc-ci</text>\n";
  svg += "<text x=\"100\" y=\"38\" font-size=\"14\" fill=\"#57606a\">run " + xml_escape(results.run_id) +
         " · " + xml_escape(when) + " UTC" + (results.interrupted ? " · interrupted" : "") + "</text>\n";
  // Column heads over the rung cells.
  for (int rung = 1; rung <= 8; ++rung)
    svg += "<text x=\"" + std::to_string(404 + (rung - 1) * 36 + 15) +
           "\" y=\"58\" font-size=\"11\" fill=\"#57606a\" text-anchor=\"middle\">" + std::to_string(rung) +
           "</text>\n";
  return svg;
}

// A cell per rung, coloured by its status; a rung the result does not have is unverified.
std::string rung_cells(const RecipeResult& recipe, int top) {
  std::string svg;
  for (const Rung rung : kRungs) {
    RungStatus status = RungStatus::unverified;
    for (const auto& one : recipe.rungs)
      if (one.rung == rung) status = one.status;
    const int number = static_cast<int>(rung);
    svg += "<rect x=\"" + std::to_string(404 + (number - 1) * 36) + "\" y=\"" + std::to_string(top + 9) +
           "\" width=\"30\" height=\"24\" rx=\"3\" fill=\"" +
           std::string(rung_status_colour(to_string(status))) + "\"><title>" + std::to_string(number) + ": " +
           xml_escape(to_string(status)) + "</title></rect>\n";
  }
  return svg;
}

// The commit tested and its release, as short as the card's last column needs.
std::string card_commit(const RecipeResult& recipe) {
  if (recipe.target.commit.empty()) return {};
  std::string commit = recipe.target.commit.substr(0, 8);
  if (!recipe.target.version.empty()) commit += " " + recipe.target.version;
  // 22 characters of 12 px DejaVu Sans Mono fill the 170 px left of the card's edge.
  if (commit.size() > 22) commit = cut_utf8(commit, 21) + "…";
  return commit;
}

std::string card_row(const RecipeResult& recipe, int top, bool shaded) {
  const std::string y = std::to_string(top + 26);
  std::string svg;
  if (shaded)
    svg += "<rect x=\"0\" y=\"" + std::to_string(top) + "\" width=\"" + std::to_string(kWidth) +
           "\" height=\"" + std::to_string(kRow) + "\" fill=\"#f6f8fa\"/>\n";
  std::string name = recipe.recipe;
  if (name.size() > 28) name = cut_utf8(name, 27) + "…";
  svg += "<text x=\"24\" y=\"" + y + "\" font-size=\"15\" fill=\"#24292f\">" + xml_escape(name) + "</text>\n";
  svg += "<rect x=\"290\" y=\"" + std::to_string(top + 9) + "\" width=\"96\" height=\"24\" rx=\"4\" fill=\"" +
         std::string(graded_colour(recipe)) + "\"/>\n<text x=\"338\" y=\"" + y +
         "\" font-size=\"13\" fill=\"#ffffff\" text-anchor=\"middle\" font-weight=\"bold\">" +
         level_words(recipe) + "</text>\n";
  svg += rung_cells(recipe, top);
  svg += "<text x=\"704\" y=\"" + y + "\" font-size=\"13\" fill=\"#57606a\">" +
         duration_words(recipe.duration.count()) + "</text>\n";
  svg += "<text x=\"790\" y=\"" + y +
         "\" font-size=\"12\" fill=\"#57606a\" font-family=\"DejaVu Sans Mono,monospace\">" +
         xml_escape(card_commit(recipe)) + "</text>\n";
  return svg;
}

// The legend: what each cell colour means.
std::string card_legend(int bottom) {
  std::string svg;
  int x = 24;
  for (const RungStatus status : kRungStatuses) {
    const std::string word(to_string(status));
    svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(bottom + 14) +
           "\" width=\"14\" height=\"14\" rx=\"2\" fill=\"" + std::string(rung_status_colour(word)) +
           "\"/><text x=\"" + std::to_string(x + 20) + "\" y=\"" + std::to_string(bottom + 26) +
           "\" font-size=\"12\" fill=\"#57606a\">" + (word == "not_applicable" ? "not applicable" : word) +
           "</text>\n";
    x += 20 + text_width(word) + 30;
  }
  return svg;
}

}  // namespace

std::string level_words(const RecipeResult& recipe) {
  return is_graded(recipe) ? "level " + std::to_string(recipe.level) : "not tested";
}

std::string_view graded_colour(const RecipeResult& recipe) {
  return is_graded(recipe) ? level_colour(recipe.level) : kGrey;
}

std::string_view rung_status_colour(std::string_view status) {
  if (status == "passed") return "#2da44e";
  if (status == "failed") return "#cf222e";
  if (status == "errored") return "#bc4c00";
  if (status == "not_applicable") return "#8c959f";
  return "#d0d7de";  // unverified: nothing checked it
}

std::string_view level_colour(int level) {
  static constexpr std::array<std::string_view, 9> kByLevel = {
      "#e05d44", "#fe7d37", "#fe7d37", "#dfb317", "#dfb317", "#a4a61d", "#a4a61d", "#97ca00", "#44cc11"};
  return kByLevel[static_cast<std::size_t>(std::clamp(level, 0, 8))];
}

std::string badge_svg(std::string_view label, std::string_view message, std::string_view colour) {
  const int label_width = text_width(label) + 10;
  const int message_width = text_width(message) + 10;
  const int width = label_width + message_width;
  const std::string title = xml_escape(std::string(label) + ": " + std::string(message));
  const std::string w = std::to_string(width);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w +
         "\" height=\"20\" role=\"img\" aria-label=\"" + title + "\">\n<title>" + title +
         "</title>\n"
         "<linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" "
         "stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\n"
         "<clipPath id=\"r\"><rect width=\"" +
         w + "\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\n<g clip-path=\"url(#r)\"><rect width=\"" +
         std::to_string(label_width) + "\" height=\"20\" fill=\"#555\"/><rect x=\"" +
         std::to_string(label_width) + "\" width=\"" + std::to_string(message_width) +
         "\" height=\"20\" fill=\"" + xml_escape(colour) + "\"/><rect width=\"" + w +
         "\" height=\"20\" fill=\"url(#s)\"/></g>\n<g fill=\"#fff\" "
         "text-anchor=\"middle\" font-family=\"" +
         std::string(kFont) + "\" font-size=\"11\"><text x=\"" + number(label_width / 2.0) + "\" y=\"14\">" +
         xml_escape(label) + "</text><text x=\"" + number(label_width + message_width / 2.0) +
         "\" y=\"14\">" + xml_escape(message) + "</text></g>\n</svg>\n";
}

std::string recipe_badge_svg(const RecipeResult& recipe) {
  return badge_svg("cc-ci", level_words(recipe), graded_colour(recipe));
}

std::string run_badge_svg(const RunReport& results) {
  const auto& recipes = results.recipes;
  if (results.interrupted) return badge_svg("cc-ci", "interrupted", kGrey);
  if (recipes.size() == 1) return recipe_badge_svg(recipes.front());
  const auto passed = std::count_if(recipes.begin(), recipes.end(),
                                    [](const RecipeResult& recipe) { return counts_as_pass(recipe.status); });
  const auto all = static_cast<long>(recipes.size());
  return badge_svg("cc-ci", std::to_string(passed) + "/" + std::to_string(all) + " passed",
                   passed == all && all > 0 ? level_colour(8) : level_colour(0));
}

std::string card_svg(const RunReport& results) {
  const auto& recipes = results.recipes;
  const std::size_t rows = std::min(recipes.size(), kMaxRows);
  const bool more = recipes.size() > rows;
  const int height = kHeader + static_cast<int>(rows) * kRow + (more ? kRow / 2 : 0) + kFooter;
  std::string svg = card_header(results, height);
  for (std::size_t i = 0; i < rows; ++i)
    svg += card_row(recipes[i], kHeader + static_cast<int>(i) * kRow, i % 2 == 1);
  int bottom = kHeader + static_cast<int>(rows) * kRow;
  if (more) {
    svg += "<text x=\"24\" y=\"" + std::to_string(bottom + 16) +
           "\" font-size=\"13\" fill=\"#57606a\">… and " + std::to_string(recipes.size() - rows) +
           " more recipes</text>\n";
    bottom += kRow / 2;
  }
  return svg + card_legend(bottom) + "</svg>\n";
}

}  // namespace ccci
