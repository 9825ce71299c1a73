// Network exposure and update integrity: SVC-08 no default-deny firewall, UPD-03 an update path
// with no signature verifier in the image.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;

void Svc08(const DeviceModel& m, const AuditContext&, Findings& out) {
  // OpenWrt: the zone facing the internet accepting input.
  if (const auto* fw = m.configs.Uci("firewall")) {
    for (const facts::UciSection& s : *fw) {
      if (s.type != "zone") continue;
      auto name = s.options.find("name");
      auto input = s.options.find("input");
      if (name == s.options.end() || input == s.options.end()) continue;
      if ((name->second == "wan" || name->second == "wan6") &&
          facts::Lower(input->second) == "accept")
        out.Add(
            fmt::format("the firewall zone '{}' accepts all input from the internet", name->second),
            "/etc/config/firewall",
            fmt::format("config zone (line {}): option input '{}'", s.line, input->second));
    }
  }
  // iptables in the scripts that run at boot: an ACCEPT input policy and nothing that drops or
  // rejects input. (A stop script that opens everything is not what the device runs.)
  std::set<std::string> boot_scripts;
  for (const facts::Started& st : m.started) {
    boot_scripts.insert(st.source.path);
    boot_scripts.insert(st.chain.begin(), st.chain.end());
  }
  const facts::ScriptCommand* accept = nullptr;
  bool denies = false;
  for (const facts::ScriptFile& f : m.configs.scripts) {
    if (boot_scripts.count(f.path) == 0) continue;
    for (const facts::ScriptCommand& c : f.commands) {
      if (c.words.empty() || facts::Basename(c.words[0]) != "iptables") continue;
      for (size_t i = 1; i + 1 < c.words.size(); ++i) {
        if (c.words[i] == "-P" && c.words[i + 1] == "INPUT") {
          if (i + 2 < c.words.size() && c.words[i + 2] == "ACCEPT") {
            if (accept == nullptr) accept = &c;
          } else {
            denies = true;
          }
        }
        if ((c.words[i] == "-j" || c.words[i] == "--jump") &&
            (c.words[i + 1] == "DROP" || c.words[i + 1] == "REJECT"))
          denies = true;
      }
    }
  }
  if (accept != nullptr && !denies)
    out.Add(
        "iptables sets the INPUT policy to ACCEPT and no rule drops or rejects input: every "
        "listening service is reachable",
        accept->at);

  // Services bound to every interface, when nothing filters input at all.
  bool firewall = denies || (m.configs.Uci("firewall") != nullptr) ||
                  m.fs.Resolve("/etc/nftables.conf") != nullptr ||
                  m.fs.Resolve("/etc/iptables/rules.v4") != nullptr ||
                  m.fs.Resolve("/etc/sysconfig/iptables") != nullptr;
  if (firewall) return;
  auto bind_all = [&](const std::string& what, const facts::SourceRef& at) {
    Finding& f = out.Add(what +
                             " listens on every interface and no firewall is configured in the "
                             "image: it is reachable from any network the device joins",
                         at);
    f.severity = Severity::kLow;
    f.verdict = false;
    f.confidence = Confidence::kMedium;
  };
  for (const facts::KeyValues& kv : m.configs.lighttpd) {
    const facts::Directive* b = kv.Get("server.bind");
    if (b == nullptr || b->value == "0.0.0.0" || b->value == "::")
      bind_all("lighttpd", b ? b->at : facts::SourceRef{kv.path, 0, ""});
  }
  std::set<std::string> said;
  for (const facts::Started& st : m.started) {
    if (st.program == "dropbear") {
      bool addressed = false;
      for (size_t i = 1; i + 1 < st.argv.size(); ++i)
        if (st.argv[i] == "-p" && st.argv[i + 1].find(':') != std::string::npos &&
            !st.argv[i + 1].starts_with("0.0.0.0:") && !st.argv[i + 1].starts_with(":"))
          addressed = true;
      if (st.via != "procd" && !addressed && said.insert("dropbear").second)
        bind_all("dropbear", st.source);
    }
    if (st.program == "sshd" && said.insert("sshd").second) {
      // A ListenAddress anywhere (Match blocks included) other than 0.0.0.0.
      bool listen = false;
      for (const auto* part : {&m.configs.sshd.global, &m.configs.sshd.match})
        for (const facts::Directive& d : *part)
          if (d.key == "listenaddress" && d.at.text.find("0.0.0.0") == std::string::npos)
            listen = true;
      if (!listen) bind_all("sshd (no ListenAddress)", st.source);
    }
  }
}

void Upd03(const DeviceModel& m, const AuditContext&, Findings& out) {
  std::string updater;
  for (const char* p :
       {"/sbin/sysupgrade", "/usr/sbin/fwupdate", "/usr/bin/swupdate", "/usr/bin/rauc",
        "/usr/bin/mender", "/sbin/fw_upgrade", "/usr/sbin/upgrade.sh", "/sbin/upgrade"})
    if (m.fs.Resolve(p) != nullptr) {
      updater = p;
      break;
    }
  const facts::ScriptCommand* flash = nullptr;
  for (const facts::ScriptFile& f : m.configs.scripts)
    for (const facts::ScriptCommand& c : f.commands) {
      if (c.words.empty()) continue;
      std::string cmd = facts::Basename(c.words[0]);
      bool mtd_write =
          cmd == "mtd" && std::find(c.words.begin(), c.words.end(), "write") != c.words.end();
      bool dd_mtd = false;
      if (cmd == "dd")
        for (const std::string& w : c.words) dd_mtd = dd_mtd || w.starts_with("of=/dev/mtd");
      if ((mtd_write || dd_mtd) && flash == nullptr) flash = &c;
    }
  if (updater.empty() && flash == nullptr) return;
  // Any verifier in the image counts: the update path may use it.
  for (const char* p : {"/usr/bin/usign", "/usr/bin/ucert", "/usr/bin/signify", "/usr/bin/gpgv",
                        "/usr/bin/gpg", "/etc/rauc/system.conf", "/etc/swupdate/public.pem",
                        "/etc/mender/artifact-verify-key.pem", "/usr/bin/openssl"})
    if (m.fs.Resolve(p) != nullptr) return;
  std::string what = !updater.empty() ? "the updater " + updater : "a flash write";
  Finding& f = flash != nullptr && updater.empty()
                   ? out.Add(fmt::format("{} writes firmware and the image holds no signature "
                                         "verifier (usign, signify, gpgv, openssl, RAUC, SWUpdate "
                                         "or Mender keys)",
                                         what),
                             flash->at)
                   : out.Add(fmt::format("{} is present and the image holds no signature verifier "
                                         "(usign, signify, gpgv, openssl, RAUC, SWUpdate or Mender "
                                         "keys)",
                                         what),
                             updater);
  f.verdict = false;  // the vendor binary may verify with its own code
  f.confidence = Confidence::kLow;
}

}  // namespace

extern const Check kSvc08{
    "SVC-08",
    "No default-deny firewall",
    Severity::kMedium,
    "A WAN zone that accepts input, or an ACCEPT input policy with nothing dropped, exposes every "
    "listening service to the internet instead of only the ones meant to be reachable.",
    "Set the WAN zone's input to REJECT or DROP (OpenWrt's default) and open single ports; in "
    "iptables scripts set -P INPUT DROP and allow what is needed.",
    {"5.6-1", "", "I.2(j)", "", "LA", "GEC-2, TCM-1"},
    Svc08};

extern const Check kUpd03{
    "UPD-03",
    "No authenticity check for firmware updates",
    Severity::kHigh,
    "An update path that flashes what it receives without verifying a signature lets anyone who "
    "can reach it (or the download) install their own firmware.",
    "Sign update images and verify the signature on the device before flashing (usign, RAUC, "
    "SWUpdate, Mender, a FIT signature required by U-Boot).",
    {"5.3-9, 5.3-10, 5.7-1", "", "I.2(c), I.2(f), II.7", "", "SU", "SUM-2"},
    Upd03};

}  // namespace firmwarden::audit
