// Evidence for the technical file rather than verdicts: FOOT-01 size breakdown, PRIV-02 a factory
// reset mechanism, DOC-01 security contact and support information.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

void Foot01(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  // Only for a device file system, not for an archive of a few files.
  if (m.fs.empty() || (m.fs.Resolve("/etc") == nullptr && m.fs.Resolve("/bin") == nullptr)) return;
  uint64_t total = 0;
  size_t files = 0;
  std::map<std::string, uint64_t> by_dir;
  std::vector<const FileEntry*> big;
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile) continue;
    ++files;
    total += e->size;
    size_t slash = e->tree_path.find('/');
    by_dir["/" + (slash == std::string::npos ? std::string(".") : e->tree_path.substr(0, slash))] +=
        e->size;
    big.push_back(e);
  }
  std::sort(big.begin(), big.end(), [](const FileEntry* a, const FileEntry* b) {
    return a->size != b->size ? a->size > b->size : a->tree_path < b->tree_path;
  });
  std::vector<std::pair<std::string, uint64_t>> dirs(by_dir.begin(), by_dir.end());
  std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::string top;
  for (size_t i = 0; i < dirs.size() && i < 4; ++i)
    top += fmt::format("{}{} {} KiB", i ? ", " : "", dirs[i].first, dirs[i].second / 1024);
  std::string largest;
  for (size_t i = 0; i < big.size() && i < 3; ++i)
    largest += fmt::format("{}/{} {} KiB", i ? ", " : "", big[i]->tree_path, big[i]->size / 1024);
  Finding& f = out.Add(fmt::format("{} files, {} KiB in total; by directory: {}; largest: {}",
                                   files, total / 1024, top, largest),
                       "/");
  f.verdict = false;
}

void Priv02(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  if (m.fs.empty() || m.fs.Resolve("/etc") == nullptr) return;
  for (const char* p :
       {"/sbin/firstboot", "/sbin/jffs2reset", "/usr/sbin/factory_reset", "/sbin/factory_reset",
        "/usr/bin/factory_reset", "/sbin/factoryreset", "/usr/sbin/factoryreset"})
    if (m.fs.Resolve(p) != nullptr) return;
  Finding& f = out.Add(
      "no factory-reset tool found in the image (firstboot, jffs2reset, "
      "factory_reset): the reset may live in the bootloader or a vendor binary",
      "/");
  f.verdict = false;
  f.confidence = Confidence::kLow;
}

void Doc01(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  if (m.fs.empty() || m.fs.Resolve("/etc") == nullptr) return;
  for (const char* p : {"/.well-known/security.txt", "/www/.well-known/security.txt",
                        "/etc/security.txt", "/usr/share/doc/security.txt"})
    if (m.fs.Resolve(p) != nullptr) return;
  Finding& f = out.Add(
      "no security.txt or other vulnerability-disclosure contact in the image "
      "(the policy may be published elsewhere: not a violation by itself)",
      "/");
  f.verdict = false;
}

}  // namespace

extern const Check kFoot01{
    "FOOT-01",
    "Image footprint",
    Severity::kInfo,
    "The size breakdown shows what ships: the starting point for removing what the product does "
    "not need (a smaller image has a smaller attack surface).",
    "Remove unused packages, documentation, locales and debug files from the production image.",
    {"5.6-6", "", "I.2(j)", "", "", "GEC-5"},
    Foot01};

extern const Check kPriv02{
    "PRIV-02",
    "No factory reset mechanism found",
    Severity::kInfo,
    "ETSI 5.11-1 asks for a simple way to erase user data; a reset tool in the image is evidence "
    "for it, its absence a question for the technical file (the reset may be elsewhere).",
    "Ship a reset that erases user data and credentials, and document what it erases.",
    {"5.11-1", "", "I.2(m), I.2(b)", "", "DC", "DLM-1"},
    Priv02};

extern const Check kDoc01{
    "DOC-01",
    "Security contact and support information",
    Severity::kInfo,
    "A vulnerability disclosure contact and the support period are required documentation "
    "(ETSI 5.2-1, PSTI §2, §3); an image can only carry evidence of them.",
    "Publish a security contact (security.txt) and the support end date; ship them on the device "
    "where it has a user interface.",
    {"5.2-1, 5.3-13, 5.3-16", "", "II.5, II.6", "§2, §3", "", ""},
    Doc01};

}  // namespace firmwarden::audit
