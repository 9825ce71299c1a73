#include "facts/program_bytes.h"

#include "facts/text_util.h"

namespace firmwarden::facts {

bool MayNameLibraries(std::string_view p) {
  return p.starts_with("etc/") || p.ends_with(".sh") || p.ends_with(".conf") || p.ends_with(".lua");
}

LibraryNames::LibraryNames(const std::map<std::string, ElfInfo>& elves) {
  for (const auto& [path, e] : elves) {
    if (e.type != ElfType::kDyn || !e.interpreter.empty()) continue;  // PIE programs
    std::string name = Basename(path);
    size_t so = name.find(".so");
    if (so == std::string::npos) continue;
    libraries_.push_back(path);
    Add(name.substr(0, so) + ".so", libraries_.size() - 1);
    if (!e.soname.empty()) Add(e.soname, libraries_.size() - 1);
  }
}

void LibraryNames::Add(std::string name, size_t library) {
  std::string_view v = names_.emplace_back(std::move(name));
  size_t so = v.find(".so");
  if (so == std::string_view::npos)
    plain_.emplace_back(v, library);
  else
    anchored_[{so, v.size()}][v].push_back(library);
}

void LibraryNames::Scan(std::string_view data, const std::string& path,
                        std::map<std::string, std::string>& named_by) const {
  auto mark = [&](size_t library) {
    if (libraries_[library] != path) named_by.emplace(libraries_[library], path);
  };
  // Every occurrence of a name containing ".so" has a ".so" at the name's own first-".so" offset.
  for (size_t at = data.find(".so"); at != std::string_view::npos; at = data.find(".so", at + 1))
    for (const auto& [key, table] : anchored_) {
      const auto& [so, len] = key;
      if (at < so || at - so + len > data.size()) continue;
      auto it = table.find(data.substr(at - so, len));
      if (it == table.end()) continue;
      for (size_t library : it->second) mark(library);
    }
  for (const auto& [name, library] : plain_)
    if (data.find(name) != std::string_view::npos) mark(library);
}

std::optional<uint64_t> FindAesSbox(std::string_view data) {
  static constexpr std::string_view kAesSbox(
      "\x63\x7c\x77\x7b\xf2\x6b\x6f\xc5\x30\x01\x67\x2b\xfe\xd7\xab\x76", 16);
  size_t at = data.find(kAesSbox);
  if (at == std::string_view::npos) return std::nullopt;
  return at;
}

}  // namespace firmwarden::facts
