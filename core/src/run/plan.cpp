#include "run/plan.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <system_error>
#include <thread>

#include "base/markup.hpp"
#include "ccci/abra_client.hpp"
#include "recipe/compose.hpp"
#include "recipe/names.hpp"
#include "recipe/target_files.hpp"

namespace ccci {

namespace fs = std::filesystem;

namespace {

std::string random_hex(size_t digits) {
  static std::mutex mutex;
  static std::mt19937_64 generator{std::random_device{}()};
  std::scoped_lock lock(mutex);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < digits; ++i) text += kDigits[generator() % 16];
  return text;
}

// The app's environment as abra builds it for a deploy: the env file (made
// from .env.sample, then the plugin's CI settings), abra.sh's exports, and the
// names abra sets itself.
EnvValues app_environment(const std::string& sample, const std::string& abra_sh, const RecipeInfo& info,
                          const std::string& domain) {
  EnvValues env;
  read_env_file(sample, env);
  for (const auto& [key, value] : info.env) env[key] = value;
  read_abra_sh_exports(abra_sh, env);
  env["DOMAIN"] = domain;
  env["STACK_NAME"] = stack_name(domain);
  return env;
}

// A file the plugin ships beside it (trusted as the plugin is, but bounded
// as any file read whole); nullopt when it cannot be read.
std::optional<std::string> read_plugin_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string content(kTargetFileMaxBytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (content.size() > kTargetFileMaxBytes)
    throw UsageError(file.string() + ": larger than " + std::to_string(kTargetFileMaxBytes >> 10) +
                     " KiB, more than cc-ci reads of a compose file");
  return content;
}

// One revision of the recipe as abra deploys it: where its files are read
// from, its .env.sample and abra.sh, and whether the plugin's CI overlay
// joins COMPOSE_FILE (a chaos deploy; a release is deployed as released).
struct Revision {
  TargetFiles files;  // read once for all the lanes that deploy it
  std::string sample;
  std::string abra_sh;
  bool overlay = false;
  /// Its files' faults (a link out, a file too large) fail the lane rather
  /// than the run: the release an upgrade starts from.
  bool fails_lane = false;
};

// .env.sample and abra.sh of a revision, each read once. abra.sh is not a
// name the change chose but one every recipe has: a link or a FIFO there
// fails the recipe when its checkout is refused (refuse_links_out), with the
// recipe's report, and nothing deployed.
// `objects`: the repository's git, when another revision of it was read.
Revision read_revision(RecipeTarget target, bool overlay, std::shared_ptr<GitObjects> objects = nullptr) {
  Revision revision{.files = TargetFiles(std::move(target), std::move(objects)), .overlay = overlay};
  revision.sample = revision.files.read(".env.sample").value_or("");
  try {
    revision.abra_sh = revision.files.read("abra.sh").value_or("");
  } catch (const UsageError&) {
  }
  return revision;
}

// How one revision lays the app out (ComposeLayout), checked against
// Docker's 64-character cap over every name the stack and abra will make.
// nullopt when it cannot be deployed: `entry.broken` says why, and the lane
// deploys nothing.
std::optional<ComposeLayout> read_layout(PlannedRecipe& entry, const Revision& revision) {
  const RecipeJob& job = entry.job;
  const bool overlay = revision.overlay && !entry.info.compose_overlay.empty();
  // Every name is read as read_target_file reads it, which refuses one that leads
  // out of the checkout: a hostile name is an error, never skipped. The
  // overlay is the plugin's own file, beside it.
  const fs::path overlay_file = job.plugin_file.parent_path() / entry.info.compose_overlay;
  const auto read = [&](const std::string& name) -> std::optional<std::string> {
    if (overlay && name == AbraClient::kComposeOverlay) {
      auto text = read_plugin_file(overlay_file);
      if (!text)
        throw ComposeError("the plugin's compose overlay " + overlay_file.string() + " cannot be read");
      return text;
    }
    try {
      return revision.files.read(name);
    } catch (const UsageError& error) {
      if (!revision.fails_lane) throw;
      throw ComposeError(error.what());
    }
  };
  const std::string of = job.lane == Lane::upgrade ? " of " + revision.files.target().describe() : "";
  ComposeReading reading;
  try {
    EnvValues env = app_environment(revision.sample, revision.abra_sh, entry.info, job.domain);
    if (overlay) {  // appended to COMPOSE_FILE, as AbraClient::add_compose_overlay does for the deploy
      std::string files;
      for (const auto& file : compose_file_names(env)) files += file + ":";
      env["COMPOSE_FILE"] = files + AbraClient::kComposeOverlay;
    }
    reading = read_compose(read, env, stack_name(job.domain));
  } catch (const ComposeError& error) {
    entry.broken = "the recipe's compose files" + of +
                   " cannot be read as abra reads them: " + std::string(error.what());
    return std::nullopt;
  }
  // abra names secrets from the env file's SECRET_*_VERSION lines; the stack
  // names its secrets, configs, volumes, networks and services from the
  // compose files. A name the recipe chose whole is the recipe's error; one
  // made from the stack name is too long for this --domain-suffix.
  const std::string stack = stack_name(job.domain);
  DockerName longest{.kind = "stack", .name = stack};
  for (const auto& name : reading.docker_names) {
    if (name.name.size() <= kDockerNameMax) continue;
    if (!name.name.starts_with(stack + "_")) {
      entry.broken = "the recipe" + of + " names a Docker " + name.kind + " " +
                     terminal_text(name.name.substr(0, 80)) + (name.name.size() > 80 ? "…" : "") + " (" +
                     std::to_string(name.name.size()) + " characters; Docker allows " +
                     std::to_string(kDockerNameMax) + ")";
      return std::nullopt;
    }
    if (name.name.size() > longest.name.size()) longest = name;
  }
  if (longest.name.size() > kDockerNameMax)
    throw UsageError("recipe " + job.recipe + ": the app's " + longest.kind + " would be named " +
                     terminal_text(longest.name) + " (" + std::to_string(longest.name.size()) +
                     " characters; Docker allows " + std::to_string(kDockerNameMax) +
                     "): use a shorter --domain-suffix");
  return std::move(reading.layout);
}

// The layouts of what a deploying lane deploys: the fresh lane, the target;
// the upgrade lane, the release it starts from, then the target it moves to
// (with the overlay when the move is a chaos redeploy of the change). The
// fresh lane's layout says whether the recipe has a backup surface.
void read_layouts(PlannedRecipe& entry, const Revision& target, const std::string& from) {
  RecipeJob& job = entry.job;
  std::optional<ComposeLayout> first;
  if (job.lane == Lane::upgrade) {
    const auto release = release_of(job.target, from, target.files.objects().get());
    if (!release) {
      entry.broken = "the release " + terminal_text(from) + " to upgrade from is not a release tag of " +
                     job.target.repository.string();
      return;
    }
    // A release is a tag no change can mend: what its files do wrong fails
    // this lane, with the release named, never the whole run.
    Revision starting;
    try {
      starting = read_revision(*release, false, target.files.objects());
    } catch (const UsageError& error) {
      entry.broken = "the recipe's files of " + release->describe() + " cannot be read: " + error.what();
      return;
    }
    starting.fails_lane = true;
    first = read_layout(entry, starting);
    if (!first) return;
    // After the move the app keeps the env file `app new` made at the
    // release (abra rebuilds it on neither `app upgrade` nor a redeploy):
    // the target's compose files and abra.sh, read with the release's env.
    Revision moved_to = target;
    moved_to.sample = starting.sample;
    auto moved = read_layout(entry, moved_to);
    if (!moved) return;
    job.compose_after_move = std::move(*moved);
  } else {
    first = read_layout(entry, target);
    if (!first) return;
    if (!entry.info.backup_surface) job.backup_surface = !first->backups.empty();
  }
  job.compose = std::move(*first);
}

}  // namespace

std::string make_domain(const std::string& recipe, const std::string& suffix) {
  std::string label = recipe.substr(0, 4);
  while (!label.empty() && label.back() == '-') label.pop_back();
  return label + "-" + random_hex(6) + "." + suffix;
}

std::string new_run_id() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return std::string(stamp) + "-" + random_hex(6);
}

fs::path work_root(const fs::path& state_dir, const std::string& run_id) {
  return fs::absolute(state_dir) / "work" / run_id;
}

namespace {

using Chosen = std::vector<std::pair<const Plugin*, std::string>>;

// {plugin, recipe}: a recipe's own plugin, or the generic one for a named
// recipe that has none; every plugin's recipe when none is named.
Chosen choose_plugins(const std::vector<Plugin>& plugins, const std::vector<std::string>& selection) {
  Chosen chosen;
  const Plugin* generic = nullptr;
  for (const auto& plugin : plugins)
    if (plugin.recipe() == kAnyRecipe) generic = &plugin;
  if (selection.empty()) {
    for (const auto& plugin : plugins)
      if (&plugin != generic) chosen.emplace_back(&plugin, plugin.recipe());
    return chosen;
  }
  for (const auto& name : selection) {
    // Two tests of one recipe in one run would share its work folder and its name.
    if (std::count(selection.begin(), selection.end(), name) > 1)
      throw UsageError("recipe \"" + name + "\" is named more than once");
    const Plugin* found = nullptr;
    for (const auto& plugin : plugins)
      if (plugin.recipe() == name) found = &plugin;
    if (!found && generic) {
      // The name becomes a folder, a domain label and abra's argument: a recipe name, nothing else.
      if (!is_recipe_name(name))
        throw UsageError("\"" + name + "\" is not a recipe name (lower-case letters, digits and '-')");
      found = generic;
    }
    if (!found) {
      std::string known;
      for (const auto& plugin : plugins) known += (known.empty() ? "" : ", ") + plugin.recipe();
      throw UsageError("no plugin tests recipe \"" + name + "\" (found: " + (known.empty() ? "none" : known) +
                       ")");
    }
    chosen.emplace_back(found, name);
  }
  return chosen;
}

// A target for a recipe this run does not test is a typo, not a no-op: the
// run would test the latest release and call it the change.
void refuse_stray_targets(const Settings& settings, const Chosen& chosen) {
  for (const auto& [recipe, request] : settings.targets) {
    const std::string& name = recipe;  // a lambda may not capture a structured binding (clang 14)
    if (std::none_of(chosen.begin(), chosen.end(), [&](const auto& entry) { return entry.second == name; }))
      throw UsageError(std::string(request.ref ? "--ref " : "--recipe-dir ") + name +
                       "=…: this run does not test recipe \"" + name + "\"");
  }
}

// A lane that deploys the app: it gets a domain and a server.
bool deploys(const PlannedRecipe& entry) {
  return entry.job.lane != Lane::lint && entry.not_run.empty();
}

// What every lane of a recipe shares: its plugin and the run's settings.
PlannedRecipe recipe_plan(const Plugin& plugin, const std::string& recipe, const Settings& settings) {
  PlannedRecipe base;
  base.plugin = &plugin;
  base.info = plugin.info();
  RecipeJob& job = base.job;
  job.plugin_file = fs::absolute(plugin.file());
  job.recipe = recipe;
  job.abra.executable = settings.abra;
  job.abra.deploy = settings.deploy;
  job.docker = settings.docker;
  job.browser = settings.browser;
  job.http.ca_file = settings.ca_file.empty() ? "" : fs::absolute(settings.ca_file).string();
  job.http.connect_to = settings.connect_to;
  job.timeouts = resolve_timeouts(base.info.timeouts, settings.timeouts);
  job.keep = settings.keep;
  job.retries = settings.retries;
  job.backup_surface = base.info.backup_surface.value_or(false);
  return base;
}

// One recipe's lanes, planned: its target resolved and its files read with
// git, each lane's domain and layouts. Servers are plan_run's to give out.
std::vector<PlannedRecipe> plan_recipe(const Plugin& plugin, const std::string& recipe,
                                       const Settings& settings, const fs::path& work_root, Targets targets) {
  const PlannedRecipe base = recipe_plan(plugin, recipe, settings);
  const RecipeJob& job = base.job;
  const fs::path report_dir = fs::absolute(settings.report_dir);
  Revision revision;  // the target's files, read once for every lane
  RecipeTarget target;
  if (targets == Targets::resolve) {
    const auto found = settings.targets.find(job.recipe);
    std::shared_ptr<GitObjects> objects;  // one git for the recipe's commits, files and releases
    target = resolve_target(job.recipe, found == settings.targets.end() ? TargetRequest{} : found->second,
                            settings.recipes_from, &objects);
    revision = read_revision(target, !target.is_release(), std::move(objects));
  }
  const std::string from = base.info.upgrade_from.empty() ? target.previous_release : base.info.upgrade_from;
  std::vector<PlannedRecipe> lanes;
  for (const Lane lane : {Lane::fresh, Lane::upgrade, Lane::lint}) {
    const bool wanted = std::find(settings.lanes.begin(), settings.lanes.end(), lane) != settings.lanes.end();
    // Listing resolves no target: its wanted fresh lane says it all.
    if (targets == Targets::skip && (lane != Lane::fresh || !wanted)) continue;
    PlannedRecipe entry = base;
    RecipeJob& lane_job = entry.job;
    lane_job.lane = lane;
    lane_job.target = target;
    lane_job.abra.deploy.version = target.is_release() ? target.version : "";
    if (!wanted) entry.not_run = "the " + std::string(to_string(lane)) + " lane was not run (--lanes)";
    if (lane == Lane::upgrade && entry.not_run.empty()) {
      if (from.empty())
        entry.not_run =
            "there is no release of " + job.recipe + " before " + target.describe() + " to upgrade from";
      lane_job.abra.deploy.version = from;
    }
    const std::string suffix = lane == Lane::fresh ? "" : "." + std::string(to_string(lane));
    if (deploys(entry)) {
      lane_job.domain = make_domain(lane_job.recipe, settings.domain_suffix);
      if (targets == Targets::resolve) read_layouts(entry, revision, from);
    }
    const fs::path work = work_root / (job.recipe + suffix);
    lane_job.abra.abra_dir = (work / "abra").string();
    lane_job.log_file = report_dir / "logs" / (job.recipe + suffix + ".log");
    lane_job.events_file = work / "events.jsonl";
    if (lane == Lane::fresh) lane_job.screenshot_file = report_dir / "screenshots" / (job.recipe + ".png");
    lanes.push_back(std::move(entry));
  }
  return lanes;
}

// Recipes planned side by side: planning waits on git processes, not on
// this process's CPU. Results in `chosen`'s order; a recipe that cannot be
// planned throws as it would alone, the first in that order.
std::vector<std::vector<PlannedRecipe>> plan_recipes(const Chosen& chosen, const Settings& settings,
                                                     const fs::path& work_root, Targets targets) {
  constexpr size_t kPlanners = 8;
  std::vector<std::vector<PlannedRecipe>> planned(chosen.size());
  std::vector<std::exception_ptr> failed(chosen.size());
  std::atomic<size_t> next{0};
  const auto planner = [&] {
    for (size_t i = next++; i < chosen.size(); i = next++) {
      try {
        planned[i] = plan_recipe(*chosen[i].first, chosen[i].second, settings, work_root, targets);
      } catch (...) {
        failed[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> helpers;
  try {
    for (size_t k = 1; k < std::min(kPlanners, chosen.size()); ++k) helpers.emplace_back(planner);
  } catch (const std::system_error&) {  // no more threads: fewer planners, the same plan
  }
  planner();
  for (auto& thread : helpers) thread.join();
  for (const auto& failure : failed)
    if (failure) std::rethrow_exception(failure);
  return planned;
}

}  // namespace

std::vector<PlannedRecipe> plan_run(const std::vector<Plugin>& plugins,
                                    const std::vector<std::string>& selection, const Settings& settings,
                                    const fs::path& work_root, Targets targets) {
  const Chosen chosen = choose_plugins(plugins, selection);
  refuse_stray_targets(settings, chosen);
  std::vector<PlannedRecipe> planned;
  size_t deployments = 0;  // servers go round-robin over the lanes that deploy, in plan order
  for (auto& lanes : plan_recipes(chosen, settings, work_root, targets))
    for (auto& entry : lanes) {
      if (deploys(entry)) entry.job.server = settings.servers[deployments++ % settings.servers.size()].name;
      planned.push_back(std::move(entry));
    }
  return planned;
}

}  // namespace ccci
