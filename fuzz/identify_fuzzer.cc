// libFuzzer target for the identification parsers (src/identify): package database records
// (dpkg/opkg control format), key=value release markers, Depends fields, versions, and the CPE and
// purl builders over whatever the records yield. The merge step runs over the components made
// from the records, so its ordering and dedup see hostile names and versions too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "identify/identify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace id = firmwarden::identify;
  std::vector<firmwarden::Component> comps;
  for (const id::Record& r : id::ParseControlRecords(text, 1000)) {
    firmwarden::Component c;
    c.name = r.Get("Package");
    c.version = r.Get("Version");
    c.depends_names = id::DependsNames(r.Get("Depends"));
    c.purl = id::MakePurl("generic", "openwrt", c.name, c.version, {{"arch", r.Get("Arch")}});
    c.cpe = id::FormatCpe('a', r.Get("Vendor"), c.name, id::UpstreamVersion(c.version));
    c.evidence.push_back({"fuzz", "other", "/x", r.line, std::nullopt, c.name, 0.5});
    comps.push_back(std::move(c));
  }
  auto kv = id::ParseKeyValues(text);
  (void)id::OpenWrtVersion(kv, text.substr(0, 64));
  (void)id::KnownCpe(text.substr(0, 64));
  (void)id::MergeComponents(std::move(comps));
  return 0;
}
