#include <signal.h>

#include <algorithm>
#include <fstream>

#include "run/docker_engine.hpp"
#include "run/leftovers.hpp"
#include "support.hpp"

namespace ccci {
namespace {

using Clock = std::chrono::steady_clock;

// A `docker` whose `system dial-stdio` is an engine answering from files:
// GET /<what>?… answers <folder>/<what, '/' as '_'> with the status in
// <that>.status (200 without one), chunked when <folder>/chunked exists;
// every start and request line goes to <folder>/log. <folder>/answers-then-exit
// holds how many answers a dialer gives before it ends; <folder>/refuse makes
// it refuse to connect, as docker does for a context it does not have;
// <folder>/silent makes it read questions and never answer.
class ScriptedEngine {
 public:
  ScriptedEngine() {
    std::ofstream(docker()) << R"(#!/usr/bin/python3
import os, sys
folder = sys.argv[0].rsplit("/", 1)[0]
def log(text):
    with open(folder + "/log", "a") as out:
        out.write(text + "\n")
log("start " + " ".join(sys.argv[1:]))
with open(folder + "/pid", "w") as out:
    out.write(str(os.getpid()))
if os.path.exists(folder + "/refuse"):
    print('context "' + sys.argv[2] + '" does not exist', file=sys.stderr)
    sys.exit(1)
most = int(open(folder + "/answers-then-exit").read()) if os.path.exists(folder + "/answers-then-exit") else -1
read, out = sys.stdin.buffer, sys.stdout.buffer
while most != 0:
    request = read.readline()
    if not request:
        break
    while read.readline() not in (b"\r\n", b"\n", b""):
        pass
    log(request.decode().strip())
    if os.path.exists(folder + "/silent"):
        continue
    what = request.split(b" ")[1].split(b"?")[0].decode()[1:].replace("/", "_")
    path = folder + "/" + what
    body = open(path, "rb").read() if os.path.exists(path) else b'{"message":"page not found"}'
    status = open(path + ".status").read().strip() if os.path.exists(path + ".status") else "200"
    if not os.path.exists(path):
        status = "404"
    head = "HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\n"
    if os.path.exists(folder + "/chunked"):
        half = len(body) // 2
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]) if part)
        out.write(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
    else:
        out.write(head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    out.flush()
    most -= 1
)";
    std::filesystem::permissions(docker(), std::filesystem::perms::owner_all);
  }

  std::filesystem::path docker() const { return folder_.path() / "docker"; }
  void answer(const std::string& what, const std::string& body, int status = 200) const {
    std::ofstream(folder_.path() / what) << body;
    std::ofstream(folder_.path() / (what + ".status")) << status;
  }
  void set(const std::string& name, const std::string& value = "") const {
    std::ofstream(folder_.path() / name) << value;
  }
  std::vector<std::string> log() const {
    std::vector<std::string> lines;
    std::ifstream in(folder_.path() / "log");
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  pid_t pid() const { return std::stoi(test::read_file(folder_.path() / "pid")); }
  size_t starts() const {
    const auto lines = log();
    return static_cast<size_t>(std::count_if(
        lines.begin(), lines.end(), [](const std::string& line) { return line.starts_with("start "); }));
  }

 private:
  test::TemporaryDirectory folder_;
};

void touch(const std::filesystem::path& path) {
  const std::ofstream empty(path);
}

Clock::time_point soon() {
  return Clock::now() + std::chrono::seconds(20);
}

const LeftoverQuery kQuery{.server = "default", .domain = "cust-1.cc-ci.test"};

}  // namespace

TEST_SUITE("docker engine") {
  TEST_CASE("every question of a lane goes over one dial-stdio, as Docker's API") {
    const ScriptedEngine engine;
    DockerEngine docker(engine.docker().string(), "default");
    engine.answer("services", R"([{"Spec":{"Name":"cust-1_cc-ci_test_app"},
                                   "ServiceStatus":{"RunningTasks":1,"DesiredTasks":1}}])");
    for (int question = 0; question < 3; ++question) CHECK(services_not_converged(docker, kQuery).empty());
    const auto log = engine.log();
    REQUIRE(log.size() == 4);
    CHECK(log[0] == "start --context default system dial-stdio");
    CHECK(log[1] ==
          "GET /services?status=true&filters=%7B%22label%22%3A%7B%22com.docker.stack.namespace%3D"
          "cust-1_cc-ci_test%22%3Atrue%7D%7D HTTP/1.1");
    CHECK(convergence_listing(kQuery).path() ==
          R"(/services?status=true&filters={"label":{"com.docker.stack.namespace=cust-1_cc-ci_test":true}})");
  }

  TEST_CASE("a stack converged when every service runs all its replicas, as docker service ls says") {
    const ScriptedEngine engine;
    DockerEngine docker(engine.docker().string(), "default");
    auto says = [&](const std::string& services) {
      engine.answer("services", services);
      return services_not_converged(docker, kQuery);
    };
    const std::string app = R"({"Spec":{"Name":"cust-1_cc-ci_test_app"},"ServiceStatus":)";
    CHECK(
        says(
            "[" + app + R"({"RunningTasks":1,"DesiredTasks":1}},)" +
            R"({"Spec":{"Name":"cust-1_cc-ci_test_db"},"ServiceStatus":{"RunningTasks":2,"DesiredTasks":2}}])")
            .empty());
    CHECK(says("[" + app + R"({"RunningTasks":0,"DesiredTasks":1}}])") ==
          std::vector<std::string>{"cust-1_cc-ci_test_app 0/1"});
    CHECK(says("[" + app + R"({"RunningTasks":0,"DesiredTasks":0}}])") ==
          std::vector<std::string>{"cust-1_cc-ci_test_app 0/0"});
    CHECK(says("[]") == std::vector<std::string>{"stack cust-1_cc-ci_test has no service"});
    CHECK_THROWS_WITH_AS(says(R"([{"Spec":{"Name":"cust-1_cc-ci_test_app"}}])"),
                         doctest::Contains("older than Docker 20.10"), CommandError);
    CHECK_THROWS_WITH_AS(says(R"({"what":"is this"})"), doctest::Contains("cannot read"), CommandError);
    CHECK_THROWS_WITH_AS(says("what is this"), doctest::Contains("not JSON"), CommandError);
    CHECK(engine.starts() == 1);
  }

  TEST_CASE("an answer in chunks is read whole") {
    const ScriptedEngine engine;
    engine.set("chunked");
    DockerEngine docker(engine.docker().string(), "default");
    engine.answer("networks", R"([{"Name":"cust-1_cc-ci_test_default"},{"Name":"other"}])");
    const auto networks =
        docker.list({.what = "networks", .filters = {{"name", {{"cust-1", true}}}}}, soon());
    CHECK(networks.size() == 2);
    CHECK(networks[0]["Name"] == "cust-1_cc-ci_test_default");
  }

  TEST_CASE("the engine's refusal and a docker that cannot connect are errors that say why") {
    const ScriptedEngine engine;
    DockerEngine docker(engine.docker().string(), "default");
    engine.answer("services", R"({"message":"This node is not a swarm manager."})", 503);
    CHECK_THROWS_WITH_AS(services_not_converged(docker, kQuery),
                         doctest::Contains("HTTP 503: This node is not a swarm manager."), CommandError);
    CHECK_THROWS_WITH_AS(docker.list({.what = "plugins", .filters = nlohmann::json::object()}, soon()),
                         doctest::Contains("HTTP 404: page not found"), CommandError);

    engine.set("refuse");
    DockerEngine nowhere(engine.docker().string(), "nowhere");
    CHECK_THROWS_WITH_AS(services_not_converged(nowhere, kQuery),
                         doctest::Contains("context \"nowhere\" does not exist"), CommandError);
  }

  TEST_CASE("an engine that never answers is given up at the deadline, and its dialer ended") {
    const ScriptedEngine engine;
    engine.set("silent");
    pid_t dialer = 0;
    {
      DockerEngine docker(engine.docker().string(), "default");
      CHECK_THROWS_WITH_AS(docker.list({.what = "services", .filters = nlohmann::json::object()},
                                       Clock::now() + std::chrono::milliseconds(1500)),
                           doctest::Contains("gave no answer"), CommandError);
      dialer = engine.pid();
      CHECK(engine.starts() == 1);  // a fresh connection that timed out is not tried again
    }
    CHECK(::kill(dialer, 0) != 0);  // ended and reaped
  }

  TEST_CASE("a dialer that ended is replaced at the next question") {
    const ScriptedEngine engine;
    engine.set("answers-then-exit", "1");
    DockerEngine docker(engine.docker().string(), "default");
    engine.answer("secrets", R"([{"Spec":{"Name":"cust-1_cc-ci_test_pw_v1"}}])");
    const EngineListing secrets{.what = "secrets", .filters = nlohmann::json::object()};
    CHECK(docker.list(secrets, soon()).size() == 1);
    CHECK(docker.list(secrets, soon()).size() == 1);
    CHECK(engine.starts() == 2);
  }

  TEST_CASE("leftovers are what the fake engine lists of the app's stack, and nothing of another app") {
    // The fake docker of the integration tests, over a file swarm of its own.
    const test::TemporaryDirectory abra;
    const test::ScopedEnvironment abra_dir("ABRA_DIR", abra.path().string());
    const auto swarm = abra.path() / "servers" / "default" / ".swarm";
    for (const char* folder : {"stacks", "volumes", "secrets"})
      std::filesystem::create_directories(swarm / folder);
    const LeftoverQuery query{.server = "default", .domain = "cust-1.cc-ci.test", .abra_dir = abra.path()};
    DockerEngine docker((test::environment_path("FAKE_ABRA_DIR") / "docker").string(), "default");

    CHECK(find_leftovers(docker, query).empty());  // no volume at all: the engine says "Volumes": null
    std::ofstream(swarm / "stacks" / "cust-1_cc-ci_test.json") << R"({"converge":"never"})";
    touch(swarm / "volumes" / "cust-1_cc-ci_test_content");
    touch(swarm / "volumes" / "xcust-1_cc-ci_test_other");  // the name filter matches a part of it
    touch(swarm / "secrets" / "cust-1_cc-ci_test_pw_v1");
    touch(abra.path() / "servers" / "default" / "cust-1.cc-ci.test.env");
    CHECK(services_not_converged(docker, query) == std::vector<std::string>{"cust-1_cc-ci_test_app 0/1"});
    CHECK(find_leftovers(docker, query) ==
          std::vector<std::string>{
              "env file " + (abra.path() / "servers/default/cust-1.cc-ci.test.env").string(),
              "stack cust-1_cc-ci_test", "service cust-1_cc-ci_test_app", "secret cust-1_cc-ci_test_pw_v1",
              "volume cust-1_cc-ci_test_content"});
    DockerEngine nowhere((test::environment_path("FAKE_ABRA_DIR") / "docker").string(), "nowhere");
    CHECK_THROWS_WITH_AS(find_leftovers(nowhere, query),
                         doctest::Contains("context \"nowhere\" does not exist"), CommandError);
  }
}

}  // namespace ccci
