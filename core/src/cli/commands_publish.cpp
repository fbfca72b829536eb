#include <iostream>

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

namespace fs = std::filesystem;

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

}  // namespace ccci
