#include <unistd.h>

#include <atomic>
#include <boost/dll/runtime_symbol_info.hpp>
#include <csignal>
#include <iostream>
#include <set>

#include "base/markup.hpp"
#include "ccci/abra_client.hpp"
#include "cli/commands.hpp"
#include "cli/progress_view.hpp"
#include "cli/scaffold.hpp"
#include "config/secret_file.hpp"
#include "config/settings.hpp"
#include "forge/bridge.hpp"
#include "forge/pr_publish.hpp"
#include "forge/seal.hpp"
#include "model/result.hpp"
#include "recipe/compose.hpp"
#include "report/artifacts.hpp"
#include "report/dashboard.hpp"
#include "report/report_folder.hpp"
#include "report/results_files.hpp"
#include "run/janitor.hpp"
#include "run/lifecycle.hpp"
#include "run/plugin_loader.hpp"
#include "run/runner.hpp"
#include "run/supervisor.hpp"

namespace ccci {
namespace {

namespace fs = std::filesystem;

std::atomic<int> g_interrupt{0};
std::atomic<int> g_interrupts_seen{0};

// Async-signal-safe: an atomic store and write(2). A second signal does not
// abandon teardown; it says what is going on instead.
extern "C" void on_interrupt(int signal) {
  g_interrupt.store(signal);
  if (g_interrupts_seen.fetch_add(1) == 1) {
    static constexpr char kNotice[] =
        "\ncc-ci: still tearing down the apps that were deployed; interrupt again to leave them "
        "(`cc-ci janitor` removes them later)\n";
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, kNotice, sizeof kNotice - 1);
  } else if (g_interrupts_seen.load() >= 3) {
    static constexpr char kLeft[] =
        "\ncc-ci: stopping without finishing teardown; run `cc-ci janitor` to remove what is left\n";
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, kLeft, sizeof kLeft - 1);
    ::_exit(130);
  }
}

size_t count_recipes(const std::vector<PlannedRecipe>& planned) {
  std::set<std::string> recipes;
  for (const auto& entry : planned) recipes.insert(entry.job.recipe);
  return recipes.size();
}

}  // namespace

fs::path self_executable() {
  return boost::dll::program_location().string();
}

// Plugins next to a build-tree binary are the build's; an installed binary uses the installed ones.
int command_list(const Settings& settings) {
  const auto plugins = load_plugins(settings.plugin_paths, self_executable());
  if (plugins.empty()) {
    std::cout << "no recipe plugins found in";
    for (const auto& path : settings.plugin_paths) std::cout << ' ' << path.string();
    std::cout << '\n';
    return kExitPassed;
  }
  Settings listing = settings;
  if (listing.domain_suffix.empty()) listing.domain_suffix = "example.test";
  const auto planned =
      plan_run(plugins, {}, listing, work_root(default_state_dir(), "RUN-ID"), Targets::skip);
  std::vector<RecipeJob> jobs;
  jobs.reserve(planned.size());
  for (const auto& entry : planned) jobs.push_back(entry.job);
  const auto plans = plan_in_children(self_executable(), jobs);
  for (size_t i = 0; i < planned.size(); ++i) {
    const PlannedRecipe& entry = planned[i];
    std::string tags;
    for (const auto& tag : entry.info.tags) tags += (tags.empty() ? "" : ", ") + tag;
    std::cout << entry.job.recipe << "  (" << entry.plugin->file().string() << ")\n";
    if (!tags.empty()) std::cout << "  tags: " << tags << '\n';
    std::cout << "  ready when: GET " << entry.info.ready.path << " answers "
              << (entry.info.ready.status == kAnyStatus ? std::string("anything from the app itself")
                                                        : std::to_string(entry.info.ready.status))
              << '\n';
    for (const auto& line : plans[i])
      if (line.line.starts_with("check: ")) std::cout << "  " << terminal_text(line.line) << '\n';
  }
  // Every other recipe of the catalogue is the generic plugin's, when there is one.
  const auto generic = std::find_if(plugins.begin(), plugins.end(),
                                    [](const Plugin& plugin) { return plugin.recipe() == kAnyRecipe; });
  if (generic == plugins.end()) return kExitPassed;
  std::vector<std::string> others;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(settings.recipes_from, error)) {
    const std::string name = entry.path().filename().string();
    if (std::filesystem::exists(entry.path() / ".git") &&
        std::none_of(plugins.begin(), plugins.end(),
                     [&](const Plugin& plugin) { return plugin.recipe() == name; }))
      others.push_back(name);
  }
  std::sort(others.begin(), others.end());
  std::cout << "any other recipe  (" << generic->file().string() << ": the generic ladder)\n";
  for (const auto& name : others) std::cout << "  " << name << '\n';
  return kExitPassed;
}

namespace {

// The plan of one lane: where and what it deploys.
void print_lane_header(const RecipeJob& job) {
  std::cout << '\n'
            << job.recipe << ", " << to_string(job.lane) << " lane"
            << (job.lane == Lane::lint ? std::string(" (deploys nothing)")
                                       : " on server " + job.server + " as " + job.domain)
            << '\n'
            << (job.lane == Lane::upgrade ? "  from     " + job.abra.deploy.version + " (app new at it)\n"
                                          : "")
            << "  plugin   " << job.plugin_file.string() << '\n'
            << "  ABRA_DIR " << job.abra.abra_dir << '\n'
            << "  target   " << job.target.describe() << " (ref " << job.target.ref << ", commit "
            << job.target.commit << ")\n"
            << "  previous release "
            << (job.target.previous_release.empty() ? "none" : job.target.previous_release) << '\n'
            << "  checkout git clone " << job.target.repository.string() << " into ABRA_DIR/recipes/"
            << job.recipe << ", at " << job.target.commit.substr(0, 8)
            << (job.target.local_changes ? " plus the working tree's uncommitted changes" : "") << '\n';
}

// The compose files a deploying lane deploys, their services and backups.
void print_lane_layout(const RecipeJob& job) {
  const auto joined = [](const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
    return terminal_text(text);
  };
  // The upgrade lane deploys two revisions: the release it starts from, then the target.
  const bool upgrade = job.lane == Lane::upgrade;
  std::cout << "  compose  " << joined(job.compose.files) << " (COMPOSE_FILE"
            << (upgrade ? " of " + job.abra.deploy.version : "") << ")\n"
            << "  services " << joined(job.compose.services) << '\n';
  if (upgrade)
    std::cout << "  then     " << joined(job.compose_after_move.files) << " (COMPOSE_FILE of "
              << job.target.describe() << "), services " << joined(job.compose_after_move.services) << '\n';
  const auto backups = describe_backups(job.compose);
  if (backups.empty())
    std::cout << "  backups  no service is labelled backupbot.backup=true"
              << (upgrade              ? "\n"
                  : job.backup_surface ? " (the plugin says abra's backup covers the data)\n"
                                       : ": the backup rung does not apply\n");
  for (size_t i = 0; i < backups.size(); ++i)
    std::cout << (i == 0 ? "  backups  " : "           ") << terminal_text(backups[i]) << '\n';
}

// What the lane's child would do, phase by phase, as its dry walk said.
void print_lane_steps(const RecipeJob& job, const std::vector<PlanLine>& plan) {
  Phase shown = Phase::teardown;
  bool first = true;
  for (const auto& [phase, line] : plan) {
    if (first || phase != shown) {
      const auto timeout = phase_timeout(job.timeouts, phase);
      std::cout << "  " << to_string(phase) << " (timeout " << timeout.count() << "s)\n";
      shown = phase;
      first = false;
    }
    std::cout << "    " << terminal_text(line) << '\n';
  }
  if (job.keep != KeepPolicy::never)
    std::cout << "  (teardown is skipped under --keep " << to_string(job.keep) << ")\n";
}

}  // namespace

int command_plan(Settings settings, const std::vector<std::string>& recipes) {
  const bool placeholder_suffix = settings.domain_suffix.empty();
  if (placeholder_suffix) settings.domain_suffix = "example.test";
  const auto plugins = load_plugins(settings.plugin_paths, self_executable());
  const auto planned = plan_run(plugins, recipes, settings, work_root(default_state_dir(), "RUN-ID"));
  std::cout << "plan: " << count_recipes(planned) << " recipe(s) in " << planned.size() << " lane(s), "
            << settings.jobs << " at a time; nothing below is run\n";
  if (placeholder_suffix) std::cout << "note: no --domain-suffix given; domains below use example.test\n";
  std::vector<RecipeJob> walked;  // the lanes that run, walked dry before any is printed
  for (const auto& entry : planned)
    if (entry.not_run.empty() && entry.broken.empty()) walked.push_back(entry.job);
  const auto plans = plan_in_children(self_executable(), walked);
  size_t next_plan = 0;
  for (const auto& entry : planned) {
    const RecipeJob& job = entry.job;
    const std::string lane = std::string(to_string(job.lane)) + " lane";
    if (!entry.not_run.empty()) {
      std::cout << '\n' << job.recipe << ", " << lane << ": not run: " << entry.not_run << '\n';
      continue;
    }
    if (!entry.broken.empty()) {
      std::cout << '\n'
                << job.recipe << ", " << lane << ": fails at once: " << terminal_text(entry.broken) << '\n';
      continue;
    }
    print_lane_header(job);
    if (job.lane != Lane::lint) print_lane_layout(job);
    print_lane_steps(job, plans.at(next_plan++));
  }
  return kExitPassed;
}

namespace {

// The report folder is made fresh, and must be writable, before anything is
// deployed: a run whose report cannot be written would deploy, tear down and
// tell no one; one that wrote into a PR's folder would vouch for it. Returns
// the key the report will be sealed with.
std::string prepare_report(const Settings& settings) {
  std::vector<fs::path> checkouts;
  for (const auto& [recipe, request] : settings.targets)
    if (request.recipe_dir) checkouts.push_back(*request.recipe_dir);
  claim_report_folder(settings.report_dir, checkouts);
  try {
    return seal_key(default_state_dir());
  } catch (const SealError& error) {
    throw UsageError(std::string("cannot seal the report: ") + error.what());
  }
}

// results.json, junit.xml, the pages and the seal; false (said on stderr) when they could not be written.
bool write_run_report(const RunReport& report, const Settings& settings, const std::string& seal_key_text) {
  try {
    write_reports(report, settings.report_dir);
    for (const auto& problem :
         write_artifacts(settings.report_dir, {.dashboard_url = settings.dashboard_url}))
      std::cerr << "cc-ci: warning: " << problem << std::endl;
    seal_report(settings.report_dir, seal_key_text);
    return true;
  } catch (const std::exception& error) {
    // The apps are torn down; say so, and never exit 0 without a report.
    std::cerr << "cc-ci: error: the run finished but its report could not be written: " << error.what()
              << std::endl;
    return false;
  }
}

// One line per recipe, the summary line, and the exit code.
int print_verdict(const RunReport& report, const Settings& settings) {
  for (const auto& recipe : report.recipes) {
    std::cout << terminal_text(recipe.recipe + ": " + std::string(to_string(recipe.status)) + ", level " +
                               std::to_string(recipe.level) + " (" + recipe.level_reason + ")")
              << std::endl;
    if (!recipe.kept.empty()) std::cout << "  " << terminal_text(recipe.kept) << std::endl;
  }
  const StatusCounts counts = count_statuses(report);
  std::cout << "summary: " << counts.passed << " passed, " << counts.failed << " failed, " << counts.errored
            << " errored, " << counts.skipped << " skipped"
            << (counts.flaky > 0 ? ", " + std::to_string(counts.flaky) + " flaky" : std::string()) << "; "
            << (settings.report_dir / "results.json").string() << std::endl;
  if (report.interrupted) {
    std::cerr << "cc-ci: interrupted; teardown done where deploy was attempted" << std::endl;
    return kExitInterrupted;
  }
  if (counts.skipped > 0)
    std::cerr << "cc-ci: " << counts.skipped << " recipe test(s) did not run; the run does not pass"
              << std::endl;
  return run_passed(report) ? kExitPassed : kExitFailed;
}

}  // namespace

int command_run(const Settings& settings, const std::vector<std::string>& recipes) {
  // From the start: a signal while plugins load still ends in a report and 130.
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  std::signal(SIGHUP, on_interrupt);  // a closed terminal or SSH session: tear down, as for Ctrl-C
  std::signal(SIGPIPE, SIG_IGN);      // a reader of our output that went away is no reason to leak apps
  if (settings.domain_suffix.empty())
    throw UsageError(
        "no domain suffix: give --domain-suffix (e.g. ci.example.org), CC_CI_DOMAIN_SUFFIX, or "
        "\"domain_suffix\" in cc-ci.json");
  const std::string seal_key_text = prepare_report(settings);
  // All plugins load and pass their checks before any test starts.
  const auto plugins = load_plugins(settings.plugin_paths, self_executable());
  if (plugins.empty()) throw UsageError("no recipe plugins found; give --plugins DIR");
  const std::string run_id = new_run_id();
  const auto planned = plan_run(plugins, recipes, settings, work_root(default_state_dir(), run_id));

  std::cout << "cc-ci run " << run_id << ": " << count_recipes(planned) << " recipe test(s) in "
            << planned.size() << " lane(s), " << settings.jobs << " at a time; report in "
            << settings.report_dir.string() << std::endl;
  const auto view = make_progress_view(count_recipes(planned));
  const RunStop stop(g_interrupt, settings.run_timeout);
  const Schedule schedule{.jobs = settings.jobs,
                          .servers = settings.servers,
                          .fail_fast = settings.fail_fast,
                          .order = longest_first(planned, settings.history),
                          .state_dir = default_state_dir()};
  RunReport report = run_planned(self_executable(), planned, schedule, stop, view->callbacks(), run_id);
  view->finish();
  std::error_code ignored;
  std::filesystem::remove_all(work_root(default_state_dir(), run_id), ignored);
  if (!write_run_report(report, settings, seal_key_text))
    return report.interrupted ? kExitInterrupted : kExitFailed;
  return print_verdict(report, settings);
}

}  // namespace ccci
