// The binary signature engine and its data: every signature file loads, every `tests` string of
// every rule yields its stated version through the whole scan path and no `negatives` string does;
// broken files are refused with file:line; one hit per (rule, version) per buffer however often it
// repeats; the capture stays inside the window around the hit.
#include "identify/signatures.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace firmwarden::identify::signatures {
namespace {

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

const Database& Builtin() {
  std::string error;
  const Database* db = Database::Builtin(&error);
  EXPECT_NE(db, nullptr) << error;
  static Database empty = std::move(*Database::Load({}));
  return db != nullptr ? *db : empty;
}

std::set<std::string> Versions(Scanner& sc, std::string_view text, std::string_view product) {
  std::set<std::string> out;
  for (const Hit& h : sc.Scan(Bytes(text), ""))
    if (sc.database().signatures()[h.sig].product == product) out.insert(h.version);
  return out;
}

TEST(Signatures, EmbeddedDataLoadsAndCoversTheEmbeddedLinuxList) {
  const Database& db = Builtin();
  std::set<std::string> products;
  for (const Signature& s : db.signatures()) {
    products.insert(s.product);
    EXPECT_FALSE(s.cpe_vendor.empty()) << s.file;
    EXPECT_FALSE(s.rules.empty()) << s.file;
    EXPECT_EQ(s.file, s.product + ".toml") << "one file per product, named after it";
  }
  EXPECT_EQ(products.size(), db.signatures().size());
  for (const char* p : {"busybox", "dropbear", "openssh", "openssl", "zlib", "dnsmasq", "uclibc",
                        "glibc", "curl", "lighttpd", "nginx", "hostapd", "wpa_supplicant"})
    EXPECT_TRUE(products.contains(p)) << p;
}

// The data-driven test: every `tests` entry of every rule, through Vectorscan, the window and
// PCRE2 (filename rules through the path scan), and every `negatives` entry.
TEST(Signatures, EveryTestStringOfEveryFileYieldsItsVersion) {
  const Database& db = Builtin();
  size_t tests = 0;
  for (const Signature& s : db.signatures())
    for (const Rule& r : s.rules) tests += r.tests.size();
  EXPECT_GE(tests, db.signatures().size());
  for (const std::string& problem : CheckTests(db)) ADD_FAILURE() << problem;
}

TEST(Signatures, OneHitPerVersionHoweverOftenTheBannerRepeats) {
  Scanner sc(Builtin());
  std::string text;
  for (int i = 0; i < 100; ++i) text += std::string("xx SSH-2.0-dropbear_2011.54") + '\0';
  std::vector<Hit> hits = sc.Scan(Bytes(text), "dropbear");
  size_t dropbear = 0;
  for (const Hit& h : hits)
    if (sc.database().signatures()[h.sig].product == "dropbear") {
      ++dropbear;
      EXPECT_EQ(h.version, "2011.54");
      EXPECT_EQ(h.offset, 3u);
      EXPECT_EQ(h.text, "SSH-2.0-dropbear_2011.54");
    }
  EXPECT_EQ(dropbear, 1u);
  // Two different versions in one buffer are two hits.
  text += "SSH-2.0-dropbear_2022.83";
  EXPECT_EQ(Versions(sc, text, "dropbear"), (std::set<std::string>{"2011.54", "2022.83"}));
}

TEST(Signatures, NegativesAndNearMissesGiveNothing) {
  Scanner sc(Builtin());
  EXPECT_TRUE(Versions(sc, "OpenSSH_2.*,OpenSSH_3.0*,OpenSSH_3.1*", "openssh").empty());
  EXPECT_TRUE(Versions(sc, "OpenSSL 1.1.1 or later is required", "openssl").empty());
  EXPECT_TRUE(Versions(sc, "BusyBox v%s", "busybox").empty());
  EXPECT_TRUE(Versions(sc, std::string(4096, '\0'), "busybox").empty());
  EXPECT_TRUE(sc.Scan({}, "").empty());
}

TEST(Signatures, FilenameRulesReadTheDevicePath) {
  Scanner sc(Builtin());
  std::set<std::string> got;
  for (const Hit& h : sc.ScanPath("/lib/libuClibc-0.9.33.2.so"))
    got.insert(sc.database().signatures()[h.sig].product + " " + h.version);
  EXPECT_TRUE(got.contains("uclibc 0.9.33.2"));
  EXPECT_TRUE(sc.ScanPath("/lib/libuClibc.so").empty());
}

TEST(Signatures, BrokenFilesAreRefusedWithFileAndLine) {
  auto err = [](std::string text) {
    auto r = Database::Load({{"bad.toml", std::move(text)}});
    return r ? std::string() : r.error().message;
  };
  const std::string head = "product = \"x\"\ncpe_vendor = \"v\"\ncpe_product = \"x\"\n";
  EXPECT_TRUE(err(head + "[[rule]]\nmatch = 'x v'\nversion = 'x v(\\d+)'\n"
                         "tests = [{ text = \"x v1\", version = \"1\" }]\n")
                  .empty());
  EXPECT_NE(err("product = \n").find("bad.toml:1:"), std::string::npos);
  EXPECT_NE(err("cpe_vendor = \"v\"\n").find("missing required key 'product'"), std::string::npos);
  EXPECT_NE(
      err(head + "[[rule]]\nmatch = 'xyz'\nversion = 'x(('\ntests = []\n").find("bad.toml:4:"),
      std::string::npos);
  EXPECT_NE(err(head + "[[rule]]\nmatch = 'xyz'\nversion = 'x'\n"
                       "tests = [{ text = \"x\", version = \"1\" }]\n")
                .find("no capture group"),
            std::string::npos);
  EXPECT_NE(err(head + "[[rule]]\nmatch = 'x\\q'\nversion = 'x(\\d)'\n"
                       "tests = [{ text = \"x1\", version = \"1\" }]\n")
                .find("bad.toml:4: match must be a literal"),
            std::string::npos);
  EXPECT_NE(err(head + "[[rule]]\nversion = 'x(\\d)'\n"
                       "tests = [{ text = \"x1\", version = \"1\" }]\n")
                .find("must name its files"),
            std::string::npos);
  EXPECT_NE(err(head + "\n\n[[rule]]\nmatch = 'xyz'\nversion = 'x(\\d)'\n").find("bad.toml:6:"),
            std::string::npos);  // no tests
  EXPECT_NE(err(head + "colour = \"red\"\n").find("bad.toml:4: unknown key 'colour'"),
            std::string::npos);
  // A test string that does not yield its version is a CheckTests failure naming file and line.
  auto db = Database::Load({{"t.toml", head + "[[rule]]\nmatch = 'x v'\nversion = 'x v(\\d+)'\n"
                                              "tests = [{ text = \"x v1\", version = \"2\" }]\n"}});
  ASSERT_TRUE(db) << db.error().message;
  std::vector<std::string> problems = CheckTests(*db);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("t.toml:7:"), std::string::npos) << problems[0];
}

TEST(Signatures, CaptureStaysInsideTheWindow) {
  auto db = Database::Load({{"w.toml",
                             "product = \"w\"\ncpe_vendor = \"w\"\ncpe_product = \"w\"\n"
                             "[[rule]]\nmatch = 'MARK'\nversion = 'MARK.*?ver=(\\d+)'\n"
                             "tests = [{ text = \"MARK ver=7\", version = \"7\" }]\n"}});
  ASSERT_TRUE(db) << db.error().message;
  Scanner sc(*db);
  std::string near = "MARK" + std::string(50, ' ') + "ver=1";
  std::string far = "MARK" + std::string(Scanner::kWindowAfter + 100, ' ') + "ver=2";
  ASSERT_EQ(sc.Scan(Bytes(near), "").size(), 1u);
  EXPECT_TRUE(sc.Scan(Bytes(far), "").empty());
}

}  // namespace
}  // namespace firmwarden::identify::signatures
