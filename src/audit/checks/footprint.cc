// Minimisation: FOOT-02 shared libraries that nothing links against or names.
#include <fmt/format.h>

#include <map>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;

// Directories whose libraries are plugins loaded by path (dlopen of a directory listing), not
// through DT_NEEDED or a literal name: never "unused" on the evidence of linkage.
bool PluginDir(std::string_view p) {
  static constexpr std::string_view kParts[] = {
      "/lua/",      "/pppd/",       "/security/",     "/gconv/",    "/plugins/",   "/plugin/",
      "/modules/",  "/engines",     "/ossl-modules/", "/gio/",      "/gdk-pixbuf", "/gstreamer",
      "/sasl2/",    "/python",      "/perl",          "/iptables/", "/xtables/",   "/tc/",
      "/ipsec/",    "/strongswan/", "/samba/",        "/ldb/",      "/openvpn/",   "/dri/",
      "/alsa-lib/", "/krb5/",       "/hostapd/",      "/ebtables/", "/nss/",       "/avahi/"};
  for (std::string_view s : kParts)
    if (p.find(s) != std::string_view::npos) return true;
  return false;
}

void Foot02(const DeviceModel& m, const AuditContext&, Findings& out) {
  // Everything any ELF needs, by soname or file name.
  std::set<std::string, std::less<>> needed;
  for (const auto& [path, e] : m.elves)
    for (const std::string& n : e.needed) needed.insert(n);
  // Candidates: shared objects under a lib directory that nothing needs.
  struct Candidate {
    std::string path;
    uint64_t size = 0;
  };
  std::vector<Candidate> cands;
  for (const auto& [path, e] : m.elves) {
    if (e.type != facts::ElfType::kDyn || !e.interpreter.empty()) continue;  // PIE programs
    std::string name = facts::Basename(path);
    if (name.find(".so") == std::string::npos) continue;
    if (path.find("/lib/") == std::string::npos || PluginDir(path)) continue;
    if (name.starts_with("ld-") || name.starts_with("ld.so") || name.starts_with("libc.") ||
        name.starts_with("libc-") || name.starts_with("libnss_") ||
        name.starts_with("libthread_db"))
      continue;  // the loader, the C library, name-service modules: loaded by the C library
    if (needed.count(name) != 0 || (!e.soname.empty() && needed.count(e.soname) != 0)) continue;
    const FileEntry* fe = m.fs.Entry(path);
    cands.push_back({path, fe ? fe->size : 0});
  }
  if (cands.empty()) return;
  // dlopen: a library whose name (or the stem before ".so") appears in another program or script
  // is probably loaded by name.
  std::vector<std::string> unused;
  uint64_t bytes = 0;
  for (size_t i = 0; i < cands.size(); ++i)
    if (m.library_named_by.count(cands[i].path) == 0) {
      unused.push_back(cands[i].path);
      bytes += cands[i].size;
    }
  if (unused.empty()) return;
  std::string list;
  for (size_t i = 0; i < unused.size() && i < 8; ++i) list += (i ? ", " : "") + unused[i];
  if (unused.size() > 8) list += fmt::format(", … ({} in all)", unused.size());
  Finding& f =
      out.Add(fmt::format("{} shared librar{} ({} KiB) that no program links against "
                          "and nothing names: {}",
                          unused.size(), unused.size() == 1 ? "y" : "ies", bytes / 1024, list),
              unused.front());
  f.confidence = Confidence::kMedium;  // a name built at run time escapes the heuristic
}

}  // namespace

extern const Check kFoot02{
    "FOOT-02",
    "Unused shared libraries",
    Severity::kLow,
    "Libraries that nothing links against or loads by name still ship their bugs and their "
    "gadgets, and enlarge every update.",
    "Drop the packages or build options that install them; keep only what the product's programs "
    "need.",
    {"5.6-6", "", "I.2(j)", "", "", ""},
    Foot02};

}  // namespace firmwarden::audit
