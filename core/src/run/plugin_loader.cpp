#include "run/plugin_loader.hpp"

#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

#include "ccci/process.hpp"
#include "ccci/readiness.hpp"
#include "run/lifecycle.hpp"

namespace ccci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kInfoSymbol = "ccci_plugin_info";
constexpr const char* kFactorySymbol = "ccci_create_recipe_test";

// A bounds-checked view of an ELF file's bytes.
class ElfFile {
 public:
  ElfFile(std::string_view bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}

  template <typename T>
  T read(uint64_t offset) const {
    if (offset > bytes_.size() || bytes_.size() - offset < sizeof(T)) fail("is truncated or corrupt");
    T value;
    std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }
  std::string_view string_at(uint64_t offset) const {
    if (offset >= bytes_.size()) fail("is truncated or corrupt");
    const auto end = bytes_.find('\0', offset);
    if (end == std::string_view::npos) fail("is truncated or corrupt");
    return bytes_.substr(offset, end - offset);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw PluginError("plugin " + name_ + ": " + what);
  }

 private:
  std::string_view bytes_;
  std::string name_;
};

}  // namespace

int read_abi_version_from(std::string_view bytes, const std::string& name) {
  const ElfFile elf(bytes, name);
  if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
    elf.fail("not a loadable shared library (not an ELF file)");
  if (bytes[EI_CLASS] != ELFCLASS64 || bytes[EI_DATA] != ELFDATA2LSB)
    elf.fail("not a loadable shared library (not a 64-bit little-endian ELF file)");
  const auto header = elf.read<Elf64_Ehdr>(0);
  if (header.e_type != ET_DYN) elf.fail("not a loadable shared library (not a shared object)");
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_phentsize != sizeof(Elf64_Phdr))
    elf.fail("is truncated or corrupt");

  // The exported symbol, from the dynamic symbol table.
  std::optional<Elf64_Sym> info;
  for (uint16_t i = 0; i < header.e_shnum && !info; ++i) {
    const auto section = elf.read<Elf64_Shdr>(header.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr));
    if (section.sh_type != SHT_DYNSYM || section.sh_entsize != sizeof(Elf64_Sym)) continue;
    if (section.sh_link >= header.e_shnum) elf.fail("is truncated or corrupt");
    const auto strings =
        elf.read<Elf64_Shdr>(header.e_shoff + uint64_t{section.sh_link} * sizeof(Elf64_Shdr));
    const uint64_t count = section.sh_size / sizeof(Elf64_Sym);
    for (uint64_t s = 0; s < count; ++s) {
      const auto symbol = elf.read<Elf64_Sym>(section.sh_offset + s * sizeof(Elf64_Sym));
      if (symbol.st_shndx == SHN_UNDEF || symbol.st_name >= strings.sh_size) continue;
      if (elf.string_at(strings.sh_offset + symbol.st_name) == kInfoSymbol) {
        info = symbol;
        break;
      }
    }
  }
  if (!info)
    elf.fail(std::string("missing entry point ") + kInfoSymbol + " (was it built with CCCI_PLUGIN?)");
  if (info->st_size < sizeof(int)) elf.fail(std::string(kInfoSymbol) + " is too small");

  // Its address, as a place in the file: the loaded segment that holds it.
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    const auto segment = elf.read<Elf64_Phdr>(header.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr));
    if (segment.p_type != PT_LOAD || info->st_value < segment.p_vaddr ||
        info->st_value - segment.p_vaddr + sizeof(int32_t) > segment.p_filesz)
      continue;
    // abi_version is the record's first member, an int needing no relocation.
    return elf.read<int32_t>(segment.p_offset + (info->st_value - segment.p_vaddr));
  }
  elf.fail(std::string(kInfoSymbol) + " lies outside the file's loaded segments");
}

int read_abi_version(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw PluginError("plugin " + file.string() + ": cannot be read");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return read_abi_version_from(bytes, file.string());
}

namespace {

void check_abi(const fs::path& file) {
  const int version = read_abi_version(file);
  if (version != kAbiVersion)
    throw PluginError("plugin " + file.string() + ": ABI version " + std::to_string(version) +
                      " does not match this cc-ci's ABI version " + std::to_string(kAbiVersion) +
                      "; rebuild the plugin against this cc-ci");
}

}  // namespace

LoadedPlugin::LoadedPlugin(const fs::path& file) : file_(file) {
  const std::string name = file.string();
  check_abi(file);  // before any of its code can run
  boost::system::error_code error;
  library_ = std::make_shared<boost::dll::shared_library>();
  library_->load(boost::dll::fs::path(name),
                 boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, error);
  if (error)  // dlerror() says why (e.g. a missing dependency)
    throw PluginError("plugin " + name + ": not a loadable shared library (" + error.message() + ")");
  const auto& info = library_->get<const PluginInfo>(kInfoSymbol);
  if (info.recipe == nullptr || *info.recipe == '\0')
    throw PluginError("plugin " + name + ": names no recipe in " + kInfoSymbol);
  recipe_ = info.recipe;
  if (!library_->has(kFactorySymbol))
    throw PluginError("plugin " + name + ": missing entry point " + kFactorySymbol +
                      " (was it built with CCCI_PLUGIN?)");
  factory_ = &library_->get_alias<RecipeTestFactory>(kFactorySymbol);
}

std::shared_ptr<RecipeTest> LoadedPlugin::create() const {
  std::unique_ptr<RecipeTest> test = factory_();
  if (!test) throw PluginError("plugin " + file_.string() + ": its factory returned nothing");
  // The deleter holds the library, so the code of ~RecipeTest is still mapped when it runs.
  auto library = library_;
  RecipeTest* raw = test.release();
  return std::shared_ptr<RecipeTest>(raw, [library](RecipeTest* object) { delete object; });
}

namespace {

// A readiness condition's value read back: what JsonEquals can hold, nothing else.
decltype(JsonEquals::value) json_scalar(const json& value) {
  if (value.is_null()) return nullptr;
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_string()) return value.get<std::string>();
  throw std::invalid_argument("a readiness condition's value is not null, a boolean, an integer or a string");
}

}  // namespace

json to_json(const RecipeInfo& info) {
  json conditions = json::array();
  for (const auto& condition : info.ready.json_equals)
    conditions.push_back({condition.pointer, json_value(condition)});
  json not_applicable = json::array();
  for (const auto& declared : info.not_applicable)
    not_applicable.push_back({static_cast<int>(declared.rung), declared.reason});
  json env = json::array();
  for (const auto& [key, value] : info.env) env.push_back({key, value});
  return {{"tags", info.tags},
          {"ready", {{"path", info.ready.path}, {"status", info.ready.status}, {"json_equals", conditions}}},
          {"timeouts_s",
           {{"deploy", info.timeouts.deploy.count()},
            {"probe", info.timeouts.probe.count()},
            {"teardown", info.timeouts.teardown.count()}}},
          {"not_applicable", not_applicable},
          {"backup_surface", info.backup_surface ? json(*info.backup_surface) : json(nullptr)},
          {"env", env},
          {"upgrade_from", info.upgrade_from},
          {"compose_overlay", info.compose_overlay},
          {"screenshot", info.screenshot}};
}

RecipeInfo recipe_info_from_json(const json& in) {
  RecipeInfo info;
  info.tags = in.at("tags").get<std::vector<std::string>>();
  const auto& ready = in.at("ready");
  info.ready.path = ready.at("path").get<std::string>();
  info.ready.status = ready.at("status").get<long>();
  for (const auto& condition : ready.at("json_equals"))
    info.ready.json_equals.push_back({condition.at(0).get<std::string>(), json_scalar(condition.at(1))});
  const auto& timeouts = in.at("timeouts_s");
  info.timeouts.deploy = std::chrono::seconds(timeouts.at("deploy").get<long long>());
  info.timeouts.probe = std::chrono::seconds(timeouts.at("probe").get<long long>());
  info.timeouts.teardown = std::chrono::seconds(timeouts.at("teardown").get<long long>());
  for (const auto& declared : in.at("not_applicable")) {
    const int rung = declared.at(0).get<int>();
    if (rung < static_cast<int>(Rung::deploys) || rung > static_cast<int>(Rung::clean_teardown))
      throw std::out_of_range("not_applicable names no rung: " + std::to_string(rung));
    info.not_applicable.push_back({static_cast<Rung>(rung), declared.at(1).get<std::string>()});
  }
  if (!in.at("backup_surface").is_null()) info.backup_surface = in.at("backup_surface").get<bool>();
  for (const auto& line : in.at("env"))
    info.env.emplace_back(line.at(0).get<std::string>(), line.at(1).get<std::string>());
  info.upgrade_from = in.at("upgrade_from").get<std::string>();
  info.compose_overlay = in.at("compose_overlay").get<std::string>();
  info.screenshot = in.at("screenshot").get<std::string>();
  return info;
}

namespace {

void write_answer(const fs::path& answer, const json& content) {
  std::ofstream out(answer, std::ios::trunc);
  out << content.dump(-1, ' ', false, json::error_handler_t::replace);
  out.close();
  if (!out) throw std::runtime_error("cannot write " + answer.string());
}

// A private folder for one child's answer, removed afterwards.
class AnswerFolder {
 public:
  AnswerFolder() {
    std::string pattern = (fs::temp_directory_path() / "cc-ci-plugin-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw PluginError("cannot make a temporary folder");
    path_ = pattern;
  }
  AnswerFolder(const AnswerFolder&) = delete;
  AnswerFolder& operator=(const AnswerFolder&) = delete;
  ~AnswerFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Runs `self exec-one ARGS… --answer FILE` and returns what it wrote there.
json ask_child(const fs::path& self, std::vector<std::string> args, const fs::path& plugin_file,
               const char* while_doing) {
  const AnswerFolder folder;
  const fs::path answer = folder / "answer.json";
  std::vector<std::string> argv = {self.string(), "exec-one"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--answer", answer.string()});
  const CommandResult result = run_command({.argv = argv,
                                            .timeout = kDescribeTimeout,
                                            .output = Output::capture,
                                            .max_output = size_t{64} * 1024});
  const std::string plugin = "plugin " + plugin_file.string() + ": ";
  std::string said = result.output;
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  if (const auto newline = said.rfind('\n'); newline != std::string::npos) said.erase(0, newline + 1);
  if (result.timed_out)
    throw PluginError(plugin + "did not answer within " + std::to_string(kDescribeTimeout.count()) + "s " +
                      while_doing);
  if (result.signal != 0) throw PluginError(plugin + result.describe() + " " + while_doing);
  std::ifstream in(answer);
  json content = json::parse(in, nullptr, false);
  if (result.exit_code != 0 || content.is_discarded() || !content.is_object()) {
    if (!said.empty() && result.exit_code != 0)
      throw PluginError(said.starts_with("plugin ") ? said : plugin + said);
    throw PluginError(plugin + "the process " + while_doing + " " + result.describe() +
                      " without an answer (did the plugin call exit()?)");
  }
  return content;
}

}  // namespace

std::vector<fs::path> find_plugin_files(const std::vector<fs::path>& locations) {
  std::vector<fs::path> files;
  for (const auto& location : locations) {
    std::error_code error;
    const auto status = fs::status(location, error);
    if (!fs::exists(status))
      throw PluginError("plugin path " + location.string() + ": no such file or directory");
    if (fs::is_regular_file(status)) {
      files.push_back(location);
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(location, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_regular_file() && it->path().extension() == ".so") files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

std::vector<Plugin> load_plugins(const std::vector<fs::path>& locations, const fs::path& self) {
  std::vector<Plugin> plugins;
  std::map<std::string, fs::path> claimed;
  for (const auto& file : find_plugin_files(locations)) {
    check_abi(file);
    const json answer = ask_child(self, {"--describe", file.string()}, file, "while loading");
    Plugin plugin(file, answer.at("recipe").get<std::string>(), recipe_info_from_json(answer.at("info")));
    auto [existing, inserted] = claimed.emplace(plugin.recipe(), file);
    if (!inserted)
      throw PluginError("plugins " + existing->second.string() + " and " + file.string() +
                        " both claim recipe " + plugin.recipe() + "; keep one");
    plugins.push_back(std::move(plugin));
  }
  std::sort(plugins.begin(), plugins.end(),
            [](const Plugin& a, const Plugin& b) { return a.recipe() < b.recipe(); });
  return plugins;
}

std::vector<PlanLine> plan_in_child(const fs::path& self, const RecipeJob& job) {
  const AnswerFolder folder;
  const fs::path job_file = folder / "job.json";
  std::ofstream(job_file) << to_json(job).dump();
  const json answer =
      ask_child(self, {"--job", job_file.string(), "--plan"}, job.plugin_file, "while planning");
  std::vector<PlanLine> lines;
  for (const auto& line : answer.at("plan"))
    lines.push_back(
        {phase_from_string(line.at("phase").get<std::string>()), line.at("line").get<std::string>()});
  return lines;
}

namespace {

// A plugin's compose overlay is a plain file beside it: a name, never a path
// that could reach elsewhere.
void check_compose_overlay(const fs::path& plugin_file, const std::string& overlay) {
  if (overlay.empty()) return;
  const std::string plugin = "plugin " + plugin_file.string() + ": compose overlay \"" + overlay + "\" ";
  if (overlay.find('/') != std::string::npos || overlay == "." || overlay == "..")
    throw PluginError(plugin + "must be a file name in the plugin's folder, not a path");
  if (!fs::is_regular_file(plugin_file.parent_path() / overlay))
    throw PluginError(plugin + "is not beside the plugin (" + (plugin_file.parent_path() / overlay).string() +
                      " is no file)");
}

// The page to shoot is a path on the app's own domain, never another address.
void check_screenshot_page(const fs::path& plugin_file, const std::string& page) {
  if (page.empty()) return;
  if (!page.starts_with('/') || page.starts_with("//") ||
      page.find_first_of(" \t\r\n\\@") != std::string::npos)
    throw PluginError("plugin " + plugin_file.string() + ": screenshot page \"" + page +
                      "\" must be a path on the app's domain, starting with one /");
}

}  // namespace

int describe_plugin(const fs::path& plugin_file, const fs::path& answer) {
  try {
    const LoadedPlugin plugin(plugin_file);
    RecipeInfo info;
    try {
      info = plugin.create()->info();
    } catch (const std::exception& error) {
      throw PluginError("plugin " + plugin_file.string() + ": info() failed: " + error.what());
    }
    check_compose_overlay(plugin_file, info.compose_overlay);
    check_screenshot_page(plugin_file, info.screenshot);
    write_answer(answer, {{"recipe", plugin.recipe()}, {"info", to_json(info)}});
    return 0;
  } catch (const std::exception& error) {
    std::cout << error.what() << std::endl;
    return 2;
  }
}

int plan_job(const fs::path& job_file, const fs::path& answer) {
  try {
    std::ifstream in(job_file);
    const RecipeJob job = job_from_json(json::parse(in));
    json lines = json::array();
    const PlanSink sink = [&](Phase phase, std::string_view line) {
      lines.push_back({{"phase", to_string(phase)}, {"line", line}});
    };
    if (job.lane == Lane::lint) {
      plan_lint_lane(job, sink);
    } else {
      const LoadedPlugin plugin(job.plugin_file);
      plan_lifecycle(*plugin.create(), job, sink);
    }
    write_answer(answer, {{"plan", lines}});
    return 0;
  } catch (const std::exception& error) {
    std::cout << error.what() << std::endl;
    return 2;
  }
}

}  // namespace ccci
