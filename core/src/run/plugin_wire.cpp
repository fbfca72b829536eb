// The wire between the host and the children that describe plugins and walk
// plans: RecipeInfo as JSON, and the child's side. A child answers one JSON
// line per item as soon as the item is done, so when it dies or hangs the
// host knows which plugin it was busy with and names that one.
#include <fstream>
#include <iostream>
#include <optional>

#include "ccci/readiness.hpp"
#include "run/lifecycle.hpp"
#include "run/plugin_loader.hpp"
#include "run/screenshot.hpp"

namespace ccci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A readiness condition's value read back: what JsonEquals can hold, nothing else.
decltype(JsonEquals::value) json_scalar(const json& value) {
  if (value.is_null()) return nullptr;
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_string()) return value.get<std::string>();
  throw std::invalid_argument("a readiness condition's value is not null, a boolean, an integer or a string");
}

}  // namespace

json to_json(const RecipeInfo& info) {
  json conditions = json::array();
  for (const auto& condition : info.ready.json_equals)
    conditions.push_back({condition.pointer, json_value(condition)});
  json not_applicable = json::array();
  for (const auto& declared : info.not_applicable)
    not_applicable.push_back({static_cast<int>(declared.rung), declared.reason});
  json env = json::array();
  for (const auto& [key, value] : info.env) env.push_back({key, value});
  return {{"tags", info.tags},
          {"ready", {{"path", info.ready.path}, {"status", info.ready.status}, {"json_equals", conditions}}},
          {"timeouts_s",
           {{"deploy", info.timeouts.deploy.count()},
            {"probe", info.timeouts.probe.count()},
            {"teardown", info.timeouts.teardown.count()}}},
          {"not_applicable", not_applicable},
          {"backup_surface", info.backup_surface ? json(*info.backup_surface) : json(nullptr)},
          {"env", env},
          {"upgrade_from", info.upgrade_from},
          {"compose_overlay", info.compose_overlay},
          {"screenshot", info.screenshot}};
}

RecipeInfo recipe_info_from_json(const json& in) {
  RecipeInfo info;
  info.tags = in.at("tags").get<std::vector<std::string>>();
  const auto& ready = in.at("ready");
  info.ready.path = ready.at("path").get<std::string>();
  info.ready.status = ready.at("status").get<long>();
  for (const auto& condition : ready.at("json_equals"))
    info.ready.json_equals.push_back({condition.at(0).get<std::string>(), json_scalar(condition.at(1))});
  const auto& timeouts = in.at("timeouts_s");
  info.timeouts.deploy = std::chrono::seconds(timeouts.at("deploy").get<long long>());
  info.timeouts.probe = std::chrono::seconds(timeouts.at("probe").get<long long>());
  info.timeouts.teardown = std::chrono::seconds(timeouts.at("teardown").get<long long>());
  for (const auto& declared : in.at("not_applicable")) {
    const int rung = declared.at(0).get<int>();
    if (rung < static_cast<int>(Rung::deploys) || rung > static_cast<int>(Rung::clean_teardown))
      throw std::out_of_range("not_applicable names no rung: " + std::to_string(rung));
    info.not_applicable.push_back({static_cast<Rung>(rung), declared.at(1).get<std::string>()});
  }
  if (!in.at("backup_surface").is_null()) info.backup_surface = in.at("backup_surface").get<bool>();
  for (const auto& line : in.at("env"))
    info.env.emplace_back(line.at(0).get<std::string>(), line.at(1).get<std::string>());
  info.upgrade_from = in.at("upgrade_from").get<std::string>();
  info.compose_overlay = in.at("compose_overlay").get<std::string>();
  info.screenshot = in.at("screenshot").get<std::string>();
  return info;
}

namespace {

// A plugin's compose overlay is a plain file beside it: a name, never a path
// that could reach elsewhere.
void check_compose_overlay(const fs::path& plugin_file, const std::string& overlay) {
  if (overlay.empty()) return;
  const std::string plugin = "plugin " + plugin_file.string() + ": compose overlay \"" + overlay + "\" ";
  if (overlay.find('/') != std::string::npos || overlay == "." || overlay == "..")
    throw PluginError(plugin + "must be a file name in the plugin's folder, not a path");
  if (!fs::is_regular_file(plugin_file.parent_path() / overlay))
    throw PluginError(plugin + "is not beside the plugin (" + (plugin_file.parent_path() / overlay).string() +
                      " is no file)");
}

// The page to shoot is a path on the app's own domain, never another address.
void check_screenshot_page(const fs::path& plugin_file, const std::string& page) {
  if (page.empty()) return;
  if (!is_page_path(page))
    throw PluginError("plugin " + plugin_file.string() + ": screenshot page \"" + page +
                      "\" must be a path on the app's domain, starting with one /");
}

// The answer file, one JSON line per finished item, each on disk before the next item starts.
class AnswerLines {
 public:
  explicit AnswerLines(const fs::path& file) : file_(file), out_(file, std::ios::trunc) {}
  void add(const json& answer) {
    out_ << answer.dump(-1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
    if (!out_) throw std::runtime_error("cannot write " + file_.string());
  }

 private:
  fs::path file_;
  std::ofstream out_;
};

// A plugin's recipe and info, checked.
json describe(const fs::path& plugin_file) {
  const LoadedPlugin plugin(plugin_file);
  RecipeInfo info;
  try {
    info = plugin.create()->info();
  } catch (const std::exception& error) {
    throw PluginError("plugin " + plugin_file.string() + ": info() failed: " + error.what());
  }
  check_compose_overlay(plugin_file, info.compose_overlay);
  check_screenshot_page(plugin_file, info.screenshot);
  return {{"recipe", plugin.recipe()}, {"info", to_json(info)}};
}

}  // namespace

int describe_plugins(const std::vector<fs::path>& plugin_files, const fs::path& answer) {
  try {
    AnswerLines answers(answer);
    for (const auto& file : plugin_files) answers.add(describe(file));
    return 0;
  } catch (const std::exception& error) {
    std::cout << error.what() << std::endl;
    return 2;
  }
}

int plan_jobs(const fs::path& jobs_file, const fs::path& answer) {
  try {
    std::ifstream in(jobs_file);
    const json jobs = json::parse(in);
    AnswerLines answers(answer);
    std::optional<LoadedPlugin> plugin;  // loaded once, for the first lane that needs it
    for (size_t i = 0; i < jobs.size(); ++i) {
      const RecipeJob job = job_from_json(jobs[i]);
      json lines = json::array();
      const PlanSink sink = [&](Phase phase, std::string_view line) {
        lines.push_back({{"phase", to_string(phase)}, {"line", line}});
      };
      if (job.lane == Lane::lint) {
        plan_lint_lane(job, sink);
      } else {
        if (!plugin || plugin->file() != job.plugin_file) plugin.emplace(job.plugin_file);
        plan_lifecycle(*plugin->create(), job, sink);  // a fresh object per lane, as in a run
      }
      // A plugin unloads before its last answer: what its code does then is its own item's fault.
      if (plugin && (i + 1 == jobs.size() || jobs[i + 1].at("plugin_file") != plugin->file().string()))
        plugin.reset();
      answers.add({{"plan", lines}});
    }
    return 0;
  } catch (const std::exception& error) {
    std::cout << error.what() << std::endl;
    return 2;
  }
}

}  // namespace ccci
