// Kernel and boot integrity: KERN-02 kernel modules without a signature, BOOT-02 no sign of
// verified boot (dm-verity, IMA/EVM, signed FIT) in the image.
#include <fmt/format.h>

#include "audit/check.h"
#include "facts/text_util.h"

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

void Boot02(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  if (m.fs.empty() || m.fs.Resolve("/etc") == nullptr) return;
  // Tools and policies that verify what runs.
  for (const char* p :
       {"/sbin/veritysetup", "/usr/sbin/veritysetup", "/etc/ima/ima-policy", "/etc/ima-policy",
        "/etc/keys/x509_evm.der", "/etc/keys/x509_ima.der", "/usr/sbin/evmctl",
        "/lib/systemd/systemd-veritysetup", "/usr/lib/systemd/systemd-veritysetup"})
    if (m.fs.Resolve(p) != nullptr) return;
  // dm-verity set up by a script or a kernel command line the image carries.
  for (const facts::ScriptFile& sf : m.configs.scripts)
    for (const facts::ScriptCommand& c : sf.commands)
      for (const std::string& w : c.words)
        if (w.find("roothash=") != std::string::npos ||
            w.find("dm-mod.create") != std::string::npos || w == "veritysetup")
          return;
  for (const char* p : {"/boot/cmdline.txt", "/boot/extlinux/extlinux.conf", "/etc/kernel/cmdline",
                        "/boot/grub/grub.cfg"})
    if (auto t = m.fs.Read(p, 1 << 20))
      if (t->find("roothash=") != std::string::npos ||
          t->find("dm-mod.create") != std::string::npos ||
          t->find("ima_policy") != std::string::npos)
        return;
  Finding& f = out.Add(
      "nothing in the file system verifies what boots or runs (no dm-verity, IMA/EVM policy or "
      "veritysetup); whether the boot loader checks a signed kernel cannot be seen from the root "
      "file system alone",
      "/");
  f.verdict = false;
  f.confidence = Confidence::kLow;
}

}  // namespace

extern const Check kBoot02{
    "BOOT-02",
    "No verified-boot indicators",
    Severity::kInfo,
    "Secure boot and a verified root file system stop a tampered image from running; without "
    "them, one write to flash survives every reboot.",
    "Sign the kernel and device tree (FIT with required = \"conf\"), verify the root file system "
    "(dm-verity or a read-only signed image), and document the chain of trust.",
    {"5.7-1", "", "I.2(f)", "", "", "GEC-8"},
    Boot02};

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
