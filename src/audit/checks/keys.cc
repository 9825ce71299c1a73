// Keys: KEY-01 private keys shipped in the image, KEY-02 keys known to be compromised (public
// fingerprint in a known-keys directory), KEY-03 secret files readable by group or others.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {
namespace {

using facts::Certificate;
using facts::DeviceModel;
using facts::PrivateKey;

std::string Describe(const PrivateKey& k) {
  std::string what = k.encrypted ? "passphrase-protected" : "unencrypted";
  if (!k.pub.type.empty()) what += " " + k.pub.type;
  if (k.pub.bits > 0) what += fmt::format(" {}-bit", k.pub.bits);
  if (!k.pub.curve.empty()) what += " (" + k.pub.curve + ")";
  return fmt::format("{} private key ({})", what, k.format);
}

std::string Evidence(const PrivateKey& k) {
  std::string fp = k.pub.spki_sha256.empty() ? "" : "SPKI SHA-256 " + k.pub.spki_sha256;
  if (!k.embedded) return fp;
  return fmt::format("at byte offset {}{}{}", k.offset, fp.empty() ? "" : ", ", fp);
}

std::string CertName(const Certificate& c) {
  return c.common_name.empty() ? (c.subject.empty() ? "(no subject)" : c.subject)
                               : "CN=" + c.common_name;
}

void Key01(const DeviceModel& m, const AuditContext&, Findings& out) {
  std::map<std::string, std::vector<const Certificate*>> certs_by_key;
  for (const Certificate& c : m.certs)
    if (!c.pub.spki_sha256.empty()) certs_by_key[c.pub.spki_sha256].push_back(&c);
  for (const PrivateKey& k : m.keys) {
    std::vector<std::string> uses;
    bool ca = false;
    if (auto it = certs_by_key.find(k.pub.spki_sha256);
        !k.pub.spki_sha256.empty() && it != certs_by_key.end()) {
      const Certificate* c = it->second.front();
      for (const Certificate* other : it->second) ca = ca || other->is_ca;
      uses.push_back(fmt::format("the private key of {}certificate {} ({})", ca ? "CA " : "",
                                 CertName(*c), c->path));
    }
    if (k.ssh_host_key) uses.push_back("an SSH host key");
    if (k.embedded) uses.push_back(fmt::format("embedded in a binary at offset {}", k.offset));
    std::string msg = fmt::format("{} {} in the image", Describe(k), k.path);
    if (!uses.empty()) {
      msg += ": ";
      for (size_t i = 0; i < uses.size(); ++i) msg += (i ? "; " : "") + uses[i];
    }
    msg += k.encrypted ? " (the passphrase is usually in the image too, or the same everywhere)"
                       : " (anyone with the firmware has it)";
    Finding& f = out.Add(std::move(msg), k.path, Evidence(k));
    f.severity = (!k.encrypted || ca) ? Severity::kCritical : Severity::kHigh;
  }
}

// ---- KEY-02 ----

struct KnownKey {
  std::string name;  // "vagrant" (file stem), plus the note's user when there is one
  std::string file;
};

std::map<std::string, KnownKey> LoadKnownKeys(const std::vector<std::string>& dirs) {
  std::map<std::string, KnownKey> out;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".key" && e.is_regular_file(ec)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::string data(1 << 20, '\0');
      in.read(data.data(), static_cast<std::streamsize>(data.size()));
      data.resize(static_cast<size_t>(in.gcount()));
      facts::CryptoMaterial cm;
      facts::ScanBufferForCrypto(data, path.filename().string(), cm);
      KnownKey known{path.stem().string(), path.string()};
      auto note = path;
      note.replace_extension(".json");
      if (std::ifstream j(note); j) {
        auto doc = nlohmann::json::parse(j, nullptr, false);
        if (doc.is_object() && doc.contains("username") && doc["username"].is_string())
          known.name += fmt::format(" (login \"{}\")", doc["username"].get<std::string>());
      }
      for (const PrivateKey& k : cm.keys)
        if (!k.pub.spki_sha256.empty()) out.emplace(k.pub.spki_sha256, known);
    }
  }
  return out;
}

void Key02(const DeviceModel& m, const AuditContext& ctx, Findings& out) {
  if (ctx.known_key_dirs.empty() || (m.keys.empty() && m.certs.empty())) return;
  auto known = LoadKnownKeys(ctx.known_key_dirs);
  for (const PrivateKey& k : m.keys) {
    auto it = known.find(k.pub.spki_sha256);
    if (k.pub.spki_sha256.empty() || it == known.end()) continue;
    out.Add(fmt::format("{} {} is the publicly known key \"{}\" ({}): anyone can use it to log "
                        "in, impersonate or decrypt",
                        Describe(k), k.path, it->second.name, it->second.file),
            k.path, Evidence(k));
  }
  for (const Certificate& c : m.certs) {
    auto it = known.find(c.pub.spki_sha256);
    if (c.pub.spki_sha256.empty() || it == known.end()) continue;
    out.Add(fmt::format("certificate {} in {} carries the publicly known key \"{}\" ({})",
                        CertName(c), c.path, it->second.name, it->second.file),
            c.path,
            c.embedded
                ? fmt::format("at byte offset {}, SPKI SHA-256 {}", c.offset, c.pub.spki_sha256)
                : "SPKI SHA-256 " + c.pub.spki_sha256);
  }
}

// ---- KEY-03 ----

void Key03(const DeviceModel& m, const AuditContext&, Findings& out) {
  std::map<std::string, std::string> secrets;  // device path -> what it holds
  for (const PrivateKey& k : m.keys)
    if (!k.embedded) secrets.emplace(k.path, "a private key");
  for (const char* p : {"/etc/shadow", "/etc/shadow-", "/etc/gshadow"})
    if (const FileEntry* e = m.fs.Entry(p); e != nullptr && e->type == EntryType::kFile)
      secrets.emplace(p, "password hashes");
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile) continue;
    std::string name = facts::Basename(e->tree_path);
    if (name.starts_with("wpa_supplicant") && name.ends_with(".conf"))
      secrets.emplace(facts::RootFs::DevicePath(*e), "Wi-Fi credentials");
    else if (name.ends_with(".psk"))
      secrets.emplace(facts::RootFs::DevicePath(*e), "a pre-shared key");
  }
  for (const auto& [path, what] : secrets) {
    const FileEntry* e = m.fs.Entry(path);
    if (e == nullptr || (e->mode & 044) == 0) continue;
    std::string who = (e->mode & 004) ? "every user" : "its group";
    out.Add(fmt::format("{} holds {} and is readable by {} (mode {:04o})", path, what, who,
                        e->mode & 07777),
            path, fmt::format("mode {:04o} uid {} gid {}", e->mode & 07777, e->uid, e->gid));
  }
}

}  // namespace

extern const Check kKey01{
    "KEY-01",
    "Private keys shipped in the image",
    Severity::kCritical,
    "A private key in a firmware image is in every unit and in the hands of everyone who downloads "
    "the update: TLS server and client identities, SSH host keys and signing keys stop being "
    "secret the day the image is published. Keys compiled into programs are found the same way.",
    "Generate per-device keys on the device (first boot, or in the factory into protected "
    "storage) and ship none in the image. Keep signing keys off the device entirely.",
    {"5.4-3, 5.4-4, 5.4-1", "", "I.2(e), I.2(f)", "", "DP", "CCK-1, CCK-3, SSM-3"},
    Key01};

extern const Check kKey02{
    "KEY-02",
    "Known-compromised keys",
    Severity::kCritical,
    "Keys that have been published (vendor default SSH keys, Vagrant's insecure key, keys "
    "extracted from other firmware) give anyone who has the list access to or the identity of "
    "every device that ships them.",
    "Remove the key and any authorisation built on it; generate unique keys on each device.",
    {"5.4-4", "", "I.2(a), I.2(e)", "", "DP", "CCK-2, CCK-3"},
    Key02};

extern const Check kKey03{
    "KEY-03",
    "Secret files readable by group or others",
    Severity::kMedium,
    "Private keys, password hashes and Wi-Fi credentials readable by non-root users let any "
    "compromised service (a web server running as nobody) read them and escalate.",
    "Make secret files mode 0600 (or 0640 with a dedicated group) and owned by the account that "
    "needs them.",
    {"5.4-1", "", "I.2(e)", "", "DP", "SSM-3"},
    Key03};

}  // namespace firmwarden::audit
