// cc-ci: the command line.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/dll/runtime_symbol_info.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "ccci/abra_client.hpp"
#include "janitor.hpp"
#include "lifecycle.hpp"
#include "plugin_loader.hpp"
#include "progress_view.hpp"
#include "report.hpp"
#include "runner.hpp"
#include "scaffold.hpp"
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
    return {CCCI_BUILD_RECIPES_DIR};
  return {CCCI_PLUGIN_DIR};
}

void add_common_options(CLI::App& command, GivenSettings& given) {
  command
      .add_option("--config", given.config_file, "Settings file (default ./cc-ci.json if present); flags win")
      ->type_name("FILE");
  command
      .add_option("--plugins", given.plugin_paths,
                  "Where the recipe plugins (*.so) are; a directory is searched recursively; repeatable "
                  "[env CC_CI_PLUGIN_PATH, ':'-separated]")
      ->type_name("DIR")
      ->allow_extra_args(false);  // one value per flag: repeat the flag, so recipes after it stay recipes
  command.add_option("--abra", given.abra, "The abra executable [env CC_CI_ABRA; default: abra on PATH]")
      ->type_name("PATH");
  command
      .add_option("--server", given.servers,
                  "abra server to deploy on; repeat it for a pool [env CC_CI_SERVER, ','-separated; default: "
                  "default]")
      ->type_name("NAME")
      ->allow_extra_args(false);
  command
      .add_option("--domain-suffix", given.domain_suffix,
                  "Apps get <recipe[:4]>-<6 hex>.<SUFFIX>; a wildcard certificate should cover it "
                  "[env CC_CI_DOMAIN_SUFFIX]")
      ->type_name("SUFFIX");
  command.add_option("--jobs,-j", given.jobs, "Recipe tests run at the same time (default 1)")
      ->type_name("N");
  command
      .add_option("--report-dir", given.report_dir,
                  "Where results.json, junit.xml and logs go (default ./cc-ci-report)")
      ->type_name("DIR");
  command.add_option("--ca-file", given.ca_file, "Also trust this CA (PEM) for the apps' HTTPS")
      ->type_name("PATH");
  command
      .add_option("--connect-to", given.connect_to,
                  "Send requests for HOST:PORT to CONNECT_HOST:CONNECT_PORT (curl syntax; empty fields match "
                  "anything); repeatable")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  command.add_option("--keep", given.keep, "Skip teardown: never (default), on-failure or always")
      ->type_name("WHEN");
  auto seconds = [&command](const char* name, std::optional<std::chrono::seconds>& target, const char* what) {
    command
        .add_option_function<long long>(
            name, [&target](long long value) { target = std::chrono::seconds(value); }, what)
        ->type_name("S")
        ->check(CLI::PositiveNumber);
  };
  seconds("--timeout-deploy", given.timeouts.deploy,
          "Seconds for the deploy phase (default: the plugin's, else 900)");
  seconds("--timeout-probe", given.timeouts.probe,
          "Seconds for readiness and checks (default: the plugin's, else 300)");
  command
      .add_option_function<long long>(
          "--timeout", [&given](long long value) { given.run_timeout = std::chrono::seconds(value); },
          "Seconds for the whole run; then running tests are stopped and torn down (default: none)")
      ->type_name("S")
      ->check(CLI::PositiveNumber);
  command
      .add_option("--history", given.history,
                  "A previous report dir (or results.json): start the longest recipes first")
      ->type_name("DIR");
  command.add_flag_function(
      "--fail-fast", [&given](std::int64_t) { given.fail_fast = true; },
      "After a recipe fails, start no more (running ones finish and are torn down)");
  command
      .add_option("--retries", given.retries,
                  "Run a probe check that did not pass up to N more times; one that passes then is "
                  "reported as flaky (default 0)")
      ->type_name("N");
  seconds("--timeout-teardown", given.timeouts.teardown,
          "Seconds for teardown (default: the plugin's, else 300)");
}

// The checks a plugin declares, found by walking it dry.
std::vector<std::string> declared_checks(RecipeTest& test, const RecipeJob& job) {
  std::vector<std::string> checks;
  plan_lifecycle(test, job, [&](Phase, std::string_view line) {
    if (line.starts_with("check: ")) checks.emplace_back(line.substr(7));
  });
  return checks;
}

int command_list(const Settings& settings) {
  const auto plugins = load_plugins(settings.plugin_paths);
  if (plugins.empty()) {
    std::cout << "no recipe plugins found in";
    for (const auto& path : settings.plugin_paths) std::cout << ' ' << path.string();
    std::cout << '\n';
    return kExitPassed;
  }
  Settings listing = settings;
  if (listing.domain_suffix.empty()) listing.domain_suffix = "example.test";
  for (const auto& entry : plan_run(plugins, {}, listing)) {
    std::string tags;
    for (const auto& tag : entry.info.tags) tags += (tags.empty() ? "" : ", ") + tag;
    std::cout << entry.job.recipe << "  (" << entry.plugin->file().string() << ")\n";
    if (!tags.empty()) std::cout << "  tags: " << tags << '\n';
    std::cout << "  ready when: GET " << entry.info.ready.path << " answers " << entry.info.ready.status
              << '\n';
    for (const auto& check : declared_checks(*entry.plugin->create(), entry.job))
      std::cout << "  check: " << check << '\n';
  }
  return kExitPassed;
}

int command_plan(Settings settings, const std::vector<std::string>& recipes) {
  const bool placeholder_suffix = settings.domain_suffix.empty();
  if (placeholder_suffix) settings.domain_suffix = "example.test";
  const auto plugins = load_plugins(settings.plugin_paths);
  const auto planned = plan_run(plugins, recipes, settings);
  std::cout << "plan: " << planned.size() << " recipe test(s), " << settings.jobs
            << " at a time; nothing below is run\n";
  if (placeholder_suffix) std::cout << "note: no --domain-suffix given; domains below use example.test\n";
  for (const auto& entry : planned) {
    const RecipeJob& job = entry.job;
    std::cout << '\n'
              << job.recipe << " on server " << job.server << " as " << job.domain << '\n'
              << "  plugin   " << job.plugin_file.string() << '\n'
              << "  ABRA_DIR " << job.abra.abra_dir << '\n';
    Phase shown = Phase::teardown;
    bool first = true;
    plan_lifecycle(*entry.plugin->create(), job, [&](Phase phase, std::string_view line) {
      if (first || phase != shown) {
        const auto timeout = phase == Phase::deploy  ? job.timeouts.deploy
                             : phase == Phase::probe ? job.timeouts.probe
                                                     : job.timeouts.teardown;
        std::cout << "  " << to_string(phase) << " (timeout " << timeout.count() << "s)\n";
        shown = phase;
        first = false;
      }
      std::cout << "    " << line << '\n';
    });
    if (job.keep != KeepPolicy::never)
      std::cout << "  (teardown is skipped under --keep " << to_string(job.keep) << ")\n";
  }
  return kExitPassed;
}

int command_run(const Settings& settings, const std::vector<std::string>& recipes) {
  if (settings.domain_suffix.empty())
    throw UsageError(
        "no domain suffix: give --domain-suffix (e.g. ci.example.org), CC_CI_DOMAIN_SUFFIX, or "
        "\"domain_suffix\" in cc-ci.json");
  // All plugins load and pass their checks on this thread before any test starts.
  const auto plugins = load_plugins(settings.plugin_paths);
  if (plugins.empty()) throw UsageError("no recipe plugins found; give --plugins DIR");
  const auto planned = plan_run(plugins, recipes, settings);
  const std::string run_id = new_run_id();

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  std::cout << "cc-ci run " << run_id << ": " << planned.size() << " recipe test(s), " << settings.jobs
            << " at a time; report in " << settings.report_dir.string() << std::endl;
  const auto view = make_progress_view(planned.size());
  const RunStop stop(g_interrupt, settings.run_timeout);
  const Schedule schedule{.jobs = settings.jobs,
                          .servers = settings.servers,
                          .fail_fast = settings.fail_fast,
                          .order = longest_first(planned, settings.history),
                          .state_dir = default_state_dir()};
  RunReport report = run_planned(self_executable(), planned, schedule, stop, view->callbacks(), run_id);
  view->finish();
  write_reports(report, settings.report_dir);

  int passed = 0, failed = 0, errored = 0, skipped = 0, flaky = 0;
  for (const auto& recipe : report.recipes) {
    passed += recipe.status == Status::passed;
    flaky += recipe.status == Status::flaky;
    failed += recipe.status == Status::failed;
    errored += recipe.status == Status::errored;
    skipped += recipe.status == Status::skipped;
    std::cout << recipe.recipe << ": " << to_string(recipe.status) << ", level " << recipe.level << " ("
              << recipe.level_reason << ")" << std::endl;
    if (!recipe.kept.empty()) std::cout << "  " << recipe.kept << std::endl;
  }
  std::cout << "summary: " << passed << " passed, " << failed << " failed, " << errored << " errored, "
            << skipped << " skipped" << (flaky > 0 ? ", " + std::to_string(flaky) + " flaky" : std::string())
            << "; " << (settings.report_dir / "results.json").string() << std::endl;
  if (report.interrupted) {
    std::cerr << "cc-ci: interrupted; teardown done where deploy was attempted" << std::endl;
    return kExitInterrupted;
  }
  return failed + errored > 0 ? kExitFailed : kExitPassed;
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
  return failures > 0 ? kExitFailed : kExitPassed;
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
  list->add_option("--plugins", given.plugin_paths,
                   "Where the recipe plugins (*.so) are [env CC_CI_PLUGIN_PATH]")
      ->type_name("DIR");
  list->add_option("--config", given.config_file, "Settings file (default ./cc-ci.json if present)")
      ->type_name("FILE");
  auto* plan =
      app.add_subcommand("plan", "Dry run: print every abra command and probe a run would do, in order");
  auto* run = app.add_subcommand("run", "Deploy, probe and tear down the recipes (all when none is named)");
  for (auto* command : {plan, run}) {
    add_common_options(*command, given);
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
  janitor->add_option("--abra", given.abra, "The abra executable [env CC_CI_ABRA]")->type_name("PATH");
  janitor
      ->add_option("--domain-suffix", given.domain_suffix,
                   "The suffix cc-ci runs use [env CC_CI_DOMAIN_SUFFIX]")
      ->type_name("SUFFIX");
  janitor->add_option("--config", given.config_file, "Settings file (default ./cc-ci.json if present)")
      ->type_name("FILE");
  janitor->add_flag("--dry-run", janitor_dry_run, "Only say what would be removed");
  auto* exec_one = app.add_subcommand("exec-one", "Run one recipe test for the host (internal)");
  exec_one->group("");  // hidden from --help
  exec_one->add_option("--job", job_file, "The job file")->required();

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
    if (exec_one->parsed()) return execute_job_file(job_file);
    if (new_recipe->parsed()) {
      for (const auto& file : scaffold_recipe(new_recipe_name, new_recipe_dir))
        std::cout << "wrote " << file.string() << '\n';
      std::cout << "next: cd " << (std::filesystem::path(new_recipe_dir) / new_recipe_name).string()
                << " && meson setup build && ninja -C build && cc-ci plan --plugins build " << new_recipe_name
                << '\n';
      return kExitPassed;
    }
    const Settings settings = resolve_settings(given, default_plugin_paths());
    if (list->parsed()) return command_list(settings);
    if (janitor->parsed()) return command_janitor(settings, janitor_dry_run);
    if (plan->parsed()) return command_plan(settings, recipes);
    return command_run(settings, recipes);
  } catch (const UsageError& error) {
    std::cerr << "cc-ci: error: " << error.what() << std::endl;
  } catch (const PluginError& error) {
    std::cerr << "cc-ci: error: " << error.what() << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "cc-ci: error: " << error.what() << std::endl;
  }
  return kExitUsage;
}
