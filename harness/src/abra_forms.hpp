// abra's words and forms, as the harness drives abra and reads its output:
// one table (internal to harness/src), so a form found wrong is corrected in
// one place. See docs/abra-fidelity.md for the evidence behind each.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string_view>

namespace ccci {
namespace {  // each file of the abra client has its own copy: nothing of it is exported

// How abra 0.13 is driven. Forms marked "unverified" in shared/abra-cli.md are
// kept here, in one place, so they are easy to correct.
struct AbraForms {
  // Global flags placed before every subcommand: never prompt.
  static constexpr const char* kNoInput = "-n";
  // What abra answers when the app is already gone, by command: teardown
  // takes any of these as done (all unverified; the fake says the first,
  // FAKE_ABRA_WORDING=alt the second).
  // `app undeploy` of an app that is not deployed ("… is not deployed?" in abra's source as remembered),
  // or of an app whose env file is gone.
  static constexpr std::string_view kNotDeployed[] = {"is not deployed", "cannot find app with name",
                                                      "does not exist"};
  // `app rm` of an app that has no env file.
  static constexpr std::string_view kNoSuchApp[] = {"does not exist", "cannot find app with name"};
  // Deploying unreleased code, or a checkout with local changes: --chaos.
  static constexpr const char* kChaos = "--chaos";
  // Deploy flags for a CI host: no DNS check for test domains, no convergence
  // wait (cc-ci's readiness decides).
  static constexpr const char* kNoDomainChecks = "--no-domain-checks";
  static constexpr const char* kNoConvergeChecks = "--no-converge-checks";
  // The env key that names Traefik's certificate resolver for the app.
  static constexpr const char* kLetsEncryptEnv = "LETS_ENCRYPT_ENV";
  // The env key listing the compose files abra deploys, `:`-separated and
  // relative to the recipe checkout; abra's default when it is unset.
  static constexpr const char* kComposeFileEnv = "COMPOSE_FILE";
  static constexpr const char* kDefaultComposeFile = "compose.yml";
  // `recipe lint`'s table header (unverified) and how it marks yes and no.
  static constexpr std::string_view kLintColumns[] = {"REF", "RULE", "SEVERITY", "SATISFIED", "SKIPPED"};
  static constexpr std::string_view kYes[] = {"\u2705", "yes", "true", "\u2714"};
  static constexpr std::string_view kNo[] = {"\u274c", "no", "false", "\u2716"};
  // `app secret generate` prints a box-drawn table NAME | VALUE (unverified).
  static constexpr std::string_view kSecretColumns[] = {"NAME", "VALUE"};
  // Confirms a removal that would otherwise prompt (`app rm`, `app volume remove`; unverified for the
  // latter).
  static constexpr const char* kForce = "--force";
  // Running a command in a service container: `abra app run <domain> <service> -- <command…>` (unverified).
  static constexpr const char* kEndOfFlags = "--";
  // `app backup create` / `app restore` on a server where no service carries the
  // backupbot label (RetrieveBackupBotContainer's error, as remembered from abra's
  // source; docs/backupbot.md).
  static constexpr std::string_view kNoBackupbot[] = {"no backupbot discovered"};
};

// Whether `text` holds any of a table's wordings.
template <size_t N>
bool contains_any(std::string_view text, const std::string_view (&needles)[N]) {
  return std::any_of(std::begin(needles), std::end(needles),
                     [&](std::string_view needle) { return text.find(needle) != std::string_view::npos; });
}

}  // namespace
}  // namespace ccci
