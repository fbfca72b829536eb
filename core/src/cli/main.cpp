// cc-ci: the command line.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
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

// What the command line said: each subcommand, and the values its options fill.
struct CommandLine {
  GivenSettings given;
  std::vector<std::string> recipes;
  CLI::App* list = nullptr;
  CLI::App* plan = nullptr;
  CLI::App* run = nullptr;
  CLI::App* new_recipe = nullptr;
  std::string new_recipe_name;
  std::string new_recipe_dir = ".";
  CLI::App* janitor = nullptr;
  bool janitor_dry_run = false;
  CLI::App* report = nullptr;
  std::string report_folder;
  CLI::App* dashboard = nullptr;
  std::string dashboard_root;
  CLI::App* gitea = nullptr;
  GiteaCommand gitea_args;
  CLI::App* bridge = nullptr;
  CLI::App* settings = nullptr;
  CLI::App* exec_one = nullptr;  // the host's own: a lane child, a plugin's description, a dry walk
  std::string job_file;
  int secrets_fd = -1;
  int host_fd = -1;
  std::vector<std::string> describe_files;
  bool plan_only = false;
  std::string answer_file;
};

// list, plan, run, new-recipe and janitor: what a maintainer types.
void add_run_commands(CLI::App& app, CommandLine& line) {
  line.list = app.add_subcommand("list", "List the recipes the plugins test, with their checks and tags");
  add_settings(*line.list, line.given, {"plugins"});
  line.plan =
      app.add_subcommand("plan", "Dry run: print every abra command and probe a run would do, in order");
  line.run = app.add_subcommand("run", "Deploy, probe and tear down the recipes (all when none is named)");
  for (auto* command : {line.plan, line.run}) {
    add_settings(*command, line.given);
    command->add_option("recipes", line.recipes, "Recipes to test (default: every plugin found)")
        ->type_name("RECIPE");
  }
  line.new_recipe = app.add_subcommand(
      "new-recipe", "Write a buildable, out-of-tree plugin project for a recipe, to fill in with checks");
  line.new_recipe->add_option("name", line.new_recipe_name, "The abra recipe's name, e.g. my-app")
      ->required();
  line.new_recipe->add_option("--dir", line.new_recipe_dir, "Where the project folder goes (default: here)")
      ->type_name("DIR");
  line.janitor = app.add_subcommand(
      "janitor",
      "Remove apps that earlier, killed runs left behind (named like cc-ci names them, no live run)");
  add_settings(*line.janitor, line.given, {"abra", "domain_suffix"});
  line.janitor->add_flag("--dry-run", line.janitor_dry_run, "Only say what would be removed");
}

// report and dashboard: the pages a run leaves, written again.
void add_report_commands(CLI::App& app, CommandLine& line) {
  line.report = app.add_subcommand(
      "report",
      "Write the run page (index.html), summary.md, badge.svg, card.svg, card.png and badges/ "
      "again from a report folder's results.json");
  line.report->add_option("dir", line.report_folder, "The report folder (its results.json is read)")
      ->type_name("DIR")
      ->required();
  add_settings(*line.report, line.given, {"dashboard_url"});
  line.dashboard = app.add_subcommand(
      "dashboard",
      "Write ROOT/index.html: every recipe's latest level and history over the report folders in ROOT");
  line.dashboard->add_option("root", line.dashboard_root, "The folder holding one report folder per run")
      ->type_name("ROOT")
      ->required();
}

// gitea and bridge: the pull request loop.
void add_forge_commands(CLI::App& app, CommandLine& line) {
  GiteaCommand& gitea = line.gitea_args;
  line.gitea = app.add_subcommand(
      "gitea",
      "Post a run's result on its pull request: one comment (summary.md), edited in place by later "
      "runs, and a commit status cc-ci/<recipe> per recipe");
  line.gitea->add_option("dir", gitea.report_dir, "The report folder (results.json, summary.md)")
      ->type_name("DIR")
      ->required();
  line.gitea->add_option("--repo", gitea.repo, "The recipe's repository on Gitea")
      ->type_name("OWNER/NAME")
      ->required();
  line.gitea->add_option("--pr", gitea.pr, "The pull request to comment on (none: set the statuses only)")
      ->type_name("N")
      ->check(CLI::Range(1LL, 1'000'000'000LL));
  line.gitea
      ->add_option("--commit", gitea.commit,
                   "The commit the CI engine built; the statuses go on it, and the run must have tested it")
      ->type_name("SHA")
      ->required();
  add_settings(*line.gitea, line.given, {"gitea_url", "gitea_token_file", "dashboard_url"});
  line.bridge = app.add_subcommand(
      "bridge",
      "Take Gitea's issue_comment webhook and start one CI build per PR commit for a signed `!testme` "
      "from a user with write access");
  add_settings(*line.bridge, line.given,
               {"gitea_url", "gitea_token_file", "webhook_secret_file", "ci_engine", "ci_url",
                "ci_token_file", "listen", "bridge_state"});
}

// settings, and exec-one: how the host starts its own children (hidden from --help).
void add_internal_commands(CLI::App& app, CommandLine& line) {
  line.settings = app.add_subcommand(
      "settings", "Print the settings table (flags, environment, config keys) as Markdown");
  line.exec_one = app.add_subcommand("exec-one", "Run one recipe test for the host (internal)");
  line.exec_one->group("");
  line.exec_one->add_option("--job", line.job_file, "The job file");
  line.exec_one->add_option("--secrets-fd", line.secrets_fd, "The host's pipe for secrets");
  line.exec_one->add_option("--host-fd", line.host_fd, "The host's socket for requests");
  line.exec_one->add_option("--describe", line.describe_files,
                            "Describe this plugin file (recipe, info) as a JSON line; repeatable");
  line.exec_one->add_flag(
      "--plan", line.plan_only,
      "Walk each job of the --job file (a JSON array) dry and write its plan as a JSON line");
  line.exec_one->add_option("--answer", line.answer_file, "Where --describe and --plan write their answer");
}

// Carries out the subcommand that was parsed; its exit code.
int dispatch(const CommandLine& line) {
  if (line.exec_one->parsed()) {
    if (!line.describe_files.empty())
      return describe_plugins({line.describe_files.begin(), line.describe_files.end()}, line.answer_file);
    if (line.plan_only) return plan_jobs(line.job_file, line.answer_file);
    return execute_job_file(line.job_file, line.secrets_fd, line.host_fd);
  }
  if (line.settings->parsed()) {
    std::cout << settings_markdown();
    return kExitPassed;
  }
  if (line.new_recipe->parsed()) {
    for (const auto& file : scaffold_recipe(line.new_recipe_name, line.new_recipe_dir))
      std::cout << "wrote " << file.string() << '\n';
    std::cout << "next: cd " << (std::filesystem::path(line.new_recipe_dir) / line.new_recipe_name).string()
              << " && meson setup build && ninja -C build && cc-ci plan --plugins build "
              << line.new_recipe_name << '\n';
    return kExitPassed;
  }
  const Settings settings = resolve_settings(line.given, default_plugin_paths());
  if (line.report->parsed()) return command_report(line.report_folder, settings);
  if (line.dashboard->parsed()) return command_dashboard(line.dashboard_root);
  if (line.gitea->parsed()) return command_gitea(line.gitea_args, settings);
  if (line.bridge->parsed()) return command_bridge(settings);
  if (line.list->parsed()) return command_list(settings);
  if (line.janitor->parsed()) return command_janitor(settings, line.janitor_dry_run);
  if (line.plan->parsed()) return command_plan(settings, line.recipes);
  return command_run(settings, line.recipes);
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
  CommandLine line;
  add_run_commands(app, line);
  add_report_commands(app, line);
  add_forge_commands(app, line);
  add_internal_commands(app, line);

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
    return dispatch(line);
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
