// Crypto and web-server configuration: CRYP-01 weak TLS and VPN settings, CRYP-03 keys generated
// at first boot with no entropy seeding, SVC-13 information a web server discloses unasked.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"
#include "facts/uci.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::Directive;
using facts::KeyValues;

// Splits a cipher or protocol list at ':', ',', ' ' and '+' (IPsec proposals use '-').
std::vector<std::string> Tokens(std::string_view s, std::string_view seps = ": ,\t") {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (seps.find(ch) != std::string_view::npos) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// The weak suites a cipher list enables (names that are not negated with '!' or '-').
std::vector<std::string> WeakCiphers(std::string_view list) {
  std::vector<std::string> out;
  for (const std::string& t : Tokens(list)) {
    if (t.empty() || t[0] == '!' || t[0] == '-') continue;
    std::string u = t;
    if (u[0] == '+') u = u.substr(1);
    std::string up;
    for (char ch : u) up += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (up.find("RC4") != std::string::npos || up.find("NULL") != std::string::npos ||
        up.find("EXPORT") != std::string::npos || up.starts_with("EXP-") ||
        up.find("DES") != std::string::npos || up.find("RC2") != std::string::npos ||
        up.find("MD5") != std::string::npos || up == "ALL" || up == "LOW")
      out.push_back(t);
  }
  return out;
}

bool IsOldProtocol(std::string_view p) {
  std::string u = facts::Lower(p);
  return u == "sslv2" || u == "sslv3" || u == "tlsv1" || u == "tlsv1.0" || u == "tlsv1.1" ||
         u == "tls1" || u == "tls1.0" || u == "tls1_1" || u == "tls1.1";
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

void Cryp01(const DeviceModel& m, const AuditContext&, Findings& out) {
  auto weak = [&](const Directive& d, std::string_view server) {
    auto w = WeakCiphers(d.value);
    if (!w.empty())
      out.Add(fmt::format("{} enables weak cipher suites: {}", server, Join(w)), d.at);
  };
  for (const KeyValues& kv : m.configs.lighttpd)
    for (const Directive& d : kv.directives) {
      if ((d.key == "ssl.use-sslv2" || d.key == "ssl.use-sslv3") &&
          facts::Lower(d.value) == "enable")
        out.Add(fmt::format("lighttpd enables {} ({})", d.key.substr(8), d.key), d.at);
      if (d.key == "ssl.cipher-list") weak(d, "lighttpd");
      if (d.key == "ssl.openssl.ssl-conf-cmd") {
        std::string v = facts::Lower(d.value);
        size_t at = v.find("minprotocol");
        if (at != std::string::npos)
          for (const std::string& t : Tokens(v.substr(at), ":, \t\"=>()"))
            if (IsOldProtocol(t)) {
              out.Add(fmt::format("lighttpd accepts {} (MinProtocol)", t), d.at);
              break;
            }
      }
    }
  for (const KeyValues& kv : m.configs.Servers("nginx"))
    for (const Directive& d : kv.directives) {
      if (d.key == "ssl_protocols") {
        std::vector<std::string> old;
        for (const std::string& t : Tokens(d.value))
          if (IsOldProtocol(t)) old.push_back(t);
        if (!old.empty())
          out.Add(fmt::format("nginx accepts obsolete protocols: {}", Join(old)), d.at);
      }
      if (d.key == "ssl_ciphers") weak(d, "nginx");
    }
  for (const KeyValues& kv : m.configs.Servers("apache"))
    for (const Directive& d : kv.directives) {
      if (d.key == "sslprotocol") {
        // Apply the list the way mod_ssl does: "all" and names add, "-name" removes.
        std::set<std::string> on;
        for (const std::string& raw : Tokens(d.value)) {
          std::string t = facts::Lower(raw);
          bool minus = t.starts_with("-");
          if (t.starts_with("+") || minus) t = t.substr(1);
          std::vector<std::string> names = {t};
          if (t == "all") names = {"sslv3", "tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3"};
          for (const std::string& n : names) minus ? (void)on.erase(n) : (void)on.insert(n);
        }
        std::vector<std::string> old;
        for (const std::string& t : on)
          if (IsOldProtocol(t)) old.push_back(t);
        if (!old.empty())
          out.Add(fmt::format("Apache mod_ssl accepts obsolete protocols: {}", Join(old)), d.at);
      }
      if (d.key == "sslciphersuite") weak(d, "Apache mod_ssl");
    }
  for (const KeyValues& kv : m.configs.Servers("stunnel"))
    for (const Directive& d : kv.directives) {
      std::string v = facts::Lower(d.value);
      if ((d.key == "sslversion" && (v == "all" || IsOldProtocol(v))) ||
          (d.key == "sslversionmin" && IsOldProtocol(v)))
        out.Add(fmt::format("stunnel accepts {} ({} = {})", v, d.key, d.value), d.at);
      if (d.key == "ciphers") weak(d, "stunnel");
    }
  for (const KeyValues& kv : m.configs.Servers("openssl"))
    for (const Directive& d : kv.directives) {
      if (d.key == "minprotocol" && IsOldProtocol(d.value))
        out.Add(fmt::format("OpenSSL's default configuration accepts {} (MinProtocol)", d.value),
                d.at);
      if (d.key == "cipherstring" && facts::Lower(d.value).find("@seclevel=0") != std::string::npos)
        out.Add("OpenSSL's default configuration switches every security check off (@SECLEVEL=0)",
                d.at);
    }
  static const std::set<std::string, std::less<>> kWeakVpnCiphers = {
      "bf-cbc",  "des-cbc",    "des-ede-cbc", "des-ede3-cbc",
      "rc2-cbc", "rc2-40-cbc", "cast5-cbc",   "none"};
  for (const KeyValues& kv : m.configs.Servers("openvpn"))
    for (const Directive& d : kv.directives) {
      std::string v = facts::Lower(facts::Trim(d.value));
      if ((d.key == "cipher" && kWeakVpnCiphers.count(v) != 0))
        out.Add(fmt::format("OpenVPN encrypts with {} (cipher)", d.value), d.at);
      if (d.key == "data-ciphers")
        for (const std::string& t : Tokens(v))
          if (kWeakVpnCiphers.count(t) != 0) {
            out.Add(fmt::format("OpenVPN offers {} (data-ciphers)", t), d.at);
            break;
          }
      if (d.key == "auth" && (v == "md5" || v == "none"))
        out.Add(fmt::format("OpenVPN authenticates packets with {} (auth)", d.value), d.at);
      if (d.key == "tls-version-min" && (v == "1.0" || v == "1.1"))
        out.Add(fmt::format("OpenVPN accepts TLS {} (tls-version-min)", v), d.at);
    }
  for (const KeyValues& kv : m.configs.Servers("ipsec"))
    for (const Directive& d : kv.directives) {
      if (d.key != "ike" && d.key != "esp") continue;
      std::vector<std::string> bad;
      for (const std::string& t : Tokens(facts::Lower(d.value), "-,! \t"))
        if (t == "modp768" || t == "modp1024" || t == "md5" || t == "des" || t == "null" ||
            t == "3des")
          bad.push_back(t);
      if (!bad.empty()) out.Add(fmt::format("IPsec {} proposal uses {}", d.key, Join(bad)), d.at);
    }
}

// ---- CRYP-03 ----

void Cryp03(const DeviceModel& m, const AuditContext&, Findings& out) {
  static const std::set<std::string, std::less<>> kSeeders = {
      "urandom_seed",       "urandom-seed",        "seedrng",     "rngd",    "haveged",
      "jitterentropy-rngd", "systemd-random-seed", "random-seed", "urandom", "rng-tools"};
  auto seeded = [&] {
    for (const facts::Started& s : m.started)
      if (kSeeders.count(s.program) != 0 || kSeeders.count(facts::Basename(s.source.path)) != 0)
        return true;
    for (const char* p : {"/etc/init.d/urandom_seed", "/etc/init.d/urandom", "/etc/init.d/seedrng",
                          "/sbin/urandom_seed", "/usr/sbin/rngd", "/usr/sbin/haveged",
                          "/sbin/seedrng", "/usr/sbin/seedrng", "/lib/systemd/systemd-random-seed",
                          "/usr/lib/systemd/systemd-random-seed", "/etc/init.d/S20urandom",
                          "/etc/init.d/S20seedrng"})
      if (m.fs.Resolve(p) != nullptr) return true;
    return false;
  };
  const facts::SourceRef* keygen = nullptr;
  std::string what;
  for (const facts::Started& s : m.started) {
    bool gen = s.program == "dropbearkey" || (s.program == "ssh-keygen") ||
               (s.program == "openssl" && s.argv.size() > 1 &&
                (s.argv[1] == "genrsa" || s.argv[1] == "genpkey" || s.argv[1] == "req" ||
                 s.argv[1] == "ecparam"));
    if (gen) {
      keygen = &s.source;
      what = s.program;
      break;
    }
  }
  if (keygen == nullptr) {
    for (const facts::ScriptFile& sf : m.configs.scripts) {
      for (const facts::ScriptCommand& c : sf.commands)
        if (!c.words.empty() && (facts::Basename(c.words[0]) == "dropbearkey" ||
                                 facts::Basename(c.words[0]) == "ssh-keygen")) {
          keygen = &c.at;
          what = facts::Basename(c.words[0]);
          break;
        }
      if (keygen != nullptr) break;
    }
  }
  if (keygen == nullptr || seeded()) return;
  Finding& f = out.Add(
      fmt::format("{} makes keys on the device, and nothing saves or restores a random seed or "
                  "feeds the kernel's pool (no urandom seed script, seedrng, rngd or haveged): "
                  "keys made right after the first boot may be predictable",
                  what),
      *keygen);
  f.verdict = false;
  f.confidence = Confidence::kMedium;
}

// ---- SVC-13 ----

void Svc13(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const KeyValues& kv : m.configs.lighttpd)
    for (const Directive& d : kv.directives) {
      if ((d.key == "dir-listing.activate" || d.key == "server.dir-listing") &&
          facts::Lower(d.value) == "enable")
        out.Add("lighttpd lists directory contents to anyone (" + d.key + ")", d.at);
      if (d.key == "server.tag" && d.value.find_first_of("0123456789") != std::string::npos)
        out.Add(fmt::format("lighttpd announces its version: server.tag = \"{}\"", d.value), d.at);
    }
  for (const KeyValues& kv : m.configs.Servers("nginx"))
    for (const Directive& d : kv.directives) {
      if (d.key == "autoindex" && facts::Lower(d.value) == "on")
        out.Add("nginx lists directory contents (autoindex on)", d.at);
      if (d.key == "server_tokens" && facts::Lower(d.value) == "on")
        out.Add("nginx announces its version (server_tokens on)", d.at);
    }
  for (const KeyValues& kv : m.configs.Servers("apache"))
    for (const Directive& d : kv.directives) {
      std::string v = facts::Lower(d.value);
      if (d.key == "servertokens" && (v == "full" || v == "os" || v == "minor" || v == "minimal"))
        out.Add(fmt::format("Apache announces its version and platform (ServerTokens {})", d.value),
                d.at);
      if (d.key == "options") {
        bool on = false;
        for (const std::string& t : Tokens(v, " \t"))
          if (t == "indexes" || t == "+indexes" || t == "all") on = true;
        if (on) out.Add("Apache lists directory contents (Options Indexes)", d.at);
      }
    }
  // uhttpd lists directories unless no_dirlists is set.
  for (const auto& [path, sections] : m.configs.uci) {
    if (path != "/etc/config/uhttpd") continue;
    for (const facts::UciSection& s : sections) {
      if (s.type != "uhttpd") continue;
      auto o = s.options.find("no_dirlists");
      if (o == s.options.end() || facts::UciBool(o->second) != true)
        out.Add(fmt::format("uhttpd instance '{}' lists directory contents (no_dirlists is not "
                            "set)",
                            s.name),
                facts::SourceRef{path, s.line, ""})
            .confidence = Confidence::kMedium;
    }
  }
  // UPnP device descriptions that carry a fixed serial number.
  for (const facts::UpnpDescription& d : m.configs.upnp) {
    const std::string& serial = d.serial;
    if (serial.empty() || serial.find('%') != std::string::npos ||
        serial.find('$') != std::string::npos || serial.find("##") != std::string::npos)
      continue;  // filled in at run time
    out.Add(
        fmt::format("UPnP description tells anyone on the network the serial number {}", serial),
        d.at);
  }
}

}  // namespace

extern const Check kCryp01{
    "CRYP-01",
    "Weak TLS or VPN configuration",
    Severity::kMedium,
    "SSLv3, TLS 1.0/1.1, RC4, DES/3DES, NULL and export suites, Blowfish or MD5 in a VPN, and "
    "768/1024-bit IPsec groups are broken or deprecated: a network attacker can read or alter "
    "traffic that the product believes is protected.",
    "Allow TLS 1.2 and 1.3 only with AEAD suites; for OpenVPN use AES-GCM or ChaCha20-Poly1305 "
    "data ciphers; for IPsec use modp2048 or better and SHA-2.",
    {"5.5-1", "", "I.2(e)", "", "DP", "SCM-2, CRY-1"},
    Cryp01};

extern const Check kCryp03{
    "CRYP-03",
    "First-boot keys without entropy seeding",
    Severity::kInfo,
    "Embedded devices have little entropy right after boot; keys generated then, with no saved "
    "seed and no hardware RNG daemon, have been shown to repeat across devices.",
    "Save and restore a random seed across boots (seedrng, urandom seed), feed a hardware RNG "
    "(rngd), and generate keys only once the pool is initialised (getrandom without "
    "GRND_NONBLOCK).",
    {"5.4-4, 5.5-1", "", "I.2(e)", "", "DP", "CCK-2"},
    Cryp03};

extern const Check kSvc13{
    "SVC-13",
    "Unauthenticated information disclosure",
    Severity::kLow,
    "Directory listings, version banners and fixed serial numbers in UPnP descriptions tell an "
    "unauthenticated visitor which files exist and which exploits to try.",
    "Switch directory listing off, do not announce versions (server_tokens off, ServerTokens Prod, "
    "no version in server.tag), and fill UPnP serial numbers per unit at run time.",
    {"5.6-2", "", "I.2(j)", "", "LA", "GEC-2"},
    Svc13};

}  // namespace firmwarden::audit
