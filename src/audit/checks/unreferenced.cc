// Minimisation: FOOT-03 BusyBox applets that nothing in the image uses.
#include <fmt/format.h>

#include <map>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;

// Applets that give a network listener, a shell over the network or raw hardware access: named
// first when they ship unused.
constexpr std::string_view kRisky[] = {
    "telnetd",  "ftpd",       "tftpd",      "httpd",     "nc",         "netcat",
    "devmem",   "inetd",      "udpsvd",     "tcpsvd",    "dnsd",       "telnet",
    "tftp",     "ftpget",     "ftpput",     "wget",      "nbd-client", "rx",
    "sendmail", "fakeidentd", "ssl_client", "nandwrite", "flashcp",    "flash_eraseall"};

// The names a device uses: what the boot graph starts and every word of every script command
// (a generous reading: `echo telnetd` counts as use, so what remains is surely never named).
std::set<std::string, std::less<>> UsedNames(const DeviceModel& m) {
  std::set<std::string, std::less<>> used = {"sh", "ash", "init", "linuxrc", "busybox"};
  for (const facts::Started& s : m.started) {
    used.insert(s.program);
    for (const std::string& a : s.argv) used.insert(facts::Basename(a));
  }
  for (const facts::ScriptFile& sf : m.configs.scripts)
    for (const facts::ScriptCommand& c : sf.commands)
      for (const std::string& w : c.words) {
        used.insert(facts::Basename(w));
        // `$(cmd …)`, "`cmd`" and "cmd=$(x)" keep their command inside the word.
        size_t p = w.find_first_of("(`");
        if (p != std::string::npos) {
          std::string inner = w.substr(p + 1);
          size_t e = inner.find_first_of(" )`");
          used.insert(facts::Basename(inner.substr(0, e)));
        }
      }
  return used;
}

void Foot03(const DeviceModel& m, const AuditContext&, Findings& out) {
  if (m.busybox_applets.empty()) return;
  auto used = UsedNames(m);
  // Applets per BusyBox binary (an image may carry two).
  std::map<std::string, std::vector<std::string>> by_binary;
  for (const auto& [applet, binary] : m.busybox_applets) by_binary[binary].push_back(applet);
  for (const auto& [binary, applets] : by_binary) {
    std::vector<std::string> risky, rest;
    for (const std::string& a : applets) {
      if (used.count(a) != 0) continue;
      bool r = false;
      for (std::string_view k : kRisky) r = r || a == k;
      (r ? risky : rest).push_back(a);
    }
    size_t unused = risky.size() + rest.size();
    if (risky.empty() && unused < 10) continue;  // a few spare applets are not worth a finding
    std::string list;
    size_t shown = 0;
    for (const auto* v : {&risky, &rest})
      for (const std::string& a : *v)
        if (shown++ < 40) list += (list.empty() ? "" : ", ") + a;
    if (unused > 40) list += fmt::format(", … ({} in all)", unused);
    Finding& f = out.Add(
        fmt::format("{} provides {} applets; {} are never started at boot nor named by any "
                    "script{}: {}",
                    binary, applets.size(), unused,
                    risky.empty() ? ""
                                  : fmt::format(" ({} of them network services, network clients "
                                                "or raw hardware access, listed first)",
                                                risky.size()),
                    list),
        binary);
    // Programs may run applets through system() or exec with names built at run time.
    f.verdict = false;
    f.confidence = Confidence::kLow;
  }
}

}  // namespace

extern const Check kFoot03{
    "FOOT-03",
    "BusyBox applets nothing uses",
    Severity::kLow,
    "Every applet compiled into BusyBox is reachable by anyone who gets a shell or can inject a "
    "command (nc, telnetd, wget, devmem…). Applets that no start path or script uses are attack "
    "surface the product does not need.",
    "Configure BusyBox with only the applets the product's scripts and programs use (the list in "
    "the finding is the candidate set to remove; check programs that call system()).",
    {"5.6-5, 5.6-6", "", "I.2(j)", "", "", "GEC-3"},
    Foot03};

}  // namespace firmwarden::audit
