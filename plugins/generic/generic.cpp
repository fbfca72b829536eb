// generic: the ladder for any recipe of the catalogue without a plugin of its
// own. Ready when the app itself answers on its domain (anything but the
// proxy's 404/50x). Its data is a marker file written with `abra app run`
// into the path the recipe backs up (its backupbot.backup.path label), so a
// redeploy, an upgrade and a restore must each bring the file back.
#include <ccci/harness.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>

namespace {

// The service and path of the recipe's first backupbot.backup.path label.
struct BackedUpPath {
  std::string service;
  std::string path;
};

// A plain reading of the compose files (no YAML library in the SDK): service
// names are the two-space keys under `services:`, labels are list items.
std::optional<BackedUpPath> find_backed_up_path(const std::filesystem::path& checkout) {
  static const std::regex kService(R"(^  ([A-Za-z0-9_.-]+):\s*$)");
  static const std::regex kLabel(R"(backupbot\.backup\.path\s*[=:]\s*["']?(/[^"'\s]*))");
  std::set<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(checkout, error))
    if (entry.path().filename().string().starts_with("compose") && entry.path().extension() == ".yml")
      files.insert(entry.path());
  for (const auto& file : files) {
    std::ifstream in(file);
    bool in_services = false;
    std::string service;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] != ' ' && line[0] != '#') in_services = line.starts_with("services:");
      std::smatch found;
      if (in_services && std::regex_match(line, found, kService)) service = found[1];
      if (!service.empty() && std::regex_search(line, found, kLabel)) return BackedUpPath{service, found[1]};
    }
  }
  return std::nullopt;
}

class Generic final : public ccci::AbraRecipe {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"generic"}, .ready = {.path = "/", .status = ccci::kAnyStatus}};
  }

  void probe(ccci::Context& ctx) override {
    ctx.check("the app itself answers on its domain", [&] {
      const auto response = ccci::HttpClient(ctx.http()).perform({.url = ctx.url("/")});
      if (response.status == 404 && response.body.starts_with("404 page not found"))
        throw ccci::CheckFailure("the proxy has no route to the app (its own 404)");
      if (response.status >= 502 && response.status <= 504)
        throw ccci::CheckFailure("the proxy has no healthy backend (HTTP " + std::to_string(response.status) +
                                 ")");
    });
  }

  void seed(ccci::Context& ctx) override {
    const std::filesystem::path checkout =
        std::filesystem::path(ctx.abra().settings().abra_dir) / "recipes" / ctx.recipe();
    where_ = find_backed_up_path(checkout);
    if (!where_) {
      ctx.log("generic: no backupbot.backup.path label in the recipe's compose files: nowhere to write data");
      return;  // no step: the data rungs stay unverified, and say so
    }
    marker_ = "cc-ci marker for " + ctx.domain();
    ctx.step("write a marker file into " + where_->service + ":" + where_->path, [&] {
      ctx.abra().app_run(ctx.domain(), where_->service,
                         {"sh", "-c", "echo \"$0\" > " + marker_file(), marker_});
    });
  }

  void verify_seeded(ccci::Context& ctx) override {
    if (!where_) return;
    ctx.check("the marker file is still in " + where_->service + ":" + where_->path, [&] {
      const std::string content = ctx.abra().app_run(ctx.domain(), where_->service, {"cat", marker_file()});
      if (content.find(marker_) == std::string::npos)
        throw ccci::CheckFailure("the marker file is gone or changed");
    });
  }

 private:
  std::string marker_file() const { return where_->path + "/.cc-ci-marker"; }

  std::optional<BackedUpPath> where_;
  std::string marker_;
};

}  // namespace

CCCI_PLUGIN(Generic, ccci::kAnyRecipe)
