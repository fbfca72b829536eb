// cc-ci: the command line.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/dll/runtime_symbol_info.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <set>

#include "artifacts.hpp"
#include "bridge.hpp"
#include "ccci/abra_client.hpp"
#include "compose.hpp"
#include "dashboard.hpp"
#include "janitor.hpp"
#include "lifecycle.hpp"
#include "markup.hpp"
#include "plugin_loader.hpp"
#include "pr_publish.hpp"
#include "progress_view.hpp"
#include "report.hpp"
#include "report_folder.hpp"
#include "runner.hpp"
#include "scaffold.hpp"
#include "seal.hpp"
#include "secret_file.hpp"
#include "settings.hpp"
#include "supervisor.hpp"

namespace ccci {
namespace {

namespace fs = std::filesystem;

constexpr int kExitPassed = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

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

fs::path self_executable() {
  return boost::dll::program_location().string();
}

// Plugins next to a build-tree binary are the build's; an installed binary uses the installed ones.
std::vector<fs::path> default_plugin_paths() {
  std::error_code error;
  if (fs::equivalent(self_executable().parent_path(), CCCI_BUILD_CORE_DIR, error))
    return {CCCI_BUILD_RECIPES_DIR, CCCI_BUILD_PLUGINS_DIR};
  return {CCCI_PLUGIN_DIR};
}

// Adds the settings named by `keys` (every run setting when empty) to `command`, straight
// from the settings table, so flags, --help and the config file never drift.
void add_settings(CLI::App& command, GivenSettings& given,
                  std::initializer_list<std::string_view> keys = {}) {
  command
      .add_option("--config", given.config_file,
                  "Settings as JSON, keys as in the settings table [env CC_CI_CONFIG]; flags win. "
                  "./cc-ci.json is never read unless named: it may belong to a checkout under test")
      ->type_name("FILE");
  for (const auto& spec : settings_table()) {
    if (keys.size() == 0 ? spec.group != SettingGroup::run
                         : std::find(keys.begin(), keys.end(), spec.key) == keys.end())
      continue;
    std::string names(spec.flag);
    if (spec.key == "jobs") names += ",-j";
    const std::string help = std::string(spec.help) + " [env " + std::string(spec.env) + "; config \"" +
                             std::string(spec.key) + "\"; default: " + std::string(spec.fallback) + "]";
    auto& values = given.flags[std::string(spec.key)];
    if (spec.kind == SettingKind::flag) {
      command.add_flag_function(
          names, [&values](std::int64_t) { values = {"true"}; }, help);
    } else if (spec.kind == SettingKind::list) {
      // One value per flag: repeat the flag, so recipes after it stay recipes.
      command.add_option(names, values, help)
          ->type_name(std::string(spec.value_name))
          ->allow_extra_args(false);
    } else {
      command
          .add_option_function<std::string>(
              names, [&values](const std::string& value) { values = {value}; }, help)
          ->type_name(std::string(spec.value_name));
    }
  }
}

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
  for (const auto& entry :
       plan_run(plugins, {}, listing, work_root(default_state_dir(), "RUN-ID"), Targets::skip)) {
    std::string tags;
    for (const auto& tag : entry.info.tags) tags += (tags.empty() ? "" : ", ") + tag;
    std::cout << entry.job.recipe << "  (" << entry.plugin->file().string() << ")\n";
    if (!tags.empty()) std::cout << "  tags: " << tags << '\n';
    std::cout << "  ready when: GET " << entry.info.ready.path << " answers "
              << (entry.info.ready.status == kAnyStatus ? std::string("anything from the app itself")
                                                        : std::to_string(entry.info.ready.status))
              << '\n';
    for (const auto& line : plan_in_child(self_executable(), entry.job))
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

size_t count_recipes(const std::vector<PlannedRecipe>& planned) {
  std::set<std::string> recipes;
  for (const auto& entry : planned) recipes.insert(entry.job.recipe);
  return recipes.size();
}

int command_plan(Settings settings, const std::vector<std::string>& recipes) {
  const bool placeholder_suffix = settings.domain_suffix.empty();
  if (placeholder_suffix) settings.domain_suffix = "example.test";
  const auto plugins = load_plugins(settings.plugin_paths, self_executable());
  const auto planned = plan_run(plugins, recipes, settings, work_root(default_state_dir(), "RUN-ID"));
  std::cout << "plan: " << count_recipes(planned) << " recipe(s) in " << planned.size() << " lane(s), "
            << settings.jobs << " at a time; nothing below is run\n";
  if (placeholder_suffix) std::cout << "note: no --domain-suffix given; domains below use example.test\n";
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
    std::cout << '\n'
              << job.recipe << ", " << lane
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
    if (job.lane != Lane::lint) {
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
                  << job.target.describe() << "), services " << joined(job.compose_after_move.services)
                  << '\n';
      const auto backups = describe_backups(job.compose);
      if (backups.empty())
        std::cout << "  backups  no service is labelled backupbot.backup=true"
                  << (upgrade              ? "\n"
                      : job.backup_surface ? " (the plugin says abra's backup covers the data)\n"
                                           : ": the backup rung does not apply\n");
      for (size_t i = 0; i < backups.size(); ++i)
        std::cout << (i == 0 ? "  backups  " : "           ") << terminal_text(backups[i]) << '\n';
    }
    Phase shown = Phase::teardown;
    bool first = true;
    for (const auto& [phase, line] : plan_in_child(self_executable(), job)) {
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
  return kExitPassed;
}

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
  // The report folder is made fresh, and must be writable, before anything
  // is deployed: a run whose report cannot be written would deploy, tear down
  // and tell no one; one that wrote into a PR's folder would vouch for it.
  std::vector<fs::path> checkouts;
  for (const auto& [recipe, request] : settings.targets)
    if (request.recipe_dir) checkouts.push_back(*request.recipe_dir);
  claim_report_folder(settings.report_dir, checkouts);
  std::string seal_key_text;
  try {
    seal_key_text = seal_key(default_state_dir());
  } catch (const SealError& error) {
    throw UsageError(std::string("cannot seal the report: ") + error.what());
  }
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
  try {
    write_reports(report, settings.report_dir);
    for (const auto& problem :
         write_artifacts(settings.report_dir, {.dashboard_url = settings.dashboard_url}))
      std::cerr << "cc-ci: warning: " << problem << std::endl;
    seal_report(settings.report_dir, seal_key_text);
  } catch (const std::exception& error) {
    // The apps are torn down; say so, and never exit 0 without a report.
    std::cerr << "cc-ci: error: the run finished but its report could not be written: " << error.what()
              << std::endl;
    return report.interrupted ? kExitInterrupted : kExitFailed;
  }

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

int command_janitor(const Settings& settings, bool dry_run) {
  if (settings.domain_suffix.empty())
    throw UsageError(
        "no domain suffix: the janitor only removes apps named <recipe[:4]>-<6 hex>.<suffix>; give "
        "--domain-suffix, CC_CI_DOMAIN_SUFFIX or \"domain_suffix\" in cc-ci.json");
  const auto abra_dir = default_abra_dir();
  const auto leftovers = find_leftovers(abra_dir, settings.domain_suffix, default_state_dir());
  if (leftovers.empty()) {
    std::cout << "janitor: nothing left behind under " << (abra_dir / "servers").string() << std::endl;
    if (!dry_run)
      for (const auto& domain : remove_dead_markers(default_state_dir()))
        std::cout << "janitor: removed the stale running marker of " << domain << std::endl;
    return kExitPassed;
  }
  Redactor redactor;
  AbraClient abra({.executable = settings.abra}, redactor, [](std::string_view) {});
  int failures = 0;
  for (const auto& leftover : leftovers) {
    if (dry_run) {
      std::cout << "janitor: would remove " << leftover.domain << " on " << leftover.server << std::endl;
      continue;
    }
    try {
      const bool was_deployed = abra.undeploy(leftover.domain);
      abra.remove(leftover.domain);
      std::cout << "janitor: removed " << leftover.domain << " on " << leftover.server
                << (was_deployed ? " (it was still deployed)" : "") << std::endl;
    } catch (const std::exception& error) {
      ++failures;
      std::cout << "janitor: could not remove " << leftover.domain << ": " << error.what() << std::endl;
    }
  }
  if (!dry_run)
    for (const auto& domain : remove_dead_markers(default_state_dir()))
      std::cout << "janitor: removed the stale running marker of " << domain << std::endl;
  return failures > 0 ? kExitFailed : kExitPassed;
}

int command_report(const std::filesystem::path& folder, const Settings& settings) {
  try {
    // A sealed report is sealed again only if it still is what its run wrote:
    // rewriting must never launder a changed folder into a publishable one.
    const bool sealed = fs::exists(fs::symlink_status(folder / kSealFile));
    const std::string key = sealed ? existing_seal_key(default_state_dir()) : std::string();
    if (sealed) verify_seal(folder, key, is_artifact);
    const auto problems = write_artifacts(folder, {.dashboard_url = settings.dashboard_url});
    for (const auto& problem : problems) std::cerr << "cc-ci: warning: " << problem << std::endl;
    if (sealed) seal_report(folder, key);
    std::cout << "wrote index.html, summary.md, badge.svg, card.svg"
              << (std::filesystem::exists(folder / "card.png") ? ", card.png" : "") << " and badges/ in "
              << folder.string()
              << (sealed ? ", and sealed it again" : " (not sealed: cc-ci gitea will not post it)")
              << std::endl;
    return kExitPassed;
  } catch (const std::exception& error) {
    throw UsageError(error.what());
  }
}

int command_dashboard(const std::filesystem::path& root) {
  if (!std::filesystem::is_directory(root)) throw UsageError(root.string() + ": not a folder");
  try {
    for (const auto& skipped : write_dashboard(root)) std::cerr << "cc-ci: warning: " << skipped << std::endl;
  } catch (const std::exception& error) {
    throw UsageError(error.what());
  }
  std::cout << "wrote " << (root / "index.html").string() << std::endl;
  return kExitPassed;
}

struct GiteaCommand {
  std::string report_dir;
  std::string repo;
  long long pr = 0;
  std::string commit;
};

int command_gitea(const GiteaCommand& command, const Settings& settings) {
  const auto repo = RepoName::parse(command.repo);
  if (!repo) throw UsageError("--repo \"" + command.repo + "\": expected OWNER/NAME");
  // --commit (required) is the commit the CI engine says it built: a report only ever speaks for it.
  if (auto problem = commit_id_problem(command.commit)) throw UsageError("--commit " + *problem);
  if (settings.forge.gitea_url.empty()) throw UsageError("give --gitea-url (the Gitea server)");
  const GiteaClient gitea(settings.forge.gitea_url,
                          read_secret(settings.forge.gitea_token_file, "gitea-token", "--gitea-token-file"));
  PublishRequest request{.repo = *repo, .commit = command.commit, .dashboard_url = settings.dashboard_url};
  if (command.pr > 0) request.pr = command.pr;
  try {
    // Only what a `cc-ci run` on this host wrote, unchanged, is ever posted.
    // Without it the commit was not tested: it says so, and never keeps the
    // bridge's pending status.
    try {
      verify_seal(command.report_dir, existing_seal_key(default_state_dir()));
    } catch (const SealError& error) {
      std::cerr << "cc-ci: error: not publishing: " << error.what() << std::endl;
      std::cout << "cc-ci gitea: " << mark_not_tested(gitea, request) << std::endl;
      return kExitFailed;
    }
    for (const auto& line : publish_to_gitea(command.report_dir, gitea, request))
      std::cout << "cc-ci gitea: " << line << std::endl;
  } catch (const ForgeError& error) {
    std::cerr << "cc-ci: error: " << error.what() << std::endl;
    return kExitFailed;
  } catch (const HttpError& error) {
    std::cerr << "cc-ci: error: Gitea did not answer: " << error.what() << std::endl;
    return kExitFailed;
  } catch (const std::runtime_error& error) {
    throw UsageError(error.what());
  }
  return kExitPassed;
}

int command_bridge(const Settings& settings) {
  const ForgeSettings& forge = settings.forge;
  if (forge.gitea_url.empty()) throw UsageError("give --gitea-url (the Gitea server the webhooks come from)");
  if (forge.ci_engine.empty()) throw UsageError("give --ci-engine (woodpecker or drone)");
  if (forge.ci_url.empty()) throw UsageError("give --ci-url (the " + forge.ci_engine + " server)");
  if (forge.bridge_state.empty())
    throw UsageError("give --bridge-state FILE (where the bridge records the commits it started builds for)");
  const std::string secret =
      read_secret(forge.webhook_secret_file, "webhook-secret", "--webhook-secret-file");
  const GiteaClient gitea(forge.gitea_url,
                          read_secret(forge.gitea_token_file, "gitea-token", "--gitea-token-file"));
  const auto engine = make_ci_engine(forge.ci_engine, forge.ci_url,
                                     read_secret(forge.ci_token_file, "ci-token", "--ci-token-file"));
  std::unique_ptr<BridgeState> state;
  try {
    state = std::make_unique<BridgeState>(forge.bridge_state, BridgeClock::now());
  } catch (const std::runtime_error& error) {
    throw UsageError(std::string("--bridge-state ") + error.what());
  }
  Bridge bridge(secret, gitea, *engine, *state);
  try {
    serve_bridge(forge.listen, bridge, [&](const std::string& address) {
      std::cerr << "cc-ci bridge: listening on " << address << " (POST /hook), starting " << engine->name()
                << " builds at " << forge.ci_url << std::endl;
    });
  } catch (const std::runtime_error& error) {
    throw UsageError(error.what());
  }
  std::cerr << "cc-ci bridge: stopped" << std::endl;
  return kExitPassed;
}

}  // namespace
}  // namespace ccci

int main(int argc, char** argv) {
  using namespace ccci;

  CLI::App app{
      "cc-ci proves that Co-op Cloud recipes deploy, serve and tear down cleanly.\n"
      "It loads one plugin per recipe, deploys each app with abra, probes it over HTTPS,\n"
      "always tears it down, and writes results.json and junit.xml.\n\n"
      "Exit codes: 0 all passed; 1 a recipe failed or errored; 2 usage, configuration or\n"
      "plugin error; 130 interrupted (after teardown).",
      "cc-ci"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cc-ci " CCCI_VERSION);

  GivenSettings given;
  std::vector<std::string> recipes;
  std::string job_file;

  auto* list = app.add_subcommand("list", "List the recipes the plugins test, with their checks and tags");
  add_settings(*list, given, {"plugins"});
  auto* plan =
      app.add_subcommand("plan", "Dry run: print every abra command and probe a run would do, in order");
  auto* run = app.add_subcommand("run", "Deploy, probe and tear down the recipes (all when none is named)");
  for (auto* command : {plan, run}) {
    add_settings(*command, given);
    command->add_option("recipes", recipes, "Recipes to test (default: every plugin found)")
        ->type_name("RECIPE");
  }
  std::string new_recipe_name;
  std::string new_recipe_dir = ".";
  auto* new_recipe = app.add_subcommand(
      "new-recipe", "Write a buildable, out-of-tree plugin project for a recipe, to fill in with checks");
  new_recipe->add_option("name", new_recipe_name, "The abra recipe's name, e.g. my-app")->required();
  new_recipe->add_option("--dir", new_recipe_dir, "Where the project folder goes (default: here)")
      ->type_name("DIR");
  bool janitor_dry_run = false;
  auto* janitor = app.add_subcommand(
      "janitor",
      "Remove apps that earlier, killed runs left behind (named like cc-ci names them, no live run)");
  add_settings(*janitor, given, {"abra", "domain_suffix"});
  janitor->add_flag("--dry-run", janitor_dry_run, "Only say what would be removed");
  std::string report_folder;
  auto* report_command = app.add_subcommand(
      "report",
      "Write the run page (index.html), summary.md, badge.svg, card.svg, card.png and badges/ "
      "again from a report folder's results.json");
  report_command->add_option("dir", report_folder, "The report folder (its results.json is read)")
      ->type_name("DIR")
      ->required();
  add_settings(*report_command, given, {"dashboard_url"});
  std::string dashboard_root;
  auto* dashboard_command = app.add_subcommand(
      "dashboard",
      "Write ROOT/index.html: every recipe's latest level and history over the report folders in ROOT");
  dashboard_command->add_option("root", dashboard_root, "The folder holding one report folder per run")
      ->type_name("ROOT")
      ->required();
  GiteaCommand gitea_args;
  auto* gitea_command = app.add_subcommand(
      "gitea",
      "Post a run's result on its pull request: one comment (summary.md), edited in place by later "
      "runs, and a commit status cc-ci/<recipe> per recipe");
  gitea_command->add_option("dir", gitea_args.report_dir, "The report folder (results.json, summary.md)")
      ->type_name("DIR")
      ->required();
  gitea_command->add_option("--repo", gitea_args.repo, "The recipe's repository on Gitea")
      ->type_name("OWNER/NAME")
      ->required();
  gitea_command
      ->add_option("--pr", gitea_args.pr, "The pull request to comment on (none: set the statuses only)")
      ->type_name("N")
      ->check(CLI::Range(1LL, 1'000'000'000LL));
  gitea_command
      ->add_option("--commit", gitea_args.commit,
                   "The commit the CI engine built; the statuses go on it, and the run must have tested it")
      ->type_name("SHA")
      ->required();
  add_settings(*gitea_command, given, {"gitea_url", "gitea_token_file", "dashboard_url"});
  auto* bridge_command = app.add_subcommand(
      "bridge",
      "Take Gitea's issue_comment webhook and start one CI build per PR commit for a signed `!testme` "
      "from a user with write access");
  add_settings(*bridge_command, given,
               {"gitea_url", "gitea_token_file", "webhook_secret_file", "ci_engine", "ci_url",
                "ci_token_file", "listen", "bridge_state"});
  auto* settings_command = app.add_subcommand(
      "settings", "Print the settings table (flags, environment, config keys) as Markdown");
  auto* exec_one = app.add_subcommand("exec-one", "Run one recipe test for the host (internal)");
  exec_one->group("");  // hidden from --help
  exec_one->add_option("--job", job_file, "The job file");
  int secrets_fd = -1;
  exec_one->add_option("--secrets-fd", secrets_fd, "The host's pipe for secrets");
  std::string describe_file;
  exec_one->add_option("--describe", describe_file, "Describe this plugin file (recipe, info) as JSON");
  bool plan_only = false;
  exec_one->add_flag("--plan", plan_only, "Walk the job dry and write its plan as JSON");
  std::string answer_file;
  exec_one->add_option("--answer", answer_file, "Where --describe and --plan write their answer");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    std::cerr << "cc-ci: error: " << error.what() << " (see cc-ci --help)" << std::endl;
    return kExitUsage;
  }

  try {
    if (exec_one->parsed()) {
      if (!describe_file.empty()) return describe_plugin(describe_file, answer_file);
      if (plan_only) return plan_job(job_file, answer_file);
      return execute_job_file(job_file, secrets_fd);
    }
    if (settings_command->parsed()) {
      std::cout << settings_markdown();
      return kExitPassed;
    }
    if (new_recipe->parsed()) {
      for (const auto& file : scaffold_recipe(new_recipe_name, new_recipe_dir))
        std::cout << "wrote " << file.string() << '\n';
      std::cout << "next: cd " << (std::filesystem::path(new_recipe_dir) / new_recipe_name).string()
                << " && meson setup build && ninja -C build && cc-ci plan --plugins build " << new_recipe_name
                << '\n';
      return kExitPassed;
    }
    const Settings settings = resolve_settings(given, default_plugin_paths());
    if (report_command->parsed()) return command_report(report_folder, settings);
    if (dashboard_command->parsed()) return command_dashboard(dashboard_root);
    if (gitea_command->parsed()) return command_gitea(gitea_args, settings);
    if (bridge_command->parsed()) return command_bridge(settings);
    if (list->parsed()) return command_list(settings);
    if (janitor->parsed()) return command_janitor(settings, janitor_dry_run);
    if (plan->parsed()) return command_plan(settings, recipes);
    return command_run(settings, recipes);
  } catch (const UsageError& error) {
    // It may quote the change under test (a name, a path): never a terminal's escape.
    std::cerr << "cc-ci: error: " << terminal_text(error.what()) << std::endl;
  } catch (const PluginError& error) {
    std::cerr << "cc-ci: error: " << error.what() << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "cc-ci: error: " << error.what() << std::endl;
  }
  return kExitUsage;
}
