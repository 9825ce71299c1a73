#include <gtest/gtest.h>
#include <zlib.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::SharedDir;

std::string MakeTrx(const std::string& kernel, const std::string& rootfs) {
  std::string s(28, '\0');
  s.replace(0, 4, "HDR0");
  PutU32(s, 12, 0x00010000, false);
  PutU32(s, 16, 28, false);
  PutU32(s, 20, static_cast<uint32_t>(28 + kernel.size()), false);
  s += kernel + rootfs;
  PutU32(s, 4, static_cast<uint32_t>(s.size()), false);
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data() + 12), static_cast<uInt>(s.size() - 12)));
  PutU32(s, 8, ~crc, false);
  return s;
}

// The 32-byte code pattern: model, reserved, date (yy mm dd), version, id, hw version, flags.
std::string MakeBinHeader(std::string_view model, uint8_t yy, uint8_t mm, uint8_t dd) {
  std::string h(32, '\0');
  h.replace(0, 4, model);
  h[8] = static_cast<char>(yy);
  h[9] = static_cast<char>(mm);
  h[10] = static_cast<char>(dd);
  h[11] = 4;
  h[12] = 30;
  h[13] = 18;
  h.replace(14, 4, "U2ND");
  h[18] = 1;
  h[20] = 0x1f;
  return h;
}

TEST(LinksysBin, HeaderFieldsAndTrxChild) {
  std::string trx = MakeTrx(RandomBytes(500, 1), "hsqs" + RandomBytes(300, 2));
  std::string img = MakeBinHeader("W54G", 16, 1, 8) + trx + std::string(100, '\0');
  auto p = ParseWith("linksys_bin", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, 32 + trx.size());
  EXPECT_EQ(Detail(*p, "model"), "W54G");
  EXPECT_EQ(Detail(*p, "id"), "U2ND");
  EXPECT_EQ(Detail(*p, "date"), "2016-01-08");
  EXPECT_EQ(Detail(*p, "version"), "4.30.18");
  EXPECT_EQ(Detail(*p, "hardware_version"), "1");
  ASSERT_EQ(p->children.size(), 1u);
  EXPECT_EQ(BlobString(p->children[0].blob), trx);

  Unpacked u = Info(img);
  const Region* r = FindRegion(u.layout, "linksys_bin");
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->children.size(), 1u);
  EXPECT_NE(FindRegion(r->children[0], "trx"), nullptr);
}

TEST(LinksysBin, NotAHeaderRejected) {
  std::string trx = MakeTrx(RandomBytes(100, 3), RandomBytes(100, 4));
  // Binary magic, an impossible date, a TRX length shorter than its header.
  EXPECT_FALSE(ParseWith("linksys_bin", std::string(32, '\x01') + trx).has_value());
  EXPECT_FALSE(ParseWith("linksys_bin", MakeBinHeader("W54G", 16, 13, 8) + trx).has_value());
  EXPECT_FALSE(ParseWith("linksys_bin", MakeBinHeader("W54G", 16, 1, 0) + trx).has_value());
  std::string bad = MakeBinHeader("W54G", 16, 1, 8) + trx;
  PutU32(bad, 36, 8, false);
  EXPECT_FALSE(ParseWith("linksys_bin", bad).has_value());
  // A TRX that follows other data by chance is still found on its own.
  Unpacked u = Info(std::string(32, '\x01') + trx);
  EXPECT_EQ(FindRegion(u.layout, "linksys_bin"), nullptr);
  EXPECT_NE(FindRegion(u.layout, "trx"), nullptr);
}

TEST(LinksysBin, TruncationAndBitFlips) {
  std::string img =
      MakeBinHeader("WR54", 9, 12, 31) + MakeTrx(RandomBytes(400, 5), RandomBytes(300, 6));
  for (size_t n = 0; n < 40; ++n)
    EXPECT_FALSE(ParseWith("linksys_bin", img.substr(0, n)).has_value()) << n;
  for (size_t n = 40; n < img.size(); n += 31) {
    auto p = ParseWith("linksys_bin", img.substr(0, n));
    ASSERT_TRUE(p.has_value()) << n;
    EXPECT_TRUE(p->truncated);
    EXPECT_FALSE(Info(img.substr(0, n)).Clean()) << n;
  }
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string m = FlipBits(img, seed, 1 + seed % 3);
    auto p = ParseWith("linksys_bin", m);
    if (p) {
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
    }
    Info(m);
  }
}

TEST(LinksysBin, RealWrt54gl) {
  std::string img =
      ReadFile(SharedDir() + "/corpora/firmware/linksys-wrt54gl-4.30.18.006-etsi.bin");
  if (img.empty()) GTEST_SKIP() << "corpus not available";
  Unpacked u = Info(img);
  const Region* r = FindRegion(u.layout, "linksys_bin");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(Detail(r->details, "model"), "W54G");
  EXPECT_EQ(Detail(r->details, "version"), "4.30.18");  // the file name's version
  EXPECT_EQ(Detail(r->details, "date"), "2016-01-08");  // and its date (…_20160108.bin)
  ASSERT_EQ(r->children.size(), 1u);
  const Region* trx = FindRegion(r->children[0], "trx");
  ASSERT_NE(trx, nullptr);
  EXPECT_EQ(r->size, 32 + trx->size);
}

}  // namespace
}  // namespace firmwarden::unpack::testing
