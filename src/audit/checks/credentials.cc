// Accounts and passwords: CRED-01 empty, CRED-02 known default, CRED-03 weak hashing,
// CRED-04 universal baked-in hash, CRED-06 extra UID 0 and service accounts with shells,
// CRED-07 authorized_keys shipped in the image.
#include <fmt/format.h>

#include <set>

#include "audit/check.h"
#include "audit/crack.h"
#include "audit/dictionary.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::Account;
using facts::DeviceModel;
using facts::HashScheme;

// One (account, hash) once, even when passwd- repeats passwd.
template <typename F>
void ForEachAccount(const DeviceModel& m, F f) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const Account& a : m.accounts)
    if (seen.insert({a.name, a.hash}).second) f(a);
}

void Cred01(const DeviceModel& m, const AuditContext&, Findings& out) {
  ForEachAccount(m, [&](const Account& a) {
    if (a.scheme != HashScheme::kEmpty || !a.login_shell) return;
    out.Add(fmt::format("account '{}' (uid {}) has no password{}", a.name,
                        a.uid == UINT32_MAX ? std::string("?") : std::to_string(a.uid),
                        a.shell.empty() ? "" : ", login shell " + a.shell),
            a.hash_from);
  });
}

void Cred02(const DeviceModel& m, const AuditContext& ctx, Findings& out) {
  std::vector<std::string> names;
  for (const Account& a : m.accounts) names.push_back(a.name);
  const std::vector<Credential>& creds = ctx.credentials;
  ForEachAccount(m, [&](const Account& a) {
    switch (a.scheme) {
      case HashScheme::kEmpty:
      case HashScheme::kLocked:
      case HashScheme::kPlain:
        return;
      default:
        break;
    }
    auto cands = CandidatesFor(a.name, creds, names, m.identity_strings, 50000);
    CrackResult r = Crack(a.hash, cands, ctx.threads, ctx.seconds_per_slow_hash);
    if (!r.cracked && r.capped) {
      Finding& f =
          out.Add(fmt::format("verification of account '{}' ({}) stopped after {} of {} "
                              "dictionary words: the time cap of {:.1f} s per hash was hit",
                              a.name, facts::HashSchemeName(a.scheme), r.tried, cands.size(),
                              ctx.seconds_per_slow_hash),
                  a.hash_from);
      f.severity = Severity::kInfo;
      f.verdict = false;
    }
    if (r.cracked) {
      out.Add(fmt::format("account '{}' has the guessable password \"{}\" ({}; word {} of the {} "
                          "dictionary words)",
                          a.name, r.password, facts::HashSchemeName(a.scheme), r.position,
                          cands.size()),
              a.hash_from);
    }
  });
}

void Cred03(const DeviceModel& m, const AuditContext&, Findings& out) {
  ForEachAccount(m, [&](const Account& a) {
    if (a.scheme == HashScheme::kDes || a.scheme == HashScheme::kMd5 ||
        a.scheme == HashScheme::kApr1) {
      out.Add(fmt::format("account '{}' uses {} password hashing", a.name,
                          facts::HashSchemeName(a.scheme)),
              a.hash_from);
    } else if (a.scheme == HashScheme::kPlain) {
      out.Add(fmt::format("account '{}' stores what looks like a cleartext password", a.name),
              a.hash_from)
          .severity = Severity::kHigh;
    }
  });
}

void Cred04(const DeviceModel& m, const AuditContext&, Findings& out) {
  ForEachAccount(m, [&](const Account& a) {
    if (a.scheme == HashScheme::kEmpty || a.scheme == HashScheme::kLocked || !a.login_shell) return;
    out.Add(fmt::format("account '{}' ships with a fixed password hash ({}): every unit has the "
                        "same password unless it is changed at first boot",
                        a.name, facts::HashSchemeName(a.scheme)),
            a.hash_from);
  });
}

void Cred06(const DeviceModel& m, const AuditContext&, Findings& out) {
  ForEachAccount(m, [&](const Account& a) {
    if (a.uid == 0 && a.name != "root" && a.passwd.line > 0)
      out.Add(fmt::format("account '{}' has uid 0 (a second root)", a.name), a.passwd);
  });
}

void Cred07(const DeviceModel& m, const AuditContext&, Findings& out) {
  std::set<std::string> dirs = {"/root/.ssh", "/etc/dropbear", "/.ssh"};
  for (const Account& a : m.accounts)
    if (!a.home.empty()) dirs.insert(facts::NormalizePath(a.home + "/.ssh").insert(0, "/"));
  for (const FileEntry* e : m.fs.List("/home"))
    if (e->type == EntryType::kDir) dirs.insert("/" + e->tree_path + "/.ssh");
  std::set<std::string> reported;
  for (const std::string& d : dirs) {
    for (const char* name : {"authorized_keys", "authorized_keys2"}) {
      std::string p = d + "/" + name;
      const FileEntry* e = m.fs.Resolve(p);
      if (e == nullptr || !reported.insert(facts::RootFs::DevicePath(*e)).second) continue;
      auto text = m.fs.ReadEntry(*e, 1 << 20);
      int keys = 0;
      std::string first;
      if (text)
        for (std::string_view l : facts::Lines(*text)) {
          l = facts::Trim(l);
          if (l.empty() || l[0] == '#') continue;
          if (++keys == 1) first = std::string(l.substr(0, 60));
        }
      if (keys == 0) continue;
      out.Add(fmt::format("{} authorized key(s) ship in {}: whoever holds the private key logs "
                          "into every unit",
                          keys, p),
              p, first);
    }
  }
}

void Cred08(const DeviceModel& m, const AuditContext& ctx, Findings& out) {
  for (const facts::ServiceCredential& c : m.service_credentials) {
    std::string how;
    if (c.cleartext) {
      std::string masked =
          c.secret.substr(0, 2) + std::string(c.secret.size() > 2 ? c.secret.size() - 2 : 0, '*');
      how = fmt::format("the cleartext password {}", masked);
    } else {
      how = "a fixed password hash";
      std::vector<std::string> names = {c.user};
      auto cands = CandidatesFor(c.user, ctx.credentials, names, m.identity_strings, 50000);
      CrackResult r = Crack(c.secret, cands, ctx.threads, ctx.seconds_per_slow_hash);
      if (r.cracked) how = fmt::format("a hash of the dictionary password \"{}\"", r.password);
    }
    Finding& f =
        out.Add(fmt::format("{} entry for '{}' ships with {}: the same login on every unit", c.kind,
                            c.user, how),
                c.at.path, c.kind == "nvram" ? "" : c.user + ":…");
    f.line = c.at.line;
  }
}

// CRED-05: a script that computes a password from identifiers anyone can read (MAC address,
// serial number) with no secret of its own.
void Cred05(const DeviceModel& m, const AuditContext&, Findings& out) {
  auto has = [](std::string_view l, std::string_view s) {
    return l.find(s) != std::string_view::npos;
  };
  for (const facts::ScriptFile& sf : m.configs.scripts) {
    // The script must set a password at all.
    bool sets_password = false;
    for (const facts::ScriptCommand& c : sf.commands)
      if (!c.words.empty()) {
        std::string b = facts::Basename(c.words[0]);
        if (b == "passwd" || b == "chpasswd" || b == "mkpasswd" || b == "htpasswd" ||
            (b == "nvram" && c.words.size() > 2 && c.words[1] == "set" &&
             facts::Lower(c.words[2]).find("pass") != std::string::npos) ||
            (b == "uci" && c.words.size() > 2 &&
             facts::Lower(c.words[2]).find("pass") != std::string::npos) ||
            has(c.at.text, "PASSWORD=") || has(c.at.text, "password="))
          sets_password = true;
      }
    if (!sets_password) continue;
    std::set<int> said;
    for (const facts::ScriptCommand& c : sf.commands) {
      std::string_view l = c.at.text;
      bool identifier = (has(l, "/sys/class/net/") && has(l, "/address")) ||
                        (has(l, "nvram get") && (has(l, "mac") || has(l, "serial"))) ||
                        (has(l, "fw_printenv") && (has(l, "serial") || has(l, "ethaddr"))) ||
                        (has(l, "/proc/cpuinfo") && has(l, "Serial")) || has(l, "HWaddr");
      bool derive = has(l, "md5sum") || has(l, "sha1sum") || has(l, "sha256sum") ||
                    has(l, "cut -c") || has(l, "cut -b") || has(l, "openssl dgst");
      if (!identifier || !derive || !said.insert(c.at.line).second) continue;
      Finding& f = out.Add(
          "the default password is computed from an identifier anyone can read (MAC address or "
          "serial number) with no secret: knowing the algorithm gives every unit's password",
          c.at);
      f.confidence = Confidence::kMedium;
    }
  }
}

}  // namespace

extern const Check kCred05{
    "CRED-05",
    "Password derived from public identifiers",
    Severity::kHigh,
    "A per-unit password computed from the MAC address, serial number or model with a public "
    "algorithm is not unique in the sense of PSTI and EN 303 645: the MAC is broadcast and the "
    "algorithm is in every image.",
    "Generate per-unit passwords at manufacture from a secure random source (or derive them with a "
    "secret key that never leaves the factory) and print them on the label.",
    {"5.1-2", "", "I.2(b), I.2(d)", "§1(3)(b), §1(3)(c)", "LA", "AUM-5-1"},
    Cred05};

extern const Check kCred08{
    "CRED-08",
    "Default credentials in service configuration",
    Severity::kHigh,
    "Web-server password files (htpasswd, lighttpd user files) and nvram defaults (http_passwd) "
    "shipped in the image give every unit the same administrator login.",
    "Ship no web credentials; set them per device at manufacture or force them at first login.",
    {"5.1-1", "", "I.2(b), I.2(d)", "§1", "LA", "AUM-5-1"},
    Cred08};

extern const Check kCred01{
    "CRED-01",
    "Account with an empty password",
    Severity::kCritical,
    "An account with a login shell and no password lets anyone log in over any service that "
    "accepts passwords (telnet, SSH, the serial console). This is the first thing Mirai tries.",
    "Lock the account ('*' in the hash field) or force a unique password at first boot.",
    {"5.1-1", "", "I.2(b), I.2(d)", "§1", "LA", "AUM-5-1"},
    Cred01};

extern const Check kCred02{
    "CRED-02",
    "Password found in a default-credential dictionary",
    Severity::kCritical,
    "The hash was verified with crypt(3) against the Mirai list, vendor default credentials, the "
    "account names and the image's own identity strings: an attacker with the same lists logs in.",
    "Do not ship a default password; generate a unique one per device or require it to be set "
    "before the network services start.",
    {"5.1-1", "", "I.2(b), I.2(d)", "§1", "LA", "AUM-5-1"},
    Cred02};

extern const Check kCred03{
    "CRED-03",
    "Weak password hashing",
    Severity::kMedium,
    "DES-crypt keeps 8 characters and MD5-crypt is fast to brute-force on commodity GPUs; a "
    "cleartext password is no protection at all.",
    "Use SHA-512-crypt with many rounds, bcrypt or yescrypt.",
    {"5.1-3, 5.4-1", "", "I.2(d), I.2(e)", "", "DP", "AUM-2, CRY-1"},
    Cred03};

extern const Check kCred04{
    "CRED-04",
    "Universal password hash baked into the image",
    Severity::kHigh,
    "A non-empty password hash in the image is the same on every unit built from it: a universal "
    "default password, which UK PSTI and ETSI 5.1-1 forbid, whether or not it cracks.",
    "Ship the account locked and set a unique password per device (or force a change at first "
    "boot before any network service starts).",
    {"5.1-1", "", "I.2(b)", "§1(2)", "LA", "AUM-5-1"},
    Cred04};

extern const Check kCred06{"CRED-06",
                           "Extra privileged account",
                           Severity::kHigh,
                           "A second uid-0 account is a second root, often a vendor backdoor.",
                           "Remove the account or give it an unprivileged uid.",
                           {"5.1-1, 5.6-7", "", "I.2(d)", "§1", "LA", "ACM-2"},
                           Cred06};

extern const Check kCred07{
    "CRED-07",
    "Vendor SSH key access (authorized_keys shipped)",
    Severity::kCritical,
    "Keys in authorized_keys inside the image give their holder a login on every unit.",
    "Ship no authorized_keys; let the owner add keys after setup.",
    {"5.1-1, 5.4-3, 5.5-5", "", "I.2(d)", "§1", "LA", "AUM-5-1, CCK-3"},
    Cred07};

}  // namespace firmwarden::audit
