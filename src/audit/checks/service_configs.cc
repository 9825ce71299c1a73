// Service configurations, read from the parsed configs (facts/configs.h): SVC-03 anonymous FTP,
// SVC-04 SNMP communities, SVC-05 UPnP IGD, SVC-07 debug listeners and backdoors, SVC-09 MQTT,
// SVC-10 NFS and SMB shares, SVC-12 Wi-Fi defaults.
#include <fmt/format.h>

#include <set>

#include "audit/check.h"
#include "audit/checks/started.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::Directive;
using facts::KeyValues;
using facts::SourceRef;
using facts::Started;
using facts::UciSection;

std::string Argv(const Started& s) {
  std::string out;
  for (const std::string& a : s.argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string ArgAfter(const Started& s, std::string_view flag) {
  for (size_t i = 1; i + 1 < s.argv.size(); ++i)
    if (s.argv[i] == flag) return s.argv[i + 1];
  return "";
}

// A short option letter given alone or in a group ("-E", "-AEj").
bool HasShortFlag(const Started& s, char letter) {
  for (size_t i = 1; i < s.argv.size(); ++i) {
    const std::string& a = s.argv[i];
    if (a.size() >= 2 && a[0] == '-' && a[1] != '-' && a.find(letter) != std::string::npos)
      return true;
  }
  return false;
}

std::string Opt(const UciSection& s, const char* key, std::string def = "") {
  auto it = s.options.find(key);
  return it == s.options.end() ? def : it->second;
}

SourceRef UciAt(const std::string& path, const UciSection& s, const char* key) {
  auto it = s.option_lines.find(key);
  auto o = s.options.find(key);
  if (it == s.option_lines.end() || o == s.options.end())
    return {path, s.line, "config " + s.type + " '" + s.name + "'"};
  return {path, it->second, fmt::format("option {} '{}'", key, o->second)};
}

bool IsShell(std::string_view p) {
  std::string b = facts::Basename(p);
  return b == "sh" || b == "ash" || b == "bash" || b == "hush" || b == "dash" || b == "login";
}

bool Loopback(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "lo" ||
         host.starts_with("127.");
}

// ---- SVC-03 FTP ----

void Svc03(const DeviceModel& m, const AuditContext&, Findings& out) {
  DaemonState vs = Daemon(m, {"vsftpd"});
  for (const KeyValues& c : m.configs.vsftpd) {
    if (!vs.installed) break;
    // vsftpd's compiled-in defaults (tunables.c): anonymous_enable YES, write_enable NO;
    // anonymous uploads need both plus anon_upload_enable. Anonymous logins map to ftp_username
    // ("ftp"), so an unset anonymous_enable matters only when that account exists.
    auto anon_on = c.Bool("anonymous_enable");
    const Directive* anon = c.Get("anonymous_enable");
    if (!anon_on.value_or(true)) continue;
    if (!anon_on.has_value()) {
      const Directive* user = c.Get("ftp_username");
      std::string name = user != nullptr ? user->value : "ftp";
      bool exists = false;
      for (const auto& a : m.accounts) exists = exists || a.name == name;
      if (!exists) continue;
    }
    std::string how = anon != nullptr
                          ? "anonymous_enable=YES"
                          : "anonymous_enable unset: vsftpd's compiled-in default is YES";
    bool write = c.Bool("write_enable").value_or(false);
    const Directive* upload = nullptr;
    for (const char* k :
         {"anon_upload_enable", "anon_mkdir_write_enable", "anon_other_write_enable"})
      if (c.Bool(k).value_or(false) && upload == nullptr) upload = c.Get(k);
    Finding* f = nullptr;
    if (write && upload != nullptr) {
      f = &out.Add(
          fmt::format("vsftpd lets anonymous users write ({}=YES with write_enable=YES; {})",
                      upload->key, how),
          upload->at);
    } else {
      f = anon != nullptr
              ? &out.Add("vsftpd allows anonymous login (" + how + "; read-only)", anon->at)
              : &out.Add("vsftpd allows anonymous login (" + how + "; read-only)", c.path);
      f->severity = Severity::kMedium;
    }
    Qualify(*f, vs);
    if (anon == nullptr && f->confidence == Confidence::kHigh) f->confidence = Confidence::kMedium;
  }

  DaemonState pf = Daemon(m, {"pure-ftpd"});
  bool no_anon_conf = false;
  for (const KeyValues& c : m.configs.pure_ftpd) {
    if (!pf.installed) break;
    auto no_anon = c.Bool("noanonymous");
    if (no_anon.value_or(false)) no_anon_conf = true;
    if (no_anon.has_value() && !*no_anon) {
      Finding& f =
          out.Add("pure-ftpd allows anonymous login (NoAnonymous no)", c.Get("noanonymous")->at);
      if (!c.Bool("anonymouscantupload").value_or(false))
        f.message += "; anonymous uploads are not forbidden (no AnonymousCantUpload)";
      else
        f.severity = Severity::kMedium;
      Qualify(f, pf);
      no_anon_conf = true;  // reported here
    }
  }
  // Started with plain arguments: anonymous FTP is on unless -E, when an "ftp" account exists.
  if (pf.started != nullptr && !no_anon_conf && !HasShortFlag(*pf.started, 'E')) {
    bool ftp_user = false;
    for (const auto& a : m.accounts) ftp_user = ftp_user || a.name == "ftp";
    bool conf_arg = false;
    for (const std::string& a : pf.started->argv) conf_arg = conf_arg || a.ends_with(".conf");
    if (ftp_user && !conf_arg) {
      Finding& f = out.Add(fmt::format("pure-ftpd is started without -E and an 'ftp' account "
                                       "exists: anonymous login is on: {}",
                                       Argv(*pf.started)),
                           pf.started->source);
      if (pf.started->conditional) f.confidence = Confidence::kMedium;
      if (HasShortFlag(*pf.started, 'i')) f.severity = Severity::kMedium;
    }
  }

  DaemonState pro = Daemon(m, {"proftpd"});
  for (const auto& c : m.configs.proftpd) {
    if (!pro.installed) break;
    for (const auto& a : c.anonymous) {
      Finding& f = out.Add(
          a.write_denied
              ? fmt::format("proftpd serves anonymous FTP from {} (writes denied)", a.dir)
              : fmt::format("proftpd serves anonymous FTP from {} with no <Limit WRITE> DenyAll: "
                            "anonymous users may upload where the file system allows",
                            a.dir),
          a.at);
      if (a.write_denied) f.severity = Severity::kMedium;
      Qualify(f, pro);
    }
  }
}

// ---- SVC-04 SNMP ----

bool DefaultCommunity(std::string_view c) {
  static const std::set<std::string, std::less<>> k = {
      "public", "private", "community", "snmp", "admin", "manager", "secret", "write", "read",
      "cisco",  "default", "monitor",   "all",  "test",  "netman",  "snmpd",  "rw",    "ro"};
  return k.count(facts::Lower(c)) != 0;
}

void Svc04(const DeviceModel& m, const AuditContext&, Findings& out) {
  DaemonState d = Daemon(m, {"snmpd"});
  for (const auto& c : m.configs.snmpd) {
    if (!d.installed) break;
    for (const auto& com : c.communities) {
      using A = facts::SnmpCommunity::Access;
      if (com.access == A::kNone || com.community.empty()) continue;
      bool rw = com.access == A::kWrite;
      bool dflt = DefaultCommunity(com.community);
      bool local = Loopback(com.source);
      std::string src = com.source.empty() || com.source == "default" ? "any host" : com.source;
      Finding& f = out.Add(
          fmt::format("snmpd grants {} access to the {}community '{}' from {} ({}){}",
                      rw ? "read-write" : "read-only", dflt ? "default " : "fixed ", com.community,
                      src, com.via, c.v3_users ? "" : "; no SNMPv3 users are configured"),
          com.at);
      f.severity = rw ? Severity::kHigh : dflt ? Severity::kMedium : Severity::kLow;
      if (local) {
        f.severity = Lower1(f.severity);
        f.message += " — limited to the device itself";
      }
      if (!rw && !dflt) f.verdict = false;  // a per-product secret may be acceptable: review
      Qualify(f, d);
    }
  }
  // mini_snmpd: read-only, community "public" unless -c says otherwise.
  for (const Started& s : m.started) {
    if (s.program != "mini_snmpd") continue;
    std::string community = ArgAfter(s, "-c");
    if (community.empty()) {
      bool given = false;
      for (const std::string& a : s.argv)
        given = given || a == "-c" || a.starts_with("--community");
      if (!given) community = "public";
    }
    SourceRef at = s.source;
    if (community.empty() || community.find('$') != std::string::npos) {
      // Expanded from uci at run time: read it from /etc/config/mini_snmpd.
      if (const auto* u = m.configs.Uci("mini_snmpd"))
        for (const UciSection& sec : *u)
          if (sec.type == "mini_snmpd" && sec.options.count("community") != 0) {
            community = Opt(sec, "community");
            at = UciAt("/etc/config/mini_snmpd", sec, "community");
          }
    }
    if (community.empty() || community.find('$') != std::string::npos) continue;
    bool dflt = DefaultCommunity(community);
    Finding& f = out.Add(fmt::format("mini_snmpd answers the read-only {}community '{}' (SNMPv1/"
                                     "v2c only): {}",
                                     dflt ? "default " : "fixed ", community, Argv(s)),
                         at);
    f.severity = dflt ? Severity::kMedium : Severity::kLow;
    if (!dflt) f.verdict = false;
    if (s.conditional) f.confidence = Confidence::kMedium;
  }
}

// ---- SVC-05 UPnP ----

void Svc05(const DeviceModel& m, const AuditContext&, Findings& out) {
  DaemonState d = Daemon(m, {"miniupnpd"});
  if (!d.installed) return;
  const auto* uci = m.configs.Uci("upnpd");
  bool uci_enabled = false;
  if (uci != nullptr)
    for (const UciSection& s : *uci)
      if (s.type == "upnpd" && facts::UciBool(Opt(s, "enabled", "0")).value_or(false))
        uci_enabled = true;
  if (d.started == nullptr && !uci_enabled) return;  // not running: nothing to say
  auto qualify = [&](Finding& f) {
    if (d.started != nullptr)
      Qualify(f, d);
    else
      f.message += " (enabled in /etc/config/upnpd)";
  };
  for (const KeyValues& c : m.configs.miniupnpd) {
    if (auto sm = c.Bool("secure_mode"); sm.has_value() && !*sm) {
      Finding& f = out.Add("miniupnpd secure_mode=no: any LAN host may map ports to other hosts",
                           c.Get("secure_mode")->at);
      qualify(f);
    }
    const Directive* ext = c.Get("ext_ifname");
    for (const Directive& dir : c.directives)
      if (dir.key == "listening_ip" && ext != nullptr && dir.value == ext->value) {
        Finding& f = out.Add(fmt::format("miniupnpd listens on its external (WAN) interface {}: "
                                         "UPnP is reachable from the Internet",
                                         ext->value),
                             dir.at);
        f.severity = Severity::kHigh;
        qualify(f);
      }
  }
  bool has_conf = !m.configs.miniupnpd.empty();
  bool deny = false;
  for (const Directive& r : m.configs.miniupnpd_rules) deny = deny || r.key == "deny";
  if (has_conf && !deny) {
    const KeyValues& c = m.configs.miniupnpd.front();
    Finding& f = out.Add(m.configs.miniupnpd_rules.empty()
                             ? "miniupnpd has no allow/deny permission rules: every port may be "
                               "mapped by any client"
                             : "miniupnpd's permission rules end without a deny rule",
                         c.path, "");
    qualify(f);
  }
  if (uci != nullptr && (uci_enabled || d.started != nullptr)) {
    bool uci_deny = false, uci_rules = false;
    for (const UciSection& s : *uci)
      if (s.type == "perm_rule") {
        uci_rules = true;
        uci_deny = uci_deny || Opt(s, "action") == "deny";
      }
    for (const UciSection& s : *uci) {
      if (s.type != "upnpd") continue;
      if (!facts::UciBool(Opt(s, "secure_mode", "1")).value_or(true)) {
        Finding& f = out.Add(
            "OpenWrt UPnP (miniupnpd) secure_mode is off: any LAN host may map "
            "ports to other hosts",
            UciAt("/etc/config/upnpd", s, "secure_mode"));
        qualify(f);
      }
      if (!uci_deny) {
        Finding& f = out.Add(uci_rules ? "OpenWrt UPnP permission rules have no deny rule"
                                       : "OpenWrt UPnP has no permission rules: every port may be "
                                         "mapped by any client",
                             "/etc/config/upnpd", "");
        f.line = s.line;
        f.evidence = "config upnpd '" + s.name + "'";
        qualify(f);
      }
    }
  }
}

// ---- SVC-07 debug listeners and backdoors ----

void Svc07(const DeviceModel& m, const AuditContext&, Findings& out) {
  static const std::set<std::string, std::less<>> kFactory = {"tddp", "scfgmgr", "ated", "mptest",
                                                              "adbd"};
  for (const Started& s : m.started) {
    std::string why;
    if (s.program == "nc" || s.program == "netcat" || s.program == "ncat") {
      bool listen = false;
      std::string exec;
      for (size_t i = 1; i < s.argv.size(); ++i) {
        const std::string& a = s.argv[i];
        if (a.size() >= 2 && a[0] == '-' && a[1] != '-' && a.find('l') != std::string::npos)
          listen = true;
        if (a == "--listen") listen = true;
        if ((a == "-e" || a == "-c" || a == "--exec" || a == "--sh-exec") && i + 1 < s.argv.size())
          exec = s.argv[i + 1];
      }
      if (listen && !exec.empty())
        why = fmt::format("a netcat listener that runs '{}' for whoever connects", exec);
      if (!why.empty() &&
          !IsShell(facts::Words(exec).empty() ? exec : std::string(facts::Words(exec)[0])))
        why += " (not a shell, still an unauthenticated command listener)";
    } else if (s.program == "socat") {
      bool listen = false, shell = false;
      for (const std::string& a : s.argv) {
        std::string u = facts::Lower(a);
        listen = listen || u.find("-listen:") != std::string::npos;
        shell =
            shell || ((u.starts_with("exec:") || u.starts_with("system:")) &&
                      (u.find("sh") != std::string::npos || u.find("login") != std::string::npos));
      }
      if (listen && shell) why = "a socat listener that runs a shell";
    } else if (s.program == "telnetd" || s.program == "utelnetd") {
      std::string port = ArgAfter(s, "-p");
      if (!port.empty() && port != "23" && port.find('$') == std::string::npos)
        why = fmt::format("telnetd on the non-standard port {} (a hidden login service)", port);
    } else if (kFactory.count(s.program) != 0) {
      why = s.program == "adbd"
                ? "the Android debug bridge daemon (adbd): a root shell for whoever reaches it"
                : fmt::format(
                      "the factory/debug daemon {} (known vendor test and backdoor "
                      "service)",
                      s.program);
    }
    if (why.empty()) continue;
    Finding& f = out.Add(fmt::format("{} is started at boot: {}", why, Argv(s)), s.source);
    if (s.conditional) {
      f.confidence = Confidence::kMedium;
      f.message += " (inside a condition: may run)";
    }
  }
}

// ---- SVC-09 MQTT ----

void Svc09(const DeviceModel& m, const AuditContext&, Findings& out) {
  DaemonState d = Daemon(m, {"mosquitto"});
  if (!d.installed) return;
  for (const auto& c : m.configs.mosquitto) {
    // mosquitto 2.x: anonymous clients are refused unless allow_anonymous true.
    bool global_anon =
        c.allow_anonymous && facts::UciBool(c.allow_anonymous->value).value_or(false);
    for (const auto& l : c.listeners) {
      if (Loopback(l.bind)) continue;
      bool anon = c.per_listener_settings ? l.allow_anonymous.value_or(false) : global_anon;
      std::string where = l.bind.empty() ? "all interfaces" : l.bind;
      if (!l.tls) {
        Finding& f = out.Add(fmt::format("mosquitto listener on port {} ({}) has no certfile: MQTT "
                                         "credentials and messages travel in cleartext",
                                         l.port, where),
                             l.at);
        Qualify(f, d);
      }
      if (anon) {
        Finding& f = out.Add(
            fmt::format("mosquitto accepts anonymous clients on port {} ({}): allow_anonymous true",
                        l.port, where),
            c.per_listener_settings || !c.allow_anonymous ? l.at : c.allow_anonymous->at);
        if (!l.tls) f.severity = Severity::kCritical;
        Qualify(f, d);
      }
    }
  }
}

// ---- SVC-10 shares ----

void Svc10(const DeviceModel& m, const AuditContext&, Findings& out) {
  DaemonState nfs = Daemon(m, {"rpc.nfsd", "nfsd", "unfsd", "exportfs"});
  for (const auto& e : m.configs.exports) {
    if (!nfs.installed) break;
    for (const auto& cl : e.clients) {
      bool rw = false, no_root_squash = false;
      for (const std::string& o : cl.options) {
        if (o == "rw") rw = true;
        if (o == "ro") rw = false;
        if (o == "no_root_squash") no_root_squash = true;
        if (o == "root_squash") no_root_squash = false;
      }
      bool world = cl.host.empty() || cl.host == "*";
      std::string who = world ? "every host" : cl.host;
      if (no_root_squash) {
        Finding& f = out.Add(fmt::format("NFS export {} to {} with no_root_squash: a client's root "
                                         "is root on the share",
                                         e.dir, who),
                             e.at);
        if (world && rw) f.severity = Severity::kHigh;
        Qualify(f, nfs);
      } else if (world && rw) {
        Finding& f = out.Add(fmt::format("NFS export {} is writable by every host", e.dir), e.at);
        Qualify(f, nfs);
      }
    }
  }
  DaemonState smb = Daemon(m, {"smbd", "samba", "ksmbd.mountd"});
  for (const auto& c : m.configs.samba) {
    if (!smb.installed) break;
    for (const auto& sec : c.sections) {
      auto yes = [&](const char* k) {
        const Directive* d = sec.Get(k);
        return d != nullptr && facts::UciBool(d->value).value_or(false);
      };
      if (sec.name == "global") {
        if (const Directive* d = sec.Get("maptoguest"); d && facts::Lower(d->value) != "never") {
          Finding& f = out.Add(fmt::format("Samba maps failed logins to the guest account "
                                           "(map to guest = {})",
                                           d->value),
                               d->at);
          f.severity = Severity::kLow;
          Qualify(f, smb);
        }
        if (const Directive* d = sec.Get("serverminprotocol")) {
          std::string v = facts::Lower(d->value);
          if (v == "nt1" || v == "lanman1" || v == "lanman2" || v == "core" || v == "coreplus") {
            Finding& f =
                out.Add(fmt::format("Samba accepts SMB1 ({} = {})", d->key, d->value), d->at);
            Qualify(f, smb);
          }
        }
        for (const char* k : {"ntlmauth", "lanmanauth"})
          if (const Directive* d = sec.Get(k)) {
            std::string v = facts::Lower(d->value);
            if (v == "yes" || v == "true" || v == "1" || v == "ntlmv1-permitted") {
              Finding& f = out.Add(
                  fmt::format("Samba accepts {} authentication ({} = {})",
                              std::string(k) == "ntlmauth" ? "NTLMv1" : "LANMAN", k, d->value),
                  d->at);
              Qualify(f, smb);
            }
          }
        continue;
      }
      if (!yes("guestok")) continue;
      if (const Directive* av = sec.Get("available");
          av && !facts::UciBool(av->value).value_or(true))
        continue;
      bool writable = yes("writable");
      Finding& f = out.Add(fmt::format("Samba share [{}] is open to guests{}", sec.name,
                                       writable ? " and writable" : ""),
                           sec.Get("guestok")->at);
      if (writable) f.severity = Severity::kHigh;
      Qualify(f, smb);
    }
  }
  if (const auto* u = m.configs.Uci("samba"); u != nullptr && smb.installed)
    for (const UciSection& s : *u) {
      if (s.type != "sambashare") continue;
      if (!facts::UciBool(Opt(s, "guest_ok")).value_or(false)) continue;
      bool ro = facts::UciBool(Opt(s, "read_only", "yes")).value_or(true);
      Finding& f =
          out.Add(fmt::format("OpenWrt Samba share '{}' ({}) is open to guests{}",
                              Opt(s, "name", s.name), Opt(s, "path"), ro ? "" : " and writable"),
                  UciAt("/etc/config/samba", s, "guest_ok"));
      if (!ro) f.severity = Severity::kHigh;
      Qualify(f, smb);
    }
}

// ---- SVC-12 Wi-Fi ----

bool HasCcmp(std::string_view ciphers) {
  std::string u = facts::Lower(ciphers);
  return u.find("ccmp") != std::string::npos || u.find("gcmp") != std::string::npos;
}

void Svc12(const DeviceModel& m, const AuditContext&, Findings& out) {
  bool hostapd = Installed(m, {"hostapd", "wpad", "wpad-mini", "wpad-basic"});
  for (const KeyValues& c : m.configs.hostapd) {
    auto add = [&](std::string msg, const SourceRef& at) -> Finding& {
      Finding& f = out.Add(std::move(msg), at);
      if (!hostapd) {
        f.confidence = Confidence::kMedium;
        f.message += " (hostapd itself is not in the image)";
      }
      return f;
    };
    const Directive* wps = c.Get("wps_state");
    if (wps != nullptr && (wps->value == "1" || wps->value == "2"))
      add("hostapd enables WPS (wps_state=" + wps->value +
              "): the 8-digit PIN method falls to an online brute force in hours",
          wps->at);
    if (const Directive* pin = c.Get("ap_pin"); pin != nullptr && !pin->value.empty())
      add("hostapd has a fixed WPS AP PIN in the image (ap_pin): the same PIN unlocks every unit",
          pin->at)
          .severity = Severity::kCritical;
    int wpa = 0;
    if (const Directive* w = c.Get("wpa")) wpa = std::atoi(w->value.c_str());
    if (wpa == 0) {
      for (int i = 0; i < 4; ++i)
        if (const Directive* k = c.Get("wep_key" + std::to_string(i)); k && !k->value.empty()) {
          add("hostapd uses WEP (" + k->key +
                  "): broken, recoverable from captured traffic in "
                  "minutes",
              k->at);
          break;
        }
    }
    if (wpa == 1) add("hostapd allows WPA1 only (wpa=1)", c.Get("wpa")->at);
    if (wpa & 2) {
      // rsn_pairwise defaults to wpa_pairwise, which defaults to TKIP.
      const Directive* rsn = c.Get("rsn_pairwise");
      const Directive* wp = c.Get("wpa_pairwise");
      std::string eff = rsn ? rsn->value : wp ? wp->value : "TKIP";
      if (!HasCcmp(eff))
        add("hostapd WPA2 uses TKIP only (" +
                std::string(rsn  ? "rsn_pairwise"
                            : wp ? "wpa_pairwise"
                                 : "default") +
                " = " + eff + ")",
            rsn  ? rsn->at
            : wp ? wp->at
                 : c.Get("wpa")->at);
    }
    if (wpa != 0)
      for (const char* k : {"wpa_passphrase", "wpa_psk"})
        if (const Directive* p = c.Get(k); p && !p->value.empty()) {
          Finding& f = add(fmt::format("hostapd config ships a fixed {}: unless it is replaced per "
                                       "unit at first boot, every device has the same Wi-Fi "
                                       "password (review: a universal PSK is a default password)",
                                       k),
                           p->at);
          f.evidence =
              std::string(k) + "=<redacted, " + std::to_string(p->value.size()) + " chars>";
          f.verdict = false;
          f.severity = Severity::kMedium;
          break;
        }
  }
  // OpenWrt: /etc/config/wireless, applied by netifd through hostapd.
  const auto* u = m.configs.Uci("wireless");
  if (u == nullptr) return;
  const std::string path = "/etc/config/wireless";
  std::set<std::string> disabled;
  for (const UciSection& s : *u)
    if (s.type == "wifi-device" && facts::UciBool(Opt(s, "disabled", "0")).value_or(false))
      disabled.insert(s.name);
  for (const UciSection& s : *u) {
    if (s.type != "wifi-iface") continue;
    if (disabled.count(Opt(s, "device")) != 0) continue;  // radio off, as shipped
    if (facts::UciBool(Opt(s, "disabled", "0")).value_or(false)) continue;
    std::string enc = facts::Lower(Opt(s, "encryption", "none"));
    std::string mode = Opt(s, "mode", "ap");
    if (mode != "ap") continue;
    std::string ssid = Opt(s, "ssid");
    if (enc.starts_with("wep"))
      out.Add(fmt::format("Wi-Fi '{}' uses WEP (encryption {})", ssid, enc),
              UciAt(path, s, "encryption"));
    else if (enc == "psk" || enc.starts_with("psk+"))
      out.Add(fmt::format("Wi-Fi '{}' uses WPA1 (encryption {})", ssid, enc),
              UciAt(path, s, "encryption"));
    else if (enc.find("tkip") != std::string::npos && enc.find("ccmp") == std::string::npos &&
             enc.find("aes") == std::string::npos)
      out.Add(fmt::format("Wi-Fi '{}' uses TKIP only (encryption {})", ssid, enc),
              UciAt(path, s, "encryption"));
    else if (enc == "none") {
      Finding& f =
          out.Add(fmt::format("Wi-Fi '{}' is an open access point, enabled as shipped", ssid),
                  UciAt(path, s, "encryption"));
      f.severity = Severity::kMedium;
    }
    if (facts::UciBool(Opt(s, "wps_pushbutton", "0")).value_or(false) ||
        facts::UciBool(Opt(s, "wps_label", "0")).value_or(false) || !Opt(s, "wps_pin").empty())
      out.Add(fmt::format("Wi-Fi '{}' enables WPS", ssid),
              UciAt(path, s,
                    s.options.count("wps_pin")     ? "wps_pin"
                    : s.options.count("wps_label") ? "wps_label"
                                                   : "wps_pushbutton"));
    if (enc.starts_with("psk") || enc.starts_with("sae"))
      if (std::string key = Opt(s, "key"); !key.empty()) {
        Finding& f = out.Add(fmt::format("Wi-Fi '{}' ships a fixed passphrase in the image: every "
                                         "unit has the same Wi-Fi password unless it is replaced "
                                         "per unit (review: a universal PSK is a default password)",
                                         ssid),
                             UciAt(path, s, "key"));
        f.evidence = "option key <redacted, " + std::to_string(key.size()) + " chars>";
        f.verdict = false;
        f.severity = Severity::kMedium;
      }
  }
}

}  // namespace

extern const Check kSvc03{
    "SVC-03",
    "Anonymous or writable FTP",
    Severity::kHigh,
    "Anonymous FTP lets anyone on the network read the served tree without a password; with "
    "upload rights it becomes a drop box for malware and a way to fill or overwrite storage.",
    "Turn anonymous access off (vsftpd anonymous_enable=NO, pure-ftpd -E / NoAnonymous yes, no "
    "proftpd <Anonymous> block); if it must exist, deny writes and serve a dedicated directory.",
    {"5.5-4, 5.6-1", "", "I.2(d)", "", "LA", "ACM-2"},
    Svc03};

extern const Check kSvc04{
    "SVC-04",
    "SNMP default or fixed communities",
    Severity::kHigh,
    "An SNMP v1/v2c community is a cleartext shared password: 'public' and 'private' are the "
    "first ones scanners try. Read access leaks the configuration and neighbours; write access "
    "changes the device.",
    "Use SNMPv3 users with authPriv; if v1/v2c must stay, generate the community per unit, make "
    "it read-only and restrict its source network.",
    {"5.1-1, 5.5-1, 5.6-2", "", "I.2(d), I.2(e)", "§1", "LA", "AUM-5-1"},
    Svc04};

extern const Check kSvc05{
    "SVC-05",
    "UPnP IGD without restrictions",
    Severity::kMedium,
    "miniupnpd lets LAN programs open ports in the firewall with no authentication; without "
    "secure_mode and deny rules any compromised host can expose other hosts, and a WAN-facing "
    "listener lets the Internet do it.",
    "Ship UPnP disabled, or with secure_mode on, explicit allow rules for the LAN range ending in "
    "'deny 0-65535 0.0.0.0/0 0-65535', and listening only on the LAN.",
    {"5.6-1, 5.5-5", "", "I.2(i), I.2(j)", "", "LA", "GEC-2, TCM-1"},
    Svc05};

extern const Check kSvc07{
    "SVC-07",
    "Debug listener or backdoor started at boot",
    Severity::kCritical,
    "A netcat or socat listener that runs a shell, telnetd on a hidden port, adbd or a vendor "
    "factory daemon gives remote control without any credential that the owner can change.",
    "Remove debug listeners and factory daemons from production start scripts; gate any factory "
    "mode behind a per-unit secret and a physical action.",
    {"5.6-4, 5.6-1", "", "I.2(a), I.2(j)", "", "LA", "GEC-2"},
    Svc07};

extern const Check kSvc09{
    "SVC-09",
    "MQTT broker anonymous or cleartext",
    Severity::kHigh,
    "An MQTT broker without TLS sends credentials and device messages in cleartext; with "
    "anonymous access anyone reaching the port can read every topic and publish commands.",
    "Give each non-loopback listener a certfile, set allow_anonymous false (the mosquitto 2.x "
    "default) and use a password_file or an auth plugin.",
    {"5.5-1, 5.5-4", "", "I.2(d), I.2(e)", "", "LA, DP", "SCM-1, SCM-2, SCM-3"},
    Svc09};

extern const Check kSvc10{
    "SVC-10",
    "Insecure NFS or SMB shares",
    Severity::kMedium,
    "NFS exports with no_root_squash or world write access, and SMB guest shares, SMB1 or NTLMv1 "
    "give network users the files without a password or with a protocol broken for decades.",
    "Export to named hosts with root_squash and ro where possible; disable guest access, set "
    "'server min protocol = SMB2_10' and 'ntlm auth = ntlmv2-only'.",
    {"5.5-4, 5.5-1", "", "I.2(d)", "", "LA", "ACM-2"},
    Svc10};

extern const Check kSvc12{
    "SVC-12",
    "Weak Wi-Fi defaults",
    Severity::kHigh,
    "WPS PINs fall to an online brute force (and a fixed AP PIN unlocks every unit), WEP and "
    "TKIP are broken, and a passphrase fixed in the image is one shared password for every unit.",
    "Ship WPA2-CCMP or WPA3 with a per-unit passphrase set at manufacture, WPS off (or push "
    "button only), and no WEP/TKIP.",
    {"5.1-1, 5.5-1", "", "I.2(b), I.2(e)", "§1", "LA", "AUM-5-1, SCM-3"},
    Svc12};

}  // namespace firmwarden::audit
