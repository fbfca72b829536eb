#include "forge/pr_publish.hpp"

#include <fstream>
#include <iterator>

#include "model/results_reader.hpp"

namespace ccci {

CommitStatus recipe_status(const RecipeResult& recipe, bool interrupted, const std::string& dashboard_url) {
  CommitStatus status{.context = "cc-ci/" + recipe.recipe};
  // Only a finished pass is success; a recipe that was not tested is never green.
  if (interrupted || recipe.status == Status::errored || recipe.status == Status::skipped)
    status.state = "error";
  else
    status.state = recipe.status == Status::passed ? "success" : "failure";
  status.description = "level " + std::to_string(recipe.level);
  if (interrupted) status.description += " (interrupted)";
  if (recipe.status == Status::skipped) status.description += " (not tested)";
  if (!dashboard_url.empty()) status.target_url = dashboard_url + "/index.html";
  return status;
}

std::string mark_not_tested(const GiteaClient& gitea, const PublishRequest& request) {
  // A recipe's repository is named after the recipe, as its statuses are.
  CommitStatus status{.state = "error",
                      .context = "cc-ci/" + request.repo.name,
                      .description = "not tested: this build left no report to post"};
  gitea.set_status(request.repo, request.commit, status);
  return "set " + status.context + " to error (\"" + status.description + "\") on " +
         request.commit.substr(0, 12);
}

std::vector<std::string> publish_to_gitea(const std::filesystem::path& report_dir, const GiteaClient& gitea,
                                          const PublishRequest& request) {
  const RunReport results = read_results_file(report_dir / "results.json");
  if (results.recipes.empty())
    throw std::runtime_error((report_dir / "results.json").string() + " names no recipe: nothing to publish");

  // Every status goes on one commit, and only on the one the run tested.
  std::vector<std::pair<CommitStatus, std::string>> statuses;
  for (const auto& recipe : results.recipes) {
    const std::string& tested = recipe.target.commit;  // empty: no target was resolved
    if (tested != request.commit)
      throw std::runtime_error("the run tested " + recipe.recipe + " at " +
                               (tested.empty() ? "no known commit" : tested) + ", not --commit " +
                               request.commit + ": its status would not be true of that commit");
    statuses.emplace_back(recipe_status(recipe, results.interrupted, request.dashboard_url), request.commit);
  }

  std::vector<std::string> done;
  if (request.pr) {
    std::ifstream in(report_dir / "summary.md", std::ios::binary);
    if (!in)
      throw std::runtime_error("no summary.md in " + report_dir.string() + ": run `cc-ci report " +
                               report_dir.string() + "` first");
    const std::string summary((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string body = std::string(kCommentMarker) + "\n" + summary;
    const std::string me = gitea.login();
    std::optional<long long> mine;
    for (const auto& comment : gitea.comments(request.repo, *request.pr))
      if (comment.author == me && comment.body.starts_with(kCommentMarker)) mine = comment.id;
    const std::string where = request.repo.full() + "#" + std::to_string(*request.pr);
    if (mine) {
      gitea.edit_comment(request.repo, *mine, body);
      done.push_back("edited the comment " + std::to_string(*mine) + " on " + where);
    } else {
      const long long id = gitea.create_comment(request.repo, *request.pr, body);
      done.push_back("commented on " + where + " (comment " + std::to_string(id) + ")");
    }
  }
  for (const auto& [status, commit] : statuses) {
    gitea.set_status(request.repo, commit, status);
    done.push_back("set " + status.context + " to " + status.state + " (\"" + status.description + "\") on " +
                   commit.substr(0, 12));
  }
  return done;
}

}  // namespace ccci
