// The opkg package database (OpenWrt, and Yocto images built with ipk packages): the status file
// lists what is installed; info/<pkg>.control carries the package's full control record (License,
// Maintainer, Source) and info/<pkg>.list its files. On OpenWrt the packages are OpenWrt's own
// builds, never Debian's: their purl is pkg:generic with the "openwrt" namespace (purl has no opkg
// type), and they never share a namespace with dpkg packages.
#include <fmt/format.h>

#include <map>

#include "facts/text_util.h"
#include "identify/identify.h"

namespace firmwarden::identify {

namespace {

std::vector<std::string> OwnedFiles(const facts::RootFs& fs, const std::string& dir,
                                    const std::string& pkg) {
  std::vector<std::string> out;
  auto list = fs.Read(dir + "/info/" + pkg + ".list", 8 << 20);
  if (!list) return out;
  for (std::string_view l : facts::Lines(*list)) {
    l = facts::Trim(l);
    // Newer opkg writes "path\tmode" pairs.
    if (size_t tab = l.find('\t'); tab != std::string_view::npos) l = l.substr(0, tab);
    if (!l.empty() && l.front() == '/') out.emplace_back(l);
  }
  return out;
}

bool Installed(std::string_view status) {
  auto w = facts::Words(status);
  if (w.size() != 3) return status.empty();
  return w[2] == "installed" || w[2] == "unpacked" || w[2] == "half-configured";
}

}  // namespace

void Source_opkg(const Context& ctx, std::vector<Component>& out) {
  const facts::RootFs& fs = ctx.model.fs;
  if (fs.empty()) return;
  std::string ns = ctx.distro.empty() ? "opkg" : ctx.distro;
  if (ns == "lede") ns = "openwrt";
  std::string distro =
      ctx.distro.empty() || ctx.distro_version.empty() ? "" : ctx.distro + "-" + ctx.distro_version;
  for (const char* dir : {"/usr/lib/opkg", "/var/lib/opkg"}) {
    std::string base = dir;
    std::map<std::string, std::pair<std::string, Record>> controls;  // name -> (path, record)
    for (const FileEntry* e : fs.List(base + "/info")) {
      if (e->type != EntryType::kFile || !e->tree_path.ends_with(".control")) continue;
      auto t = fs.ReadEntry(*e, 256 << 10);
      if (!t) continue;
      auto recs = ParseControlRecords(*t, 1);
      if (recs.empty() || recs[0].Get("Package").empty()) continue;
      std::string name = recs[0].Get("Package");
      controls.emplace(name, std::pair{facts::RootFs::DevicePath(*e), std::move(recs[0])});
    }
    std::string status_path = base + "/status";
    auto status = fs.Read(status_path, 64 << 20);
    std::vector<Record> records = status ? ParseControlRecords(*status) : std::vector<Record>{};
    std::map<std::string, bool> from_status;
    auto make = [&](const Record* st, const std::pair<std::string, Record>* ctl) {
      const Record& main = st != nullptr ? *st : ctl->second;
      std::string name = main.Get("Package");
      std::string version = main.Get("Version");
      if (version.empty() && ctl != nullptr) version = ctl->second.Get("Version");
      if (name.empty() || version.empty()) return;
      auto get = [&](std::string_view k) {
        std::string v = main.Get(k);
        if (v.empty() && ctl != nullptr) v = ctl->second.Get(k);
        return v;
      };
      Component c;
      c.name = name;
      c.version = version;
      c.type = GuessPackageType(name);
      if (get("Section") == "libs") c.type = ComponentType::kLibrary;
      c.arch = get("Architecture");
      c.supplier = get("Maintainer");
      std::string desc = get("Description");
      c.description = desc.substr(0, desc.find('\n'));
      if (std::string lic = get("License"); !lic.empty()) c.licenses.push_back(lic);
      c.purl = MakePurl("generic", ns, name, version, {{"arch", c.arch}, {"distro", distro}});
      c.depends_names = DependsNames(get("Depends"));
      c.files = OwnedFiles(fs, base, name);
      c.main_file = MainFile(fs, name, c.files);
      if (st != nullptr)
        c.evidence.push_back({"opkg-status", "manifest-analysis", status_path, st->line,
                              std::nullopt, fmt::format("Package: {} / Version: {}", name, version),
                              confidence::kPackageDatabase});
      if (ctl != nullptr)
        c.evidence.push_back(
            {"opkg-control", "manifest-analysis", ctl->first, ctl->second.line, std::nullopt,
             fmt::format("Package: {} / Version: {}", name, ctl->second.Get("Version")),
             confidence::kPackageDatabase});
      out.push_back(std::move(c));
    };
    for (const Record& r : records) {
      std::string name = r.Get("Package");
      if (name.empty() || !Installed(r.Get("Status"))) continue;
      from_status[name] = true;
      auto it = controls.find(name);
      // A control file of another version is a separate observation; the status wins.
      bool same = it != controls.end() && (it->second.second.Get("Version").empty() ||
                                           it->second.second.Get("Version") == r.Get("Version"));
      make(&r, same ? &it->second : nullptr);
    }
    // Control files without a status record (the status file was stripped from the image).
    if (records.empty())
      for (const auto& [name, ctl] : controls) make(nullptr, &ctl);
  }
}

}  // namespace firmwarden::identify
