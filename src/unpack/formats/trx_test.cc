#include <gtest/gtest.h>
#include <zlib.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::Sha256Hex;
using firmwarden::testing::SharedDir;

// Builds a TRX of `version` from partitions laid end to end after the header; `offsets`, when
// given, replaces the computed offsets (for hostile cases). The CRC is computed unless `crc` is.
std::string MakeTrx(int version, const std::vector<std::string>& parts,
                    std::optional<std::vector<uint32_t>> offsets = std::nullopt,
                    std::optional<uint32_t> len_override = std::nullopt) {
  const size_t nslots = version == 1 ? 3 : 4;
  const size_t hdr = 16 + 4 * nslots;
  std::string s(hdr, '\0');
  std::vector<uint32_t> offs;
  for (const std::string& p : parts) {
    offs.push_back(static_cast<uint32_t>(s.size()));
    s += p;
  }
  if (offsets) offs = *offsets;
  s.replace(0, 4, "HDR0");
  PutU32(s, 4, len_override.value_or(static_cast<uint32_t>(s.size())), false);
  PutU32(s, 12, (static_cast<uint32_t>(version) << 16) | 0x0001, false);
  for (size_t i = 0; i < nslots; ++i) PutU32(s, 16 + 4 * i, i < offs.size() ? offs[i] : 0, false);
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data() + 12), static_cast<uInt>(s.size() - 12)));
  PutU32(s, 8, ~crc, false);
  return s;
}

TEST(Trx, V1LoaderKernelRootfs) {
  std::string loader = RandomBytes(300, 1);
  std::string kernel = RandomBytes(1000, 2);
  std::string rootfs = "hsqs" + RandomBytes(500, 3);
  std::string trx = MakeTrx(1, {loader, kernel, rootfs});
  std::string blob = "W54G" + std::string(28, '\x11') + trx + std::string(64, '\xff');
  auto p = ParseWith("trx", blob, 32);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, trx.size());
  EXPECT_FALSE(p->truncated);
  EXPECT_TRUE(p->warnings.empty()) << p->warnings[0];
  EXPECT_EQ(Detail(*p, "version"), "1");
  EXPECT_EQ(Detail(*p, "flags"), "0x0001");
  ASSERT_EQ(p->children.size(), 3u);
  EXPECT_EQ(p->children[0].name, "loader");
  EXPECT_EQ(p->children[1].name, "kernel");
  EXPECT_EQ(p->children[2].name, "rootfs");
  EXPECT_EQ(Sha256Hex(BlobString(p->children[0].blob)), Sha256Hex(loader));
  EXPECT_EQ(Sha256Hex(BlobString(p->children[1].blob)), Sha256Hex(kernel));
  EXPECT_EQ(Sha256Hex(BlobString(p->children[2].blob)), Sha256Hex(rootfs));
  EXPECT_EQ(Detail(*p, "kernel_offset"), "0x148");  // 28 + 300

  Unpacked u = Info(blob);
  const Region* r = FindRegion(u.layout, "trx");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 32u);
  EXPECT_EQ(r->size, trx.size());
  EXPECT_EQ(r->children.size(), 3u);
}

TEST(Trx, V2FourUnnamedPartitions) {
  std::vector<std::string> parts = {RandomBytes(64, 4), RandomBytes(65, 5), RandomBytes(66, 6),
                                    RandomBytes(67, 7)};
  std::string trx = MakeTrx(2, parts);
  auto p = ParseWith("trx", trx);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(Detail(*p, "version"), "2");
  ASSERT_EQ(p->children.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(p->children[i].name, "part" + std::to_string(i));
    EXPECT_EQ(BlobString(p->children[i].blob), parts[i]);
  }
  EXPECT_EQ(Detail(*p, "part0_offset"), "0x20");
}

TEST(Trx, KernelAndRootfsWithEmptySlot) {
  std::string kernel = RandomBytes(200, 8);
  std::string rootfs = std::string("\x85\x19\x03\x20", 4) + RandomBytes(100, 9);  // jffs2 LE
  auto p = ParseWith("trx", MakeTrx(1, {kernel, rootfs}));
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->children.size(), 2u);
  EXPECT_EQ(p->children[0].name, "kernel");
  EXPECT_EQ(p->children[1].name, "rootfs");
  EXPECT_EQ(BlobString(p->children[1].blob), rootfs);
}

TEST(Trx, BadCrcIsAWarning) {
  std::string trx = MakeTrx(1, {RandomBytes(100, 10)});
  trx[50] ^= 0x40;
  auto p = ParseWith("trx", trx);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_NE(p->warnings[0].find("CRC mismatch"), std::string::npos);
}

TEST(Trx, TruncatedHeaderRejectedTruncatedBodyFlagged) {
  std::string trx = MakeTrx(1, {RandomBytes(100, 11), RandomBytes(100, 12)});
  for (size_t n = 0; n < 28; ++n) EXPECT_FALSE(ParseWith("trx", trx.substr(0, n)).has_value()) << n;
  for (size_t n = 28; n < trx.size(); n += 9) {
    auto p = ParseWith("trx", trx.substr(0, n));
    ASSERT_TRUE(p.has_value()) << n;
    EXPECT_TRUE(p->truncated);
    EXPECT_EQ(p->size, trx.size());
    for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), n);
  }
}

TEST(Trx, HostileOffsetsRejected) {
  std::vector<std::string> parts = {RandomBytes(100, 13), RandomBytes(100, 14),
                                    RandomBytes(100, 15)};
  // Past the length, inside the header, decreasing, equal (a zero-length loop), huge.
  for (const auto& offs : std::vector<std::vector<uint32_t>>{{28, 128, 5000},
                                                             {4, 128, 228},
                                                             {28, 228, 128},
                                                             {128, 128, 228},
                                                             {28, 0xFFFFFFF0, 0},
                                                             {0, 0, 0}}) {
    EXPECT_FALSE(ParseWith("trx", MakeTrx(1, parts, offs)).has_value())
        << offs[0] << "," << offs[1] << "," << offs[2];
  }
  // A length shorter than the header, a version that does not exist.
  EXPECT_FALSE(ParseWith("trx", MakeTrx(1, parts, std::nullopt, 20)).has_value());
  EXPECT_FALSE(ParseWith("trx", MakeTrx(3, parts)).has_value());
  // A length far past the data: accepted as truncated, partitions clamped to the data.
  auto p = ParseWith("trx", MakeTrx(1, parts, std::nullopt, 0xFFFFFFF0));
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->truncated);
  ASSERT_EQ(p->children.size(), 3u);
  EXPECT_EQ(p->children[2].blob.size(), 100u);
}

TEST(Trx, GarbageAfterMagicRejected) {
  for (uint64_t seed = 0; seed < 300; ++seed)
    EXPECT_FALSE(ParseWith("trx", "HDR0" + RandomBytes(400, seed)).has_value()) << seed;
}

TEST(Trx, BitFlipsNeverCrash) {
  std::string trx =
      MakeTrx(1, {RandomBytes(100, 16), RandomBytes(100, 17), "hsqs" + RandomBytes(90, 18)});
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::string m = FlipBits(trx, seed, 1 + seed % 3, 4);
    auto p = ParseWith("trx", m);
    if (p) {
      EXPECT_LE(p->children.size(), 3u);
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
    }
    Info(m);
  }
}

TEST(Trx, RealBrcm24Image) {
  std::string img = ReadFile(SharedDir() + "/corpora/firmware/openwrt-brcm-2.4-squashfs-2011.trx");
  if (img.empty()) GTEST_SKIP() << "corpus not available";
  auto p = ParseWith("trx", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, img.size());
  EXPECT_TRUE(p->warnings.empty());
  ASSERT_EQ(p->children.size(), 3u);
  EXPECT_EQ(p->children[0].name, "loader");
  EXPECT_EQ(p->children[1].name, "kernel");
  EXPECT_EQ(p->children[2].name, "rootfs");
  EXPECT_EQ(Detail(*p, "kernel_offset"), "0x904");
  EXPECT_EQ(Detail(*p, "rootfs_offset"), "0x7d400");
  EXPECT_EQ(p->children[2].blob.size(), img.size() - 0x7d400);
}

TEST(Trx, RealLinksysWrt54glAfterBinHeader) {
  std::string img =
      ReadFile(SharedDir() + "/corpora/firmware/linksys-wrt54gl-4.30.18.006-etsi.bin");
  if (img.empty()) GTEST_SKIP() << "corpus not available";
  Unpacked u = Info(img);
  // The TRX sits behind the 32-byte Linksys BIN header, which is its own chunk.
  const Region* bin = FindRegion(u.layout, "linksys_bin");
  ASSERT_NE(bin, nullptr);
  ASSERT_EQ(bin->children.size(), 1u);
  EXPECT_EQ(bin->children[0].offset_in_parent, 0x20u);
  const Region* r = FindRegion(bin->children[0], "trx");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->size, 0x35f000u);
  EXPECT_EQ(Detail(r->details, "rootfs_offset"), "0xb9a70");  // squashfs "shsq" at 0xb9a90
  ASSERT_EQ(r->children.size(), 2u);
  EXPECT_EQ(r->children[0].name, "kernel");
  EXPECT_NE(FindRegion(r->children[0], "gzip"), nullptr);
  for (const Diagnostic& d : u.diagnostics)
    EXPECT_EQ(d.message.find("TRX CRC"), std::string::npos) << d.message;
}

}  // namespace
}  // namespace firmwarden::unpack::testing
