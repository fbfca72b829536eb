// generic: the ladder for any recipe of the catalogue without a plugin of its
// own. Ready when the app itself answers on its domain (anything but the
// proxy's 404/50x). Its data is a marker file written with `abra app run`
// into a folder backupbot backs up (a volume of a service labelled
// backupbot.backup=true, or its backupbot.backup.path), so a redeploy, an
// upgrade and a restore must each bring the file back; damage removes it.
#include <ccci/harness.hpp>
#include <optional>

namespace {

// Where the marker goes: a folder backupbot backs up, as the host read the
// recipe's labels (ctx.compose()): a whole volume first, else a path of the
// older `backupbot.backup.path` label. A path inside a volume
// (`backupbot.backup.volumes.<v>.path: backup.sql`) is usually a file a
// pre-hook writes, not a folder to put data in.
struct BackedUpPath {
  std::string service;
  std::string path;
};

std::optional<BackedUpPath> find_backed_up_path(const ccci::ComposeLayout& compose) {
  for (const bool whole_volume : {true, false})
    for (const auto& service : compose.backups)
      for (const auto& path : service.paths)
        if (path.whole_volume == whole_volume && (whole_volume || path.volume.empty()))
          return BackedUpPath{service.service, path.path};
  return std::nullopt;
}

class Generic final : public ccci::RecipeTest {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"generic"}, .ready = {.path = "/", .status = ccci::kAnyStatus}};
  }

  void probe(ccci::Context& ctx) override {
    ctx.check("the app itself answers on its domain", [&] {
      const auto response = ccci::HttpClient(ctx.http()).perform({.url = ctx.url("/")});
      // The readiness wait's own test: the proxy's placeholder is not the app.
      if (auto proxy = ccci::proxy_placeholder(response)) throw ccci::CheckFailure(*proxy);
    });
  }

  void seed(ccci::Context& ctx) override {
    where_ = find_backed_up_path(ctx.compose());
    if (!where_) {
      ctx.log(
          "generic: backupbot backs up no volume or folder of this recipe (no service labelled "
          "backupbot.backup=true with a named volume or a backupbot.backup.path): nowhere to write data");
      return;  // no step: the data rungs stay unverified, and say so
    }
    marker_ = "cc-ci marker for " + ctx.domain();
    ctx.step("write a marker file into " + where_->service + ":" + where_->path, [&] {
      ctx.abra().app_run(where_->service, {"sh", "-c", "echo \"$0\" > " + marker_file(), marker_});
    });
  }

  void damage(ccci::Context& ctx) override {
    if (!where_) return;
    ctx.step("remove the marker file from " + where_->service + ":" + where_->path, [&] {
      ctx.abra().app_run(where_->service, {"rm", "-f", marker_file()});
    });
  }

  void verify_seeded(ccci::Context& ctx) override {
    if (!where_) return;
    ctx.check("the marker file is still in " + where_->service + ":" + where_->path, [&] {
      const std::string content = ctx.abra().app_run(where_->service, {"cat", marker_file()});
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
