#include "runner.hpp"

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "ccci/abra_client.hpp"
#include "compose.hpp"
#include "janitor.hpp"
#include "markup.hpp"
#include "names.hpp"

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

// Each recipe test gets its own ABRA_DIR whose entries link to the shared one
// (servers stay where abra keeps them), except recipes/: the test's own clone
// of the recipe at its target, so that two tests of one recipe at different
// revisions never see each other's checkout.
void prepare_abra_dir(const RecipeJob& job) {
  const fs::path abra_dir = job.abra.abra_dir;
  fs::create_directories(abra_dir / "recipes");
  const fs::path base = default_abra_dir();
  std::error_code error;
  if (fs::is_directory(base, error)) {
    for (const auto& entry : fs::directory_iterator(base)) {
      const fs::path link = abra_dir / entry.path().filename();
      if (entry.path().filename() == "recipes" || fs::exists(fs::symlink_status(link))) continue;
      fs::create_directory_symlink(fs::absolute(entry.path()), link);
    }
  }
  if (job.target.commit.empty()) return;
  RecipeTarget checkout = job.target;
  // The upgrade lane starts from a release: abra checks its tag out of a
  // clean clone; the change's own working tree comes in at the move.
  if (job.lane == Lane::upgrade) checkout.local_changes = false;
  check_out_target(checkout, abra_dir / "recipes" / job.recipe);
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
  RecipeTarget target;
  std::string sample;
  std::string abra_sh;
  bool overlay = false;
};

// .env.sample and abra.sh of a revision, each read once. abra.sh is not a
// name the change chose but one every recipe has: a link or a FIFO there
// fails the recipe when its checkout is refused (refuse_links_out), with the
// recipe's report, and nothing deployed.
Revision read_revision(RecipeTarget target, bool overlay) {
  Revision revision{.target = std::move(target), .overlay = overlay};
  revision.sample = read_target_file(revision.target, ".env.sample").value_or("");
  try {
    revision.abra_sh = read_target_file(revision.target, "abra.sh").value_or("");
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
  // Every name is read through read_target_file, which refuses one that leads
  // out of the checkout: a hostile name is an error, never skipped. The
  // overlay is the plugin's own file, beside it.
  const fs::path overlay_file = job.plugin_file.parent_path() / entry.info.compose_overlay;
  const auto read = [&](const std::string& name) -> std::optional<std::string> {
    if (overlay && name == AbraClient::kComposeOverlay) return read_plugin_file(overlay_file);
    return read_target_file(revision.target, name);
  };
  const std::string of = job.lane == Lane::upgrade ? " of " + revision.target.describe() : "";
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
    const auto release = release_of(job.target, from);
    if (!release) {
      entry.broken = "the release " + terminal_text(from) + " to upgrade from is not a release tag of " +
                     job.target.repository.string();
      return;
    }
    first = read_layout(entry, read_revision(*release, false));
    if (!first) return;
    auto moved = read_layout(entry, target);
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

std::vector<PlannedRecipe> plan_run(const std::vector<Plugin>& plugins,
                                    const std::vector<std::string>& selection, const Settings& settings,
                                    const fs::path& work_root, Targets targets) {
  // {plugin, recipe}: a recipe's own plugin, or the generic one for a named
  // recipe that has none.
  std::vector<std::pair<const Plugin*, std::string>> chosen;
  const Plugin* generic = nullptr;
  for (const auto& plugin : plugins)
    if (plugin.recipe() == kAnyRecipe) generic = &plugin;
  if (selection.empty()) {
    for (const auto& plugin : plugins)
      if (&plugin != generic) chosen.emplace_back(&plugin, plugin.recipe());
  } else {
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
        throw UsageError("no plugin tests recipe \"" + name +
                         "\" (found: " + (known.empty() ? "none" : known) + ")");
      }
      chosen.emplace_back(found, name);
    }
  }

  // A target for a recipe this run does not test is a typo, not a no-op:
  // the run would test the latest release and call it the change.
  for (const auto& [recipe, request] : settings.targets) {
    const std::string& name = recipe;  // a lambda may not capture a structured binding (clang 14)
    if (std::none_of(chosen.begin(), chosen.end(), [&](const auto& entry) { return entry.second == name; }))
      throw UsageError(std::string(request.ref ? "--ref " : "--recipe-dir ") + name +
                       "=…: this run does not test recipe \"" + name + "\"");
  }

  std::vector<PlannedRecipe> planned;
  const fs::path report_dir = fs::absolute(settings.report_dir);
  size_t deployments = 0;  // servers go round-robin over the lanes that deploy
  for (const auto& [plugin, recipe] : chosen) {
    PlannedRecipe base;
    base.plugin = plugin;
    base.info = plugin->info();
    RecipeJob& job = base.job;
    job.plugin_file = fs::absolute(plugin->file());
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
    Revision revision;  // the target's files, read once for every lane
    if (targets == Targets::resolve) {
      const auto found = settings.targets.find(job.recipe);
      const TargetRequest request = found == settings.targets.end() ? TargetRequest{} : found->second;
      job.target = resolve_target(job.recipe, request, settings.recipes_from);
      job.abra.deploy.version = job.target.is_release() ? job.target.version : "";
      revision = read_revision(job.target, !job.target.is_release());
    }

    for (const Lane lane : {Lane::fresh, Lane::upgrade, Lane::lint}) {
      PlannedRecipe entry = base;
      RecipeJob& lane_job = entry.job;
      lane_job.lane = lane;
      const bool wanted =
          std::find(settings.lanes.begin(), settings.lanes.end(), lane) != settings.lanes.end();
      // Listing resolves no target: its wanted fresh lane says it all.
      if (targets == Targets::skip && (lane != Lane::fresh || !wanted)) continue;
      if (!wanted) entry.not_run = "the " + std::string(to_string(lane)) + " lane was not run (--lanes)";
      const std::string from =
          base.info.upgrade_from.empty() ? job.target.previous_release : base.info.upgrade_from;
      if (lane == Lane::upgrade && entry.not_run.empty()) {
        if (from.empty())
          entry.not_run = "there is no release of " + job.recipe + " before " + job.target.describe() +
                          " to upgrade from";
        lane_job.abra.deploy.version = from;
      }
      const std::string suffix = lane == Lane::fresh ? "" : "." + std::string(to_string(lane));
      if (lane != Lane::lint && entry.not_run.empty()) {
        lane_job.server = settings.servers[deployments++ % settings.servers.size()].name;
        lane_job.domain = make_domain(lane_job.recipe, settings.domain_suffix);
        if (targets == Targets::resolve) read_layouts(entry, revision, from);
      }
      const fs::path work = work_root / (job.recipe + suffix);
      lane_job.abra.abra_dir = (work / "abra").string();
      lane_job.log_file = report_dir / "logs" / (job.recipe + suffix + ".log");
      lane_job.events_file = work / "events.jsonl";
      if (lane == Lane::fresh) lane_job.screenshot_file = report_dir / "screenshots" / (job.recipe + ".png");
      planned.push_back(std::move(entry));
    }
  }
  return planned;
}

namespace {

// The servers of a run and how many tests each is running. A worker takes a
// slot before it starts a test and gives it back after teardown, so no server
// ever runs more tests than its capacity.
class ServerPool {
 public:
  explicit ServerPool(std::vector<ServerSlot> slots) : slots_(std::move(slots)), busy_(slots_.size(), 0) {}

  /// The least busy server with room (preferring `preferred`); waits for one.
  /// Returns nullopt if the run must stop while waiting.
  std::optional<std::string> acquire(const std::string& preferred, const RunStop& stop) {
    std::unique_lock lock(mutex_);
    for (;;) {
      std::optional<size_t> best;
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].capacity > 0 && busy_[i] >= slots_[i].capacity) continue;
        if (!best || slots_[i].name == preferred ||
            (slots_[*best].name != preferred && busy_[i] < busy_[*best]))
          best = i;
      }
      if (best) {
        ++busy_[*best];
        return slots_[*best].name;
      }
      if (stop.reason()) return std::nullopt;
      freed_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }

  void release(const std::string& name) {
    {
      std::scoped_lock lock(mutex_);
      for (size_t i = 0; i < slots_.size(); ++i)
        if (slots_[i].name == name) --busy_[i];
    }
    freed_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<ServerSlot> slots_;
  std::vector<int> busy_;
};

RecipeResult not_started(const RecipeJob& job, const std::string& why) {
  RecipeResult result{.recipe = job.recipe, .server = job.server, .domain = job.domain, .target = job.target};
  result.steps.push_back({.lane = job.lane,
                          .phase = job.lane == Lane::lint ? Phase::lint : Phase::deploy,
                          .name = "not started",
                          .status = Status::skipped,
                          .message = why});
  return result;
}

// A lane that is not run at all: its rung's phase says why (unverified).
// A fresh lane not run records nothing: its rungs say no deploy was attempted.
RecipeResult not_run(const RecipeJob& job, const std::string& why) {
  RecipeResult result{.recipe = job.recipe, .target = job.target};
  if (job.lane != Lane::fresh)
    result.steps.push_back({.lane = job.lane,
                            .phase = job.lane == Lane::lint ? Phase::lint : Phase::upgrade,
                            .kind = StepKind::check,
                            .name = std::string(to_string(job.lane)) + " lane",
                            .status = Status::skipped,
                            .message = why});
  result.lanes = {LaneResult{.lane = job.lane, .status = Status::skipped}};
  return result;
}

// A lane whose recipe cannot be deployed as it is: its first step fails, and says why.
RecipeResult broken_lane(const RecipeJob& job, const std::string& why) {
  RecipeResult result{.recipe = job.recipe, .server = job.server, .domain = job.domain, .target = job.target};
  result.steps.push_back({.lane = job.lane,
                          .phase = Phase::deploy,
                          .name = "read the recipe's compose files",
                          .status = Status::failed,
                          .message = why});
  result.lanes = {LaneResult{.lane = job.lane, .status = Status::failed}};
  return result;
}

// A recipe's result from its lanes (in lane order): their steps and lanes
// together, the fresh lane's server, domain and log, then judged as a whole.
RecipeResult merge_lanes(const std::vector<const RecipeResult*>& lanes) {
  RecipeResult merged{.recipe = lanes.front()->recipe, .target = lanes.front()->target};
  for (const RecipeResult* lane : lanes) {
    merged.steps.insert(merged.steps.end(), lane->steps.begin(), lane->steps.end());
    merged.lanes.insert(merged.lanes.end(), lane->lanes.begin(), lane->lanes.end());
    merged.duration += lane->duration;
    if (!lane->kept.empty()) merged.kept += (merged.kept.empty() ? "" : "; ") + lane->kept;
    if (merged.server.empty()) merged.server = lane->server;
    if (merged.domain.empty()) merged.domain = lane->domain;
    if (merged.log.empty() && !lane->lanes.empty()) merged.log = lane->lanes.front().log;
    if (lane->screenshot.attempted) merged.screenshot = lane->screenshot;
  }
  judge(merged);
  return merged;
}

}  // namespace

std::vector<size_t> longest_first(const std::vector<PlannedRecipe>& planned, const fs::path& history) {
  std::vector<size_t> order(planned.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (history.empty()) return order;
  const fs::path file = fs::is_directory(history) ? history / "results.json" : history;
  std::ifstream in(file);
  const auto previous = nlohmann::json::parse(in, nullptr, false);
  if (!in || previous.is_discarded() || !previous.contains("recipes"))
    throw UsageError("--history " + history.string() + ": no readable results.json there");
  std::map<std::string, long long> took;
  for (const auto& recipe : previous["recipes"])
    took[recipe.value("recipe", "")] = recipe.value("duration_ms", 0LL);
  // A recipe never seen before is assumed to be the longest: it starts first.
  auto expected = [&](size_t index) {
    const auto found = took.find(planned[index].job.recipe);
    return found == took.end() ? std::numeric_limits<long long>::max() : found->second;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return expected(a) > expected(b); });
  return order;
}

RunReport run_planned(const fs::path& self, const std::vector<PlannedRecipe>& planned,
                      const Schedule& schedule, const RunStop& stop, const Progress& progress,
                      const std::string& run_id) {
  RunReport report;
  report.run_id = run_id;
  report.started_at = std::chrono::system_clock::now();

  // Each planned entry is one lane; a recipe's result is its lanes, merged
  // when the last of them ends.
  std::vector<std::string> recipes;
  for (const auto& entry : planned)
    if (std::find(recipes.begin(), recipes.end(), entry.job.recipe) == recipes.end())
      recipes.push_back(entry.job.recipe);
  report.recipes.resize(recipes.size());
  std::vector<RecipeResult> lanes(planned.size());
  std::map<std::string, size_t> lanes_left;
  for (const auto& entry : planned) ++lanes_left[entry.job.recipe];
  std::mutex lanes_mutex;
  auto lane_done = [&](size_t index, RecipeResult result) {
    const RecipeJob& job = planned[index].job;
    result.target = job.target;
    for (auto& step : result.steps) step.lane = job.lane;
    if (result.lanes.empty())
      result.lanes = {LaneResult{.lane = job.lane,
                                 .server = job.server,
                                 .domain = job.domain,
                                 .status = overall_status(result.steps),
                                 .duration = result.duration}};
    if (planned[index].not_run.empty())
      result.lanes.front().log =
          fs::relative(job.log_file, job.log_file.parent_path().parent_path()).string();
    if (!job.screenshot_file.empty()) {
      std::error_code error;
      if (result.screenshot.attempted && result.screenshot.missing.empty() &&
          fs::exists(job.screenshot_file, error))
        result.screenshot.file =
            fs::relative(job.screenshot_file, job.log_file.parent_path().parent_path()).string();
      else
        fs::remove(job.screenshot_file, error);  // an earlier run's picture is not this one's
    }
    if (progress.lane_finished) progress.lane_finished(job, result);
    std::scoped_lock lock(lanes_mutex);
    lanes[index] = std::move(result);
    if (--lanes_left[job.recipe] > 0) return;
    std::vector<const RecipeResult*> parts;
    for (size_t i = 0; i < planned.size(); ++i)
      if (planned[i].job.recipe == job.recipe) parts.push_back(&lanes[i]);
    RecipeResult& merged = report.recipes[static_cast<size_t>(
        std::find(recipes.begin(), recipes.end(), job.recipe) - recipes.begin())];
    merged = merge_lanes(parts);
    if (progress.recipe_finished) progress.recipe_finished(merged);
  };

  std::vector<size_t> order = schedule.order;
  if (order.empty())
    for (size_t i = 0; i < planned.size(); ++i) order.push_back(i);
  ServerPool pool(schedule.servers);
  std::mutex failures_mutex;
  std::string first_failure;  // the recipe that stopped the run under --fail-fast

  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t position; (position = next.fetch_add(1)) < order.size();) {
      const size_t index = order[position];
      RecipeJob job = planned[index].job;
      if (!planned[index].not_run.empty()) {
        lane_done(index, not_run(job, planned[index].not_run));
        continue;
      }
      if (!planned[index].broken.empty()) {
        lane_done(index, broken_lane(job, planned[index].broken));
        continue;
      }
      auto skip = [&](const std::string& why) { lane_done(index, not_started(job, "not started: " + why)); };
      if (auto reason = stop.reason()) {
        skip(*reason);
        continue;
      }
      {
        std::scoped_lock lock(failures_mutex);
        if (!first_failure.empty()) {
          skip("--fail-fast, and " + first_failure + " did not pass");
          continue;
        }
      }
      // Linting deploys nothing, so it takes no server slot.
      const bool deploys = job.lane != Lane::lint;
      const auto server = deploys ? pool.acquire(job.server, stop) : std::optional<std::string>("");
      if (!server) {
        skip(stop.reason().value_or("the run stopped"));
        continue;
      }
      job.server = *server;
      RecipeResult result;
      // Nothing thrown here may end the run (std::terminate in a worker): the
      // test is errored instead. supervise() tears down whatever it deployed.
      const fs::path work = job.events_file.parent_path();
      try {
        // A clean slate. The work folder is private (0700): its ABRA_DIR links
        // to the shared servers, whose env files hold other apps' settings.
        fs::remove_all(work);
        fs::create_directories(work);
        fs::permissions(work.parent_path(), fs::perms::owner_all);
        fs::permissions(work, fs::perms::owner_all);
        fs::create_directories(job.log_file.parent_path());
        fs::remove(job.log_file);
        prepare_abra_dir(job);
        const fs::path job_file = work / "job.json";
        write_file_atomically(job_file, to_json(job).dump(2));
        std::optional<RunningMarker> running;  // keeps the janitor away from the app
        if (deploys) running.emplace(schedule.state_dir, job.domain);
        result = supervise(self, job, job_file, stop, progress);
      } catch (const std::exception& error) {
        if (result.steps.empty()) {
          result = RecipeResult{.recipe = job.recipe, .server = job.server, .domain = job.domain};
          result.steps.push_back({.phase = deploys ? Phase::deploy : Phase::lint,
                                  .name = "prepare the test",
                                  .status = Status::errored,
                                  .message = std::string("cc-ci could not run this test: ") + error.what()});
        }
      }
      std::error_code ignored;
      fs::remove_all(work, ignored);
      if (deploys) pool.release(*server);
      const bool failed =
          overall_status(result.steps) == Status::failed || overall_status(result.steps) == Status::errored;
      lane_done(index, std::move(result));
      if (schedule.fail_fast && failed) {
        std::scoped_lock lock(failures_mutex);
        if (first_failure.empty()) first_failure = job.recipe;
      }
    }
  };

  const int threads = std::max(1, std::min<int>(schedule.jobs, static_cast<int>(planned.size())));
  std::vector<std::jthread> pool_threads;
  for (int i = 1; i < threads; ++i) pool_threads.emplace_back(worker);
  worker();
  pool_threads.clear();  // joins

  report.finished_at = std::chrono::system_clock::now();
  report.interrupted = stop.interrupted();
  return report;
}

}  // namespace ccci
