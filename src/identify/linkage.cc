// ELF linkage between components: a program or library owned by component A that needs (DT_NEEDED)
// a library owned by component B makes A depend on B. Ownership comes from the package databases'
// file lists, the components' main files and the files where a binary signature matched; the
// libraries are found by soname (the ELF facts' DT_SONAME), then by file name in the usual library
// directories and the needing file's RPATH/RUNPATH. The ELF facts are read, never re-parsed.
#include <algorithm>
#include <map>
#include <set>

#include "facts/text_util.h"
#include "identify/identify.h"

namespace firmwarden::identify {

void AddLinkageDependencies(const facts::DeviceModel& model, std::vector<Component>& components) {
  if (model.elves.empty() || components.empty()) return;
  // Device path -> owning component (the first that claims it: package databases come with whole
  // file lists, a signature only with the file it matched in).
  std::map<std::string, size_t, std::less<>> owner;
  for (size_t i = 0; i < components.size(); ++i) {
    const Component& c = components[i];
    for (const std::string& f : c.files) owner.emplace(f, i);
    if (!c.main_file.empty()) owner.emplace(c.main_file, i);
    for (const ComponentEvidence& e : c.evidence)
      if (e.path.starts_with("/") && model.elves.count(e.path) != 0) owner.emplace(e.path, i);
  }
  if (owner.empty()) return;
  // Soname -> library paths; and library file names in the search directories.
  std::map<std::string, std::vector<std::string>, std::less<>> by_soname;
  for (const auto& [path, elf] : model.elves)
    if (!elf.soname.empty()) by_soname[elf.soname].push_back(path);
  auto resolve = [&](const std::string& needer, const facts::ElfInfo& elf,
                     const std::string& needed) -> std::string {
    if (needed.find('/') != std::string::npos) {
      std::string p = model.fs.ResolvePath(needed);
      return p.empty() ? "" : (p[0] == '/' ? p : "/" + p);
    }
    std::vector<std::string> dirs;
    for (const std::string* rp : {&elf.rpath, &elf.runpath})
      for (std::string_view d : facts::Split(*rp, ':')) {
        std::string dir(d);
        if (dir.starts_with("$ORIGIN")) {
          std::string base = needer.substr(0, needer.rfind('/'));
          dir = base + dir.substr(7);
        }
        if (!dir.empty()) dirs.push_back(dir);
      }
    for (const char* d : {"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib"})
      dirs.emplace_back(d);
    for (const std::string& d : dirs) {
      std::string p = model.fs.ResolvePath(d + "/" + needed);
      if (!p.empty()) return p[0] == '/' ? p : "/" + p;
    }
    auto it = by_soname.find(needed);
    if (it != by_soname.end() && !it->second.empty()) return it->second.front();
    return "";
  };
  std::vector<std::set<std::string>> deps(components.size());
  for (const auto& [path, elf] : model.elves) {
    auto a = owner.find(path);
    if (a == owner.end()) continue;
    for (const std::string& needed : elf.needed) {
      std::string lib = resolve(path, elf, needed);
      if (lib.empty()) continue;
      auto b = owner.find(lib);
      if (b == owner.end()) {
        // The library may be owned under the name of a symlink to it.
        auto s = by_soname.find(needed);
        if (s != by_soname.end())
          for (const std::string& p : s->second)
            if ((b = owner.find(p)) != owner.end()) break;
        if (b == owner.end()) continue;
      }
      if (b->second != a->second) deps[a->second].insert(components[b->second].bom_ref);
    }
  }
  for (size_t i = 0; i < components.size(); ++i) {
    if (deps[i].empty()) continue;
    std::set<std::string> all(components[i].depends_on.begin(), components[i].depends_on.end());
    all.insert(deps[i].begin(), deps[i].end());
    all.erase(components[i].bom_ref);
    components[i].depends_on.assign(all.begin(), all.end());
  }
}

}  // namespace firmwarden::identify
