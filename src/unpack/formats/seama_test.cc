#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;

std::string Md5(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), n);
}

// SEAMA from its description: magic, reserved 0, meta size, image size (big-endian), the MD5 of
// the image when there is one, the meta data, the image.
std::string MakeSeama(const std::string& meta, const std::string& image) {
  std::string s = std::string("\x5E\xA3\xA4\x17", 4);
  PutU16(s, 4, 0, true);
  PutU16(s, 6, static_cast<uint16_t>(meta.size()), true);
  PutU32(s, 8, static_cast<uint32_t>(image.size()), true);
  if (!image.empty()) s += Md5(image);
  return s + meta + image;
}

constexpr char kMetaText[] = "dev=/dev/mtdblock/2\0type=firmware\0signature=wrgn23_dlob\0";
const std::string kMeta(kMetaText, sizeof kMetaText - 1);

TEST(Seama, MetaDigestAndImage) {
  std::string image = "HDR0" + RandomBytes(3000, 1);
  std::string s = MakeSeama(kMeta, image);
  auto p = ParseWith("seama", s + std::string(10, '\xff'));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, s.size());
  EXPECT_TRUE(p->warnings.empty()) << p->warnings[0];
  EXPECT_EQ(Detail(*p, "meta_signature"), "wrgn23_dlob");
  EXPECT_EQ(Detail(*p, "meta_type"), "firmware");
  EXPECT_EQ(Detail(*p, "md5_verified"), "yes");
  ASSERT_EQ(p->children.size(), 1u);
  EXPECT_EQ(BlobString(p->children[0].blob), image);
}

TEST(Seama, SealThenImage) {
  std::string inner = MakeSeama(kMeta, RandomBytes(500, 2));
  std::string seal = MakeSeama(std::string("signature=wrgn23_dlob\0", 22), "");
  std::string img = seal + inner;
  auto p = ParseWith("seama", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, seal.size());
  EXPECT_EQ(Detail(*p, "kind"), "seal (no image)");
  EXPECT_TRUE(p->children.empty());
  Unpacked u = Info(img);
  size_t n = 0;
  for (const Region& r : u.layout.regions) n += r.format == "seama";
  EXPECT_EQ(n, 2u);
}

TEST(Seama, Md5MismatchIsAWarning) {
  std::string s = MakeSeama(kMeta, RandomBytes(1000, 3));
  s[s.size() - 10] ^= 0x20;
  auto p = ParseWith("seama", s);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_NE(p->warnings[0].find("SEAMA MD5 mismatch"), std::string::npos);
  Unpacked u = Info(s);
  EXPECT_FALSE(u.Clean());
}

TEST(Seama, HostileHeaders) {
  std::string s = MakeSeama(kMeta, RandomBytes(100, 4));
  std::string m = s;
  PutU16(m, 4, 1, true);  // reserved not zero
  EXPECT_FALSE(ParseWith("seama", m).has_value());
  m = s;
  m[12 + 16 + 3] = '\x01';  // binary meta data
  EXPECT_FALSE(ParseWith("seama", m).has_value());
  m = s;
  PutU32(m, 8, 0xFFFFFFFF, true);  // image far past the data: truncated, MD5 not checked
  auto p = ParseWith("seama", m);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->truncated);
  for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
}

TEST(Seama, TruncationAndBitFlips) {
  std::string s = MakeSeama(kMeta, RandomBytes(700, 5));
  for (size_t n = 0; n < s.size(); n += 7) {
    auto p = ParseWith("seama", s.substr(0, n));
    if (n < 12) {
      EXPECT_FALSE(p.has_value());
      continue;
    }
    if (!p) continue;  // meta cut inside a string can still be text
    EXPECT_TRUE(p->truncated) << n;
    for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), n);
    EXPECT_FALSE(Info(s.substr(0, n)).Clean()) << n;
  }
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string m = FlipBits(s, seed, 1 + seed % 3, 4);
    auto p = ParseWith("seama", m);
    if (p) {
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
    }
    Info(m);
  }
}

}  // namespace
}  // namespace firmwarden::unpack::testing
