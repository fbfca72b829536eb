#include "run/plugin_loader.hpp"

#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>

#include "ccci/process.hpp"

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

// A private folder for one child's question and answer, removed afterwards.
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

// What a child answered (one JSON value per item it finished), and how it ended.
struct ChildAnswers {
  std::vector<json> answers;
  CommandResult result;
  std::string said;  // the last line it printed: a PluginError's one line

  bool ended_well() const { return !result.timed_out && result.signal == 0 && result.exit_code == 0; }
};

// One plugin's time to describe itself or walk a lane, and a second more for
// each further item a child is given.
std::chrono::seconds child_timeout(size_t items) {
  return kDescribeTimeout + std::chrono::seconds(items > 0 ? items - 1 : 0);
}

// Runs `self exec-one ARGS… --answer FILE` over `items` items.
ChildAnswers ask_child(const fs::path& self, std::vector<std::string> args, size_t items) {
  const AnswerFolder folder;
  const fs::path answer = folder / "answer.jsonl";
  std::vector<std::string> argv = {self.string(), "exec-one"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--answer", answer.string()});
  ChildAnswers child{.result = run_command({.argv = argv,
                                            .timeout = child_timeout(items),
                                            .output = Output::capture,
                                            .max_output = size_t{64} * 1024})};
  child.said = last_line(child.result.output);
  std::ifstream in(answer);
  for (std::string line; child.answers.size() < items && std::getline(in, line);) {
    json value = json::parse(line, nullptr, false);
    if (value.is_discarded() || !value.is_object()) break;  // a line cut short by the child's end
    child.answers.push_back(std::move(value));
  }
  return child;
}

// Why `plugin_file` (the one the child was busy with) gave no answer, as one line.
[[noreturn]] void fail_for(const fs::path& plugin_file, const ChildAnswers& child, size_t items,
                           const char* while_doing) {
  const std::string plugin = "plugin " + plugin_file.string() + ": ";
  const CommandResult& result = child.result;
  if (result.timed_out)
    throw PluginError(plugin + "did not answer within " + std::to_string(child_timeout(items).count()) +
                      "s " + while_doing);
  if (result.signal != 0) throw PluginError(plugin + result.describe() + " " + while_doing);
  if (!child.said.empty() && result.exit_code != 0)
    throw PluginError(child.said.starts_with("plugin ") ? child.said : plugin + child.said);
  throw PluginError(plugin + "the process " + while_doing + " " + result.describe() +
                    " without an answer (did the plugin call exit()?)");
}

// One child's answers to `args`, one per item (item i is of plugin
// `item_plugins[i]`), when it answered all and ended well. A child of one
// plugin that did not is that plugin's failure, named. One that several
// plugins shared gives nullopt: the fault may be any of theirs (a crash can
// surface items after the code that caused it), so the caller asks each alone.
std::optional<ChildAnswers> ask(const fs::path& self, const std::vector<std::string>& args,
                                const std::vector<fs::path>& item_plugins, const char* while_doing) {
  ChildAnswers child = ask_child(self, args, item_plugins.size());
  const size_t items = item_plugins.size();
  if (child.answers.size() == items && child.ended_well()) return child;
  if (std::all_of(item_plugins.begin(), item_plugins.end(),
                  [&](const fs::path& plugin) { return plugin == item_plugins.front(); }))
    fail_for(item_plugins.front(), child, items, while_doing);
  return std::nullopt;
}

// Each file's recipe and info: all in one child, or each in its own when
// that one failed.
std::vector<json> describe_in_children(const fs::path& self, const std::vector<fs::path>& files) {
  std::vector<std::string> args;
  for (const auto& file : files) args.insert(args.end(), {"--describe", file.string()});
  if (auto all = ask(self, args, files, "while loading")) return std::move(all->answers);
  std::vector<json> each;
  each.reserve(files.size());
  for (const auto& file : files)
    each.push_back(
        std::move(ask(self, {"--describe", file.string()}, {file}, "while loading")->answers.front()));
  return each;
}

// The dry walks of `jobs[indices…]` in one child, in that order.
std::optional<ChildAnswers> plan_batch(const fs::path& self, const std::vector<RecipeJob>& jobs,
                                       const std::vector<size_t>& indices) {
  const AnswerFolder folder;
  const fs::path jobs_file = folder / "jobs.json";
  json wire = json::array();
  std::vector<fs::path> item_plugins;
  for (size_t i : indices) {
    wire.push_back(to_json(jobs[i]));
    item_plugins.push_back(jobs[i].plugin_file);
  }
  std::ofstream(jobs_file) << wire.dump();
  return ask(self, {"--job", jobs_file.string(), "--plan"}, item_plugins, "while planning");
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
  const std::vector<fs::path> files = find_plugin_files(locations);
  for (const auto& file : files) check_abi(file);  // before any code of any of them runs
  const std::vector<json> described = files.empty() ? std::vector<json>{} : describe_in_children(self, files);
  std::vector<Plugin> plugins;
  std::map<std::string, fs::path> claimed;
  for (size_t i = 0; i < files.size(); ++i) {
    Plugin plugin(files[i], described[i].at("recipe").get<std::string>(),
                  recipe_info_from_json(described[i].at("info")));
    auto [existing, inserted] = claimed.emplace(plugin.recipe(), files[i]);
    if (!inserted)
      throw PluginError("plugins " + existing->second.string() + " and " + files[i].string() +
                        " both claim recipe " + plugin.recipe() + "; keep one");
    plugins.push_back(std::move(plugin));
  }
  std::sort(plugins.begin(), plugins.end(),
            [](const Plugin& a, const Plugin& b) { return a.recipe() < b.recipe(); });
  return plugins;
}

std::vector<std::vector<PlanLine>> plan_in_children(const fs::path& self,
                                                    const std::vector<RecipeJob>& jobs) {
  if (jobs.empty()) return {};
  // One child walks every lane, a plugin's lanes one after another so it
  // loads once: a plan only describes, and a process per lane cost more than
  // the walks. The lanes that run each walk their own plugin in their own child.
  std::map<fs::path, std::vector<size_t>> by_plugin;
  for (size_t i = 0; i < jobs.size(); ++i) by_plugin[jobs[i].plugin_file].push_back(i);
  std::vector<size_t> all;
  for (const auto& [plugin, indices] : by_plugin) all.insert(all.end(), indices.begin(), indices.end());
  std::vector<std::vector<PlanLine>> plans(jobs.size());
  const auto take = [&](const std::vector<size_t>& indices, const ChildAnswers& child) {
    for (size_t k = 0; k < indices.size(); ++k)
      for (const auto& line : child.answers[k].at("plan"))
        plans[indices[k]].push_back(
            {phase_from_string(line.at("phase").get<std::string>()), line.at("line").get<std::string>()});
  };
  if (auto child = plan_batch(self, jobs, all)) {
    take(all, *child);
    return plans;
  }
  for (const auto& [plugin, indices] : by_plugin) take(indices, *plan_batch(self, jobs, indices));
  return plans;
}

}  // namespace ccci
