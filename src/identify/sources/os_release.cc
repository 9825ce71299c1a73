// os-release (/etc/os-release, else /usr/lib/os-release): the distribution and its version. This
// covers Buildroot (ID=buildroot, VERSION_ID=2020.02) and Yocto/Poky (ID=poky) images too; a Yocto
// /etc/version (the build stamp) is kept as extra evidence.
#include <fmt/format.h>

#include "facts/text_util.h"
#include "identify/identify.h"

namespace firmwarden::identify {

namespace {

int LineOf(std::string_view text, std::string_view key) {
  int n = 0;
  for (std::string_view l : facts::Lines(text)) {
    ++n;
    l = facts::Trim(l);
    if (l.starts_with(key) && l.size() > key.size() && l[key.size()] == '=') return n;
  }
  return 0;
}

}  // namespace

void Source_os_release(const Context& ctx, std::vector<Component>& out) {
  const facts::RootFs& fs = ctx.model.fs;
  if (fs.empty()) return;
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = fs.Read(path, 64 << 10);
    if (!text) continue;
    auto kv = ParseKeyValues(*text);
    auto get = [&](const char* k) {
      auto it = kv.find(k);
      return it == kv.end() ? std::string() : it->second;
    };
    std::string id = facts::Lower(get("ID"));
    std::string version = get("VERSION_ID");
    const char* version_key = "VERSION_ID";
    if (version.empty()) {
      version = get("VERSION");
      version_key = "VERSION";
    }
    if (id.empty() || version.empty()) continue;
    Component c;
    c.name = id;
    c.version = version;
    c.type = ComponentType::kOperatingSystem;
    c.supplier = get("NAME");
    c.description = get("PRETTY_NAME");
    // CPE_NAME is a CPE 2.2 URI ("cpe:/o:fedoraproject:fedora:38"): the distribution's own id.
    if (std::string cpe = get("CPE_NAME"); cpe.starts_with("cpe:/")) {
      auto f = facts::Split(std::string_view(cpe).substr(5), ':');
      if (f.size() >= 3 && f[0].size() == 1) {
        c.cpe_vendor = std::string(f[1]);
        c.cpe_product = std::string(f[2]);
        c.cpe = FormatCpe(f[0][0], f[1], f[2], f.size() > 3 ? f[3] : std::string_view(version));
      }
    }
    c.evidence.push_back({"os-release", "manifest-analysis", path, LineOf(*text, version_key),
                          std::nullopt, fmt::format("ID={} {}={}", get("ID"), version_key, version),
                          confidence::kReleaseMarker});
    if (auto v = fs.Read("/etc/version", 4096)) {
      auto lines = facts::Lines(*v);
      if (!lines.empty() && !facts::Trim(lines[0]).empty())
        c.evidence.push_back({"etc-version", "manifest-analysis", "/etc/version", 1, std::nullopt,
                              std::string(facts::Trim(lines[0])).substr(0, 200),
                              confidence::kReleaseMarker});
    }
    out.push_back(std::move(c));
    return;  // /usr/lib/os-release is only the fallback
  }
}

}  // namespace firmwarden::identify
