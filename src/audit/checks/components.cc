// Components (from identification): COMP-01 components that cannot be matched against
// vulnerability data, COMP-03 end-of-life and known-bad releases, COMP-04 legacy protocols
// compiled into TLS libraries and home-grown AES, COMP-05 one product shipped in several versions.
#include "audit/checks/components.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "audit/check.h"
#include "audit/checks/lifecycle.h"
#include "facts/text_util.h"

namespace firmwarden::audit {

int CompareVersions(std::string_view a, std::string_view b) {
  // Upstream part only: "1.1.1w-0+deb12u1" compares as "1.1.1w".
  auto upstream = [](std::string_view v) {
    if (size_t colon = v.find(':'); colon != std::string_view::npos && colon < 3)
      v.remove_prefix(colon + 1);
    return v.substr(0, v.find_first_of("-+~"));
  };
  a = upstream(a);
  b = upstream(b);
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    bool da = i < a.size() && std::isdigit(static_cast<unsigned char>(a[i]));
    bool db = j < b.size() && std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      uint64_t x = 0, y = 0;
      while (i < a.size() && std::isdigit(static_cast<unsigned char>(a[i])) && x < (1ULL << 60))
        x = x * 10 + static_cast<uint64_t>(a[i++] - '0');
      while (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j])) && y < (1ULL << 60))
        y = y * 10 + static_cast<uint64_t>(b[j++] - '0');
      if (x != y) return x < y ? -1 : 1;
      continue;
    }
    // Separators are equal; a letter after the same number sorts after nothing ("1.1.1w" >
    // "1.1.1"); the end of a version sorts before a further ".n".
    char ca = i < a.size() ? a[i] : '\0';
    char cb = j < b.size() ? b[j] : '\0';
    bool sa = ca == '.' || ca == '_', sb = cb == '.' || cb == '_';
    if (sa && sb) {
      ++i, ++j;
      continue;
    }
    if (ca == '\0') return -1;
    if (cb == '\0') return 1;
    if (ca != cb) return ca < cb ? -1 : 1;
    ++i, ++j;
  }
  return 0;
}

namespace {

// A product's identity for rules: the CPE product when known, else the lower-cased name.
std::string Product(const Component& c) {
  return c.cpe_product.empty() ? facts::Lower(c.name) : c.cpe_product;
}

// ---- COMP-01 ----

void Comp01(const facts::DeviceModel&, const AuditContext& ctx, Findings& out) {
  if (ctx.components == nullptr || ctx.components->empty()) return;
  std::vector<std::string> no_version, no_id;
  for (const Component& c : *ctx.components) {
    if (c.type == ComponentType::kFile || c.type == ComponentType::kDevice) continue;
    if (c.version.empty())
      no_version.push_back(c.name);
    else if (c.cpe.empty())
      no_id.push_back(c.name + " " + c.version);
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 10; ++i) s += (i ? ", " : "") + v[i];
    if (v.size() > 10) s += fmt::format(", … ({} in all)", v.size());
    return s;
  };
  if (!no_version.empty()) {
    Finding& f = out.Add(fmt::format("{} component{} without a version: {}", no_version.size(),
                                     no_version.size() == 1 ? "" : "s", list(no_version)),
                         "/");
    f.severity = Severity::kMedium;
    f.verdict = false;
  }
  if (!no_id.empty()) {
    Finding& f = out.Add(fmt::format("{} of {} components have no CPE, so vulnerability databases "
                                     "cannot be matched against them: {}",
                                     no_id.size(), ctx.components->size(), list(no_id)),
                         "/");
    f.verdict = false;
  }
}

// ---- COMP-03 ----

struct EolRule {
  const char* product;  // CPE product (or lower-cased name)
  const char* branch;   // versions starting with this prefix ("1.0.2"); "" for any
  const char* below;    // or: versions below this one ("" when unused)
  const char* why;
};
// Dates from the projects' own release policies.
constexpr EolRule kEol[] = {
    {"openssl", "0.9.", "", "OpenSSL 0.9.x has had no fixes since 2015"},
    {"openssl", "1.0.0", "", "OpenSSL 1.0.0 reached end of life on 2015-12-31"},
    {"openssl", "1.0.1", "", "OpenSSL 1.0.1 reached end of life on 2016-12-31"},
    {"openssl", "1.0.2", "", "OpenSSL 1.0.2 reached end of life on 2019-12-31"},
    {"openssl", "1.1.0", "", "OpenSSL 1.1.0 reached end of life on 2019-09-11"},
    {"openssl", "1.1.1", "", "OpenSSL 1.1.1 reached end of life on 2023-09-11"},
    {"openssl", "3.1.", "", "OpenSSL 3.1 reached end of life on 2025-03-14"},
    {"openssl", "3.2.", "", "OpenSSL 3.2 reached end of life on 2025-11-23"},
    {"openssl", "3.3.", "", "OpenSSL 3.3 reached end of life on 2026-04-09"},
    {"busybox", "", "1.36",
     "BusyBox before 1.36 carries the large ash and awk CVE batches fixed in 1.34–1.36"},
    {"dropbear_ssh", "", "2022.82", "Dropbear before 2022.82 lacks years of security fixes"},
    {"dnsmasq", "", "2.83",
     "dnsmasq before 2.83 is vulnerable to DNSpooq (cache poisoning and overflows)"},
    {"uclibc", "", "",
     "uClibc has been unmaintained since 2012 (uClibc-ng is its maintained fork)"},
};

// Release-dated rules: these branches' support ends on a date, judged against the scan date.
struct DatedEol {
  const char* product;
  const char* branch;
  int year, month, day;
};
constexpr DatedEol kDated[] = {
    {"openssl", "3.0.", 2026, 9, 7},
    {"openssl", "3.4.", 2026, 10, 22},
};

void Comp03(const facts::DeviceModel&, const AuditContext& ctx, Findings& out) {
  if (ctx.components == nullptr) return;
  std::set<std::string> said;
  for (const Component& c : *ctx.components) {
    if (c.version.empty()) continue;
    // Distribution packages (Debian, Alpine) get fixes backported under the same upstream
    // version; their support is the distribution release's, not upstream's.
    if (c.purl.starts_with("pkg:deb/") || c.purl.starts_with("pkg:apk/")) continue;
    std::string p = Product(c);
    facts::SourceRef where{"/", 0, ""};
    if (!c.evidence.empty())
      where = {c.evidence.front().path, c.evidence.front().line, c.evidence.front().text};
    std::string key = p + "@" + c.version;
    for (const EolRule& r : kEol) {
      if (p != r.product) continue;
      bool hit = *r.branch == '\0' && *r.below == '\0';
      if (*r.branch != '\0') hit = c.version.starts_with(r.branch);
      if (*r.below != '\0') hit = CompareVersions(c.version, r.below) < 0;
      if (!hit || !said.insert(key).second) continue;
      out.Add(fmt::format("{} {}: {}", c.name, c.version, r.why), where);
    }
    for (const DatedEol& r : kDated) {
      if (p != r.product || !c.version.starts_with(r.branch)) continue;
      if (ctx.now / 86400 < DaysSinceEpoch(r.year, r.month, r.day) || !said.insert(key).second)
        continue;
      out.Add(
          fmt::format("{} {}: the {} branch reached end of life on {:04}-{:02}-{:02}", c.name,
                      c.version, std::string(r.branch).substr(0, std::string(r.branch).size() - 1),
                      r.year, r.month, r.day),
          where);
    }
  }
}

// ---- COMP-04 ----

void Comp04(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  static constexpr std::string_view kLegacy[] = {"SSLv2_method",        "SSLv2_client_method",
                                                 "SSLv2_server_method", "SSLv3_method",
                                                 "SSLv3_client_method", "SSLv3_server_method"};
  static constexpr std::string_view kCryptoLibs[] = {
      "libcrypto",    "libssl",      "libmbedcrypto", "libmbedtls",  "libwolfssl", "libnettle",
      "libgcrypt",    "libtomcrypt", "libsodium",     "libgnutls",   "libcyassl",  "libaxtls",
      "libmatrixssl", "libbearssl",  "libustream-",   "libpolarssl", "libkcapi",   "libcrypt"};
  auto crypto_lib = [&](std::string_view name) {
    for (std::string_view l : kCryptoLibs)
      if (name.starts_with(l)) return true;
    return false;
  };
  for (const auto& [path, elf] : m.elves) {
    std::vector<std::string> legacy;
    for (std::string_view sym : kLegacy)
      if (std::binary_search(elf.exports.begin(), elf.exports.end(), sym)) legacy.emplace_back(sym);
    if (!legacy.empty()) {
      std::string list;
      for (const std::string& l : legacy) list += (list.empty() ? "" : ", ") + l;
      Finding& f = out.Add(fmt::format("{} still provides SSLv2/SSLv3 ({}): programs can negotiate "
                                       "protocols broken since 2014",
                                       path, list),
                           path);
      f.severity = Severity::kMedium;
    }
    std::string name = facts::Basename(path);
    if (crypto_lib(name) || name.starts_with("busybox")) continue;
    bool links_crypto = false;
    for (const std::string& n : elf.needed) links_crypto = links_crypto || crypto_lib(n);
    if (links_crypto) continue;
    // A program that carries the AES S-box implements AES itself.
    auto sbox = m.aes_sbox.find(path);
    if (sbox == m.aes_sbox.end()) continue;
    Finding& f = out.Add(fmt::format("{} carries its own AES implementation (the S-box at offset "
                                     "0x{:x}) and links no crypto library: home-grown crypto is "
                                     "rarely reviewed and cannot be updated with the library",
                                     path, sbox->second),
                         path);
    f.verdict = false;
    f.confidence = Confidence::kLow;
  }
}

// ---- COMP-05 ----

void Comp05(const facts::DeviceModel&, const AuditContext& ctx, Findings& out) {
  if (ctx.components == nullptr) return;
  std::map<std::string, std::vector<const Component*>> by_product;
  for (const Component& c : *ctx.components)
    if (!c.cpe_product.empty() && !c.version.empty() && c.type != ComponentType::kOperatingSystem)
      by_product[c.cpe_vendor + ":" + c.cpe_product].push_back(&c);
  for (const auto& [product, cs] : by_product) {
    std::set<std::string> versions;
    for (const Component* c : cs) versions.insert(c->version);
    if (versions.size() < 2) continue;
    std::string list;
    for (const std::string& v : versions) list += (list.empty() ? "" : ", ") + v;
    Finding& f = out.Add(fmt::format("{} ships in {} versions ({}): each needs its own updates",
                                     cs.front()->cpe_product, versions.size(), list),
                         cs.front()->evidence.empty() ? "/" : cs.front()->evidence.front().path);
    f.verdict = false;
  }
}

}  // namespace

extern const Check kComp01{
    "COMP-01",
    "Components that cannot be tracked",
    Severity::kInfo,
    "An SBOM is only useful for vulnerability handling when every component has a version and an "
    "identifier (CPE or purl) that advisories use.",
    "Record versions and CPE/purl identifiers for every component in the build system and ship "
    "the SBOM with the firmware.",
    {"5.2-3, 5.3-8, 5.5-2", "", "II.1", "", "", "GEC-1"},
    Comp01};

extern const Check kComp03{
    "COMP-03",
    "End-of-life or known-bad component release",
    Severity::kHigh,
    "A component whose upstream no longer publishes fixes, or a release older than a well-known "
    "batch of security fixes, keeps those vulnerabilities for the life of the product.",
    "Move to a supported release (OpenSSL 3.5 LTS, current BusyBox, Dropbear and dnsmasq; "
    "uClibc-ng or musl instead of uClibc) and track upstream support dates.",
    {"5.3-8, 5.5-2, 5.3-1", "", "I.2(a), I.2(c)", "", "SU", "GEC-1"},
    Comp03};

extern const Check kComp04{
    "COMP-04",
    "Legacy or home-grown crypto",
    Severity::kInfo,
    "A TLS library built with SSLv2/SSLv3 keeps protocols that are broken (DROWN, POODLE) within "
    "reach; cryptography written into an application instead of taken from a maintained library "
    "escapes review and every library update.",
    "Build TLS libraries without SSLv2/SSLv3 (no-ssl2, no-ssl3) and use a maintained crypto "
    "library instead of own implementations.",
    {"5.5-2, 5.5-1, 5.3-7", "", "I.2(e)", "", "DP", "CRY-1"},
    Comp04};

extern const Check kComp05{
    "COMP-05",
    "One component in several versions",
    Severity::kInfo,
    "Several versions of one library (or copies linked statically into many programs) each need "
    "their own patches; the old copy is usually the one left behind.",
    "Build every program against one shared version of each library.",
    {"5.3-1, 5.5-3", "", "I.2(c)", "", "SU", "SUM-1"},
    Comp05};

}  // namespace firmwarden::audit
