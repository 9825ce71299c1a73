// Kernel: KERN-02 kernel modules without a signature.
#include <fmt/format.h>

#include "audit/check.h"

namespace firmwarden::audit {
namespace {

void Kern02(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  static constexpr std::string_view kMagic = "~Module signature appended~\n";
  size_t total = 0, unsigned_count = 0;
  std::string first;
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || !e->tree_path.ends_with(".ko") || e->size < 64) continue;
    ++total;
    auto data = m.fs.ReadEntry(*e, 64 << 20);
    if (!data) continue;
    if (std::string_view(*data).ends_with(kMagic)) continue;
    if (++unsigned_count == 1) first = facts::RootFs::DevicePath(*e);
  }
  if (unsigned_count == 0) return;
  Finding& f = out.Add(fmt::format("{} of {} kernel modules carry no signature: unless the kernel "
                                   "enforces signatures some other way, a module can be replaced",
                                   unsigned_count, total),
                       first);
  f.confidence = Confidence::kMedium;  // MODULE_SIG_FORCE is in the kernel config, not checked yet
}

}  // namespace

extern const Check kKern02{
    "KERN-02",
    "Unsigned kernel modules",
    Severity::kLow,
    "Without module signatures (and MODULE_SIG_FORCE) anyone who can write to the module "
    "directory can load code into the kernel.",
    "Sign modules at build time and enable CONFIG_MODULE_SIG_FORCE; ship only the modules the "
    "product needs.",
    {"5.7-1, 5.6-6", "", "I.2(f), I.2(j)", "", "", "GEC-8"},
    Kern02};

}  // namespace firmwarden::audit
