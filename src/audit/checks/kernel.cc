// Kernel and boot integrity: KERN-01 weak kernel build configuration, KERN-02 kernel modules
// without a signature, BOOT-02 no sign of verified boot (dm-verity, IMA/EVM, signed FIT) in the
// image.
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

// KERN-01: settings of the kernel's build configuration that weaken it (the usual kernel
// self-protection recommendations).
void Kern01(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  const facts::KeyValues& kc = m.configs.kernel_config;
  if (kc.directives.empty()) return;
  auto on = [&](std::string_view k) {
    const facts::Directive* d = kc.Get(k);
    return d != nullptr && (d->value == "y" || d->value == "m");
  };
  auto at = [&](std::string_view k) -> facts::SourceRef {
    if (const facts::Directive* d = kc.Get(k)) return d->at;
    return {kc.path, 0, std::string(k) + " absent"};
  };
  auto add = [&](std::string message, facts::SourceRef where) {
    out.Add(std::move(message), where);
  };
  if (on("CONFIG_DEVMEM") && !on("CONFIG_STRICT_DEVMEM"))
    add("/dev/mem gives root the whole physical memory (CONFIG_DEVMEM without STRICT_DEVMEM)",
        at("CONFIG_DEVMEM"));
  if (on("CONFIG_DEVKMEM"))
    add("/dev/kmem lets root rewrite the running kernel (CONFIG_DEVKMEM)", at("CONFIG_DEVKMEM"));
  if (on("CONFIG_PROC_KCORE"))
    add("/proc/kcore exposes kernel memory (CONFIG_PROC_KCORE)", at("CONFIG_PROC_KCORE"));
  if (on("CONFIG_KEXEC"))
    add("kexec can replace the running kernel with an unsigned one (CONFIG_KEXEC)",
        at("CONFIG_KEXEC"));
  if (on("CONFIG_MAGIC_SYSRQ")) {
    const facts::Directive* d = kc.Get("CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE");
    if (d == nullptr || (d->value != "0" && d->value != "0x0"))
      add("magic SysRq is enabled by default: a console keystroke can dump memory or reboot "
          "(CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE)",
          at(d ? "CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE" : "CONFIG_MAGIC_SYSRQ"));
  }
  if (on("CONFIG_DEBUG_FS"))
    add("debugfs is built in (CONFIG_DEBUG_FS): a rich interface for attackers with root",
        at("CONFIG_DEBUG_FS"));
  if (on("CONFIG_MODULES") && !on("CONFIG_MODULE_SIG_FORCE"))
    add("modules load without a valid signature (CONFIG_MODULES without MODULE_SIG_FORCE)",
        at("CONFIG_MODULES"));
  if (!on("CONFIG_STACKPROTECTOR_STRONG") && !on("CONFIG_CC_STACKPROTECTOR_STRONG"))
    add("the kernel is built without the strong stack protector (CONFIG_STACKPROTECTOR_STRONG)",
        at("CONFIG_STACKPROTECTOR_STRONG"));
  if (!on("CONFIG_STRICT_KERNEL_RWX") && !on("CONFIG_DEBUG_RODATA"))
    add("kernel text and read-only data are not write-protected (CONFIG_STRICT_KERNEL_RWX)",
        at("CONFIG_STRICT_KERNEL_RWX"));
  // KASLR exists for these architectures; 32-bit ARM has none, so it is not asked for there.
  if ((on("CONFIG_ARM64") || on("CONFIG_X86_64") || on("CONFIG_X86")) &&
      !on("CONFIG_RANDOMIZE_BASE"))
    add("kernel address space layout randomisation is off (CONFIG_RANDOMIZE_BASE)",
        at("CONFIG_RANDOMIZE_BASE"));
  if (!on("CONFIG_HARDENED_USERCOPY"))
    add("copies between user and kernel memory are not bounds-checked "
        "(CONFIG_HARDENED_USERCOPY)",
        at("CONFIG_HARDENED_USERCOPY"));
  if (!on("CONFIG_FORTIFY_SOURCE"))
    add("the kernel is built without FORTIFY_SOURCE (CONFIG_FORTIFY_SOURCE)",
        at("CONFIG_FORTIFY_SOURCE"));
  if (!on("CONFIG_SECCOMP"))
    add("no seccomp (CONFIG_SECCOMP): services cannot restrict their system calls",
        at("CONFIG_SECCOMP"));
  bool lsm = false;
  for (const char* k :
       {"CONFIG_SECURITY_SELINUX", "CONFIG_SECURITY_APPARMOR", "CONFIG_SECURITY_SMACK",
        "CONFIG_SECURITY_TOMOYO", "CONFIG_SECURITY_LANDLOCK", "CONFIG_SECURITY_YAMA",
        "CONFIG_SECURITY_LOADPIN"})
    lsm = lsm || on(k);
  if (!lsm)
    add("no Linux security module (SELinux, AppArmor, Smack, TOMOYO, Landlock, Yama, LoadPin) "
        "is built in",
        at("CONFIG_SECURITY"));
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

extern const Check kKern01{
    "KERN-01",
    "Weak kernel configuration",
    Severity::kMedium,
    "The kernel's build options decide how much an attacker who gets a foothold can do: /dev/mem "
    "and kexec hand over the kernel, and missing self-protection (stack protector, read-only "
    "text, hardened usercopy, seccomp, an LSM) makes kernel bugs easier to exploit.",
    "Build with the kernel self-protection recommendations: STRICT_DEVMEM, no DEVKMEM/KEXEC/"
    "PROC_KCORE/DEBUG_FS, MODULE_SIG_FORCE, STACKPROTECTOR_STRONG, STRICT_KERNEL_RWX, "
    "HARDENED_USERCOPY, FORTIFY_SOURCE, SECCOMP and an LSM.",
    {"5.6-4, 5.6-8, 5.7-1", "", "I.2(k), I.2(j)", "", "", "GEC-8"},
    Kern01};

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
