#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>

#include "recipe/compose.hpp"

using namespace ccci;

namespace {

// A recipe's files by name, for read_compose.
struct RecipeFiles {
  std::map<std::string, std::string> files;
  std::optional<std::string> operator()(const std::string& name) const {
    const auto found = files.find(name);
    return found == files.end() ? std::nullopt : std::optional<std::string>(found->second);
  }
};

EnvValues env_of(const std::string& sample) {
  EnvValues env;
  read_env_file(sample, env);
  env["STACK_NAME"] = "app_ci_test";
  env["DOMAIN"] = "app.ci.test";
  return env;
}

ComposeReading read_recipe(const RecipeFiles& recipe, const std::string& sample) {
  return read_compose(recipe, env_of(sample), "app_ci_test");
}

std::string paths_of(const BackedUpService& service) {
  std::string out;
  for (const auto& path : service.paths)
    out += (out.empty() ? "" : " ") + path.path + (path.whole_volume ? "[" + path.volume + "]" : "");
  return out;
}

}  // namespace

TEST_SUITE("compose") {
  TEST_CASE("the env file is read as abra's dotenv reader reads it") {
    EnvValues env;
    read_env_file(
        "# a comment\n"
        "TYPE=app\n"
        "export EXPORTED=yes\n"
        "UNQUOTED=a b # a comment\n"
        "HASHED=a#b\tc # last # comment\n"
        "VERSION=v1\t# length=32\n"
        "SINGLE='$TYPE stays # here'\n"
        "DOUBLE=\"line\\nnext $TYPE \\t ${TYPE}$lower\"\n"
        "SPANS=\"one\ntwo\" AFTER=same-line\n"
        "COMPOSE_FILE=\"compose.yml\"\n"
        "#COMPOSE_FILE=\"$COMPOSE_FILE:compose.smtp.yml\"\n"
        "  # COMPOSE_FILE=\"$COMPOSE_FILE:compose.mail.yml\"\n"
        "COMPOSE_FILE=\"$COMPOSE_FILE:compose.postgres.yml\"\n"
        "  COMPOSE_FILE=\"${COMPOSE_FILE}:compose.redis.yml\"\r\n",
        env);
    CHECK(env.at("TYPE") == "app");
    CHECK(env.at("EXPORTED") == "yes");
    CHECK(env.at("UNQUOTED") == "a b");
    CHECK(env.at("HASHED") == "a#b\tc # last");
    CHECK(env.at("VERSION") == "v1");
    CHECK(env.at("SINGLE") == "$TYPE stays # here");
    CHECK(env.at("DOUBLE") == "line\nnext app t app$lower");
    CHECK(env.at("SPANS") == "one\ntwo");
    CHECK(env.at("AFTER") == "same-line");
    CHECK(env.at("COMPOSE_FILE") == "compose.yml:compose.postgres.yml:compose.redis.yml");
    CHECK(compose_file_names(env) ==
          std::vector<std::string>{"compose.yml", "compose.postgres.yml", "compose.redis.yml"});
    CHECK(compose_file_names({}) == std::vector<std::string>{"compose.yml"});
    CHECK(compose_file_names({{"COMPOSE_FILE", "compose.yml:compose.yml::x.yml"}}) ==
          std::vector<std::string>{"compose.yml", "x.yml"});
  }

  TEST_CASE("an env file abra could not read is refused, and one that grows without end too") {
    EnvValues env;
    CHECK_THROWS_WITH_AS(read_env_file("not a line\n", env), doctest::Contains("without '='"), ComposeError);
    CHECK_THROWS_WITH_AS(read_env_file("BAD KEY=x\n", env), doctest::Contains("not a name"), ComposeError);
    CHECK_THROWS_WITH_AS(read_env_file("A=\"open\n", env), doctest::Contains("no closing quote"),
                         ComposeError);
    std::string doubling = "A=xxxxxxxx\n";
    for (int i = 0; i < 40; ++i) doubling += "A=$A$A\n";
    CHECK_THROWS_WITH_AS(read_env_file(doubling, env), doctest::Contains("would grow"), ComposeError);
    std::string wide = "B=" + std::string(60000, 'b') + "\n";
    for (int i = 0; i < 200; ++i) wide += "C" + std::to_string(i) + "=$B\n";
    CHECK_THROWS_WITH_AS(read_env_file(wide, env), doctest::Contains("in all"), ComposeError);
    std::string names = "COMPOSE_FILE=compose.yml\n";
    for (int i = 0; i < 40; ++i) names += "COMPOSE_FILE=\"$COMPOSE_FILE:f" + std::to_string(i) + ".yml\"\n";
    EnvValues many;
    read_env_file(names, many);
    CHECK_THROWS_WITH_AS(compose_file_names(many), doctest::Contains("at most 32"), ComposeError);
  }

  TEST_CASE("abra.sh gives its exports only, as written, and none of it runs") {
    EnvValues env;
    read_abra_sh_exports(
        "export APP_ENTRYPOINT_VERSION=v3\nNOT_EXPORTED=v1\n"
        "export NGINX_CONF_VERSION=v2 # bump on change\n$(touch /tmp/x)\nexport Q=\"$X\"\n",
        env);
    CHECK(env == EnvValues{{"APP_ENTRYPOINT_VERSION", "v3"}, {"NGINX_CONF_VERSION", "v2"}, {"Q", "\"$X\""}});
  }

  TEST_CASE("labels are interpolated as docker stack deploy does") {
    const EnvValues env{{"SET", "on"}, {"EMPTY", ""}};
    CHECK(interpolate("${SET}-$SET-$$SET", env) == "on-on-$SET");
    CHECK(interpolate("${UNSET:-true}", env) == "true");
    CHECK(interpolate("${EMPTY:-true}", env) == "true");
    CHECK(interpolate("${EMPTY-true}", env).empty());
    CHECK(interpolate("${SET:-true}", env) == "on");
    // A default is taken as written, up to the first '}': no nesting.
    CHECK(interpolate("${UNSET:-${SET}}", env) == "${SET}");
    CHECK(interpolate("$UNSET", env).empty());
    CHECK_THROWS_WITH_AS(interpolate("${UNSET:?set it}", env), doctest::Contains("set it"), ComposeError);
    for (const char* invalid :
         {"${SET", "${}", "${SET/x}", "${SET:+yes}", "$(cmd)", "$1", "cost $", "${1A}"}) {
      CAPTURE(invalid);
      CHECK_THROWS_AS(interpolate(invalid, env), ComposeError);
    }
  }

  TEST_CASE("list-form labels: ${ENABLE_BACKUPS:-true}, the older path label, and an operator's false") {
    const RecipeFiles recipe{{{"compose.yml", R"(
version: "3.8"
services:
  app:
    image: nginx:1.27
    volumes:
      - content:/usr/share/nginx/html
    deploy:
      labels:
        - "traefik.enable=true"
        - "backupbot.backup=${ENABLE_BACKUPS:-true}"
        - "backupbot.backup.path=/usr/share/nginx/html,/etc/extra"
volumes:
  content:
)"}}};
    const auto reading = read_recipe(recipe, "");
    REQUIRE(reading.layout.backups.size() == 1);
    CHECK(reading.layout.services == std::vector<std::string>{"app"});
    // Every named volume, then the older label's paths.
    CHECK(paths_of(reading.layout.backups[0]) ==
          "/usr/share/nginx/html[content] /usr/share/nginx/html /etc/extra");
    CHECK(reading.layout.backups[0].paths[1].volume.empty());
    CHECK(read_recipe(recipe, "ENABLE_BACKUPS=false\n").layout.backups.empty());
  }

  TEST_CASE("mapping-form labels: whole volumes, a path in a volume, opt-outs and hooks") {
    const RecipeFiles recipe{{{"compose.yml", R"(
services:
  web:
    image: example/web:2
    volumes: [uploads:/srv/uploads, cache:/srv/cache, ./conf:/etc/conf, type: bind]
    deploy:
      labels:
        backupbot.backup: ${ENABLE_BACKUPS:-true}
        backupbot.backup.volumes.cache: "false"
  db:
    image: postgres:16
    volumes:
      - type: volume
        source: postgres
        target: /var/lib/postgresql/data
      - type: bind
        source: /etc/localtime
        target: /etc/localtime
    deploy:
      labels:
        backupbot.backup: "true"
        backupbot.backup.volumes.postgres.path: "backup.sql"
        backupbot.backup.pre-hook: "sh -c 'pg_dump -U app app > /var/lib/postgresql/data/backup.sql'"
        backupbot.restore.post-hook: "sh -c 'psql -U app app < /var/lib/postgresql/data/backup.sql'"
  cron:
    image: example/cron:1
volumes:
  uploads:
  cache:
  postgres:
)"}}};
    const auto layout = read_recipe(recipe, "").layout;
    CHECK(layout.services == std::vector<std::string>{"web", "db", "cron"});
    REQUIRE(layout.backups.size() == 2);
    CHECK(layout.backups[0].service == "web");
    CHECK(paths_of(layout.backups[0]) == "/srv/uploads[uploads]");
    CHECK(layout.backups[1].service == "db");
    CHECK(paths_of(layout.backups[1]) == "/var/lib/postgresql/data/backup.sql");
    CHECK(layout.backups[1].paths[0].volume == "postgres");
    CHECK(layout.backups[1].backup_pre_hook.starts_with("sh -c 'pg_dump"));
    CHECK(layout.backups[1].restore_post_hook.starts_with("sh -c 'psql"));
    CHECK(layout.backups[1].backup_post_hook.empty());
    const auto lines = describe_backups(layout);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "web: /srv/uploads (volume uploads)");
    CHECK(lines[1].starts_with(
        "db: /var/lib/postgresql/data/backup.sql (in volume postgres); backup pre-hook `"));
  }

  TEST_CASE("COMPOSE_FILE decides which files count, later files merge into earlier ones") {
    const RecipeFiles recipe{
        {{"compose.yml", R"(
x-defaults: &defaults
  deploy:
    labels:
      - "backupbot.backup=true"
services:
  app:
    <<: *defaults
    volumes: ["data:/data"]
volumes: {data: {}}
)"},
         {"compose.postgres.yml", R"(
services:
  app:
    deploy:
      labels:
        - "backupbot.backup.volumes.data.path=db.sql"
  db:
    image: postgres
)"},
         {"compose.unused.yml",
          "services:\n  ignored:\n    deploy:\n      labels: [backupbot.backup=true]\n"}}};
    const auto layout = read_recipe(recipe,
                                    "COMPOSE_FILE=compose.yml\n"
                                    "COMPOSE_FILE=\"$COMPOSE_FILE:compose.postgres.yml\"\n")
                            .layout;
    CHECK(layout.files == std::vector<std::string>{"compose.yml", "compose.postgres.yml"});
    CHECK(layout.services == std::vector<std::string>{"app", "db"});
    REQUIRE(layout.backups.size() == 1);
    CHECK(paths_of(layout.backups[0]) == "/data/db.sql");
    // Without the line that adds it, the second file does not count.
    CHECK(paths_of(read_recipe(recipe, "").layout.backups.at(0)) == "/data[data]");
  }

  TEST_CASE("the names Docker will give the stack's objects") {
    const RecipeFiles recipe{{{"compose.yml", R"(
services:
  app:
    image: traefik
secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}
configs:
  file_provider_yml:
    name: ${STACK_NAME}_file_provider_yml_${FILE_PROVIDER_YML_VERSION}
    file: file-provider.yml.tmpl
volumes:
  data:
networks:
  proxy:
    external: true
  internal:
)"}}};
    EnvValues env = env_of("SECRET_DB_PASSWORD_VERSION=v1\n");
    read_abra_sh_exports("export FILE_PROVIDER_YML_VERSION=v2\n", env);
    std::map<std::string, std::string> names;
    for (const auto& name : read_compose(recipe, env, "app_ci_test").docker_names)
      names[name.name] = name.kind;
    CHECK(names == std::map<std::string, std::string>{{"app_ci_test_db_password_v1", "secret"},
                                                      {"app_ci_test_file_provider_yml_v2", "config"},
                                                      {"app_ci_test_data", "volume"},
                                                      {"proxy", "network"},
                                                      {"app_ci_test_internal", "network"},
                                                      {"app_ci_test_app", "service"}});
  }

  TEST_CASE("abra's own secrets are named from the env file's SECRET_<NAME>_VERSION values") {
    const RecipeFiles recipe{{{"compose.yml", "services:\n  app:\n    image: nextcloud\n"}}};
    const std::string sample =
        "TYPE=nextcloud\nSECRET_DB_ROOT_PASSWORD_VERSION=v1  # length=32\n"
        "  SECRET_ADMIN_PASSWORD_VERSION=\"v2\"\n#SECRET_COMMENTED_OUT_VERSION=v1\nSECRET__VERSION=v9\n";
    std::map<std::string, std::string> names;
    for (const auto& name : read_recipe(recipe, sample).docker_names) names[name.name] = name.kind;
    // The comment and the quotes are not part of the version; a commented line makes nothing.
    CHECK(names == std::map<std::string, std::string>{{"app_ci_test_db_root_password_v1", "secret"},
                                                      {"app_ci_test_admin_password_v2", "secret"},
                                                      {"app_ci_test_app", "service"}});
  }

  TEST_CASE("a recipe that does not read says where") {
    CHECK_THROWS_WITH_AS(read_recipe({{{"compose.yml", "services:\n  app: [\n"}}}, ""),
                         doctest::Contains("compose.yml line"), ComposeError);
    CHECK_THROWS_WITH_AS(read_recipe({{{"compose.yml", "- a list\n"}}}, ""),
                         doctest::Contains("is not a compose file"), ComposeError);
    CHECK_THROWS_WITH_AS(
        read_recipe({{{"compose.yml", "services: {}\n"}}}, "COMPOSE_FILE=compose.yml:gone.yml\n"),
        doctest::Contains("COMPOSE_FILE names gone.yml"), ComposeError);
    CHECK_THROWS_WITH_AS(
        read_recipe(
            {{{"compose.yml", "services:\n  app:\n    deploy:\n      labels: [\"a=${NOPE:?needed}\"]\n"}}},
            ""),
        doctest::Contains("compose.yml: required variable NOPE"), ComposeError);
    // Nesting beyond yaml-cpp's depth guard is refused, not a stack overflow.
    CHECK_THROWS_AS(read_recipe({{{"compose.yml", std::string(100000, '[')}}}, ""), ComposeError);
  }

  TEST_CASE("aliases used over and over cost a bounded walk, then an error") {
    std::string labels = "l: &l\n";
    for (int i = 0; i < 2000; ++i) labels += "  k" + std::to_string(i) + ": v\n";
    std::string services = "s: &s {deploy: {labels: *l}}\nservices:\n";
    for (int i = 0; i < 2000; ++i) services += "  s" + std::to_string(i) + ": *s\n";
    CHECK_THROWS_WITH_AS(read_recipe({{{"compose.yml", labels + services}}}, ""), doctest::Contains("steps"),
                         ComposeError);
    std::string merges = labels + "services:\n  app:\n    deploy:\n      labels:\n        <<: [";
    for (int i = 0; i < 3000; ++i) merges += std::string(i == 0 ? "" : ", ") + "*l";
    merges += "]\n";
    // The same alias merged 3,000 times is merged once.
    const auto layout = read_recipe({{{"compose.yml", merges}}}, "").layout;
    CHECK(layout.services == std::vector<std::string>{"app"});
    std::string wide = "services:\n";
    for (int i = 0; i < 10001; ++i) wide += "  s" + std::to_string(i) + ": {}\n";
    CHECK_THROWS_WITH_AS(read_recipe({{{"compose.yml", wide}}}, ""),
                         doctest::Contains("more than 10000 entries"), ComposeError);
    CHECK_THROWS_WITH_AS(read_recipe({{{"compose.yml", "services:\n  app:\n    image: \"\xff\"\n"}}}, ""),
                         doctest::Contains("not UTF-8"), ComposeError);
  }

  TEST_CASE("aliases are references: a billion laughs costs nothing") {
    // Each anchor holds the one before twice: 2^40 leaves if anything copied them.
    std::string text = "a0: &a0 [x, x]\n";
    for (int i = 1; i <= 40; ++i) {
      const std::string before = "*a" + std::to_string(i - 1);
      text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + before + ", " + before + "]\n";
    }
    text += "services:\n  app:\n    volumes: *a40\n    deploy: {labels: *a40}\n";
    const auto layout = read_recipe({{{"compose.yml", text}}}, "").layout;
    CHECK(layout.services == std::vector<std::string>{"app"});
    CHECK(layout.backups.empty());
  }
}
