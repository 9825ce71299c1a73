// Services started at boot: SVC-01 telnet, SVC-02 other cleartext remote services,
// SVC-06 debug tools shipped, SVC-15 root shell on the console.
#include <fmt/format.h>

#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::Started;

std::string Argv(const Started& s) {
  std::string out;
  for (const std::string& a : s.argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string How(const Started& s) {
  std::string how = s.conditional ? "may be started" : "is started";
  how += " at boot (" + s.via;
  if (!s.chain.empty()) how += " via " + s.chain.front();
  return how + ")";
}

bool HasArg(const Started& s, std::string_view a) {
  for (size_t i = 1; i < s.argv.size(); ++i)
    if (s.argv[i] == a) return true;
  return false;
}

std::string ArgAfter(const Started& s, std::string_view flag) {
  for (size_t i = 1; i + 1 < s.argv.size(); ++i)
    if (s.argv[i] == flag) return s.argv[i + 1];
  return "";
}

bool IsShell(std::string_view p) {
  std::string b = facts::Basename(p);
  return b == "sh" || b == "ash" || b == "bash" || b == "hush" || b == "dash";
}

void Svc01(const DeviceModel& m, const AuditContext&, Findings& out) {
  bool started = false;
  for (const Started& s : m.started) {
    if (s.program != "telnetd" && s.program != "utelnetd" && s.program != "in.telnetd") continue;
    started = true;
    std::string login = ArgAfter(s, "-l");
    Finding& f = out.Add(fmt::format("telnetd {}: {}", How(s), Argv(s)), s.source);
    if (!login.empty() && IsShell(login)) {
      f.severity = Severity::kCritical;
      f.message += fmt::format(" — '-l {}' gives a root shell with no login at all", login);
    } else if (s.conditional) {
      f.message +=
          " — the condition is decided on the device (e.g. only while root has no "
          "password), so the image can boot into it";
    }
    if (s.conditional) f.confidence = Confidence::kMedium;
    if (s.binary.empty()) {
      f.message +=
          " (the program is not in the image: the start fails unless something puts it "
          "there at run time)";
      f.confidence = Confidence::kMedium;
    }
  }
  if (started) return;
  auto bb = m.busybox_applets.find("telnetd");
  if (bb != m.busybox_applets.end()) {
    Finding& f = out.Add(
        "BusyBox provides the telnetd applet (not started at boot): one command away from a "
        "cleartext login service",
        bb->second);
    f.severity = Severity::kMedium;
    f.verdict = false;
  }
}

void Svc02(const DeviceModel& m, const AuditContext&, Findings& out) {
  static const std::set<std::string, std::less<>> kCleartext = {
      "ftpd",       "vsftpd",    "pure-ftpd", "proftpd",   "bftpd",   "tftpd",
      "in.tftpd",   "atftpd",    "udpsvd",    "rshd",      "in.rshd", "rlogind",
      "in.rlogind", "rexecd",    "in.rexecd", "portmap",   "rpcbind", "rpc.nfsd",
      "x11vnc",     "vncserver", "snmpd",     "mini_snmpd"};
  for (const Started& s : m.started) {
    if (kCleartext.count(s.program) == 0) continue;
    Finding& f = out.Add(fmt::format("{} {}: {}", s.program, How(s), Argv(s)), s.source);
    if (s.conditional) f.confidence = Confidence::kMedium;
  }
}

void Svc06(const DeviceModel& m, const AuditContext&, Findings& out) {
  static const std::set<std::string, std::less<>> kTools = {
      "gdbserver", "gdb",   "strace", "ltrace",  "tcpdump", "nc",       "netcat",
      "ncat",      "socat", "devmem", "devmem2", "i2cset",  "memtester"};
  std::set<std::string> seen;
  for (const FileEntry* e : m.fs.All()) {
    std::string name = facts::Basename(e->tree_path);
    if (kTools.count(name) == 0) continue;
    std::string dir = e->tree_path.substr(0, e->tree_path.size() - name.size());
    if (!dir.ends_with("bin/")) continue;  // a tool, not a same-named file elsewhere
    if (!seen.insert(name).second) continue;
    const FileEntry* r = m.fs.Resolve(facts::RootFs::DevicePath(*e));
    if (r == nullptr) continue;
    std::string what = r->tree_path == e->tree_path ? "" : " (-> /" + r->tree_path + ")";
    out.Add(fmt::format("debug/network tool '{}' ships in the image{}", name, what),
            facts::RootFs::DevicePath(*e));
  }
}

void Svc15(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const Started& s : m.started) {
    if (s.via != "inittab" || !s.chain.empty()) continue;
    bool shell = IsShell(s.program) || (!s.argv.empty() && IsShell(s.argv[0]));
    bool autologin = (s.program == "getty" || s.program == "agetty") &&
                     ((ArgAfter(s, "-l").size() && IsShell(ArgAfter(s, "-l"))) ||
                      HasArg(s, "--autologin") || HasArg(s, "-a"));
    if (!shell && !autologin) continue;
    std::string tty = s.console.empty() ? "the console" : s.console;
    out.Add(fmt::format("inittab runs a root shell on {} with no login: {}", tty, Argv(s)),
            s.source);
  }
}

}  // namespace

extern const Check kSvc01{
    "SVC-01",
    "Telnet started at boot",
    Severity::kHigh,
    "Telnet sends passwords in cleartext and is the service Mirai scans for; started at boot it "
    "exposes the login of every unit. Started with '-l /bin/sh' it skips the login entirely.",
    "Remove telnetd from the start paths (and from the BusyBox configuration); use SSH with keys.",
    {"5.6-1, 5.6-5, 5.5-1, 5.5-4", "", "I.2(b), I.2(j)", "", "LA", "GEC-2, GEC-3, SCM-3"},
    Svc01};

extern const Check kSvc02{
    "SVC-02",
    "Other cleartext or legacy remote service started",
    Severity::kHigh,
    "FTP, TFTP, r-services, portmap/NFS, VNC and SNMP v1/v2c carry credentials or data in "
    "cleartext and widen the attack surface.",
    "Do not start these services by default; offer encrypted alternatives.",
    {"5.6-1, 5.5-1", "", "I.2(j), I.2(e)", "", "LA", "GEC-2, GEC-3"},
    Svc02};

extern const Check kSvc06{
    "SVC-06",
    "Debug or diagnostic tool shipped",
    Severity::kMedium,
    "Debuggers, tracers, packet capture and raw memory access tools help an attacker who got a "
    "foothold and are not needed in production.",
    "Build production images without debug tools and the matching BusyBox applets.",
    {"5.6-4, 5.6-5, 5.6-6", "5.6-4A", "I.2(j)", "", "LA", "GEC-5"},
    Svc06};

extern const Check kSvc15{
    "SVC-15",
    "Root shell on the serial console",
    Severity::kHigh,
    "A shell spawned by init on a UART without a login gives root to anyone with physical "
    "access to the board.",
    "Run a getty with login on the console, or no console in production.",
    {"5.6-4", "5.6-4A", "I.2(j), I.2(d)", "", "LA", "GEC-5, ACM-2"},
    Svc15};

}  // namespace firmwarden::audit
