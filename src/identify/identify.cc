#include "identify/identify.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "facts/text_util.h"

namespace firmwarden {

std::string_view ComponentTypeName(ComponentType t) {
  switch (t) {
    case ComponentType::kApplication:
      return "application";
    case ComponentType::kLibrary:
      return "library";
    case ComponentType::kFramework:
      return "framework";
    case ComponentType::kOperatingSystem:
      return "operating-system";
    case ComponentType::kDeviceDriver:
      return "device-driver";
    case ComponentType::kFirmware:
      return "firmware";
    case ComponentType::kDevice:
      return "device";
    case ComponentType::kFile:
      return "file";
  }
  return "application";
}

}  // namespace firmwarden

namespace firmwarden::identify {

using facts::Lines;
using facts::Lower;
using facts::Trim;

const std::vector<SourceInfo>& Sources() {
  static const std::vector<SourceInfo> kSources = {
#define IDENTIFY_SOURCE(id, description) {#id, description, Source_##id},
#include "identify/sources/sources.def"
#undef IDENTIFY_SOURCE
  };
  return kSources;
}

std::vector<Component> Identify(const facts::DeviceModel& model, const Unpacked& unpacked) {
  Context ctx{model, unpacked, {}, {}, "", ""};
  if (!model.fs.empty()) {
    for (const char* p : {"/etc/os-release", "/usr/lib/os-release"})
      if (auto t = model.fs.Read(p, 64 << 10)) {
        ctx.os_release = ParseKeyValues(*t);
        break;
      }
    if (auto t = model.fs.Read("/etc/openwrt_release", 64 << 10))
      ctx.openwrt_release = ParseKeyValues(*t);
  }
  auto get = [](const std::map<std::string, std::string>& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? std::string() : it->second;
  };
  if (!ctx.openwrt_release.empty()) {
    ctx.distro = OpenWrtId(get(ctx.openwrt_release, "DISTRIB_ID"));
    std::string line;
    if (auto v = model.fs.Read("/etc/openwrt_version", 4096); v && !Lines(*v).empty())
      line = Trim(Lines(*v)[0]);
    ctx.distro_version = OpenWrtVersion(ctx.openwrt_release, line);
  } else if (!ctx.os_release.empty()) {
    ctx.distro = Lower(get(ctx.os_release, "ID"));
    ctx.distro_version = get(ctx.os_release, "VERSION_ID");
  }
  // FIRMWARDEN_IDENTIFY_SKIP="dpkg,opkg,apk" leaves sources out: the accuracy benchmark uses it to
  // let only the binaries speak. Not a user option.
  std::string skip;
  if (const char* env = std::getenv("FIRMWARDEN_IDENTIFY_SKIP"))
    skip = "," + std::string(env) + ",";
  std::vector<Component> all;
  for (const SourceInfo& s : Sources())
    if (skip.find("," + std::string(s.id) + ",") == std::string::npos) s.run(ctx, all);
  std::vector<Component> merged = MergeComponents(std::move(all));
  AddLinkageDependencies(model, merged);
  AttachFiles(model, merged);
  return merged;
}

// ---- merge ----

namespace {

std::string Key(const Component& c) { return Lower(c.name) + '\0' + c.version; }

double MaxConfidence(const Component& c) {
  double m = 0;
  for (const ComponentEvidence& e : c.evidence) m = std::max(m, e.confidence);
  return m;
}

void Absorb(Component& into, Component&& from) {
  auto fill = [](std::string& a, std::string& b) {
    if (a.empty()) a = std::move(b);
  };
  fill(into.supplier, from.supplier);
  fill(into.description, from.description);
  fill(into.arch, from.arch);
  if (into.cpe.empty()) {
    into.cpe = std::move(from.cpe);
    into.cpe_vendor = std::move(from.cpe_vendor);
    into.cpe_product = std::move(from.cpe_product);
  }
  fill(into.purl, from.purl);
  fill(into.main_file, from.main_file);
  fill(into.sha256, from.sha256);
  if (into.licenses.empty()) into.licenses = std::move(from.licenses);
  if (into.files.empty()) into.files = std::move(from.files);
  for (std::string& d : from.depends_names) into.depends_names.push_back(std::move(d));
  for (std::string& d : from.depends_on) into.depends_on.push_back(std::move(d));
  for (ComponentEvidence& e : from.evidence) into.evidence.push_back(std::move(e));
}

bool EvidenceLess(const ComponentEvidence& a, const ComponentEvidence& b) {
  return std::tie(b.confidence, a.source, a.path, a.line, a.offset, a.text) <
         std::tie(a.confidence, b.source, b.path, b.line, b.offset, b.text);
}

bool EvidenceEq(const ComponentEvidence& a, const ComponentEvidence& b) {
  return a.source == b.source && a.path == b.path && a.line == b.line && a.offset == b.offset &&
         a.text == b.text;
}

std::string PurlType(std::string_view purl) {
  if (!purl.starts_with("pkg:")) return "";
  size_t slash = purl.find('/');
  return std::string(purl.substr(4, slash == std::string_view::npos ? 0 : slash - 4));
}

}  // namespace

std::vector<Component> MergeComponents(std::vector<Component> in) {
  for (Component& c : in) c.confidence = std::max(c.confidence, MaxConfidence(c));
  // Most confident first, so that its fields win; the rest of the order only makes it stable.
  std::stable_sort(in.begin(), in.end(), [](const Component& a, const Component& b) {
    return std::tie(b.confidence, a.name, a.version, a.purl) <
           std::tie(a.confidence, b.name, b.version, b.purl);
  });
  std::vector<Component> out;
  std::unordered_map<std::string, size_t> by_key;
  std::unordered_map<std::string, std::vector<size_t>> by_name;
  for (Component& c : in) {
    std::string key = Key(c);
    if (auto it = by_key.find(key); it != by_key.end()) {
      Absorb(out[it->second], std::move(c));
      continue;
    }
    // A less confident finding of the upstream version of a packaged product joins the package.
    bool joined = false;
    if (auto it = by_name.find(Lower(c.name)); it != by_name.end())
      for (size_t i : it->second)
        if (out[i].confidence > c.confidence && UpstreamVersion(out[i].version) == c.version) {
          Absorb(out[i], std::move(c));
          joined = true;
          break;
        }
    if (joined) continue;
    by_key.emplace(key, out.size());
    by_name[Lower(c.name)].push_back(out.size());
    out.push_back(std::move(c));
  }
  for (Component& c : out) {
    std::sort(c.evidence.begin(), c.evidence.end(), EvidenceLess);
    c.evidence.erase(std::unique(c.evidence.begin(), c.evidence.end(), EvidenceEq),
                     c.evidence.end());
    c.confidence = MaxConfidence(c);
    if (c.cpe.empty()) {
      auto [vendor, product] =
          c.cpe_vendor.empty() ? KnownCpe(c.name) : std::pair{c.cpe_vendor, c.cpe_product};
      if (!vendor.empty()) {
        c.cpe_vendor = vendor;
        c.cpe_product = product;
        c.cpe = FormatCpe(c.type == ComponentType::kOperatingSystem ? 'o' : 'a', vendor, product,
                          UpstreamVersion(c.version));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Component& a, const Component& b) {
    return std::tuple(Lower(a.name), a.version, a.purl, a.name) <
           std::tuple(Lower(b.name), b.version, b.purl, b.name);
  });
  std::set<std::string> refs;
  std::unordered_map<std::string, std::vector<size_t>> names;
  for (size_t i = 0; i < out.size(); ++i) {
    Component& c = out[i];
    std::string base =
        !c.purl.empty() ? c.purl
                        : std::string(ComponentTypeName(c.type)) + "/" + c.name + "@" + c.version;
    std::string ref = base;
    for (int n = 2; !refs.insert(ref).second; ++n) ref = base + "#" + std::to_string(n);
    c.bom_ref = ref;
    names[Lower(c.name)].push_back(i);
  }
  // Package dependencies resolve within the same ecosystem (purl type) when there is a choice.
  for (Component& c : out) {
    std::string type = PurlType(c.purl);
    for (const std::string& d : c.depends_names) {
      auto it = names.find(Lower(d));
      if (it == names.end()) continue;
      const Component* pick = nullptr;
      for (size_t i : it->second)
        if (pick == nullptr || (PurlType(out[i].purl) == type && PurlType(pick->purl) != type))
          pick = &out[i];
      if (pick != &c) c.depends_on.push_back(pick->bom_ref);
    }
    std::sort(c.depends_on.begin(), c.depends_on.end());
    c.depends_on.erase(std::unique(c.depends_on.begin(), c.depends_on.end()), c.depends_on.end());
  }
  return out;
}

// ---- helpers ----

bool LooksLikeVersion(std::string_view v) {
  return !v.empty() && std::isdigit(static_cast<unsigned char>(v[0])) && v.size() <= 64;
}

std::string OpenWrtVersion(const std::map<std::string, std::string>& release,
                           std::string_view version_line) {
  auto get = [&](const char* k) {
    auto it = release.find(k);
    return it == release.end() ? std::string() : it->second;
  };
  if (std::string v = get("DISTRIB_RELEASE"); LooksLikeVersion(v)) return v;
  if (LooksLikeVersion(version_line)) return std::string(version_line);
  std::string description = get("DISTRIB_DESCRIPTION");  // the words below are views into it
  for (std::string_view w : facts::Words(description))
    if (LooksLikeVersion(w)) return std::string(w);
  return "";
}

std::string OpenWrtId(std::string_view distrib_id) {
  std::string id = Lower(distrib_id);
  if (id.empty() || id.starts_with("openwrt")) return "openwrt";
  return id;
}

std::string UpstreamVersion(std::string_view v) {
  if (size_t colon = v.find(':'); colon != std::string_view::npos) {
    bool digits = colon > 0;
    for (size_t i = 0; i < colon; ++i) digits = digits && v[i] >= '0' && v[i] <= '9';
    if (digits) v = v.substr(colon + 1);
  }
  if (size_t dash = v.rfind('-'); dash != std::string_view::npos && dash > 0) v = v.substr(0, dash);
  // "2.12.7+dfsg+really2.9.14": Debian's marker for a version rolled back to an older upstream
  // release; what the package really holds is the version after it.
  if (size_t r = v.rfind("really"); r != std::string_view::npos && r > 0 &&
                                    (v[r - 1] == '+' || v[r - 1] == '~') && r + 6 < v.size() &&
                                    std::isdigit(static_cast<unsigned char>(v[r + 6])))
    v = v.substr(r + 6);
  // Debian's "+dfsg", "+deb12u1" and "~rc" suffixes of the upstream part stay: they are upstream
  // spellings too often enough; only the packaging revision is dropped.
  return std::string(v);
}

std::string FormatCpe(char part, std::string_view vendor, std::string_view product,
                      std::string_view version) {
  auto value = [](std::string_view v) {
    if (v.empty()) return std::string("*");
    std::string o;
    for (char ch : v) {
      auto c = static_cast<unsigned char>(ch);
      if (c == ' ') {
        o += '_';
      } else if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
        o += static_cast<char>(std::tolower(c));
      } else if (c > 0x20 && c < 0x7f) {
        o += '\\';
        o += static_cast<char>(c);
      }  // control and non-ASCII bytes are dropped: CPE values are printable ASCII
    }
    return o.empty() ? std::string("*") : o;
  };
  return "cpe:2.3:" + std::string(1, part) + ":" + value(vendor) + ":" + value(product) + ":" +
         value(version) + ":*:*:*:*:*:*:*";
}

std::string PurlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string o;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      o += static_cast<char>(c);
    } else {
      o += '%';
      o += kHex[c >> 4];
      o += kHex[c & 15];
    }
  }
  return o;
}

std::string MakePurl(std::string_view type, std::string_view ns, std::string_view name,
                     std::string_view version,
                     std::vector<std::pair<std::string, std::string>> qualifiers) {
  std::string o = "pkg:" + std::string(type) + "/";
  if (!ns.empty()) o += PurlEncode(ns) + "/";
  o += PurlEncode(name);
  if (!version.empty()) o += "@" + PurlEncode(version);
  std::sort(qualifiers.begin(), qualifiers.end());
  char sep = '?';
  for (const auto& [k, v] : qualifiers) {
    if (v.empty()) continue;
    o += sep + k + "=" + PurlEncode(v);
    sep = '&';
  }
  return o;
}

std::pair<std::string, std::string> KnownCpe(std::string_view name) {
  struct Entry {
    std::string_view name, vendor, product;
  };
  // Package and product names (after dropping a soname's digits) -> NVD's vendor and product.
  static constexpr std::array kKnown = {
      Entry{"busybox", "busybox", "busybox"},
      Entry{"dropbear", "dropbear_ssh_project", "dropbear_ssh"},
      Entry{"dropbear-bin", "dropbear_ssh_project", "dropbear_ssh"},
      Entry{"dnsmasq", "thekelleys", "dnsmasq"},
      Entry{"dnsmasq-base", "thekelleys", "dnsmasq"},
      Entry{"dnsmasq-full", "thekelleys", "dnsmasq"},
      Entry{"openssh", "openbsd", "openssh"},
      Entry{"openssh-server", "openbsd", "openssh"},
      Entry{"openssh-client", "openbsd", "openssh"},
      Entry{"openssh-sftp-server", "openbsd", "openssh"},
      Entry{"openssl", "openssl", "openssl"},
      Entry{"openssl-util", "openssl", "openssl"},
      Entry{"libopenssl", "openssl", "openssl"},
      Entry{"libssl", "openssl", "openssl"},
      Entry{"libcrypto", "openssl", "openssl"},
      Entry{"zlib", "zlib", "zlib"},
      Entry{"zlib1g", "zlib", "zlib"},
      Entry{"curl", "haxx", "curl"},
      Entry{"libcurl", "haxx", "libcurl"},
      Entry{"wget", "gnu", "wget"},
      Entry{"libc6", "gnu", "glibc"},
      Entry{"glibc", "gnu", "glibc"},
      Entry{"musl", "musl-libc", "musl"},
      Entry{"uclibc", "uclibc", "uclibc"},
      Entry{"uclibc-ng", "uclibc-ng_project", "uclibc-ng"},
      Entry{"hostapd", "w1.fi", "hostapd"},
      Entry{"wpa-supplicant", "w1.fi", "wpa_supplicant"},
      Entry{"wpasupplicant", "w1.fi", "wpa_supplicant"},
      Entry{"wpad", "w1.fi", "wpa_supplicant"},
      Entry{"wpad-mini", "w1.fi", "wpa_supplicant"},
      Entry{"lighttpd", "lighttpd", "lighttpd"},
      Entry{"nginx", "f5", "nginx"},
      Entry{"apache2", "apache", "http_server"},
      Entry{"miniupnpd", "miniupnp_project", "miniupnpd"},
      Entry{"avahi-daemon", "avahi", "avahi"},
      Entry{"samba", "samba", "samba"},
      Entry{"vsftpd", "beasts", "vsftpd"},
      Entry{"proftpd", "proftpd", "proftpd"},
      Entry{"openvpn", "openvpn", "openvpn"},
      Entry{"strongswan", "strongswan", "strongswan"},
      Entry{"ppp", "point-to-point_protocol_project", "point-to-point_protocol"},
      Entry{"iptables", "netfilter", "iptables"},
      Entry{"nftables", "netfilter", "nftables"},
      Entry{"iproute2", "iproute2_project", "iproute2"},
      Entry{"ntp", "ntp", "ntp"},
      Entry{"ntpd", "ntp", "ntp"},
      Entry{"chrony", "tuxfamily", "chrony"},
      Entry{"sqlite3", "sqlite", "sqlite"},
      Entry{"libsqlite", "sqlite", "sqlite"},
      Entry{"libxml", "xmlsoft", "libxml2"},
      Entry{"libxml2", "xmlsoft", "libxml2"},
      Entry{"expat", "libexpat_project", "libexpat"},
      Entry{"libexpat", "libexpat_project", "libexpat"},
      Entry{"json-c", "json-c_project", "json-c"},
      Entry{"libjson-c", "json-c_project", "json-c"},
      Entry{"lua", "lua", "lua"},
      Entry{"liblua", "lua", "lua"},
      Entry{"php", "php", "php"},
      Entry{"python3", "python", "python"},
      Entry{"perl", "perl", "perl"},
      Entry{"libpcap", "tcpdump", "libpcap"},
      Entry{"tcpdump", "tcpdump", "tcpdump"},
      Entry{"mosquitto", "eclipse", "mosquitto"},
      Entry{"snmpd", "net-snmp", "net-snmp"},
      Entry{"net-snmp", "net-snmp", "net-snmp"},
      Entry{"bind9", "isc", "bind"},
      Entry{"unbound", "nlnetlabs", "unbound"},
      Entry{"libpng", "libpng", "libpng"},
      Entry{"libjpeg", "ijg", "libjpeg"},
      Entry{"libpcre", "pcre", "pcre"},
      Entry{"pcre", "pcre", "pcre"},
      Entry{"ncurses", "gnu", "ncurses"},
      Entry{"libncurses", "gnu", "ncurses"},
      Entry{"dbus", "freedesktop", "dbus"},
      Entry{"systemd", "systemd_project", "systemd"},
      Entry{"mbedtls", "arm", "mbed_tls"},
      Entry{"libmbedtls", "arm", "mbed_tls"},
      Entry{"wolfssl", "wolfssl", "wolfssl"},
      Entry{"libwolfssl", "wolfssl", "wolfssl"},
      Entry{"gnutls", "gnu", "gnutls"},
      Entry{"libgnutls", "gnu", "gnutls"},
      Entry{"polarssl", "polarssl", "polarssl"},
      Entry{"libpolarssl", "polarssl", "polarssl"},
      Entry{"u-boot", "denx", "u-boot"},
      Entry{"linux", "linux", "linux_kernel"},
      Entry{"openwrt", "openwrt", "openwrt"},
      Entry{"debian", "debian", "debian_linux"},
      Entry{"ubuntu", "canonical", "ubuntu_linux"},
      Entry{"alpine", "alpinelinux", "alpine_linux"},
      Entry{"buildroot", "buildroot", "buildroot"},
  };
  auto find = [](std::string_view n) -> const Entry* {
    for (const Entry& e : kKnown)
      if (e.name == n) return &e;
    return nullptr;
  };
  std::string n = Lower(name);
  const Entry* e = find(n);
  if (e == nullptr) {
    // "libssl3" -> "libssl", "libsqlite3-0" -> "libsqlite", "libpcap0.8" -> "libpcap".
    std::string_view base = n;
    while (!base.empty() && (std::isdigit(static_cast<unsigned char>(base.back())) ||
                             base.back() == '.' || base.back() == '-'))
      base.remove_suffix(1);
    if (base.size() >= 3 && base.size() < n.size()) e = find(base);
  }
  if (e == nullptr) return {};
  return {std::string(e->vendor), std::string(e->product)};
}

ComponentType GuessPackageType(std::string_view name) {
  if (name.starts_with("kmod-")) return ComponentType::kDeviceDriver;
  if (name.starts_with("lib") && !name.starts_with("libre")) return ComponentType::kLibrary;
  return ComponentType::kApplication;
}

std::string Record::Get(std::string_view key) const {
  for (const auto& [k, v] : fields)
    if (k.size() == key.size() && Lower(k) == Lower(key)) return v;
  return "";
}

std::vector<Record> ParseControlRecords(std::string_view text, size_t max_records) {
  std::vector<Record> out;
  Record cur;
  int n = 0;
  auto flush = [&] {
    if (!cur.fields.empty() && out.size() < max_records) out.push_back(std::move(cur));
    cur = Record{};
  };
  for (std::string_view l : Lines(text)) {
    ++n;
    if (Trim(l).empty()) {
      flush();
      continue;
    }
    if (l.front() == ' ' || l.front() == '\t') {
      if (!cur.fields.empty()) {
        std::string_view t = Trim(l);
        cur.fields.back().second += '\n';
        cur.fields.back().second += t == "." ? std::string_view() : t;
      }
      continue;
    }
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    if (cur.fields.empty()) cur.line = n;
    cur.fields.emplace_back(std::string(Trim(l.substr(0, colon))),
                            std::string(Trim(l.substr(colon + 1))));
  }
  flush();
  return out;
}

std::map<std::string, std::string> ParseKeyValues(std::string_view text) {
  std::map<std::string, std::string> out;
  for (std::string_view l : Lines(text)) {
    l = Trim(l);
    if (l.empty() || l.front() == '#') continue;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view k = Trim(l.substr(0, eq));
    if (k.starts_with("export ")) k = Trim(k.substr(7));
    std::string_view v = Trim(l.substr(eq + 1));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    out.emplace(std::string(k), std::string(v));
  }
  return out;
}

std::vector<std::string> DependsNames(std::string_view field) {
  std::vector<std::string> out;
  for (std::string_view part : facts::Split(field, ',')) {
    part = Trim(part);
    // The first alternative is what the package manager would pick when none is installed.
    if (size_t bar = part.find('|'); bar != std::string_view::npos)
      part = Trim(part.substr(0, bar));
    size_t end = 0;
    while (end < part.size() && part[end] != ' ' && part[end] != '(' && part[end] != ':' &&
           part[end] != '<' && part[end] != '>' && part[end] != '=')
      ++end;
    if (end > 0) out.emplace_back(part.substr(0, end));
  }
  return out;
}

namespace {

std::string Digest(std::string_view data, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string o;
  for (unsigned i = 0; i < len; ++i) {
    o += kHex[out[i] >> 4];
    o += kHex[out[i] & 15];
  }
  return o;
}

}  // namespace

std::string FileSha256(const facts::RootFs& fs, std::string_view path) {
  auto data = fs.Read(path, kMaxEvidenceFileBytes);
  if (!data) return "";
  return Digest(*data, EVP_sha256());
}

void AttachFiles(const facts::DeviceModel& model, std::vector<Component>& components) {
  const facts::RootFs& fs = model.fs;
  if (fs.empty()) return;
  // Device path -> its hashes; nullopt for a path that is not a regular file (or not readable),
  // so that it is not looked at twice either.
  std::map<std::string, std::optional<ComponentFile>> cache;
  size_t hashed = 0;
  // `main`: the component's main file, whose SHA-256 is its checksum, is hashed past the cap.
  auto get = [&](const std::string& raw, bool main) -> const ComponentFile* {
    if (!raw.starts_with("/")) return nullptr;  // a blob's layout path, not a device file
    std::string path = "/" + facts::NormalizePath(raw);
    if (auto it = cache.find(path); it != cache.end()) return it->second ? &*it->second : nullptr;
    if (hashed >= kMaxEvidenceFiles && !main) return nullptr;
    std::optional<ComponentFile> f;
    const FileEntry* e = fs.Entry(path);
    if (e != nullptr && (e->type == EntryType::kFile || e->type == EntryType::kHardlink)) {
      if (auto data = fs.Read(path, kMaxEvidenceFileBytes);
          data && data->size() < kMaxEvidenceFileBytes) {
        f = ComponentFile{path, Digest(*data, EVP_sha1()), Digest(*data, EVP_sha256()),
                          data->size()};
        if (f->sha1.empty() || f->sha256.empty()) f.reset();
      }
      if (f) ++hashed;
    }
    auto [it, _] = cache.emplace(path, std::move(f));
    return it->second ? &*it->second : nullptr;
  };
  for (Component& c : components) {
    std::vector<const std::string*> wanted;
    if (!c.main_file.empty()) wanted.push_back(&c.main_file);
    for (const ComponentEvidence& e : c.evidence)
      // A package database lists every package: it is evidence of each, but no package's file.
      if (e.source != "dpkg-status" && e.source != "opkg-status" && e.source != "apk-installed")
        wanted.push_back(&e.path);
    for (const std::string& f : c.files) wanted.push_back(&f);
    std::set<std::string> seen;
    for (const std::string* p : wanted) {
      if (c.evidence_files.size() >= kMaxEvidenceFilesPerComponent) break;
      const ComponentFile* f = get(*p, p == &c.main_file);
      if (f != nullptr && seen.insert(f->path).second) c.evidence_files.push_back(*f);
    }
    std::sort(c.evidence_files.begin(), c.evidence_files.end(),
              [](const ComponentFile& a, const ComponentFile& b) { return a.path < b.path; });
    if (!c.main_file.empty() && c.sha256.empty())
      if (const ComponentFile* f = get(c.main_file, true)) c.sha256 = f->sha256;
  }
}

std::string MainFile(const facts::RootFs& fs, std::string_view name,
                     const std::vector<std::string>& files) {
  std::set<std::string_view> owned(files.begin(), files.end());
  auto regular = [&](const std::string& p) {
    const FileEntry* e = fs.Entry(p);
    return e != nullptr && e->type == EntryType::kFile;
  };
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    std::string p = dir + std::string(name);
    if ((owned.empty() || owned.contains(p)) && regular(p)) return p;
  }
  // A library package: the shared object named after it ("libz" -> libz.so.1.2.13), else its first.
  auto shared = [&](const std::string& f) {
    return (f.ends_with(".so") || f.find(".so.") != std::string::npos) && regular(f);
  };
  std::string first;
  for (const std::string& f : files) {
    if (!shared(f)) continue;
    std::string base = facts::Basename(f);
    std::string_view stem = name;
    while (!stem.empty() && (std::isdigit(static_cast<unsigned char>(stem.back())) ||
                             stem.back() == '-' || stem.back() == '.'))
      stem.remove_suffix(1);
    if (!stem.empty() && base.starts_with(stem) && base.size() > stem.size() &&
        (base[stem.size()] == '.' || base[stem.size()] == '-'))
      return f;
    if (first.empty()) first = f;
  }
  return first;
}

}  // namespace firmwarden::identify
