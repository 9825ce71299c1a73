// Alpine's package database, /lib/apk/db/installed: one record per package, "K:value" lines
// (P name, V version, A arch, L license, T description, m maintainer, D depends, F dir, R file).
#include <fmt/format.h>

#include "facts/text_util.h"
#include "identify/identify.h"

namespace firmwarden::identify {

void Source_apk(const Context& ctx, std::vector<Component>& out) {
  const facts::RootFs& fs = ctx.model.fs;
  if (fs.empty()) return;
  const std::string path = "/lib/apk/db/installed";
  auto text = fs.Read(path, 64 << 20);
  if (!text) return;
  std::string ns = ctx.distro.empty() ? "alpine" : ctx.distro;
  std::string distro = ctx.distro_version.empty() ? "" : ns + "-" + ctx.distro_version;
  Component c;
  std::string dir;
  int line = 0, start = 0;
  auto flush = [&] {
    if (!c.name.empty() && !c.version.empty()) {
      c.type = GuessPackageType(c.name);
      c.purl = MakePurl("apk", ns, c.name, c.version, {{"arch", c.arch}, {"distro", distro}});
      c.main_file = MainFile(fs, c.name, c.files);
      c.evidence.push_back({"apk-installed", "manifest-analysis", path, start, std::nullopt,
                            fmt::format("P:{} / V:{}", c.name, c.version),
                            confidence::kPackageDatabase});
      out.push_back(std::move(c));
    }
    c = Component{};
    dir.clear();
  };
  for (std::string_view l : facts::Lines(*text)) {
    ++line;
    if (facts::Trim(l).empty()) {
      flush();
      continue;
    }
    if (l.size() < 2 || l[1] != ':') continue;
    std::string v(l.substr(2));
    switch (l[0]) {
      case 'P':
        c.name = v;
        start = line;
        break;
      case 'V':
        c.version = v;
        break;
      case 'A':
        c.arch = v;
        break;
      case 'L':
        if (!v.empty()) c.licenses.push_back(v);
        break;
      case 'T':
        c.description = v;
        break;
      case 'm':
        c.supplier = v;
        break;
      case 'D':
        // "so:libc.musl-x86_64.so.1 cmd:foo" entries are virtual; plain names are packages.
        for (std::string_view d : facts::Words(v))
          if (d.find(':') == std::string_view::npos && !d.starts_with('!')) {
            size_t end = d.find_first_of("<>=~");
            c.depends_names.emplace_back(d.substr(0, end));
          }
        break;
      case 'F':
        dir = v;
        break;
      case 'R':
        if (c.files.size() < 100000) c.files.push_back("/" + dir + (dir.empty() ? "" : "/") + v);
        break;
      default:
        break;
    }
  }
  flush();
}

}  // namespace firmwarden::identify
