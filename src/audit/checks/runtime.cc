// How the device runs: FS-03 network daemons started as root, FS-04 code fetched from the
// network and run at boot or by cron, LOG-01 no logging daemon.
#include <fmt/format.h>

#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::Started;

// Daemons that listen on the network, and the option each one uses to drop privileges.
struct Daemon {
  const char* program;
  const char* drop;  // option that names the user to run as ("" when it has none)
};
constexpr Daemon kNetworkDaemons[] = {
    {"httpd", "-u"},   {"lighttpd", ""},   {"mini_httpd", "-u"}, {"thttpd", "-u"},
    {"boa", ""},       {"goahead", ""},    {"uhttpd", ""},       {"nginx", ""},
    {"dnsmasq", "-u"}, {"vsftpd", ""},     {"proftpd", ""},      {"pure-ftpd", ""},
    {"snmpd", "-u"},   {"mini_snmpd", ""}, {"miniupnpd", ""},    {"mosquitto", ""},
    {"smbd", ""},      {"nmbd", ""},       {"tftpd", "-u"},      {"in.tftpd", "-u"},
    {"udhcpd", ""},    {"ntpd", "-u"},     {"avahi-daemon", ""}, {"cwmpd", ""},
};

void Fs03(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  std::set<std::string> seen;
  for (const Started& s : m.started) {
    const Daemon* d = nullptr;
    for (const Daemon& x : kNetworkDaemons)
      if (s.program == x.program) d = &x;
    if (d == nullptr) continue;
    if (!s.user.empty() && s.user != "root" && s.user != "0") continue;
    bool drops = false;
    for (size_t i = 1; i < s.argv.size(); ++i)
      if (*d->drop != '\0' && s.argv[i] == d->drop) drops = true;
    if (drops) continue;
    if (!seen.insert(s.program + "@" + s.source.path + ":" + std::to_string(s.source.line)).second)
      continue;
    Finding& f = out.Add(
        fmt::format("network daemon {} runs as root (no {} and no User=): a bug in it is a "
                    "root compromise",
                    s.program, *d->drop ? fmt::format("'{}' option", d->drop) : "user option"),
        s.source);
    f.confidence = Confidence::kMedium;  // the daemon may drop privileges in its own config
  }
}

void Fs04(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  // Pipelines are split by the boot graph; read the lines of the start sites themselves.
  std::set<std::pair<std::string, int>> seen;
  for (const Started& s : m.started) {
    const std::string& l = s.source.text;
    if (l.empty() || !seen.insert({s.source.path, s.source.line}).second) continue;
    bool fetch = l.find("wget ") != std::string::npos || l.find("curl ") != std::string::npos ||
                 l.find("tftp ") != std::string::npos ||
                 l.find("uclient-fetch ") != std::string::npos;
    size_t pipe = l.find('|');
    bool to_shell = pipe != std::string::npos && (l.find("sh", pipe) != std::string::npos);
    bool from_tmp =
        (s.binary.empty() || s.binary.starts_with("/tmp/") || s.binary.starts_with("/var/")) &&
        !s.argv.empty() &&
        (s.argv[0].starts_with("/tmp/") || s.argv[0].starts_with("/var/") ||
         s.argv[0].starts_with("/data/"));
    if ((fetch && to_shell) || from_tmp) {
      out.Add(fmt::format("{} runs {} ({})", s.via == "cron" ? "cron" : "the boot sequence",
                          fetch && to_shell ? "code downloaded from the network through a shell"
                                            : "a program from a writable location",
                          s.conditional ? "conditionally" : "every time"),
              s.source);
    }
  }
}

void Log01(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  static const std::set<std::string, std::less<>> kLoggers = {
      "syslogd", "rsyslogd", "syslog-ng", "logd", "klogd", "systemd-journald", "metalog"};
  for (const Started& s : m.started)
    if (kLoggers.count(s.program) != 0) return;
  if (m.fs.empty() || m.fs.Resolve("/etc") == nullptr) return;  // not a device file system
  // systemd logs through journald without a unit we would see started.
  if (facts::Basename(m.fs.ResolvePath("/sbin/init")) == "systemd") return;
  Finding& f = out.Add(
      "no logging daemon is started at boot: security events (logins, failed "
      "authentication) are not recorded",
      "/etc/inittab");
  f.verdict = false;
  f.confidence = Confidence::kMedium;
}

}  // namespace

extern const Check kFs03{
    "FS-03",
    "Network daemon runs as root",
    Severity::kMedium,
    "A network-facing daemon started as root with no option to drop privileges turns any memory "
    "bug in it into full control of the device.",
    "Run daemons as dedicated unprivileged users (-u, User=, start-stop-daemon -c) and give them "
    "only the capabilities they need.",
    {"5.6-7", "", "I.2(d), I.2(j)", "", "LA", "ACM-2"},
    Fs03};

extern const Check kFs04{
    "FS-04",
    "Remote code run at boot or by cron",
    Severity::kHigh,
    "Piping a download into a shell, or running programs from /tmp or /var at boot, executes "
    "whatever the network or a local user put there, with no integrity check.",
    "Ship the code in the signed image, or verify a signature before running anything fetched.",
    {"5.3-7, 5.7-1", "", "I.2(f)", "", "SU", "SUM-2"},
    Fs04};

extern const Check kLog01{
    "LOG-01",
    "No security logging",
    Severity::kInfo,
    "Without a logging daemon, authentication events and attacks leave no trace: the device cannot "
    "monitor its own security state (CRA Annex I.2(l)).",
    "Start a syslog daemon (with a persistent or remote target) and make the login services log "
    "authentication events.",
    {"", "", "I.2(l)", "", "CSA", "LGM-1, LGM-2"},
    Log01};

}  // namespace firmwarden::audit
