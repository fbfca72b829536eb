// The settings table: every setting once, with its flag, environment
// variable, config key, kind, bounds, help and default. Flags, --help, the
// config file, `cc-ci settings` and the README's table all come from it.
#include <stdexcept>
#include <string>

#include "config/settings.hpp"

namespace ccci {
namespace {

constexpr long long kWeek = 7LL * 24 * 3600;  // longer limits are typos, and overflow clocks

// clang-format off
constexpr SettingSpec kSettings[] = {
  {.key = "plugins", .flag = "--plugins", .env = "CC_CI_PLUGIN_PATH", .value_name = "DIR",
   .kind = SettingKind::list, .separator = ':',
   .help = "where the recipe plugins (*.so) are, searched recursively; repeatable",
   .fallback = "the installed plugins, or build/recipes and build/plugins for a binary in the build tree"},
  {.key = "abra", .flag = "--abra", .env = "CC_CI_ABRA", .value_name = "PATH", .kind = SettingKind::text,
   .help = "the abra executable", .fallback = "abra on PATH"},
  {.key = "docker", .flag = "--docker", .env = "CC_CI_DOCKER", .value_name = "PATH",
   .kind = SettingKind::text,
   .help = "the docker CLI through which cc-ci asks each server's engine whether a deploy converged and "
           "what teardown left (one `docker --context SERVER system dial-stdio` per lane, the context abra "
           "made for it); an empty value leaves the clean-teardown rung unverified",
   .fallback = "docker on PATH"},
  {.key = "browser", .flag = "--browser", .env = "CC_CI_BROWSER", .value_name = "PATH",
   .kind = SettingKind::text,
   .help = "the headless Chromium that shoots each app's landing page for the report (screenshots/); an "
           "empty value takes no pictures", .fallback = "chromium-headless-shell on PATH, else chromium"},
  {.key = "server", .flag = "--server", .env = "CC_CI_SERVER", .value_name = "NAME[:N]",
   .kind = SettingKind::list,
   .help = "abra server to deploy on, taking at most N tests at once; repeat for a pool",
   .fallback = "default"},
  {.key = "domain_suffix", .flag = "--domain-suffix", .env = "CC_CI_DOMAIN_SUFFIX", .value_name = "S",
   .kind = SettingKind::text,
   .help = "apps are named <recipe[:4]>-<6 hex>.<S>; a lower-case DNS name short enough for Docker's "
           "64-character names", .fallback = "none (required by run and janitor)"},
  {.key = "jobs", .flag = "--jobs", .env = "CC_CI_JOBS", .value_name = "N", .kind = SettingKind::integer,
   .min = 1, .max = 256, .help = "recipe tests at the same time", .fallback = "1"},
  {.key = "report_dir", .flag = "--report-dir", .env = "CC_CI_REPORT_DIR", .value_name = "DIR",
   .kind = SettingKind::text, .help = "where results.json, junit.xml and logs/ go",
   .fallback = "./cc-ci-report"},
  {.key = "ca_file", .flag = "--ca-file", .env = "CC_CI_CA_FILE", .value_name = "PATH",
   .kind = SettingKind::text,
   .help = "also trust this CA (PEM) for the apps' HTTPS; the system store stays trusted",
   .fallback = "none"},
  {.key = "connect_to", .flag = "--connect-to", .env = "CC_CI_CONNECT_TO", .value_name = "SPEC",
   .kind = SettingKind::list,
   .help = "curl syntax HOST:PORT:CONNECT_HOST:CONNECT_PORT, empty fields match anything; repeatable",
   .fallback = "none"},
  {.key = "keep", .flag = "--keep", .env = "CC_CI_KEEP", .value_name = "WHEN", .kind = SettingKind::text,
   .help = "never, on-failure or always: skip teardown; the report says what was kept",
   .fallback = "never"},
  {.key = "timeout_deploy", .flag = "--timeout-deploy", .env = "CC_CI_TIMEOUT_DEPLOY", .value_name = "S",
   .kind = SettingKind::seconds, .min = 1, .max = kWeek, .help = "seconds for the deploy phase",
   .fallback = "the plugin's, else 900"},
  {.key = "timeout_probe", .flag = "--timeout-probe", .env = "CC_CI_TIMEOUT_PROBE", .value_name = "S",
   .kind = SettingKind::seconds, .min = 1, .max = kWeek, .help = "seconds for readiness and checks",
   .fallback = "the plugin's, else 300"},
  {.key = "timeout_teardown", .flag = "--timeout-teardown", .env = "CC_CI_TIMEOUT_TEARDOWN",
   .value_name = "S", .kind = SettingKind::seconds, .min = 1, .max = kWeek,
   .help = "seconds for teardown", .fallback = "the plugin's, else 300"},
  {.key = "timeout", .flag = "--timeout", .env = "CC_CI_TIMEOUT", .value_name = "S",
   .kind = SettingKind::seconds, .min = 1, .max = kWeek,
   .help = "seconds for the whole run; then running tests are stopped and torn down", .fallback = "none"},
  {.key = "fail_fast", .flag = "--fail-fast", .env = "CC_CI_FAIL_FAST", .kind = SettingKind::flag,
   .help = "after a recipe fails, start no more (running ones finish)", .fallback = "off"},
  {.key = "retries", .flag = "--retries", .env = "CC_CI_RETRIES", .value_name = "N",
   .kind = SettingKind::integer, .min = 0, .max = 10,
   .help = "rerun a probe check that did not pass up to N times; a later pass is reported as flaky",
   .fallback = "0"},
  {.key = "lanes", .flag = "--lanes", .env = "CC_CI_LANES", .value_name = "LANE,…",
   .kind = SettingKind::list,
   .help = "the lanes to run: fresh (install, redeploy, backup and restore), upgrade (from the previous "
           "release), lint (abra recipe lint); the rungs of a lane not run are unverified",
   .fallback = "fresh,upgrade,lint"},
  {.key = "ref", .flag = "--ref", .env = "CC_CI_REF", .value_name = "RECIPE=REF",
   .kind = SettingKind::list,
   .help = "test this commit, branch or tag of the recipe's repository (a release deploys by version, "
           "anything else with --chaos); repeatable",
   .fallback = "the recipe's latest release"},
  {.key = "recipe_dir", .flag = "--recipe-dir", .env = "CC_CI_RECIPE_DIR", .value_name = "RECIPE=PATH",
   .kind = SettingKind::list, .separator = ':',
   .help = "test this local git checkout of the recipe (e.g. a PR workspace), uncommitted changes included; "
           "repeatable", .fallback = "none"},
  {.key = "recipes_from", .flag = "--recipes-from", .env = "CC_CI_RECIPES_FROM", .value_name = "DIR",
   .kind = SettingKind::text,
   .help = "the folder holding each recipe's git repository as DIR/<recipe> (abra's own clones)",
   .fallback = "$ABRA_DIR/recipes"},
  {.key = "lets_encrypt_env", .flag = "--lets-encrypt-env", .env = "CC_CI_LETS_ENCRYPT_ENV", .value_name = "V",
   .kind = SettingKind::text,
   .help = "LETS_ENCRYPT_ENV for test apps; empty makes Traefik serve its wildcard certificate, no ACME",
   .fallback = "empty"},
  {.key = "domain_checks", .flag = "--domain-checks", .env = "CC_CI_DOMAIN_CHECKS", .kind = SettingKind::flag,
   .help = "let abra check the app domain's DNS on deploy (test domains usually have none)",
   .fallback = "off: deploy with --no-domain-checks"},
  {.key = "converge_checks", .flag = "--converge-checks", .env = "CC_CI_CONVERGE_CHECKS",
   .kind = SettingKind::flag,
   .help = "let abra wait for convergence on deploy, as well as cc-ci's own readiness wait",
   .fallback = "off: deploy with --no-converge-checks"},
  {.key = "dashboard_url", .flag = "--dashboard-url", .env = "CC_CI_DASHBOARD_URL", .value_name = "URL",
   .kind = SettingKind::text,
   .help = "where the report folder is served (http or https): summary.md links there and shows the "
           "badge and card from there", .fallback = "none: summary.md links and embeds nothing"},
  {.key = "history", .flag = "--history", .env = "CC_CI_HISTORY", .value_name = "DIR",
   .kind = SettingKind::text, .help = "a previous report dir: start the recipes that took longest first",
   .fallback = "none"},
  {.key = "gitea_url", .flag = "--gitea-url", .env = "CC_CI_GITEA_URL", .value_name = "URL",
   .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the Gitea or Forgejo server holding the recipe repositories",
   .fallback = "none (required by gitea and bridge)"},
  {.key = "gitea_token_file", .flag = "--gitea-token-file", .env = "CC_CI_GITEA_TOKEN_FILE",
   .value_name = "PATH", .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the file holding the Gitea API token (comments, statuses, permissions); never give the token "
           "itself", .fallback = "the systemd credential gitea-token"},
  {.key = "webhook_secret_file", .flag = "--webhook-secret-file", .env = "CC_CI_WEBHOOK_SECRET_FILE",
   .value_name = "PATH", .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the file holding the secret Gitea signs webhooks with",
   .fallback = "the systemd credential webhook-secret"},
  {.key = "ci_engine", .flag = "--ci-engine", .env = "CC_CI_ENGINE", .value_name = "NAME",
   .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the CI engine `!testme` starts builds on: woodpecker or drone",
   .fallback = "none (required by bridge)"},
  {.key = "ci_url", .flag = "--ci-url", .env = "CC_CI_ENGINE_URL", .value_name = "URL",
   .kind = SettingKind::text, .group = SettingGroup::forge, .help = "the CI engine's URL",
   .fallback = "none (required by bridge)"},
  {.key = "ci_token_file", .flag = "--ci-token-file", .env = "CC_CI_ENGINE_TOKEN_FILE", .value_name = "PATH",
   .kind = SettingKind::text, .group = SettingGroup::forge, .help = "the file holding the CI engine's API token",
   .fallback = "the systemd credential ci-token"},
  {.key = "listen", .flag = "--listen", .env = "CC_CI_LISTEN", .value_name = "HOST:PORT",
   .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "where the bridge takes webhooks (POST /hook; GET /health)", .fallback = "127.0.0.1:8099"},
  {.key = "bridge_state", .flag = "--bridge-state", .env = "CC_CI_BRIDGE_STATE", .value_name = "FILE",
   .kind = SettingKind::text, .group = SettingGroup::forge,
   .help = "the bridge's memory of the builds it asked for (30 days) and the deliveries it handled (15 minutes), "
           "so neither a repeated `!testme` nor a replay starts another build",
   .fallback = "$STATE_DIRECTORY/bridge-state.json (systemd), else required by bridge"},
};
// clang-format on

}  // namespace

std::span<const SettingSpec> settings_table() {
  return kSettings;
}

const SettingSpec& setting(std::string_view key) {
  for (const auto& spec : kSettings)
    if (spec.key == key) return spec;
  throw std::logic_error("no setting \"" + std::string(key) + "\"");
}

std::string settings_markdown() {
  std::string text = "| flag | environment | config key | what it sets | default |\n|---|---|---|---|---|\n";
  for (const auto& spec : kSettings) {
    std::string flag(spec.flag);
    if (!spec.value_name.empty()) flag += " " + std::string(spec.value_name);
    std::string help(spec.help);
    if (spec.kind == SettingKind::integer || spec.kind == SettingKind::seconds)
      help += " (" + std::to_string(spec.min) + " to " + std::to_string(spec.max) + ")";
    if (spec.kind == SettingKind::list && spec.separator != ',')
      help += " (environment: '" + std::string(1, spec.separator) + "'-separated)";
    text += "| `" + flag + "` | `" + std::string(spec.env) + "` | `" + std::string(spec.key) + "` | " + help +
            " | " + std::string(spec.fallback) + " |\n";
  }
  return text;
}

}  // namespace ccci
