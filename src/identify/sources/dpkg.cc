// Debian's package database: /var/lib/dpkg/status (installed packages, one record each) and the
// distroless status.d/ directory (one record per file, no Status field). info/<pkg>[:arch].list
// names the files each package owns.
#include <fmt/format.h>

#include "facts/text_util.h"
#include "identify/identify.h"

namespace firmwarden::identify {

namespace {

bool Installed(std::string_view status) {
  // "want flag state": only the state matters; config-files, not-installed and half-installed
  // packages have no (complete) files on the device.
  auto w = facts::Words(status);
  if (w.size() != 3) return status.empty();
  return w[2] == "installed" || w[2] == "half-configured" || w[2] == "unpacked" ||
         w[2] == "triggers-awaited" || w[2] == "triggers-pending";
}

std::vector<std::string> OwnedFiles(const facts::RootFs& fs, const std::string& pkg,
                                    const std::string& arch) {
  std::optional<std::string> list = fs.Read("/var/lib/dpkg/info/" + pkg + ".list", 8 << 20);
  if (!list && !arch.empty()) list = fs.Read("/var/lib/dpkg/info/" + pkg + ":" + arch + ".list");
  std::vector<std::string> out;
  if (!list) return out;
  for (std::string_view l : facts::Lines(*list)) {
    l = facts::Trim(l);
    if (!l.empty() && l.front() == '/' && l != "/.") out.emplace_back(l);
  }
  return out;
}

}  // namespace

void Source_dpkg(const Context& ctx, std::vector<Component>& out) {
  const facts::RootFs& fs = ctx.model.fs;
  if (fs.empty()) return;
  std::vector<std::pair<std::string, std::string>> texts;  // path, content
  if (auto t = fs.Read("/var/lib/dpkg/status", 64 << 20))
    texts.emplace_back("/var/lib/dpkg/status", *t);
  for (const FileEntry* e : fs.List("/var/lib/dpkg/status.d")) {
    if (e->type != EntryType::kFile || e->tree_path.ends_with(".md5sums")) continue;
    if (auto t = fs.ReadEntry(*e, 1 << 20)) texts.emplace_back(facts::RootFs::DevicePath(*e), *t);
  }
  // The namespace is the distribution's (Debian derivatives keep their own); "debian" otherwise.
  std::string ns = ctx.distro == "ubuntu" || ctx.distro == "raspbian" || ctx.distro == "devuan"
                       ? ctx.distro
                       : "debian";
  std::string distro;
  if (ctx.distro == ns && !ctx.distro_version.empty()) distro = ns + "-" + ctx.distro_version;
  for (const auto& [path, text] : texts) {
    for (const Record& r : ParseControlRecords(text)) {
      std::string name = r.Get("Package");
      std::string version = r.Get("Version");
      if (name.empty() || version.empty() || !Installed(r.Get("Status"))) continue;
      Component c;
      c.name = name;
      c.version = version;
      c.type = GuessPackageType(name);
      if (std::string section = r.Get("Section");
          section.ends_with("libs") || section == "libdevel")
        c.type = ComponentType::kLibrary;
      c.arch = r.Get("Architecture");
      c.supplier = r.Get("Maintainer");
      std::string desc = r.Get("Description");
      c.description = desc.substr(0, desc.find('\n'));
      c.purl = MakePurl("deb", ns, name, version, {{"arch", c.arch}, {"distro", distro}});
      c.depends_names = DependsNames(r.Get("Depends"));
      for (std::string& d : DependsNames(r.Get("Pre-Depends"))) c.depends_names.push_back(d);
      c.files = OwnedFiles(fs, name, c.arch);
      c.main_file = MainFile(fs, name, c.files);
      c.evidence.push_back({"dpkg-status", "manifest-analysis", path, r.line, std::nullopt,
                            fmt::format("Package: {} / Version: {}", name, version),
                            confidence::kPackageDatabase});
      out.push_back(std::move(c));
    }
  }
}

}  // namespace firmwarden::identify
