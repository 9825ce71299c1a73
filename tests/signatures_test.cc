// Binary signatures end to end on a real image: OpenWrt 12.09 (TL-MR3020) with its opkg database
// left out, so that only the binaries speak, gives busybox 1.19.4, dropbear 2011.54, dnsmasq 2.66,
// uClibc 0.9.33.2 and zlib 1.2.7, each once, with file/offset/rule evidence; with the database in,
// the binary findings join the opkg packages instead of adding second components.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "firmwarden/scan.h"
#include "sbom/sbom.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;

std::string Image() {
  return t::SharedDir() + "/corpora/firmware/openwrt-12.09.2-aa-ar71xx-tl-mr3020-v1-factory.bin";
}

ScanResult Identify(const std::string& image) {
  ScanOptions o;
  o.run_checks = false;
  auto r = Scan(image, o);
  EXPECT_TRUE(r) << image << ": " << (r ? "" : r.error().message);
  return r ? std::move(*r) : ScanResult{};
}

std::vector<const Component*> Named(const ScanResult& r, std::string_view name) {
  std::vector<const Component*> out;
  for (const Component& c : r.components)
    if (c.name == name) out.push_back(&c);
  return out;
}

bool FromSignature(const Component& c) {
  for (const ComponentEvidence& e : c.evidence)
    if (e.source.starts_with("signature:")) return true;
  return false;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* k, const char* v) : k_(k) { setenv(k, v, 1); }
  ~ScopedEnv() { unsetenv(k_); }

 private:
  const char* k_;
};

TEST(SignaturesRealImage, OpenWrtBinariesWithoutThePackageDatabase) {
  if (!t::Exists(Image())) GTEST_SKIP() << "no " << Image();
  ScopedEnv skip("FIRMWARDEN_IDENTIFY_SKIP", "opkg");
  ScanResult r = Identify(Image());
  struct Want {
    const char* name;
    const char* version;
    const char* file;  // a file the evidence must name
  };
  for (Want w : {Want{"busybox", "1.19.4", "/bin/busybox"},
                 Want{"dropbear", "2011.54", "/usr/sbin/dropbear"},
                 Want{"dnsmasq", "2.66", "/usr/sbin/dnsmasq"},
                 Want{"uclibc", "0.9.33.2", "/lib/libuClibc-0.9.33.2.so"},
                 Want{"zlib", "1.2.7", "/usr/lib/libz.so.1.2.7"}}) {
    std::vector<const Component*> found = Named(r, w.name);
    ASSERT_EQ(found.size(), 1u) << w.name << ": one component however many files carry it";
    const Component& c = *found[0];
    EXPECT_EQ(c.version, w.version) << w.name;
    EXPECT_TRUE(FromSignature(c)) << w.name;
    EXPECT_NE(c.cpe.find(std::string(":") + w.version + ":"), std::string::npos) << c.cpe;
    EXPECT_TRUE(c.purl.starts_with("pkg:generic/")) << c.purl;
    bool names_file = false;
    for (const ComponentEvidence& e : c.evidence) {
      EXPECT_FALSE(e.text.empty());
      if (e.technique == "binary-analysis") {
        EXPECT_TRUE(e.offset.has_value()) << w.name << " " << e.path;
        EXPECT_DOUBLE_EQ(e.confidence, confidence::kBanner);
      }
      names_file |= e.path == w.file;
    }
    EXPECT_TRUE(names_file) << w.name << " evidence does not name " << w.file;
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const Component& c : r.components)
    EXPECT_TRUE(seen.insert({c.name, c.version}).second) << c.name << " " << c.version;
}

TEST(SignaturesRealImage, BinaryFindingsJoinThePackages) {
  if (!t::Exists(Image())) GTEST_SKIP() << "no " << Image();
  ScanResult r = Identify(Image());
  for (const char* name : {"busybox", "dropbear", "dnsmasq", "zlib"}) {
    std::vector<const Component*> found = Named(r, name);
    ASSERT_EQ(found.size(), 1u) << name;
    EXPECT_TRUE(FromSignature(*found[0])) << name << " has no binary evidence";
    EXPECT_TRUE(found[0]->purl.starts_with("pkg:generic/openwrt/")) << found[0]->purl;
    EXPECT_DOUBLE_EQ(found[0]->confidence, confidence::kPackageDatabase);
  }
  // uClibc is OpenWrt's "libc" package: its binary finding joins it rather than standing alone.
  EXPECT_TRUE(Named(r, "uclibc").empty());
  ASSERT_EQ(Named(r, "libc").size(), 1u);
  EXPECT_TRUE(FromSignature(*Named(r, "libc")[0]));
}

// OpenWrt's own daemons and libraries carry no version in their binaries: without the opkg
// database their paths name them, once each, with no version (COMP-01 then flags them); with the
// database the path evidence joins the git-dated packages instead of adding versionless twins.
TEST(SignaturesRealImage, OpenWrtProductsNamedByPathWithoutAVersion) {
  std::string image =
      t::SharedDir() + "/corpora/firmware/openwrt-15.05.1-ar71xx-tl-wr703n-v1-sysupgrade.bin";
  if (!t::Exists(image)) GTEST_SKIP() << "no " << image;
  struct Want {
    const char* product;
    const char* file;
    const char* package;  // the opkg package the evidence joins
  };
  const Want wants[] = {{"procd", "/sbin/procd", "procd"},
                        {"ubus", "/sbin/ubusd", "ubus"},
                        {"uci", "/sbin/uci", "uci"},
                        {"netifd", "/sbin/netifd", "netifd"},
                        {"libubox", "/lib/libubox.so", "libubox"},
                        {"uhttpd", "/usr/sbin/uhttpd", "uhttpd"}};
  {
    ScopedEnv skip("FIRMWARDEN_IDENTIFY_SKIP", "opkg");
    ScanResult r = Identify(image);
    for (const Want& w : wants) {
      std::vector<const Component*> found = Named(r, w.product);
      ASSERT_EQ(found.size(), 1u) << w.product;
      const Component& c = *found[0];
      EXPECT_EQ(c.version, "") << w.product;
      EXPECT_EQ(c.purl, std::string("pkg:generic/openwrt/") + w.product);
      EXPECT_EQ(c.cpe, std::string("cpe:2.3:a:openwrt:") + w.product + ":*:*:*:*:*:*:*:*");
      bool names_file = false;
      for (const ComponentEvidence& e : c.evidence) {
        EXPECT_EQ(e.technique, "filename") << w.product;
        EXPECT_DOUBLE_EQ(e.confidence, confidence::kFilename);
        names_file |= e.path == w.file;
      }
      EXPECT_TRUE(names_file) << w.product << " evidence does not name " << w.file;
    }
    // Both documents leave the version out rather than writing an empty one, and stay valid.
    nlohmann::json cdx = nlohmann::json::parse(sbom::CycloneDx(r));
    nlohmann::json spdx = nlohmann::json::parse(sbom::Spdx(r));
    for (const nlohmann::json& c : cdx["components"])
      if (c["name"] == "procd") {
        EXPECT_FALSE(c.contains("version")) << c.dump();
      }
    for (const nlohmann::json& p : spdx["packages"])
      if (p["name"] == "procd") {
        EXPECT_FALSE(p.contains("versionInfo")) << p.dump();
      }
    t::TempDir d;
    t::ExpectSchemaValid(cdx.dump(), "bom-1.6.schema.json", d);
    t::ExpectSchemaValid(spdx.dump(), "spdx-2.3.schema.json", d);
  }
  ScanResult r = Identify(image);
  for (const Want& w : wants) {
    std::vector<const Component*> pkg = Named(r, w.package);
    ASSERT_EQ(pkg.size(), 1u) << w.package;
    EXPECT_FALSE(pkg[0]->version.empty()) << w.package;
    EXPECT_TRUE(FromSignature(*pkg[0])) << w.package << " has no path evidence";
    for (const Component* c : Named(r, w.product))
      EXPECT_FALSE(c->version.empty()) << w.product << ": a versionless twin beside the package";
  }
}

// ELF linkage: with only the binaries speaking, the programs a signature found link the C
// library another signature found, and that becomes a dependency between the two components.
TEST(SignaturesRealImage, LinkageBecomesDependencies) {
  if (!t::Exists(Image())) GTEST_SKIP() << "no " << Image();
  ScopedEnv skip("FIRMWARDEN_IDENTIFY_SKIP", "opkg");
  ScanResult r = Identify(Image());
  auto libc = Named(r, "uclibc");
  auto dropbear = Named(r, "dropbear");
  auto busybox = Named(r, "busybox");
  ASSERT_EQ(libc.size(), 1u);
  ASSERT_EQ(dropbear.size(), 1u);
  ASSERT_EQ(busybox.size(), 1u);
  auto depends = [](const Component* c, const std::string& ref) {
    return std::find(c->depends_on.begin(), c->depends_on.end(), ref) != c->depends_on.end();
  };
  EXPECT_TRUE(depends(dropbear[0], libc[0]->bom_ref)) << dropbear[0]->bom_ref;
  EXPECT_TRUE(depends(busybox[0], libc[0]->bom_ref)) << busybox[0]->bom_ref;
  // The C library depends on nothing that links it, and nothing depends on itself.
  EXPECT_FALSE(depends(libc[0], dropbear[0]->bom_ref));
  for (const Component& c : r.components) EXPECT_FALSE(depends(&c, c.bom_ref)) << c.bom_ref;
}

}  // namespace
}  // namespace firmwarden
