#include "run/screenshot.hpp"

#include <png.h>

#include <algorithm>
#include <boost/process/search_path.hpp>
#include <cstdio>
#include <memory>

#include "ccci/command_error.hpp"
#include "config/settings.hpp"
#include "run/browser.hpp"

namespace ccci {

namespace fs = std::filesystem;

std::string host_resolver_rules(const std::vector<std::string>& domains,
                                const std::vector<std::string>& connect_to) {
  std::string mapped;
  std::string excluded;
  for (const auto& domain : domains) {
    std::string rule;
    for (const auto& spec : connect_to) {
      const auto fields = connect_to_fields(spec);
      if (fields.size() != 4) continue;
      const auto& [host, port, to_host, to_port] = std::tie(fields[0], fields[1], fields[2], fields[3]);
      if ((!host.empty() && host != domain) || (!port.empty() && port != "443")) continue;
      rule = "MAP " + domain + " " + (to_host.empty() ? domain : to_host) +
             (to_port.empty() ? "" : ":" + to_port);
      break;  // curl uses the first spec that matches
    }
    // A domain no spec sends elsewhere resolves as usual: it is excepted from the catch-all.
    std::string& into = rule.empty() ? excluded : mapped;
    into += rule.empty() ? ", EXCLUDE " + domain : rule + ", ";
  }
  // Nothing but the apps' domains resolves: no page of the run reaches elsewhere.
  return mapped + "MAP * ~NOTFOUND" + excluded;
}

std::string host_resolver_rules(const std::string& domain, const std::vector<std::string>& connect_to) {
  return host_resolver_rules(std::vector<std::string>{domain}, connect_to);
}

std::optional<std::string> png_problem(const fs::path& file) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&image, file.c_str()) == 0) {
    png_image_free(&image);
    return "not a PNG";
  }
  image.format = PNG_FORMAT_RGBA;
  std::vector<png_byte> pixels(static_cast<size_t>(PNG_IMAGE_ROW_STRIDE(image)) * image.height);
  if (png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr) == 0) {
    png_image_free(&image);
    return "an unreadable PNG";
  }
  if (image.width == 0 || image.height == 0) return "an empty picture";
  const auto* first = pixels.data();
  for (size_t offset = 4; offset < pixels.size(); offset += 4)
    if (!std::equal(first, first + 4, pixels.data() + offset)) return std::nullopt;
  char colour[16];
  std::snprintf(colour, sizeof colour, "#%02x%02x%02x", first[0], first[1], first[2]);
  return std::string("blank: every pixel is ") + colour;
}

std::optional<BrowserSetup> browser_setup(const std::string& browser, const HttpSettings& http,
                                          const std::vector<std::string>& domains, std::string& why) {
  if (browser.empty()) {
    why = "screenshots are off (--browser is empty)";
    return std::nullopt;
  }
  BrowserSetup setup{.executable = browser.find('/') == std::string::npos
                                       ? boost::process::search_path(browser).string()
                                       : browser,
                     .resolver_rules = host_resolver_rules(domains, http.connect_to),
                     .ca_file = http.ca_file};
  if (setup.executable.empty() || !fs::exists(setup.executable)) {
    why = browser + " is not installed (Debian: apt-get install chromium-headless-shell)";
    return std::nullopt;
  }
  return setup;
}

bool is_page_path(const std::string& page) {
  return page.starts_with('/') && !page.starts_with("//") && page.size() <= 2048 &&
         std::none_of(page.begin(), page.end(),
                      [](unsigned char c) { return c <= ' ' || c == 0x7f || c == '\\' || c == '@'; });
}

std::string page_url(const ScreenshotRequest& request) {
  return "https://" + request.domain + request.page;
}

std::optional<std::string> take_screenshot(const ScreenshotRequest& request) {
  std::string why;
  const auto setup = browser_setup(request.browser, request.http, {request.domain}, why);
  if (!setup) return why;
  try {
    Browser browser(*setup);
    return browser.shoot(page_url(request), request.output, request.deadline, request.attempts);
  } catch (const CommandError& error) {
    return std::string("the browser could not start: ") + error.what();
  }
}

}  // namespace ccci
