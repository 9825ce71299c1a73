// SSH: SSH-01 root and password login (sshd_config semantics, Dropbear arguments and OpenWrt
// uci), SSH-02 weak algorithms and host keys, SSH-03 host keys generated once and shipped in the
// image.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"
#include "facts/uci.h"

namespace firmwarden::audit {
namespace {

using facts::DeviceModel;
using facts::Started;

void Ssh01(const DeviceModel& m, const AuditContext&, Findings& out) {
  // sshd_config: the first value of a keyword wins (sshd's own rule); Match blocks are skipped.
  const facts::SshdConfig& c = m.configs.sshd;
  auto at = [&](std::string_view k) { return c.Get(k)->at; };  // only for keys that are set
  if (c.Arg("permitrootlogin") == "yes")
    out.Add("sshd lets root log in with a password (PermitRootLogin yes)", at("permitrootlogin"));
  if (c.Arg("permitemptypasswords") == "yes")
    out.Add("sshd accepts empty passwords (PermitEmptyPasswords yes)", at("permitemptypasswords"))
        .severity = Severity::kCritical;
  if (c.Arg("protocol").find('1') != std::string::npos)
    out.Add("sshd allows SSH protocol 1", at("protocol"));
  for (const Started& s : m.started) {
    if (s.program != "dropbear") continue;
    bool no_root = false, no_password = false, no_root_password = false;
    for (const std::string& a : s.argv) {
      if (a == "-w") no_root = true;
      if (a == "-s") no_password = true;
      if (a == "-g") no_root_password = true;
    }
    if (s.via == "procd" || s.via == "rc.d") continue;  // OpenWrt: decided by uci below
    if (!no_root && !no_password && !no_root_password)
      out.Add(fmt::format("dropbear is started without -w, -s or -g: root may log in with a "
                          "password"),
              s.source)
          .confidence = s.conditional ? Confidence::kMedium : Confidence::kHigh;
  }
  if (const auto* uci = m.configs.Uci("dropbear")) {
    for (const facts::UciSection& sec : *uci) {
      if (sec.type != "dropbear") continue;
      auto opt = [&](const char* k, bool def) {
        auto it = sec.options.find(k);
        if (it == sec.options.end()) return def;
        return facts::UciBool(it->second).value_or(def);
      };
      if (opt("PasswordAuth", true) && opt("RootPasswordAuth", true))
        out.Add(
            "OpenWrt dropbear config allows root to log in with a password "
            "(PasswordAuth and RootPasswordAuth on)",
            "/etc/config/dropbear", fmt::format("config dropbear (line {})", sec.line));
    }
  }
}

// CRED-09: nothing limits password guessing on a remote login.
void Cred09(const DeviceModel& m, const AuditContext&, Findings& out) {
  const facts::SshdConfig& c = m.configs.sshd;
  if (const facts::Directive* d = c.Get("maxauthtries")) {
    int tries = std::atoi(c.Arg("maxauthtries").c_str());
    if (tries > 6)
      out.Add(fmt::format("sshd allows {} password attempts per connection (MaxAuthTries {}; "
                          "the default is 6)",
                          tries, tries),
              d->at);
  }
  bool sshd_passwords = c.Arg("passwordauthentication") != "no";
  // A lockout mechanism anywhere in the image: fail2ban, sshguard, PAM faillock/tally.
  for (const FileEntry* e : m.fs.All()) {
    std::string name = facts::Basename(e->tree_path);
    if (name == "pam_faillock.so" || name == "pam_tally2.so" || name == "pam_tally.so" ||
        name == "fail2ban-server" || name == "sshguard" || name == "faillock.conf")
      return;
  }
  std::set<std::string> seen;
  for (const Started& s : m.started) {
    bool passwords = false;
    if (s.program == "telnetd" || s.program == "in.telnetd" || s.program == "utelnetd")
      passwords = true;
    if (s.program == "dropbear")
      passwords = std::find(s.argv.begin(), s.argv.end(), "-s") == s.argv.end();
    if (s.program == "sshd") passwords = sshd_passwords;
    if (!passwords || !seen.insert(s.program).second) continue;
    Finding& f = out.Add(fmt::format("{} accepts passwords and nothing in the image limits "
                                     "guessing (no fail2ban, sshguard or PAM faillock/tally)",
                                     s.program),
                         s.source);
    f.verdict = false;
    f.confidence = Confidence::kMedium;
  }
}

void Ssh03(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || e->size == 0) continue;
    std::string name = facts::Basename(e->tree_path);
    bool openssh = e->tree_path.starts_with("etc/ssh/") && name.starts_with("ssh_host_") &&
                   name.ends_with("_key");
    bool dropbear = e->tree_path.starts_with("etc/dropbear/") && name.starts_with("dropbear_") &&
                    name.ends_with("_host_key");
    if (!openssh && !dropbear) continue;
    std::string p = facts::RootFs::DevicePath(*e);
    out.Add(fmt::format("SSH host private key {} ships in the image: every unit has the same "
                        "host identity, so one extracted key impersonates them all",
                        p),
            p);
  }
}

// The weak algorithm names of one sshd_config list, as written.
std::vector<std::string> WeakAlgorithms(std::string_view keyword, std::string_view list) {
  std::vector<std::string> weak;
  if (list.starts_with('-')) return weak;  // removes from the defaults
  if (list.starts_with('+') || list.starts_with('^')) list.remove_prefix(1);
  for (std::string_view a : facts::Split(list, ',')) {
    std::string n = facts::Lower(facts::Trim(a));
    bool bad = false;
    if (keyword == "ciphers")
      bad = n == "3des-cbc" || n.starts_with("arcfour") || n.starts_with("blowfish") ||
            n.starts_with("cast128") || n.ends_with("-cbc") || n.find("-cbc@") != std::string::npos;
    else if (keyword == "macs")
      bad = n.starts_with("hmac-md5") || n.find("-96") != std::string::npos;
    else if (keyword == "kexalgorithms")
      bad = n.starts_with("diffie-hellman-group1-") || n.starts_with("gss-group1-");
    if (bad) weak.push_back(n);
  }
  return weak;
}

void Ssh02(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const facts::Directive& d : m.configs.sshd.global) {
    if (d.key != "ciphers" && d.key != "macs" && d.key != "kexalgorithms") continue;
    std::string_view value = d.value;
    value = facts::Trim(value.substr(0, value.find_first_of(" \t#")));
    auto weak = WeakAlgorithms(d.key, value);
    if (weak.empty()) continue;
    std::string names;
    for (const std::string& w : weak) names += (names.empty() ? "" : ", ") + w;
    out.Add(fmt::format("sshd enables weak {}: {}",
                        d.key == "ciphers" ? "ciphers"
                        : d.key == "macs"  ? "MACs"
                                           : "key exchange",
                        names),
            d.at);
  }
  for (const facts::PrivateKey& k : m.keys) {
    if (!k.ssh_host_key) continue;
    if (k.pub.type == "DSA")
      out.Add(fmt::format("DSA SSH host key {} ({} bits): ssh-dss is limited to 1024 bits and "
                          "SHA-1, and disabled by current OpenSSH",
                          k.path, k.pub.bits),
              k.path, "SPKI SHA-256 " + k.pub.spki_sha256);
    else if (k.pub.type == "RSA" && k.pub.bits > 0 && k.pub.bits < 2048)
      out.Add(fmt::format("{}-bit RSA SSH host key {}", k.pub.bits, k.path), k.path,
              "SPKI SHA-256 " + k.pub.spki_sha256);
  }
}

}  // namespace

extern const Check kCred09{
    "CRED-09",
    "No brute-force limiting",
    Severity::kLow,
    "A remote login that accepts passwords without delays or lockout lets an attacker try a "
    "dictionary at network speed; Mirai needed at most 62 guesses per device.",
    "Limit attempts (sshd MaxAuthTries, a lockout with PAM faillock, fail2ban or sshguard), or "
    "accept keys only.",
    {"5.1-5", "", "I.2(d)", "", "LA", "AUM-6"},
    Cred09};

extern const Check kSsh01{
    "SSH-01",
    "SSH allows root or password login",
    Severity::kHigh,
    "Root login with a password over SSH is what credential-stuffing botnets use after telnet; "
    "empty passwords over SSH are a remote root shell.",
    "Set PermitRootLogin prohibit-password (or no) and PasswordAuthentication no; start Dropbear "
    "with -w -s, or set RootPasswordAuth off in /etc/config/dropbear.",
    {"5.1-1, 5.1-3, 5.5-4, 5.6-7", "", "I.2(b), I.2(d)", "", "LA", "AUM-2, ACM-2"},
    Ssh01};

extern const Check kSsh02{
    "SSH-02",
    "Weak SSH algorithms or host keys",
    Severity::kMedium,
    "CBC-mode and RC4 ciphers, MD5 and truncated MACs, 1024-bit Diffie-Hellman group 1 and DSA or "
    "short RSA host keys are broken or within reach of a well-funded attacker; a client that "
    "offers them can be downgraded.",
    "Limit Ciphers to chacha20-poly1305 and AES-GCM/CTR, MACs to the SHA-2 ETM variants, "
    "KexAlgorithms to curve25519 and group14/16 with SHA-2; use Ed25519, ECDSA or RSA-3072 host "
    "keys.",
    {"5.5-1, 5.1-3", "", "I.2(e)", "", "DP", "SCM-2, SCM-3, CRY-1"},
    Ssh02};

extern const Check kSsh03{
    "SSH-03",
    "Pre-generated SSH host keys shipped",
    Severity::kHigh,
    "Host keys generated at build time are the same on every unit (SEC Consult's 'House of Keys' "
    "found such keys serving almost a million hosts): anyone can impersonate or decrypt.",
    "Generate host keys on first boot, on the device.",
    {"5.4-4, 5.4-3", "", "I.2(e), I.2(f)", "", "DP", "CCK-3"},
    Ssh03};

}  // namespace firmwarden::audit
