// Updates and package feeds: UPD-01 cleartext feeds and firmware downloads, UPD-02 TLS
// verification switched off in scripts, UPD-04 package-manager signature checks off.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::ScriptCommand;

bool Cleartext(std::string_view url) {
  std::string u = facts::Lower(url);
  return u.starts_with("http://") || u.starts_with("ftp://") || u.starts_with("tftp://");
}

bool Network(std::string_view url) {
  std::string u = facts::Lower(url);
  return Cleartext(u) || u.starts_with("https://") || u.starts_with("ftps://");
}

// The URLs inside a word ("URL=http://x/fw.bin" -> "http://x/fw.bin").
std::vector<std::string> Urls(std::string_view word) {
  std::vector<std::string> out;
  std::string low = facts::Lower(word);
  for (const char* scheme : {"http://", "ftp://", "tftp://"}) {
    size_t at = 0;
    while ((at = low.find(scheme, at)) != std::string::npos) {
      if (std::string_view(scheme) == "ftp://" && at > 0 && low[at - 1] == 't') {  // tftp://
        at += 6;
        continue;
      }
      size_t end = word.find_first_of(" \"'`;)", at);
      out.emplace_back(word.substr(at, end == std::string_view::npos ? end : end - at));
      at += std::string_view(scheme).size();
    }
  }
  return out;
}

bool FirmwareLike(std::string_view path) {
  std::string p = facts::Lower(path);
  size_t q = p.find_first_of("?#");
  if (q != std::string::npos) p.resize(q);
  for (const char* ext : {".bin", ".img", ".trx", ".chk", ".swu", ".ipk", ".deb", ".tar", ".tgz",
                          ".tar.gz", ".tar.xz", ".tar.bz2", ".zip", ".fw", ".rom"})
    if (p.ends_with(ext)) return true;
  for (const char* w : {"upgrade", "firmware", "fota", "/ota", "ota/", "_ota", "ota_", "fwupdate"})
    if (p.find(w) != std::string::npos) return true;
  return false;
}

std::string Prog(const ScriptCommand& c) {
  size_t i = 0;
  // Skip leading variable assignments (FOO=bar cmd) and a busybox prefix.
  while (i < c.words.size() && c.words[i].find('=') != std::string::npos &&
         !c.words[i].starts_with("-"))
    ++i;
  if (i < c.words.size() && facts::Basename(c.words[i]) == "busybox") ++i;
  return i < c.words.size() ? facts::Basename(c.words[i]) : "";
}

void Upd01(const DeviceModel& m, const AuditContext&, Findings& out) {
  bool signed_opkg = m.configs.opkg.check_signature.has_value();
  for (const auto& f : m.configs.opkg.feeds) {
    std::string url = f.value.substr(f.value.find(' ') + 1);
    if (!Cleartext(url)) continue;
    Finding& x = out.Add(fmt::format("opkg feed '{}' is fetched over cleartext ({})",
                                     f.value.substr(0, f.value.find(' ')), url),
                         f.at);
    if (signed_opkg) {
      x.severity = Severity::kMedium;
      x.message +=
          "; package lists are signature-checked, so tampering is caught, but the "
          "feed can be watched, replayed or frozen";
    } else {
      x.message += " and signatures are not checked: a network attacker can serve any package";
    }
  }
  for (const auto& s : m.configs.apt.sources) {
    if (!Cleartext(s.uri)) continue;
    Finding& x = out.Add(fmt::format("apt source {} is fetched over cleartext", s.uri), s.at);
    if (!s.trusted) {
      x.severity = Severity::kMedium;
      x.message += "; apt checks the signed Release file, but the feed can be watched or frozen";
    }
  }
  for (const auto& sf : m.configs.scripts) {
    if (!(sf.path.starts_with("/etc/") || sf.path.starts_with("/sbin/") ||
          sf.path.starts_with("/usr/sbin/") || sf.path.starts_with("/lib/upgrade/") ||
          sf.path.starts_with("/usr/bin/") || sf.path.starts_with("/bin/")))
      continue;
    int last_line = 0;
    for (const ScriptCommand& c : sf.commands) {
      std::string prog = Prog(c);
      if (prog == "echo" || prog == "printf" || prog == "logger") continue;
      std::string hit;
      for (const std::string& w : c.words)
        for (const std::string& u : Urls(w))
          if (hit.empty() && FirmwareLike(u.substr(u.find("://") + 3))) hit = u;
      if (hit.empty() && prog == "tftp") {
        bool get = false;
        std::string remote;
        for (size_t i = 0; i < c.words.size(); ++i) {
          if (c.words[i] == "-g") get = true;
          if (c.words[i] == "-r" && i + 1 < c.words.size()) remote = c.words[i + 1];
        }
        if (get && FirmwareLike(remote)) hit = "tftp -g -r " + remote;
      }
      if (hit.empty() || c.at.line == last_line) continue;
      last_line = c.at.line;
      out.Add(fmt::format("update/firmware download over cleartext in a script: {}", hit), c.at);
    }
  }
}

void Upd02(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const auto& sf : m.configs.scripts) {
    for (const ScriptCommand& c : sf.commands) {
      std::string prog = Prog(c);
      std::string flag;
      for (const std::string& w : c.words) {
        if (prog == "curl") {
          if (w == "--insecure" ||
              (w.size() >= 2 && w[0] == '-' && w[1] != '-' && w.find('k') != std::string::npos &&
               std::all_of(w.begin() + 1, w.end(),
                           [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); })))
            flag = w;
        } else if (prog == "wget" || prog == "uclient-fetch") {
          if (w == "--no-check-certificate") flag = w;
        }
        // Options kept in a variable: CURL_OPTS="-k …", WGET_ARGS=--no-check-certificate.
        if (flag.empty() && w.find('=') != std::string::npos && !w.starts_with("-")) {
          std::string v = w.substr(w.find('=') + 1);
          for (std::string_view o : facts::Words(v))
            if (o == "--no-check-certificate" || o == "--insecure") flag = std::string(o);
        }
        if (!flag.empty()) break;
      }
      if (flag.empty()) continue;
      Finding& f = out.Add(
          fmt::format("{} TLS certificate verification is switched off ({}): a network attacker "
                      "can impersonate the server",
                      prog.empty() ? std::string("a download option") : prog, flag),
          c.at);
      bool tls = false;
      for (const std::string& w : c.words)
        tls = tls || facts::Lower(w).find("https://") != std::string::npos;
      if (!tls && (prog == "curl" || prog == "wget" || prog == "uclient-fetch")) {
        bool any_url = false;
        for (const std::string& w : c.words)
          any_url = any_url || w.find("://") != std::string::npos;
        if (any_url) f.confidence = Confidence::kMedium;  // the URL is plain http anyway
      }
    }
  }
}

void Upd04(const DeviceModel& m, const AuditContext&, Findings& out) {
  const auto& o = m.configs.opkg;
  std::vector<const facts::Directive*> net;
  for (const auto& f : o.feeds)
    if (Network(f.value.substr(f.value.find(' ') + 1))) net.push_back(&f);
  if (!net.empty() && !o.check_signature) {
    std::string files;
    for (const std::string& f : o.files) files += (files.empty() ? "" : ", ") + f;
    Finding& f = out.Add(fmt::format("opkg installs from {} network feed{} without signature "
                                     "checks: no 'option check_signature' in {}",
                                     net.size(), net.size() == 1 ? "" : "s", files),
                         net.front()->at);
    f.path = o.files.front();
    f.line = 0;
    f.evidence = net.front()->at.path + ":" + std::to_string(net.front()->at.line) + ": " +
                 net.front()->at.text;
  }
  for (const auto& s : m.configs.apt.sources)
    if (s.trusted)
      out.Add(fmt::format("apt source {} is marked trusted: its packages are installed without "
                          "signature checks",
                          s.uri),
              s.at);
  for (const auto& d : m.configs.apt.insecure)
    out.Add(fmt::format("apt configuration allows unsigned packages ({})", d.key), d.at);
}

}  // namespace

extern const Check kUpd01{
    "UPD-01",
    "Updates or packages fetched over cleartext",
    Severity::kHigh,
    "Firmware and packages downloaded over http, ftp or tftp can be read and, without a "
    "signature check, replaced by anyone on the path: the update channel becomes the attack.",
    "Fetch updates and feeds over HTTPS with certificate verification, and verify a signature "
    "with a key in the image before installing.",
    {"5.3-7, 5.3-10, 5.5-1", "", "I.2(c), II.7", "", "SU", "SUM-2, SCM-2"},
    Upd01};

extern const Check kUpd02{
    "UPD-02",
    "TLS certificate verification disabled",
    Severity::kHigh,
    "HTTPS without certificate verification (curl -k, wget --no-check-certificate) encrypts the "
    "connection to whoever answers, so a man in the middle can serve any update or read any "
    "credential.",
    "Remove the flags, ship the CA bundle (or pin the vendor CA) and let the download fail when "
    "verification fails.",
    {"5.3-10, 5.5-1", "", "I.2(c), I.2(e)", "", "SU, DP", "SUM-2, AUM-3"},
    Upd02};

extern const Check kUpd04{
    "UPD-04",
    "Package-manager signature checks disabled",
    Severity::kHigh,
    "When opkg or apt install packages without a signature check, whoever controls the feed or "
    "the network path installs code as root on every device that updates.",
    "Set 'option check_signature' in opkg.conf and ship the feed keys (/etc/opkg/keys, usign); "
    "remove [trusted=yes] and AllowUnauthenticated from apt.",
    {"5.3-9, 5.3-10", "", "I.2(c), II.7", "", "SU", "SUM-2"},
    Upd04};

}  // namespace firmwarden::audit
