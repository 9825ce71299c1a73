// OpenWrt's release markers: /etc/openwrt_release (DISTRIB_ID, DISTRIB_RELEASE, DISTRIB_REVISION,
// DISTRIB_TARGET) and /etc/openwrt_version (one line: the release or the source revision).
#include <fmt/format.h>

#include "facts/text_util.h"
#include "identify/identify.h"

namespace firmwarden::identify {

void Source_openwrt_release(const Context& ctx, std::vector<Component>& out) {
  const facts::RootFs& fs = ctx.model.fs;
  if (fs.empty()) return;
  std::optional<std::string> text = fs.Read("/etc/openwrt_release", 64 << 10);
  std::optional<std::string> version_file = fs.Read("/etc/openwrt_version", 4096);
  std::string version_line;
  if (version_file) {
    auto lines = facts::Lines(*version_file);
    if (!lines.empty()) version_line = std::string(facts::Trim(lines[0])).substr(0, 100);
  }
  Component c;
  c.type = ComponentType::kOperatingSystem;
  if (text) {
    auto get = [&](const char* k) {
      auto it = ctx.openwrt_release.find(k);
      return it == ctx.openwrt_release.end() ? std::string() : it->second;
    };
    std::string id = get("DISTRIB_ID");
    c.name = OpenWrtId(id);
    c.version = OpenWrtVersion(ctx.openwrt_release, version_line);
    c.supplier = id.empty() ? "OpenWrt" : id;
    c.description = get("DISTRIB_DESCRIPTION");
    int line = 0, n = 0;
    for (std::string_view l : facts::Lines(*text)) {
      ++n;
      if (facts::Trim(l).starts_with("DISTRIB_RELEASE=")) line = n;
    }
    std::string rev = get("DISTRIB_REVISION");
    c.evidence.push_back(
        {"openwrt-release", "manifest-analysis", "/etc/openwrt_release", line, std::nullopt,
         fmt::format("DISTRIB_ID={} DISTRIB_RELEASE={}{}", id, get("DISTRIB_RELEASE"),
                     rev.empty() ? "" : " DISTRIB_REVISION=" + rev),
         confidence::kReleaseMarker});
  } else if (LooksLikeVersion(version_line)) {
    c.name = "openwrt";
    c.version = version_line;
    c.supplier = "OpenWrt";
  }
  if (c.name.empty() || c.version.empty()) return;
  if (!version_line.empty())
    c.evidence.push_back({"openwrt-version", "manifest-analysis", "/etc/openwrt_version", 1,
                          std::nullopt, version_line, confidence::kReleaseMarker});
  out.push_back(std::move(c));
}

}  // namespace firmwarden::identify
