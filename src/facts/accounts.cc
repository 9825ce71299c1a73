// Accounts: passwd and shadow (and their "-" backups), hash schemes, login shells.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "facts/device_model.h"
#include "facts/text_util.h"

namespace firmwarden::facts {

std::string_view HashSchemeName(HashScheme s) {
  switch (s) {
    case HashScheme::kEmpty:
      return "empty";
    case HashScheme::kLocked:
      return "locked";
    case HashScheme::kDes:
      return "des-crypt";
    case HashScheme::kMd5:
      return "md5-crypt";
    case HashScheme::kApr1:
      return "apr1";
    case HashScheme::kSha256:
      return "sha256-crypt";
    case HashScheme::kSha512:
      return "sha512-crypt";
    case HashScheme::kBcrypt:
      return "bcrypt";
    case HashScheme::kYescrypt:
      return "yescrypt";
    case HashScheme::kOther:
      return "other-crypt";
    case HashScheme::kPlain:
      return "cleartext";
  }
  return "?";
}

HashScheme ClassifyHash(std::string_view h) {
  if (h.empty()) return HashScheme::kEmpty;
  if (h[0] == '*' || h[0] == '!' || h == "x") return HashScheme::kLocked;
  if (h.starts_with("$1$")) return HashScheme::kMd5;
  if (h.starts_with("$apr1$")) return HashScheme::kApr1;
  if (h.starts_with("$5$")) return HashScheme::kSha256;
  if (h.starts_with("$6$")) return HashScheme::kSha512;
  if (h.starts_with("$2a$") || h.starts_with("$2b$") || h.starts_with("$2x$") ||
      h.starts_with("$2y$"))
    return HashScheme::kBcrypt;
  if (h.starts_with("$y$")) return HashScheme::kYescrypt;
  if (h[0] == '$') return HashScheme::kOther;
  auto des_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/';
  };
  if (h.size() == 13 && std::all_of(h.begin(), h.end(), des_char)) return HashScheme::kDes;
  // BSDi extended DES: "_" + 19 chars.
  if (h.size() == 20 && h[0] == '_') return HashScheme::kOther;
  return HashScheme::kPlain;
}

namespace {

bool IsLoginShell(std::string_view shell) {
  std::string b = Basename(shell);
  if (shell.empty()) return true;  // login(1) falls back to /bin/sh
  return b != "nologin" && b != "false" && b != "sync" && b != "halt" && b != "shutdown" &&
         b != "true";
}

struct ShadowLine {
  std::string hash;
  SourceRef ref;
};

std::map<std::string, ShadowLine> ReadShadow(const RootFs& fs, const std::string& path,
                                             std::vector<SourceRef>& files) {
  std::map<std::string, ShadowLine> out;
  auto text = fs.Read(path, 1 << 20);
  if (!text) return out;
  files.push_back({path, 0, ""});
  auto lines = Lines(*text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (l.empty() || l[0] == '#') continue;
    auto f = Split(l, ':');
    if (f.size() < 2 || f[0].empty()) continue;
    out.emplace(
        std::string(f[0]),
        ShadowLine{std::string(f[1]), {path, static_cast<int>(i + 1), std::string(Trim(l))}});
  }
  return out;
}

void ReadPair(DeviceModel& m, const std::string& passwd, const std::string& shadow) {
  auto sh = ReadShadow(m.fs, shadow, m.account_files);
  auto text = m.fs.Read(passwd, 1 << 20);
  if (text) m.account_files.push_back({passwd, 0, ""});
  std::vector<std::string_view> lines;
  if (text) lines = Lines(*text);
  std::map<std::string, bool> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (l.empty() || l[0] == '#' || l[0] == '+' || l[0] == '-') continue;
    auto f = Split(l, ':');
    if (f.size() < 7 || f[0].empty()) continue;
    Account a;
    a.name = std::string(f[0]);
    auto num = [](std::string_view s) -> uint32_t {
      uint64_t v = 0;
      for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return UINT32_MAX;
        v = v * 10 + static_cast<uint64_t>(c - '0');
        if (v > UINT32_MAX) return UINT32_MAX;
      }
      return s.empty() ? UINT32_MAX : static_cast<uint32_t>(v);
    };
    a.uid = num(f[2]);
    a.gid = num(f[3]);
    a.home = std::string(f[5]);
    a.shell = std::string(Trim(f[6]));
    a.login_shell = IsLoginShell(a.shell);
    a.passwd = {passwd, static_cast<int>(i + 1), std::string(Trim(l))};
    std::string_view pw = f[1];
    auto it = sh.find(a.name);
    if (pw == "x" && it != sh.end()) {
      a.hash = it->second.hash;
      a.hash_from = it->second.ref;
    } else if (pw == "x") {
      a.hash = "x";  // shadowed, but no shadow entry: no password login
      a.hash_from = a.passwd;
    } else {
      a.hash = std::string(pw);
      a.hash_from = a.passwd;
    }
    a.scheme = ClassifyHash(a.hash);
    seen[a.name] = true;
    m.accounts.push_back(std::move(a));
  }
  // Shadow entries with no passwd line (TP-Link links /etc/passwd into /tmp and builds it at
  // boot): the account exists on the device, its uid and shell are unknown.
  for (const auto& [name, line] : sh) {
    if (seen.count(name) != 0) continue;
    Account a;
    a.name = name;
    a.uid = name == "root" ? 0 : UINT32_MAX;
    a.gid = UINT32_MAX;
    a.login_shell = true;
    a.hash = line.hash;
    a.hash_from = line.ref;
    a.scheme = ClassifyHash(a.hash);
    m.accounts.push_back(std::move(a));
  }
}

}  // namespace

namespace {

// user:hash files (Apache/lighttpd htpasswd, lighttpd plain and htdigest user files) and nvram
// default files with http_username/http_passwd.
void ReadServiceCredentials(DeviceModel& m) {
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || e->size == 0 || e->size > (1 << 20)) continue;
    std::string name = Basename(e->tree_path);
    bool htpasswd = name == ".htpasswd" || name == "htpasswd" || name.ends_with(".htpasswd") ||
                    name == "lighttpd.user" || name == "lighttpd-htdigest.user" ||
                    name == "httpd.passwd";
    bool nvram = name.find("nvram") != std::string::npos &&
                 (name.find("default") != std::string::npos || name.ends_with(".txt") ||
                  name.ends_with(".cfg") || name.ends_with(".ini"));
    if (!htpasswd && !nvram) continue;
    auto text = m.fs.ReadEntry(*e, 1 << 20);
    if (!text || text->find('\0') != std::string::npos) continue;
    std::string path = RootFs::DevicePath(*e);
    auto lines = Lines(*text);
    std::string nv_user;
    for (size_t n = 0; n < lines.size(); ++n) {
      std::string_view l = Trim(lines[n]);
      if (l.empty() || l[0] == '#') continue;
      SourceRef at{path, static_cast<int>(n + 1), std::string(l)};
      if (htpasswd) {
        auto f = Split(l, ':');
        if (f.size() < 2 || f[0].empty()) continue;
        ServiceCredential c;
        c.kind = "htpasswd";
        c.user = std::string(f[0]);
        c.secret = std::string(f.back());
        HashScheme sc = ClassifyHash(c.secret);
        c.cleartext = sc == HashScheme::kPlain && !c.secret.starts_with("{SHA}") && f.size() == 2;
        c.at = at;
        m.service_credentials.push_back(std::move(c));
      } else {
        size_t eq = l.find('=');
        if (eq == std::string_view::npos) continue;
        std::string key = Lower(Trim(l.substr(0, eq)));
        std::string value(Trim(l.substr(eq + 1)));
        if (key.find("user") != std::string::npos && key.find("http") != std::string::npos)
          nv_user = value;
        if ((key == "http_passwd" || key == "http_password" || key == "admin_passwd" ||
             key == "admin_password" || key == "login_password") &&
            !value.empty()) {
          ServiceCredential c;
          c.kind = "nvram";
          c.user = nv_user.empty() ? "admin" : nv_user;
          c.secret = value;
          c.cleartext = true;
          c.at = at;
          m.service_credentials.push_back(std::move(c));
        }
      }
    }
  }
}

}  // namespace

void BuildAccounts(DeviceModel& m) {
  ReadPair(m, "/etc/passwd", "/etc/shadow");
  ReadPair(m, "/etc/passwd-", "/etc/shadow-");
  ReadServiceCredentials(m);
}

}  // namespace firmwarden::facts
