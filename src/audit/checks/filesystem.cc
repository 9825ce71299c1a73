// File-system hygiene: FS-01 world-writable files and directories, FS-02 setuid/setgid files.
// Both read the modes the image stored (the FileTree), not the extracted copy on disk.
#include <fmt/format.h>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;

void Fs01(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile && e->type != EntryType::kDir) continue;
    if ((e->mode & 0002) == 0) continue;
    if (e->type == EntryType::kDir && (e->mode & 01000) != 0) continue;  // sticky: /tmp style
    std::string p = facts::RootFs::DevicePath(*e);
    Finding& f = out.Add(fmt::format("{} {} is world-writable (mode {:04o})",
                                     e->type == EntryType::kDir ? "directory" : "file", p, e->mode),
                         p);
    bool sensitive = p.starts_with("/etc/") || p.starts_with("/bin/") || p.starts_with("/sbin/") ||
                     p.starts_with("/usr/bin/") || p.starts_with("/usr/sbin/") ||
                     p.starts_with("/lib/") || p.starts_with("/www/cgi-bin");
    f.severity = sensitive ? Severity::kHigh : Severity::kMedium;
  }
}

void Fs02(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || (e->mode & 06000) == 0) continue;
    std::string p = facts::RootFs::DevicePath(*e);
    std::string kind = (e->mode & 04000) != 0 ? "setuid" : "setgid";
    std::string owner =
        (e->mode & 04000) != 0 ? fmt::format("uid {}", e->uid) : fmt::format("gid {}", e->gid);
    Finding& f = out.Add(fmt::format("{} {} file {} (mode {:04o})", kind, owner, p, e->mode), p);
    auto head = m.fs.ReadEntry(*e, 2);
    bool script = head && head->starts_with("#!");
    bool busybox = facts::Basename(p).starts_with("busybox");
    if (busybox && (e->mode & 04000) != 0 && e->uid == 0) {
      f.severity = Severity::kHigh;
      f.message += ": every BusyBox applet runs as root";
    } else if (script) {
      f.severity = Severity::kHigh;
      f.message +=
          ": a set-id script (the kernel ignores the bit, but its presence shows intent "
          "and some interpreters honour it)";
    }
  }
}

}  // namespace

extern const Check kFs01{
    "FS-01",
    "World-writable file or directory",
    Severity::kMedium,
    "Anyone who gets any process on the device can change a world-writable file; when root runs "
    "it (init scripts, CGI, PATH directories) that is a privilege escalation.",
    "Remove the write bit for others; use the sticky bit for shared temporary directories.",
    {"5.6-7, 5.4-1", "", "I.2(f)", "", "DC", "SSM-2"},
    Fs01};

extern const Check kFs02{
    "FS-02",
    "Setuid or setgid file",
    Severity::kMedium,
    "Setuid programs are the usual way from a foothold to root; each one must be needed and "
    "audited. A setuid BusyBox makes every applet a root tool.",
    "Drop the bit where it is not needed; build BusyBox without suid or with a minimal "
    "busybox.conf.",
    {"5.6-7", "", "I.2(d), I.2(k)", "", "LA", "ACM-2"},
    Fs02};

}  // namespace firmwarden::audit
