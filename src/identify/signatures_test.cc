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
  // The embedded-Linux list, every product of it (gdbserver is product gdb).
  for (const char* p :
       {"busybox",   "dropbear",     "openssh",   "openssl",    "libressl",   "wolfssl",
        "mbedtls",   "gnutls",       "zlib",      "curl",       "wget",       "uclibc",
        "uclibc-ng", "musl",         "glibc",     "dnsmasq",    "hostapd",    "wpa_supplicant",
        "lighttpd",  "boa",          "goahead",   "mini_httpd", "thttpd",     "uhttpd",
        "nginx",     "apache_httpd", "miniupnpd", "libupnp",    "avahi",      "samba",
        "vsftpd",    "proftpd",      "pure-ftpd", "openvpn",    "strongswan", "ppp",
        "iptables",  "nftables",     "iproute2",  "ntp",        "chrony",     "u-boot",
        "sqlite",    "libxml2",      "expat",     "json-c",     "lua",        "php",
        "python",    "perl",         "libpcap",   "tcpdump",    "gdb",        "strace",
        "mosquitto", "net-snmp",     "quagga",    "bind",       "unbound",    "libjpeg",
        "libpng",    "live555",      "pcre",      "ncurses",    "dbus",       "systemd",
        "procd",     "ubus",         "uci",       "netifd",     "libubox"})
    EXPECT_TRUE(products.contains(p)) << p;
  EXPECT_GE(products.size(), 150u);
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

TEST(Signatures, NewRuleKeysAreValidated) {
  auto err = [](std::string rule) {
    auto r = Database::Load(
        {{"k.toml",
          "product = \"k\"\ncpe_vendor = \"k\"\ncpe_product = \"k\"\n[[rule]]\n" + rule + "\n"}});
    return r ? std::string() : r.error().message;
  };
  EXPECT_NE(err("match = '\\x00ABC'\nversion = 'ABC(\\d)'\n"
                "tests = [{ text = \"\\u0000ABC1\", version = \"1\" }]")
                .find("cannot start with \\x00"),
            std::string::npos);
  EXPECT_NE(err("match = 'ABC'\nversion = 'ABC(\\d)'\nwindow = 8\n"
                "tests = [{ text = \"ABC1\", version = \"1\" }]")
                .find("window must be a number of bytes from 16 to 4096"),
            std::string::npos);
  EXPECT_NE(err("version = '(\\d)'\nfiles = ['f']\nwindow = 64\n"
                "tests = [{ text = \"1\", version = \"1\" }]")
                .find("window is for rules with a match literal"),
            std::string::npos);
  EXPECT_NE(err("match = 'ABC'\nversion = 'ABC(\\d)'\nrequires = ['XYZ']\n"
                "tests = [{ text = \"ABC1\", version = \"1\" }]")
                .find("requires is for whole-file rules"),
            std::string::npos);
  EXPECT_NE(err("match = 'ABC'\nversion = 'ABC(\\d)'\nversionless = true\n"
                "tests = [{ text = \"ABC1\", version = \"1\" }]")
                .find("versionless is for filename rules"),
            std::string::npos);
  // Without `versionless` a filename regex must still capture a version.
  EXPECT_NE(err("filename = '/bin/k$'\ntests = [{ text = \"/bin/k\", version = \"\" }]")
                .find("no capture group"),
            std::string::npos);
}

TEST(Signatures, WindowRequiresAndVersionlessRules) {
  auto db = Database::Load(
      {{"n.toml",
        "product = \"n\"\ncpe_vendor = \"n\"\ncpe_product = \"n\"\n"
        "[[rule]]\nid = \"wide\"\nmatch = 'MARK'\nwindow = 1024\nversion = "
        "'MARK[^\\x00]*\\x00(\\d+)'\n"
        "tests = [{ text = \"MARK\\u00007\", version = \"7\" }]\n"
        "[[rule]]\nid = \"guarded\"\nversion = '\\x00v(\\d+\\.\\d+)\\x00'\nfiles = ['libn.so']\n"
        "requires = ['n library']\ntests = [{ text = \"n library\\u0000v1.2\\u0000\", version = "
        "\"1.2\" }]\n"
        "[[rule]]\nid = \"path\"\nversionless = true\nfilename = '^/sbin/nd$'\n"
        "tests = [{ text = \"/sbin/nd\", version = \"\" }]\nnegatives = [\"/sbin/nd.sh\"]\n"}});
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_TRUE(CheckTests(*db).empty());
  Scanner sc(*db);
  auto versions = [&](const std::string& text, std::string_view base) {
    std::set<std::string> v;
    for (const Hit& h : sc.Scan(Bytes(text), base)) v.insert(h.version);
    return v;
  };
  // The version 600 bytes after the literal: inside a 1024-byte window, outside the default.
  std::string far = "MARK" + std::string(600, 'x') + std::string(1, '\0') + "9";
  EXPECT_EQ(versions(far, "prog"), (std::set<std::string>{"9"}));
  std::string too_far = "MARK" + std::string(1100, 'x') + std::string(1, '\0') + "9";
  EXPECT_TRUE(versions(too_far, "prog").empty());
  // The whole-file rule runs only on the named file, and only when the required literal is in it.
  std::string lib = std::string("n library") + '\0' + "v3.4" + '\0';
  EXPECT_EQ(versions(lib, "libn.so"), (std::set<std::string>{"3.4"}));
  EXPECT_TRUE(versions(lib, "other.so").empty());
  EXPECT_TRUE(versions(std::string("m library") + '\0' + "v3.4" + '\0', "libn.so").empty());
  // The path names the product, with an empty version.
  std::vector<Hit> hits = sc.ScanPath("/sbin/nd");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].version, "");
  EXPECT_EQ(hits[0].text, "/sbin/nd");
  EXPECT_TRUE(sc.ScanPath("/usr/sbin/nd").empty());
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
