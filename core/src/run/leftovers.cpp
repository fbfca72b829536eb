#include "run/leftovers.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include "ccci/process.hpp"
#include "recipe/names.hpp"

namespace ccci {

namespace {

constexpr const char* kStackLabel = "com.docker.stack.namespace";

// A kind of Docker object a stack leaves: how the report names it, the API's
// listing of it, and where that listing keeps each object's name.
struct ObjectKind {
  const char* name;
  const char* listing;
  bool named_in_spec;  // item.Spec.Name (swarm objects), else item.Name
};

// `docker stack ls` has no listing of its own: a stack is the label its services carry.
constexpr ObjectKind kObjectKinds[] = {
    {"service", "services", true}, {"secret", "secrets", true},    {"config", "configs", true},
    {"volume", "volumes", false},  {"network", "networks", false},
};

nlohmann::json by_stack_label(const std::string& stack) {
  return {{"label", {{std::string(kStackLabel) + "=" + stack, true}}}};
}

// The stack's services, found by the label `docker stack deploy` gives each:
// what `docker stack ls` counts as the stack.
EngineListing stack_services(const std::string& stack, std::string options = {}) {
  return {.what = "services", .filters = by_stack_label(stack), .options = std::move(options)};
}

EngineListing named_after(const ObjectKind& kind, const std::string& stack) {
  return {.what = kind.listing, .filters = {{"name", {{stack, true}}}}};
}

[[noreturn]] void unreadable(const EngineListing& listing, const std::string& what) {
  throw CommandError("the Docker engine answered GET " + listing.path() + " with " + what +
                     ", which cc-ci cannot read");
}

// The objects of an answer: a list, or for volumes {"Volumes": [...] or null}.
const nlohmann::json& items_of(const EngineListing& listing, const nlohmann::json& answer) {
  static const nlohmann::json kNone = nlohmann::json::array();
  if (answer.is_array()) return answer;
  if (answer.is_object() && answer.contains("Volumes")) {
    const auto& volumes = answer["Volumes"];
    if (volumes.is_null()) return kNone;
    if (volumes.is_array()) return volumes;
  }
  unreadable(listing, "something other than a list");
}

std::string name_of(const EngineListing& listing, const nlohmann::json& item, bool in_spec) {
  const nlohmann::json* holder = &item;
  if (in_spec) {
    if (!item.is_object() || !item.contains("Spec")) unreadable(listing, "an object without Spec");
    holder = &item["Spec"];
  }
  if (!holder->is_object() || !holder->contains("Name") || !(*holder)["Name"].is_string())
    unreadable(listing, "an object without a Name");
  return (*holder)["Name"].get<std::string>();
}

unsigned count_of(const EngineListing& listing, const nlohmann::json& status, const char* key) {
  if (!status.contains(key) || !status[key].is_number_unsigned())
    unreadable(listing, std::string("no ") + key);
  return status[key].get<unsigned>();
}

size_t how_many(DockerEngine& engine, const LeftoverQuery& query, const EngineListing& listing) {
  return items_of(listing, engine.list(listing, query.deadline)).size();
}

}  // namespace

EngineListing convergence_listing(const LeftoverQuery& query) {
  return stack_services(stack_name(query.domain), "status=true&");
}

std::vector<std::string> services_not_converged(DockerEngine& engine, const LeftoverQuery& query) {
  const EngineListing listing = convergence_listing(query);
  const nlohmann::json answer = engine.list(listing, query.deadline);
  const auto& services = items_of(listing, answer);
  if (services.empty()) return {"stack " + stack_name(query.domain) + " has no service"};
  std::vector<std::string> waiting;
  for (const auto& service : services) {
    // ServiceStatus is what `docker service ls` prints as REPLICAS: running/wanted.
    if (!service.is_object() || !service.contains("ServiceStatus") || !service["ServiceStatus"].is_object())
      unreadable(listing, "a service without ServiceStatus (an engine older than Docker 20.10?)");
    const auto& status = service["ServiceStatus"];
    const unsigned running = count_of(listing, status, "RunningTasks");
    const unsigned wanted = count_of(listing, status, "DesiredTasks");
    if (running != wanted || wanted == 0)
      waiting.push_back(name_of(listing, service, true) + " " + std::to_string(running) + "/" +
                        std::to_string(wanted));
  }
  return waiting;
}

std::vector<std::string> stack_removal_command(const LeftoverQuery& query) {
  return {query.docker, "--context", query.server, "stack", "rm", stack_name(query.domain)};
}

bool remove_stack(DockerEngine& engine, const LeftoverQuery& query) {
  const std::string stack = stack_name(query.domain);
  if (how_many(engine, query, stack_services(stack)) == 0) return false;
  const CommandResult removed =
      run_command({.argv = stack_removal_command(query), .timeout = std::chrono::minutes(1)});
  if (!removed.ok())
    throw CommandError("docker stack rm " + stack + " " + removed.describe() + ": " +
                       removed.output.substr(0, 300));
  // Docker removes the containers and networks after `stack rm` returns; a
  // volume a container still holds cannot be removed by `app rm`.
  const EngineListing containers = {
      .what = "containers/json", .filters = by_stack_label(stack), .options = "all=true&"};
  const EngineListing networks = {.what = "networks", .filters = by_stack_label(stack)};
  for (int looks = 1;; ++looks) {
    const size_t left = how_many(engine, query, containers) + how_many(engine, query, networks);
    if (left == 0) return true;
    if (std::chrono::steady_clock::now() >= query.deadline)
      throw CommandError("docker stack rm " + stack + ": " + std::to_string(left) +
                         " container(s) or network(s) still there after " + std::to_string(looks) + " looks");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 100 * looks)));
  }
}

std::vector<EngineListing> leftover_listings(const LeftoverQuery& query) {
  const std::string stack = stack_name(query.domain);
  std::vector<EngineListing> listings = {stack_services(stack)};
  for (const auto& kind : kObjectKinds) listings.push_back(named_after(kind, stack));
  return listings;
}

std::vector<std::string> find_leftovers(DockerEngine& engine, const LeftoverQuery& query) {
  std::vector<std::string> found;
  const auto env_file = query.abra_dir / "servers" / query.server / (query.domain + ".env");
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::symlink_status(env_file, error)))
    found.push_back("env file " + env_file.string());
  const std::string stack = stack_name(query.domain);
  if (how_many(engine, query, stack_services(stack)) > 0) found.push_back("stack " + stack);
  for (const auto& kind : kObjectKinds) {
    const EngineListing listing = named_after(kind, stack);
    const nlohmann::json answer = engine.list(listing, query.deadline);
    // Docker's name filter matches a part of the name: keep only this app's.
    for (const auto& item : items_of(listing, answer)) {
      const std::string name = name_of(listing, item, kind.named_in_spec);
      if (name == stack || name.starts_with(stack + "_"))
        found.push_back(std::string(kind.name) + " " + name);
    }
  }
  return found;
}

}  // namespace ccci
