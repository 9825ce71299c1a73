// Certificates: CERT-01 expired or not yet valid at the audit date, CERT-02 weak keys or
// signatures, CERT-03 a certificate whose private key ships in the image, CERT-04 the trust store
// (a stale CA bundle, distrusted roots, TLS clients with no bundle).
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "audit/check.h"

namespace firmwarden::audit {
namespace {

using facts::Certificate;
using facts::DeviceModel;

std::string Day(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return std::to_string(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string Name(const Certificate& c) {
  return c.common_name.empty() ? (c.subject.empty() ? "(no subject)" : c.subject)
                               : "CN=" + c.common_name;
}

std::string Evidence(const Certificate& c) {
  std::string e = fmt::format("subject {}; issuer {}", c.subject, c.issuer);
  if (c.embedded) e = fmt::format("at byte offset {}; {}", c.offset, e);
  return e;
}

// How many certificates each file holds: a file with many is a trust-store bundle.
std::map<std::string, size_t> PerFile(const DeviceModel& m) {
  std::map<std::string, size_t> n;
  for (const Certificate& c : m.certs) ++n[c.path];
  return n;
}

constexpr size_t kBundle = 5;

void Cert01(const DeviceModel& m, const AuditContext& ctx, Findings& out) {
  if (ctx.now <= 0) return;
  auto per_file = PerFile(m);
  for (const Certificate& c : m.certs) {
    std::string what;
    if (c.not_after != 0 && c.not_after < ctx.now)
      what = fmt::format("expired on {} ({} days before the audit date {})", Day(c.not_after),
                         (ctx.now - c.not_after) / 86400, Day(ctx.now));
    else if (c.not_before != 0 && c.not_before > ctx.now)
      what = fmt::format("is not valid before {} (after the audit date {})", Day(c.not_before),
                         Day(ctx.now));
    else
      continue;
    bool bundled_root = per_file[c.path] >= kBundle && c.self_signed && c.is_ca;
    Finding& f =
        out.Add(fmt::format("certificate {} in {} {}{}", Name(c), c.path, what,
                            bundled_root ? " (a root in a trust-store bundle: it validates "
                                           "nothing any more, but the bundle is stale)"
                                         : ""),
                c.path, Evidence(c));
    if (bundled_root) f.severity = Severity::kLow;
  }
}

void Cert02(const DeviceModel& m, const AuditContext&, Findings& out) {
  for (const Certificate& c : m.certs) {
    std::vector<std::string> why;
    const auto& k = c.pub;
    if (k.type == "RSA" && k.bits > 0 && k.bits < 2048)
      why.push_back(fmt::format("{}-bit RSA key", k.bits));
    if (k.type == "EC" && k.bits > 0 && k.bits < 256)
      why.push_back(fmt::format("{}-bit EC key ({})", k.bits, k.curve));
    if (k.type == "DSA") why.push_back(fmt::format("DSA key ({} bits)", k.bits));
    const std::string& d = c.signature_digest;
    if (!c.self_signed && (d == "md5" || d == "sha1" || d == "md2" || d == "md4"))
      why.push_back(fmt::format("{} signature ({})", d, c.signature_algorithm));
    if (c.version == 1 && c.is_ca && !c.self_signed) why.push_back("X.509 v1 certificate as CA");
    if (why.empty()) continue;
    std::string msg = fmt::format("certificate {} in {} is weak: ", Name(c), c.path);
    for (size_t i = 0; i < why.size(); ++i) msg += (i ? ", " : "") + why[i];
    out.Add(std::move(msg), c.path, Evidence(c));
  }
}

void Cert03(const DeviceModel& m, const AuditContext&, Findings& out) {
  std::map<std::string, const facts::PrivateKey*> keys;
  for (const facts::PrivateKey& k : m.keys)
    if (!k.pub.spki_sha256.empty()) keys.emplace(k.pub.spki_sha256, &k);
  for (const Certificate& c : m.certs) {
    auto it = keys.find(c.pub.spki_sha256);
    if (c.pub.spki_sha256.empty() || it == keys.end()) continue;
    const facts::PrivateKey& k = *it->second;
    std::string extra;
    if (c.is_ca)
      extra = "; it is a CA certificate, so anyone can issue certificates it vouches for";
    else if (c.self_signed)
      extra = "; it is self-signed";
    out.Add(fmt::format("certificate {} in {} ships with its private key ({}{}): every unit "
                        "presents the same identity, which anyone with the firmware can "
                        "impersonate{}",
                        Name(c), c.path, k.path,
                        k.embedded ? fmt::format(" at offset {}", k.offset) : "", extra),
            c.path, Evidence(c) + "; SPKI SHA-256 " + c.pub.spki_sha256);
  }
}

// CERT-04: the trust store: how old the CA bundle is, roots browsers have distrusted, and TLS
// clients with no bundle at all.
bool InTrustStore(const std::string& p) {
  return p.starts_with("/etc/ssl/certs/") || p.starts_with("/usr/share/ca-certificates/") ||
         p == "/etc/ssl/cert.pem" || p.starts_with("/etc/pki/tls/") ||
         p.starts_with("/etc/pki/ca-trust/") || p.ends_with("/ca-bundle.crt") ||
         p.ends_with("/cacert.pem") || p.ends_with("/ca-certificates.crt");
}

void Cert04(const DeviceModel& m, const AuditContext& ctx, Findings& out) {
  static constexpr std::string_view kDistrusted[] = {"DigiNotar", "WoSign", "StartCom", "CNNIC",
                                                     "China Internet Network Information Center"};
  int64_t newest = 0;
  std::string newest_path;
  size_t roots = 0;
  std::map<std::string, std::string> distrusted;  // subject -> path
  for (const Certificate& c : m.certs) {
    if (c.embedded || !InTrustStore(c.path)) continue;
    ++roots;
    if (c.not_before > newest) {
      newest = c.not_before;
      newest_path = c.path;
    }
    for (std::string_view d : kDistrusted)
      if (c.subject.find(d) != std::string::npos) distrusted.emplace(c.subject, c.path);
  }
  for (const auto& [subject, path] : distrusted)
    out.Add(fmt::format("the trust store still holds a root that browsers and OS vendors "
                        "distrusted after mis-issuance: {}",
                        subject),
            path);
  if (roots > 0 && ctx.now > 0 && newest > 0 && ctx.now - newest > int64_t{3} * 365 * 86400) {
    out.Add(fmt::format("the CA bundle ({} certificates) is stale: its newest certificate dates "
                        "from {}, so roots added and distrusted since are missing",
                        roots, Day(newest)),
            newest_path);
  }
  if (roots > 0) return;
  // TLS clients whose TLS library is in the image, and no bundle to verify servers with.
  std::map<std::string, const facts::ElfInfo*, std::less<>> by_soname;
  for (const auto& [path, elf] : m.elves)
    if (!elf.soname.empty()) by_soname.emplace(elf.soname, &elf);
  static constexpr std::string_view kConnect[] = {"SSL_connect", "mbedtls_ssl_handshake",
                                                  "wolfSSL_connect", "gnutls_handshake",
                                                  "ustream_ssl_init"};
  for (const auto& [path, elf] : m.elves) {
    if (!elf.soname.empty()) continue;  // a library: its users are what count
    bool client = false;
    for (std::string_view f : kConnect)
      client = client || std::binary_search(elf.imports.begin(), elf.imports.end(), f);
    if (!client) continue;
    bool lib_present = false;
    for (const std::string& n : elf.needed) lib_present = lib_present || by_soname.count(n) != 0;
    if (!lib_present) continue;
    Finding& f = out.Add(fmt::format("{} makes TLS connections but the image has no CA bundle: "
                                     "either it verifies no server certificate, or it cannot "
                                     "connect at all",
                                     path),
                         path);
    f.verdict = false;
    f.confidence = Confidence::kMedium;
    return;
  }
}

}  // namespace

extern const Check kCert04{
    "CERT-04",
    "Trust store hygiene",
    Severity::kMedium,
    "TLS is only as good as the roots it trusts: a bundle frozen years ago lacks current roots "
    "and keeps distrusted ones, and a TLS client with no bundle usually has verification off.",
    "Ship a current CA bundle and update it with the firmware; remove distrusted roots; verify "
    "server certificates in every TLS client.",
    {"5.5-1, 5.3-10", "", "I.2(a), I.2(e)", "", "DP, SU", "SCM-2, SUM-2"},
    Cert04};

extern const Check kCert01{
    "CERT-01",
    "Expired or not yet valid certificates",
    Severity::kMedium,
    "A certificate outside its validity period is either rejected (the feature breaks, and users "
    "are trained to click through warnings or vendors disable verification) or accepted, which "
    "means validity is not being checked at all.",
    "Renew the certificate, or stop shipping it; keep trust stores updated through the product's "
    "support period.",
    {"5.5-1", "", "I.2(e)", "", "DP", "SCM-2"},
    Cert01};

extern const Check kCert02{
    "CERT-02",
    "Weak certificate keys or signatures",
    Severity::kMedium,
    "RSA keys under 2048 bits, EC keys under 256 bits and DSA are below every current baseline; "
    "MD5 and SHA-1 signatures can be forged with chosen-prefix collisions.",
    "Reissue with RSA-2048 or larger (or P-256/Ed25519) keys and SHA-256 signatures.",
    {"5.5-1, 5.3-7", "", "I.2(e)", "", "DP", "CRY-1"},
    Cert02};

extern const Check kCert03{
    "CERT-03",
    "Shared device identity: certificate with its private key in the image",
    Severity::kHigh,
    "When the certificate a device presents and its private key both come from the firmware, "
    "every unit shares one identity: extracting it from any unit (or the download) lets an "
    "attacker impersonate all of them or read their TLS traffic.",
    "Provision a unique key and certificate per device at manufacture or first boot; never put "
    "the private key into the image.",
    {"5.4-4", "", "I.2(e)", "", "DP, DI", "CCK-3"},
    Cert03};

}  // namespace firmwarden::audit
