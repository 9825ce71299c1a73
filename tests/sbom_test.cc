// Identification and SBOMs end to end: package databases (dpkg, opkg, apk), release markers and the
// kernel give one component per (product, version) with identity and evidence; the CycloneDX 1.6
// and SPDX 2.3 documents validate against the official schemas and are byte-identical across runs
// with a fixed Env; the real OpenWrt images give their opkg versions exactly.
#include "sbom/sbom.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/env.h"
#include "facts/text_util.h"
#include "firmwarden/scan.h"
#include "identify/identify.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;
using nlohmann::json;

std::string Src() { return FIRMWARDEN_SOURCE_DIR; }

std::string Pack(const std::string& spec, const t::TempDir& d) {
  std::string tar = d / (spec + ".tar");
  EXPECT_EQ(t::PackSpec(Src() + "/tests/identify/" + spec + ".spec", tar), 0) << spec;
  return tar;
}

ScanResult Identify(const std::string& image, const Env* env = nullptr) {
  ScanOptions o;
  o.run_checks = false;
  o.env = env;
  auto r = Scan(image, o);
  EXPECT_TRUE(r) << image << ": " << (r ? "" : r.error().message);
  return r ? std::move(*r) : ScanResult{};
}

const Component* Find(const ScanResult& r, std::string_view name) {
  for (const Component& c : r.components)
    if (c.name == name) return &c;
  return nullptr;
}

bool HasSource(const Component& c, std::string_view source) {
  for (const ComponentEvidence& e : c.evidence)
    if (e.source == source) return true;
  return false;
}

void ExpectNoDuplicates(const ScanResult& r) {
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> refs;
  for (const Component& c : r.components) {
    EXPECT_TRUE(seen.insert({c.name, c.version}).second) << c.name << " " << c.version;
    EXPECT_TRUE(refs.insert(c.bom_ref).second) << c.bom_ref;
  }
}

// ---- helpers ----

TEST(Identify, CpeIsEscapedPerTheSpec) {
  EXPECT_EQ(identify::FormatCpe('a', "busybox", "busybox", "1.19.4"),
            "cpe:2.3:a:busybox:busybox:1.19.4:*:*:*:*:*:*:*");
  EXPECT_EQ(identify::FormatCpe('a', "Foo Inc", "bar:baz", "1.0+git*"),
            "cpe:2.3:a:foo_inc:bar\\:baz:1.0\\+git\\*:*:*:*:*:*:*:*");
  EXPECT_EQ(identify::FormatCpe('o', "linux", "linux_kernel", ""),
            "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*");
}

TEST(Identify, PurlEncodesVersionsAndSortsQualifiers) {
  EXPECT_EQ(identify::MakePurl("deb", "debian", "busybox", "1:1.35.0-4+b3",
                               {{"distro", "debian-12"}, {"arch", "amd64"}}),
            "pkg:deb/debian/busybox@1%3A1.35.0-4%2Bb3?arch=amd64&distro=debian-12");
  EXPECT_EQ(identify::MakePurl("generic", "openwrt", "busybox", "1.19.4-6", {{"arch", ""}}),
            "pkg:generic/openwrt/busybox@1.19.4-6");
}

TEST(Identify, UpstreamVersionDropsEpochAndRevision) {
  EXPECT_EQ(identify::UpstreamVersion("1:2.36-9+deb12u4"), "2.36");
  EXPECT_EQ(identify::UpstreamVersion("1.19.4-6"), "1.19.4");
  EXPECT_EQ(identify::UpstreamVersion("2.79rc1-1"), "2.79rc1");
  EXPECT_EQ(identify::UpstreamVersion("3.3.8"), "3.3.8");
  // Debian's roll-back marker: the package holds the release after "really".
  EXPECT_EQ(identify::UpstreamVersion("2.12.7+dfsg+really2.9.14-2.1+deb13u3"), "2.9.14");
  EXPECT_EQ(identify::UpstreamVersion("1:1.3.dfsg+really1.3.1-1+deb13u1"), "1.3.1");
  EXPECT_EQ(identify::UpstreamVersion("1.0+really"), "1.0+really");
}

TEST(Identify, DependsNamesTakeTheFirstAlternative) {
  EXPECT_EQ(identify::DependsNames("libc6 (>= 2.34), libfoo | libbar, x:any, kernel (=3.3.8-1)"),
            (std::vector<std::string>{"libc6", "libfoo", "x", "kernel"}));
}

TEST(Identify, MergeKeepsOneComponentPerProductAndVersionWithAllEvidence) {
  auto make = [](std::string name, std::string version, std::string source, double conf) {
    Component c;
    c.name = std::move(name);
    c.version = std::move(version);
    c.evidence.push_back({source, "manifest-analysis", "/x", 1, std::nullopt, "t", conf});
    return c;
  };
  std::vector<Component> in;
  in.push_back(make("busybox", "1.19.4", "signature", 0.8));  // upstream of the package's
  in.push_back(make("busybox", "1.19.4-6", "opkg-status", 1.0));
  in.push_back(make("busybox", "1.19.4-6", "opkg-control", 1.0));
  in.push_back(make("linux", "3.3.8", "kernel-banner", 0.8));
  in.push_back(make("linux", "3.3.8", "uimage-name", 0.5));
  in.push_back(make("dropbear", "2011.54", "signature", 0.8));  // no package: stays apart
  auto out = identify::MergeComponents(std::move(in));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].name, "busybox");
  EXPECT_EQ(out[0].version, "1.19.4-6");
  EXPECT_EQ(out[0].evidence.size(), 3u);
  EXPECT_DOUBLE_EQ(out[0].confidence, 1.0);
  EXPECT_EQ(out[0].cpe, "cpe:2.3:a:busybox:busybox:1.19.4:*:*:*:*:*:*:*");
  EXPECT_EQ(out[1].name, "dropbear");
  EXPECT_EQ(out[2].name, "linux");
  EXPECT_EQ(out[2].evidence.size(), 2u);
  EXPECT_DOUBLE_EQ(out[2].confidence, 0.8);
  EXPECT_EQ(out[2].evidence[0].source, "kernel-banner");  // most confident first
}

TEST(Identify, HostileRecordsNeitherCrashNorDuplicate) {
  // Random bytes, and a status file mutated byte by byte: the parsers and the merge stay bounded
  // and the merge still gives one component per (name, version).
  std::string base =
      "Package: a\nVersion: 1:1.0-1\nDepends: b (>= 1) | c, , :x\nStatus: install ok "
      "installed\n continuation\n .\n\nPackage: b\nVersion: 1.0\n\nPackage: a\nVersion: "
      "1:1.0-1\n";
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string text = seed % 2 == 0 ? t::RandomBytes(512, seed) : base;
    if (seed % 2 == 1) text[seed % text.size()] = static_cast<char>(seed * 37);
    std::vector<Component> comps;
    for (const identify::Record& r : identify::ParseControlRecords(text)) {
      Component c;
      c.name = r.Get("Package");
      c.version = r.Get("Version");
      c.depends_names = identify::DependsNames(r.Get("Depends"));
      c.purl = identify::MakePurl("generic", "openwrt", c.name, c.version, {});
      c.evidence.push_back({"x", "other", "/s", r.line, std::nullopt, "", 1.0});
      comps.push_back(std::move(c));
    }
    (void)identify::ParseKeyValues(text);
    (void)identify::UpstreamVersion(text.substr(0, 40));
    (void)identify::FormatCpe('a', text.substr(0, 20), text.substr(20, 20), text.substr(40, 20));
    auto out = identify::MergeComponents(std::move(comps));
    std::set<std::pair<std::string, std::string>> seen;
    for (const Component& c : out) {
      EXPECT_TRUE(seen.insert({facts::Lower(c.name), c.version}).second);
      for (const std::string& d : c.depends_on) EXPECT_NE(d, c.bom_ref);
    }
  }
}

// ---- package databases and release markers ----

TEST(Identify, DpkgStatusGivesInstalledPackagesOnly) {
  t::TempDir d;
  ScanResult r = Identify(Pack("debian", d));
  ExpectNoDuplicates(r);
  const Component* bb = Find(r, "busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_EQ(bb->version, "1:1.35.0-4+b3");
  EXPECT_EQ(bb->purl, "pkg:deb/debian/busybox@1%3A1.35.0-4%2Bb3?arch=amd64&distro=debian-12");
  EXPECT_EQ(bb->cpe, "cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*");
  EXPECT_EQ(bb->description, "Tiny utilities for small and embedded systems");
  EXPECT_EQ(bb->type, ComponentType::kApplication);
  EXPECT_EQ(bb->main_file, "/bin/busybox");
  EXPECT_EQ(bb->sha256.size(), 64u);
  ASSERT_FALSE(bb->evidence.empty());
  EXPECT_EQ(bb->evidence[0].source, "dpkg-status");
  EXPECT_EQ(bb->evidence[0].path, "/var/lib/dpkg/status");
  EXPECT_EQ(bb->evidence[0].line, 1);
  EXPECT_DOUBLE_EQ(bb->confidence, confidence::kPackageDatabase);
  EXPECT_EQ(Find(r, "telnetd"), nullptr) << "config-files only: not installed";
  EXPECT_EQ(Find(r, "ghostpkg"), nullptr);
  const Component* tz = Find(r, "tzdata");
  ASSERT_NE(tz, nullptr) << "status.d (distroless) records count";
  EXPECT_EQ(tz->evidence[0].path, "/var/lib/dpkg/status.d/tzdata");
  const Component* zlib = Find(r, "zlib1g");
  ASSERT_NE(zlib, nullptr);
  EXPECT_EQ(zlib->type, ComponentType::kLibrary);
  EXPECT_EQ(zlib->cpe, "cpe:2.3:a:zlib:zlib:1.2.13.dfsg:*:*:*:*:*:*:*");
  EXPECT_EQ(zlib->main_file, "/lib/x86_64-linux-gnu/libz.so.1.2.13");
  const Component* db = Find(r, "dropbear-bin");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->depends_on, (std::vector<std::string>{Find(r, "libc6")->bom_ref, zlib->bom_ref}));
  const Component* os = Find(r, "debian");
  ASSERT_NE(os, nullptr);
  EXPECT_EQ(os->version, "12");
  EXPECT_EQ(os->type, ComponentType::kOperatingSystem);
  EXPECT_EQ(os->cpe, "cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*");
  const Component* k = Find(r, "linux");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->version, "5.10.0-23-amd64");
  EXPECT_EQ(k->cpe, "cpe:2.3:o:linux:linux_kernel:5.10.0:*:*:*:*:*:*:*");
  EXPECT_TRUE(HasSource(*k, "kernel-modules-dir"));
  EXPECT_TRUE(HasSource(*k, "module-vermagic"));
  EXPECT_DOUBLE_EQ(k->confidence, confidence::kBanner);
  std::string names;
  for (const Component& c : r.components) names += c.name + "@" + c.version + " ";
  EXPECT_EQ(r.components.size(), 7u)
      << names;  // busybox libc6 dropbear-bin zlib1g tzdata debian linux
}

TEST(Identify, OpkgPackagesAreOpenWrtsNotDebians) {
  t::TempDir d;
  ScanResult r = Identify(Pack("openwrt", d));
  ExpectNoDuplicates(r);
  for (const Component& c : r.components) EXPECT_FALSE(c.purl.starts_with("pkg:deb")) << c.purl;
  const Component* bb = Find(r, "busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_EQ(bb->version, "1.19.4-6");
  EXPECT_EQ(bb->purl, "pkg:generic/openwrt/busybox@1.19.4-6?arch=ar71xx&distro=openwrt-12.09");
  EXPECT_EQ(bb->licenses, (std::vector<std::string>{"GPLv2 BSD-4c"}));
  EXPECT_EQ(bb->supplier, "Nicolas Thill <nico@openwrt.org>");
  EXPECT_TRUE(HasSource(*bb, "opkg-status"));
  EXPECT_TRUE(HasSource(*bb, "opkg-control"));
  EXPECT_EQ(bb->main_file, "/bin/busybox");
  EXPECT_EQ(bb->files.size(), 2u);
  const Component* dm = Find(r, "dnsmasq");
  ASSERT_NE(dm, nullptr);
  EXPECT_EQ(dm->version, "2.66-2");
  EXPECT_EQ(dm->cpe, "cpe:2.3:a:thekelleys:dnsmasq:2.66:*:*:*:*:*:*:*");
  EXPECT_EQ(dm->main_file, "/usr/sbin/dnsmasq") << "no .list: the file system says";
  EXPECT_EQ(dm->depends_on, (std::vector<std::string>{Find(r, "libc")->bom_ref}));
  const Component* kmod = Find(r, "kmod-ath9k");
  ASSERT_NE(kmod, nullptr);
  EXPECT_EQ(kmod->type, ComponentType::kDeviceDriver);
  EXPECT_EQ(Find(r, "luci-removed"), nullptr);
  const Component* os = Find(r, "openwrt");
  ASSERT_NE(os, nullptr);
  EXPECT_EQ(os->version, "12.09");
  EXPECT_TRUE(HasSource(*os, "openwrt-release"));
  EXPECT_TRUE(HasSource(*os, "openwrt-version"));
  EXPECT_EQ(os->cpe, "cpe:2.3:o:openwrt:openwrt:12.09:*:*:*:*:*:*:*");
  EXPECT_EQ(r.components.size(), 5u);
}

TEST(Identify, ApkInstalledDatabase) {
  t::TempDir d;
  ScanResult r = Identify(Pack("alpine", d));
  ExpectNoDuplicates(r);
  const Component* musl = Find(r, "musl");
  ASSERT_NE(musl, nullptr);
  EXPECT_EQ(musl->version, "1.2.4-r2");
  EXPECT_EQ(musl->purl, "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4");
  EXPECT_EQ(musl->licenses, (std::vector<std::string>{"MIT"}));
  EXPECT_EQ(musl->cpe, "cpe:2.3:a:musl-libc:musl:1.2.4:*:*:*:*:*:*:*");
  const Component* bb = Find(r, "busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_EQ(bb->depends_on, (std::vector<std::string>{musl->bom_ref}));
  EXPECT_EQ(bb->evidence[0].source, "apk-installed");
  ASSERT_NE(Find(r, "alpine"), nullptr);
  EXPECT_EQ(Find(r, "alpine")->version, "3.18.4");
}

TEST(Identify, BuildrootThroughOsRelease) {
  t::TempDir d;
  ScanResult r = Identify(Pack("buildroot", d));
  // The release marker names the distribution; only the binary signatures know its BusyBox.
  ASSERT_EQ(r.components.size(), 2u);
  EXPECT_EQ(r.components[0].name, "buildroot");
  EXPECT_EQ(r.components[0].version, "2023.02.2");
  EXPECT_EQ(r.components[0].evidence[0].source, "os-release");
  EXPECT_DOUBLE_EQ(r.components[0].confidence, confidence::kReleaseMarker);
  EXPECT_EQ(r.components[1].name, "busybox");
  EXPECT_EQ(r.components[1].version, "1.36.0");
  EXPECT_EQ(r.components[1].evidence[0].source, "signature:busybox/banner");
  EXPECT_EQ(r.components[1].evidence[0].path, "/bin/busybox");
  EXPECT_DOUBLE_EQ(r.components[1].confidence, confidence::kBanner);
}

// ---- SBOM documents ----

class SbomFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SbomFixtureTest, BothFormatsValidateAndAreDeterministic) {
  t::TempDir d;
  std::string img = Pack(GetParam(), d);
  Env env = Env::Fixed(1700000000);
  ScanResult a = Identify(img, &env);
  Env env2 = Env::Fixed(1700000000);
  ScanResult b = Identify(img, &env2);
  std::string cdx = sbom::CycloneDx(a), spdx = sbom::Spdx(a);
  EXPECT_EQ(cdx, sbom::CycloneDx(b));
  EXPECT_EQ(spdx, sbom::Spdx(b));
  t::ExpectSchemaValid(cdx, "bom-1.6.schema.json", d);
  t::ExpectSchemaValid(spdx, "spdx-2.3.schema.json", d);

  json c = json::parse(cdx);
  EXPECT_EQ(c["specVersion"], "1.6");
  EXPECT_EQ(c["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(c["metadata"]["lifecycles"][0]["phase"], "post-build");
  EXPECT_EQ(c["metadata"]["tools"]["components"][0]["name"], "firmwarden");
  EXPECT_EQ(c["metadata"]["component"]["type"], "firmware");
  EXPECT_EQ(c["metadata"]["component"]["hashes"][0]["content"], t::Sha256Hex(t::ReadFile(img)));
  EXPECT_EQ(c["components"].size(), a.components.size());
  EXPECT_EQ(c["dependencies"][0]["dependsOn"].size(), a.components.size());
  for (const json& comp : c["components"]) {
    EXPECT_FALSE(comp["evidence"]["identity"][0]["methods"].empty()) << comp["name"];
    EXPECT_FALSE(comp["evidence"]["occurrences"].empty()) << comp["name"];
  }
  json s = json::parse(spdx);
  EXPECT_EQ(s["spdxVersion"], "SPDX-2.3");
  EXPECT_EQ(s["creationInfo"]["created"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(s["packages"].size(), a.components.size() + 1);
  EXPECT_EQ(s["relationships"][0]["relationshipType"], "DESCRIBES");
  EXPECT_NE(s["documentNamespace"].get<std::string>().find(GetParam()), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SbomFixtureTest,
                         ::testing::Values("debian", "openwrt", "alpine", "buildroot"));

// The SPDX "files": each evidence file once, with SHA-1 and SHA-256 as coreutils computes them from
// the bytes in the tar; every relationship points at an element of the document. CycloneDX nests
// the same files under their components.
struct EvidenceFileCase {
  const char* spec;
  const char* component;  // name of the package that must CONTAIN the file
  const char* path;       // device path, without the leading '/'
};

class SpdxFilesTest : public ::testing::TestWithParam<EvidenceFileCase> {};

TEST_P(SpdxFilesTest, EvidenceFilesCarryTheirHashesAndAreContained) {
  const EvidenceFileCase& p = GetParam();
  t::TempDir d;
  std::string img = Pack(p.spec, d);
  Env env = Env::Fixed(1700000000);
  ScanResult r = Identify(img, &env);
  std::string doc = sbom::Spdx(r);
  json s = json::parse(doc);
  ASSERT_TRUE(s.contains("files")) << doc.substr(0, 2000);

  std::string listing;
  ASSERT_EQ(t::Run("tar -tf " + t::Sh(img), &listing), 0);
  std::string member;
  for (std::string_view l : facts::Lines(listing))
    if (l == p.path || l == "./" + std::string(p.path) || l == "/" + std::string(p.path))
      member = std::string(l);
  ASSERT_FALSE(member.empty()) << listing;
  std::string sha1, sha256;
  ASSERT_EQ(
      t::Run("tar -xOf " + t::Sh(img) + " " + t::Sh(member) + " 2>/dev/null | sha1sum", &sha1), 0);
  ASSERT_EQ(
      t::Run("tar -xOf " + t::Sh(img) + " " + t::Sh(member) + " 2>/dev/null | sha256sum", &sha256),
      0);
  sha1 = sha1.substr(0, 40);
  sha256 = sha256.substr(0, 64);

  std::set<std::string> ids{"SPDXRef-DOCUMENT"}, names;
  std::string file_id;
  for (const json& pkg : s["packages"]) EXPECT_TRUE(ids.insert(pkg["SPDXID"]).second);
  for (const json& f : s["files"]) {
    EXPECT_TRUE(ids.insert(f["SPDXID"]).second) << f["SPDXID"];
    EXPECT_TRUE(names.insert(f["fileName"]).second) << f["fileName"];
    EXPECT_EQ(f["licenseConcluded"], "NOASSERTION");
    EXPECT_EQ(f["copyrightText"], "NOASSERTION");
    ASSERT_EQ(f["checksums"].size(), 2u);
    EXPECT_EQ(f["checksums"][0]["algorithm"], "SHA1");
    EXPECT_EQ(f["checksums"][0]["checksumValue"].get<std::string>().size(), 40u);
    EXPECT_EQ(f["checksums"][1]["algorithm"], "SHA256");
    EXPECT_EQ(f["checksums"][1]["checksumValue"].get<std::string>().size(), 64u);
    if (f["fileName"] == "./" + std::string(p.path)) {
      file_id = f["SPDXID"];
      EXPECT_EQ(f["checksums"][0]["checksumValue"], sha1);
      EXPECT_EQ(f["checksums"][1]["checksumValue"], sha256);
    }
  }
  ASSERT_FALSE(file_id.empty()) << "no file ./" << p.path;
  for (const char* db :
       {"./var/lib/dpkg/status", "./usr/lib/opkg/status", "./lib/apk/db/installed"})
    EXPECT_FALSE(names.contains(db)) << db << " names every package but belongs to none";
  // Directories and symlinks are not files of a component.
  for (const Component& c : r.components)
    for (const ComponentFile& f : c.evidence_files) EXPECT_GT(f.size, 0u) << f.path;

  std::string pkg_id;
  for (const json& pkg : s["packages"])
    if (pkg["name"] == p.component) pkg_id = pkg["SPDXID"];
  ASSERT_FALSE(pkg_id.empty()) << p.component;
  bool contained = false;
  size_t file_edges = 0;
  for (const json& rel : s["relationships"]) {
    EXPECT_TRUE(ids.contains(rel["spdxElementId"])) << rel.dump();
    EXPECT_TRUE(ids.contains(rel["relatedSpdxElement"])) << rel.dump();
    if (rel["relatedSpdxElement"].get<std::string>().starts_with("SPDXRef-File-")) {
      ++file_edges;
      EXPECT_EQ(rel["relationshipType"], "CONTAINS");
    }
    if (rel["spdxElementId"] == pkg_id && rel["relatedSpdxElement"] == file_id &&
        rel["relationshipType"] == "CONTAINS")
      contained = true;
  }
  EXPECT_TRUE(contained) << p.component << " does not CONTAIN ./" << p.path;
  EXPECT_GE(file_edges, s["files"].size()) << "every file belongs to a package";

  // The package checksum is its main file's, hashed once for both.
  const Component* c = Find(r, p.component);
  ASSERT_NE(c, nullptr);
  if (c->main_file == "/" + std::string(p.path)) {
    EXPECT_EQ(c->sha256, sha256);
  }

  // Deterministic: a second scan gives the same document, ids included.
  Env env2 = Env::Fixed(1700000000);
  EXPECT_EQ(sbom::Spdx(Identify(img, &env2)), doc);
  t::ExpectSchemaValid(doc, "spdx-2.3.schema.json", d);

  // CycloneDX lists the same files, nested as file components of the component they evidence,
  // with the same hashes; bom-refs stay unique across the document.
  std::string cdx_doc = sbom::CycloneDx(r);
  json cdx = json::parse(cdx_doc);
  std::set<std::string> refs, cdx_paths;
  bool nested = false;
  for (const json& comp : cdx["components"]) {
    EXPECT_TRUE(refs.insert(comp["bom-ref"]).second) << comp["bom-ref"];
    if (!comp.contains("components")) continue;
    for (const json& f : comp["components"]) {
      EXPECT_EQ(f["type"], "file");
      EXPECT_TRUE(refs.insert(f["bom-ref"]).second) << f["bom-ref"];
      cdx_paths.insert(f["name"]);
      ASSERT_EQ(f["hashes"].size(), 2u) << f["name"];
      EXPECT_EQ(f["hashes"][0]["alg"], "SHA-1");
      EXPECT_EQ(f["hashes"][1]["alg"], "SHA-256");
      if (comp["name"] == p.component && f["name"] == "/" + std::string(p.path)) {
        nested = true;
        EXPECT_EQ(f["hashes"][0]["content"], sha1);
        EXPECT_EQ(f["hashes"][1]["content"], sha256);
      }
    }
  }
  EXPECT_TRUE(nested) << p.component << " does not nest /" << p.path;
  std::set<std::string> spdx_paths;
  for (const std::string& n : names) spdx_paths.insert(n.substr(1));  // "./bin/x" -> "/bin/x"
  EXPECT_EQ(cdx_paths, spdx_paths) << "both formats list the same evidence files";
  t::ExpectSchemaValid(cdx_doc, "bom-1.6.schema.json", d);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SpdxFilesTest,
                         ::testing::Values(
                             // The package database's main file.
                             EvidenceFileCase{"debian", "busybox", "bin/busybox"},
                             // A library the package database says zlib1g owns.
                             EvidenceFileCase{"debian", "zlib1g",
                                              "lib/x86_64-linux-gnu/libz.so.1.2.13"},
                             // No package database: the binary the signature matched.
                             EvidenceFileCase{"buildroot", "busybox", "bin/busybox"},
                             EvidenceFileCase{"openwrt", "busybox", "bin/busybox"}),
                         [](const ::testing::TestParamInfo<EvidenceFileCase>& info) {
                           return std::string(info.param.spec) + "_" + std::to_string(info.index);
                         });

TEST(Sbom, CliWritesBothFormatsAndScanWritesTheSame) {
  t::TempDir d;
  std::string img = Pack("openwrt", d);
  std::string bin = FIRMWARDEN_BINARY;
  ASSERT_EQ(t::Run(bin + " sbom " + img + " --format spdx -o " + t::Sh(d / "s.json")), 0);
  json s = json::parse(t::ReadFile(d / "s.json"));
  EXPECT_EQ(s["spdxVersion"], "SPDX-2.3");
  ASSERT_EQ(t::Run(bin + " sbom " + img + " -o " + t::Sh(d / "c.json")), 0);
  json c = json::parse(t::ReadFile(d / "c.json"));
  EXPECT_EQ(c["bomFormat"], "CycloneDX");
  std::string out;
  ASSERT_EQ(t::Run(bin + " scan " + img + " --sbom " + t::Sh(d / "c2.json") + " 2>/dev/null", &out),
            0);
  EXPECT_NE(out.find("5 components"), std::string::npos) << out;
  json c2 = json::parse(t::ReadFile(d / "c2.json"));
  EXPECT_EQ(c2["components"], c["components"]);
  EXPECT_NE(t::Run(bin + " sbom " + img + " --format swid 2>/dev/null"), 0);
  std::string help;
  t::Run(bin + " sbom --help", &help);
  EXPECT_NE(help.find("opkg"), std::string::npos);
}

// ---- the real OpenWrt images ----

struct RealOpenWrt {
  std::string image;
  std::string os_version;
  std::string kernel;
  std::vector<std::pair<std::string, std::string>> versions;
};

void PrintTo(const RealOpenWrt& c, std::ostream* os) { *os << c.image; }

class SbomRealOpenWrtTest : public ::testing::TestWithParam<RealOpenWrt> {};

TEST_P(SbomRealOpenWrtTest, OpkgVersionsAreExactAndTheSbomsValidate) {
  const RealOpenWrt& p = GetParam();
  std::string path = t::SharedDir() + "/corpora/firmware/" + p.image;
  if (!t::Exists(path)) GTEST_SKIP() << path;
  ScanResult r = Identify(path);
  ExpectNoDuplicates(r);
  for (const auto& [name, version] : p.versions) {
    const Component* c = Find(r, name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_EQ(c->version, version) << name;
    EXPECT_TRUE(c->purl.starts_with("pkg:generic/openwrt/" + name + "@")) << c->purl;
    EXPECT_TRUE(HasSource(*c, "opkg-status"));
  }
  const Component* k = Find(r, "linux");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->version, p.kernel);
  EXPECT_TRUE(HasSource(*k, "kernel-banner"));
  const Component* os = Find(r, "openwrt");
  ASSERT_NE(os, nullptr);
  EXPECT_EQ(os->version, p.os_version);
  size_t opkg = 0;
  for (const Component& c : r.components) opkg += HasSource(c, "opkg-status") ? 1 : 0;
  RecordProperty("components", static_cast<int>(r.components.size()));
  std::printf("%s: %zu components (%zu from opkg status)\n", p.image.c_str(), r.components.size(),
              opkg);
  t::TempDir d;
  t::ExpectSchemaValid(sbom::CycloneDx(r), "bom-1.6.schema.json", d);
  t::ExpectSchemaValid(sbom::Spdx(r), "spdx-2.3.schema.json", d);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, SbomRealOpenWrtTest,
    ::testing::Values(
        RealOpenWrt{"openwrt-12.09.2-aa-ar71xx-tl-wr703n-v1-factory.bin",
                    "12.09.2",
                    "3.3.8",
                    {{"busybox", "1.19.4-6"}, {"dnsmasq", "2.66-2"}, {"dropbear", "2011.54-2"}}},
        RealOpenWrt{
            "openwrt-15.05.1-ar71xx-tl-wr703n-v1-sysupgrade.bin",
            "15.05.1",
            "3.18.98",
            {{"busybox", "1.23.2-1"}, {"dnsmasq", "2.79rc1-1"}, {"dropbear", "2017.75-1"}}}));

}  // namespace
}  // namespace firmwarden
