// The crypto-material parser (src/facts/crypto_material.cc) on keys and certificates that openssl
// and ssh-keygen generate at test time, on hostile buffers, and through a scan with a pinned clock.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/env.h"
#include "facts/crypto_material.h"
#include "firmwarden/scan.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;
using facts::CryptoMaterial;
using facts::ScanBufferForCrypto;

// Runs a shell script in `dir` and returns its stdout (fails the test on error).
std::string Gen(const t::TempDir& dir, const std::string& script) {
  std::string out;
  int rc = t::Run("cd " + t::Sh(dir.path()) + " && { " + script + " ; }", &out);
  EXPECT_EQ(rc, 0) << script;
  return out;
}

CryptoMaterial ScanOne(std::string_view data, const std::string& path = "/etc/x") {
  CryptoMaterial m;
  ScanBufferForCrypto(data, path, m);
  return m;
}

constexpr const char* kCaConf =
    "mkdir -p db && : > db/index.txt && echo 01 > db/serial && printf "
    "'[ca]\\ndefault_ca=c\\n[c]\\ndatabase=db/index.txt\\nnew_certs_dir=db\\nserial=db/"
    "serial\\ndefault_md=sha256\\npolicy=p\\n[p]\\ncommonName=supplied\\n' > ca.cnf";

TEST(Crypto, PemCertificateInsideABinaryKeepsItsOffset) {
  t::TempDir dir;
  std::string pem = Gen(dir,
                        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                        "-keyout /dev/null -subj /CN=embedded.example -days 30 2>/dev/null");
  std::string prefix = std::string(
                           "\x7f"
                           "ELF\x01\x01\x01",
                           7) +
                       std::string(200, '\0') + "code";
  std::string bin = prefix + pem + std::string(50, '\0');
  CryptoMaterial m = ScanOne(bin, "/usr/sbin/webd");
  ASSERT_EQ(m.certs.size(), 1u);
  const facts::Certificate& c = m.certs[0];
  EXPECT_EQ(c.offset, prefix.size());
  EXPECT_TRUE(c.embedded);
  EXPECT_EQ(c.path, "/usr/sbin/webd");
  EXPECT_EQ(c.common_name, "embedded.example");
  EXPECT_EQ(c.subject, "CN=embedded.example");
  EXPECT_TRUE(c.self_signed);
  EXPECT_EQ(c.pub.type, "EC");
  EXPECT_EQ(c.pub.bits, 256);
  EXPECT_EQ(c.pub.curve, "prime256v1");
  EXPECT_EQ(c.signature_digest, "sha256");
  EXPECT_EQ(c.pub.spki_sha256.size(), 64u);
  EXPECT_EQ(c.sha256.size(), 64u);
  EXPECT_GT(c.not_after, c.not_before);
}

TEST(Crypto, GarbageAfterABeginLineIsNotAKey) {
  std::string junk = "-----BEGIN RSA PRIVATE KEY-----\n%%%% not base64 \x01\x02\xff\n";
  junk += "-----END RSA PRIVATE KEY-----\n";
  junk += "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  junk += "-----BEGIN ";  // at the very end
  CryptoMaterial m = ScanOne(junk);
  EXPECT_TRUE(m.keys.empty());
  EXPECT_TRUE(m.certs.empty());
  EXPECT_FALSE(m.notes.empty());
}

TEST(Crypto, MarkerStringsInAProgramAreNotKeys) {
  using namespace std::string_literals;
  std::string lib =
      "\x7f"
      "ELF-----BEGIN %s-----\0-----BEGIN RSA PRIVATE KEY-----\0-----END RSA PRIVATE "
      "KEY-----\0PuTTY-User-Key-File-2: \0"s;
  CryptoMaterial m = ScanOne(lib, "/usr/lib/libcrypto.so");
  EXPECT_TRUE(m.keys.empty());
  EXPECT_TRUE(m.certs.empty());
}

TEST(Crypto, TruncatedPemIsANoteNotAKey) {
  t::TempDir dir;
  std::string pem =
      Gen(dir, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null");
  ASSERT_GT(pem.size(), 400u);
  CryptoMaterial m = ScanOne(pem.substr(0, pem.size() / 2));
  EXPECT_TRUE(m.keys.empty());
  ASSERT_FALSE(m.notes.empty());
  EXPECT_NE(m.notes[0].find("without its END line"), std::string::npos) << m.notes[0];
  // Cut inside the base64 but keep the END line: the body no longer decodes to a key.
  size_t end = pem.find("-----END");
  std::string cut = pem.substr(0, 200) + "\n" + pem.substr(end);
  m = ScanOne(cut);
  EXPECT_TRUE(m.keys.empty());
}

TEST(Crypto, WeakSha1SignedRsa1024Certificate) {
  t::TempDir dir;
  std::string der = Gen(
      dir,
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=CA -days 30 "
      "2>/dev/null && openssl req -new -newkey rsa:1024 -nodes -keyout leaf.key -subj /CN=leaf "
      "-out leaf.csr 2>/dev/null && openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key "
      "-CAcreateserial -sha1 -days 30 -outform DER -out leaf.der 2>/dev/null && cat leaf.der");
  CryptoMaterial m = ScanOne(der, "/etc/ssl/leaf.der");
  ASSERT_EQ(m.certs.size(), 1u);
  const facts::Certificate& c = m.certs[0];
  EXPECT_TRUE(c.der);
  EXPECT_EQ(c.pub.type, "RSA");
  EXPECT_EQ(c.pub.bits, 1024);
  EXPECT_EQ(c.signature_digest, "sha1");
  EXPECT_EQ(c.signature_algorithm, "sha1WithRSAEncryption");
  EXPECT_FALSE(c.self_signed);
  EXPECT_EQ(c.issuer, "CN=CA");
  // The same bytes under a name that does not say DER are not tried.
  EXPECT_TRUE(ScanOne(der, "/etc/ssl/leaf.bin").certs.empty());
}

TEST(Crypto, ExpiredCertificateDates) {
  t::TempDir dir;
  std::string pem = Gen(dir, std::string(kCaConf) +
                                 " && openssl req -new -newkey ec -pkeyopt "
                                 "ec_paramgen_curve:P-256 -nodes -keyout k.pem -subj /CN=old "
                                 "-out r.csr 2>/dev/null && openssl ca -batch -config ca.cnf "
                                 "-selfsign -keyfile k.pem -in r.csr -startdate 20100101000000Z "
                                 "-enddate 20110101000000Z -notext -out c.pem >/dev/null 2>&1 && "
                                 "cat c.pem");
  CryptoMaterial m = ScanOne(pem);
  ASSERT_EQ(m.certs.size(), 1u);
  EXPECT_EQ(m.certs[0].not_before, 1262304000);  // 2010-01-01T00:00:00Z
  EXPECT_EQ(m.certs[0].not_after, 1293840000);   // 2011-01-01T00:00:00Z
}

TEST(Crypto, EncryptedPkcs8Key) {
  t::TempDir dir;
  std::string pem = Gen(dir,
                        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 "
                        "-pass pass:secret 2>/dev/null");
  ASSERT_NE(pem.find("ENCRYPTED PRIVATE KEY"), std::string::npos);
  CryptoMaterial m = ScanOne(pem);
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_TRUE(m.keys[0].encrypted);
  EXPECT_EQ(m.keys[0].format, "encrypted PKCS#8");
  EXPECT_FALSE(m.keys[0].embedded);
}

TEST(Crypto, TraditionalEncryptedPemKey) {
  t::TempDir dir;
  std::string pem = Gen(dir,
                        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null "
                        "| openssl rsa -traditional -aes128 -passout pass:x 2>/dev/null");
  ASSERT_NE(pem.find("Proc-Type: 4,ENCRYPTED"), std::string::npos);
  CryptoMaterial m = ScanOne(pem);
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_TRUE(m.keys[0].encrypted);
  EXPECT_EQ(m.keys[0].pub.type, "RSA");
}

TEST(Crypto, CertificateAndItsKeyShareTheFingerprint) {
  t::TempDir dir;
  Gen(dir,
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj /CN=dev "
      "-days 30 2>/dev/null");
  CryptoMaterial m = ScanOne(t::ReadFile(dir / "key.pem") + t::ReadFile(dir / "cert.pem"));
  ASSERT_EQ(m.keys.size(), 1u);
  ASSERT_EQ(m.certs.size(), 1u);
  EXPECT_EQ(m.keys[0].format, "PKCS#8");
  EXPECT_EQ(m.keys[0].pub.bits, 2048);
  EXPECT_FALSE(m.keys[0].encrypted);
  EXPECT_EQ(m.keys[0].pub.spki_sha256, m.certs[0].pub.spki_sha256);
  // And it is the SHA-256 of the DER SubjectPublicKeyInfo, as openssl writes it.
  Gen(dir, "openssl pkey -in key.pem -pubout -outform DER -out pub.der");
  EXPECT_EQ(m.keys[0].pub.spki_sha256, t::Sha256Hex(t::ReadFile(dir / "pub.der")));
}

TEST(Crypto, PemQuotedWithBackslashNEscapes) {
  t::TempDir dir;
  std::string pem = Gen(dir, "openssl genpkey -algorithm ED25519 2>/dev/null");
  std::string json = "{\"key\": \"";
  for (char c : pem) json += c == '\n' ? std::string("\\n") : std::string(1, c);
  json += "\"}";
  CryptoMaterial m = ScanOne(json, "/www/config.json");
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_EQ(m.keys[0].pub.type, "ED25519");
}

TEST(Crypto, OpenSshPrivateKeys) {
  if (t::Run("command -v ssh-keygen >/dev/null") != 0) GTEST_SKIP() << "no ssh-keygen";
  t::TempDir dir;
  // The SPKI each key should fingerprint to: ssh-keygen exports RSA and ECDSA as PKCS#8 public
  // keys; Ed25519's SPKI is a fixed 12-byte prefix and the raw key from the .pub blob.
  Gen(dir,
      "ssh-keygen -q -t ed25519 -N '' -C me@host -f ed && ssh-keygen -q -t rsa -b 2048 -N '' -f "
      "rsa && ssh-keygen -q -t ecdsa -b 384 -N 'pass phrase' -f ec && for k in rsa ec; do "
      "ssh-keygen -e -m PKCS8 -f $k.pub | openssl pkey -pubin -outform DER -out $k.der; done && "
      "{ printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'; "
      "awk '{print $2}' ed.pub | base64 -d | tail -c 32; } > ed.der");
  struct Want {
    const char* file;
    const char* type;
    int bits;
    bool encrypted;
  };
  for (Want w : {Want{"ed", "ED25519", 256, false}, Want{"rsa", "RSA", 2048, false},
                 Want{"ec", "EC", 384, true}}) {
    CryptoMaterial m = ScanOne(t::ReadFile(dir / w.file), "/etc/ssh/ssh_host_x_key");
    ASSERT_EQ(m.keys.size(), 1u) << w.file;
    const facts::PrivateKey& k = m.keys[0];
    EXPECT_EQ(k.format, "OpenSSH");
    EXPECT_EQ(k.pub.type, w.type);
    EXPECT_EQ(k.pub.bits, w.bits);
    EXPECT_EQ(k.encrypted, w.encrypted);
    EXPECT_TRUE(k.ssh_host_key);
    EXPECT_EQ(k.pub.spki_sha256, t::Sha256Hex(t::ReadFile(dir / (std::string(w.file) + ".der"))))
        << w.file;
  }
}

// ---- Dropbear and PuTTY files, written from an OpenSSL RSA key ----

std::string U32(size_t n) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  return s;
}
std::string SshStr(std::string_view v) { return U32(v.size()) + std::string(v); }
std::string Mpint(const BIGNUM* bn) {
  std::string b(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(b.data()));
  if (!b.empty() && (static_cast<unsigned char>(b[0]) & 0x80)) b.insert(b.begin(), '\0');
  return SshStr(b);
}

struct RsaParts {
  std::string e, n, d, p, q;  // ssh mpints
};

RsaParts Parts(const std::string& pem) {
  RsaParts r;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EXPECT_NE(k, nullptr);
  if (k == nullptr) return r;
  auto get = [&](const char* name) {
    BIGNUM* bn = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(k, name, &bn), 1) << name;
    std::string s = bn ? Mpint(bn) : "";
    BN_free(bn);
    return s;
  };
  r.e = get(OSSL_PKEY_PARAM_RSA_E);
  r.n = get(OSSL_PKEY_PARAM_RSA_N);
  r.d = get(OSSL_PKEY_PARAM_RSA_D);
  r.p = get(OSSL_PKEY_PARAM_RSA_FACTOR1);
  r.q = get(OSSL_PKEY_PARAM_RSA_FACTOR2);
  EVP_PKEY_free(k);
  return r;
}

std::string B64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

TEST(Crypto, DropbearAndPuttyKeysMatchTheirPemTwin) {
  t::TempDir dir;
  std::string pem =
      Gen(dir, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null");
  CryptoMaterial twin = ScanOne(pem);
  ASSERT_EQ(twin.keys.size(), 1u);
  RsaParts r = Parts(pem);

  std::string dropbear = SshStr("ssh-rsa") + r.e + r.n + r.d + r.p + r.q;
  CryptoMaterial m = ScanOne(dropbear, "/etc/dropbear/dropbear_rsa_host_key");
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_EQ(m.keys[0].format, "Dropbear");
  EXPECT_FALSE(m.keys[0].embedded);  // a key file of its own, although binary
  EXPECT_EQ(m.keys[0].pub.bits, 1024);
  EXPECT_TRUE(m.keys[0].ssh_host_key);
  EXPECT_EQ(m.keys[0].pub.spki_sha256, twin.keys[0].pub.spki_sha256);
  // Truncated: no key, no crash, at any length.
  for (size_t n = 0; n < dropbear.size(); n += 7)
    EXPECT_TRUE(ScanOne(dropbear.substr(0, n), "/etc/dropbear/dropbear_rsa_host_key").keys.size() <=
                1u);
  EXPECT_TRUE(ScanOne(dropbear.substr(0, 30), "/etc/dropbear/dropbear_rsa_host_key").keys.empty());

  std::string blob = B64(SshStr("ssh-rsa") + r.e + r.n);
  std::string ppk = "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: rsa-key-2024\n";
  ppk += "Public-Lines: 1\n" + blob + "\nPrivate-Lines: 1\nAAAA\nPrivate-MAC: 00\n";
  m = ScanOne("header junk\n" + ppk, "/root/key.ppk");
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_EQ(m.keys[0].format, "PuTTY");
  EXPECT_EQ(m.keys[0].offset, 12u);
  EXPECT_FALSE(m.keys[0].encrypted);
  EXPECT_EQ(m.keys[0].comment, "rsa-key-2024");
  EXPECT_EQ(m.keys[0].pub.spki_sha256, twin.keys[0].pub.spki_sha256);
}

TEST(Crypto, RealDropbearKey) {
  if (t::Run("command -v dropbearkey >/dev/null") != 0) GTEST_SKIP() << "no dropbearkey";
  t::TempDir dir;
  Gen(dir, "dropbearkey -t ed25519 -f dropbear_ed25519_host_key >/dev/null 2>&1");
  CryptoMaterial m = ScanOne(t::ReadFile(dir / "dropbear_ed25519_host_key"),
                             "/etc/dropbear/dropbear_ed25519_host_key");
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_EQ(m.keys[0].pub.type, "ED25519");
}

TEST(Crypto, ObjectLimitIsANote) {
  t::TempDir dir;
  std::string pem = Gen(dir,
                        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                        "-keyout /dev/null -subj /CN=x -days 30 2>/dev/null");
  std::string many;
  for (int i = 0; i < 10; ++i) many += pem;
  CryptoMaterial m;
  facts::CryptoLimits limits;
  limits.max_objects = 3;
  ScanBufferForCrypto(many, "/etc/ssl/bundle.pem", m, limits);
  EXPECT_EQ(m.certs.size(), 3u);
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_NE(m.notes[0].find("limit"), std::string::npos);
}

TEST(Crypto, RandomBytesNeverCrash) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    std::string junk = t::RandomBytes(4096, seed);
    junk.insert(seed * 100 % 4000, "-----BEGIN CERTIFICATE-----\nMIIB");
    junk.insert(seed * 37 % 4000,
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n"
                "-----END OPENSSH PRIVATE KEY-----\n");
    ScanOne(junk, "/etc/dropbear/dropbear_rsa_host_key");
    ScanOne(junk, "/etc/ssl/x.der");
  }
}

// ---- through a scan: the audit date comes from Env ----

TEST(Crypto, CertificateValidityIsJudgedAtThePinnedAuditDate) {
  t::TempDir dir;
  std::string tar = dir / "image.tar";
  ASSERT_EQ(t::PackSpec(std::string(FIRMWARDEN_SOURCE_DIR) + "/tests/checks/CERT-01.fires", tar),
            0);
  auto cert01 = [&](int64_t now) {
    Env env = Env::Fixed(now);
    ScanOptions o;
    o.env = &env;
    auto r = Scan(tar, o);
    EXPECT_TRUE(r);
    size_t n = 0;
    for (const Finding& f : r->findings) n += f.check_id == "CERT-01";
    return n;
  };
  EXPECT_EQ(cert01(1275350400), 0u);  // 2010-06-01: inside 2010-01-01 .. 2011-01-01
  EXPECT_EQ(cert01(1200000000), 1u);  // 2008: not yet valid
  EXPECT_EQ(cert01(1700000000), 1u);  // 2023: expired
}

}  // namespace
}  // namespace firmwarden
