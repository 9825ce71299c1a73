#include <fmt/format.h>
#include <gtest/gtest.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::Sha256Hex;
using firmwarden::testing::SharedDir;

struct Fields {
  uint32_t version = 0x01000000;
  std::string vendor = "TP-LINK Technologies";
  std::string fw_version = "ver. 1.0";
  uint32_t hw_id = 0x07030101, hw_rev = 1;
  uint32_t fw_length = 0, kernel_ofs = 0x200, kernel_len = 0, rootfs_ofs = 0, rootfs_len = 0;
  uint32_t boot_ofs = 0, boot_len = 0;
  uint16_t ver[3] = {3, 16, 9};
};

std::string Header(const Fields& f) {
  std::string h(0x200, '\0');
  PutU32(h, 0, f.version, true);
  h.replace(4, f.vendor.size(), f.vendor);
  h.replace(0x1c, f.fw_version.size(), f.fw_version);
  PutU32(h, 0x40, f.hw_id, true);
  PutU32(h, 0x44, f.hw_rev, true);
  for (int i = 0; i < 16; ++i) h[0x4c + i] = static_cast<char>(0xa0 + i);
  PutU32(h, 0x74, 0x80002000, true);
  PutU32(h, 0x78, 0x801943b0, true);
  PutU32(h, 0x7c, f.fw_length, true);
  PutU32(h, 0x80, f.kernel_ofs, true);
  PutU32(h, 0x84, f.kernel_len, true);
  PutU32(h, 0x88, f.rootfs_ofs, true);
  PutU32(h, 0x8c, f.rootfs_len, true);
  PutU32(h, 0x90, f.boot_ofs, true);
  PutU32(h, 0x94, f.boot_len, true);
  for (int i = 0; i < 3; ++i) PutU16(h, 0x98 + 2 * i, f.ver[i], true);
  return h;
}

// header | kernel at 0x200 | rootfs at 0x2000 | padding to 0x3000
std::string Standard(const std::string& kernel, const std::string& rootfs, Fields f = {}) {
  f.fw_length = 0x3000;
  f.kernel_len = static_cast<uint32_t>(kernel.size());
  f.rootfs_ofs = 0x2000;
  f.rootfs_len = static_cast<uint32_t>(rootfs.size());
  std::string img = Header(f) + kernel;
  img.resize(0x2000, '\xff');
  img += rootfs;
  img.resize(0x3000, '\xff');
  return img;
}

TEST(TpLink, StandardImage) {
  std::string kernel = RandomBytes(3000, 1);
  std::string rootfs = "hsqs" + RandomBytes(2000, 2);
  std::string img = Standard(kernel, rootfs);
  std::string blob = std::string(0x40, '\x12') + img + "trailing";
  auto p = ParseWith("tplink", blob, 0x40);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, 0x3000u);
  EXPECT_FALSE(p->truncated);
  EXPECT_TRUE(p->warnings.empty());
  EXPECT_EQ(Detail(*p, "header_version"), "1");
  EXPECT_EQ(Detail(*p, "vendor"), "TP-LINK Technologies");
  EXPECT_EQ(Detail(*p, "firmware_version"), "ver. 1.0");
  EXPECT_EQ(Detail(*p, "hardware_id"), "0x07030101");
  EXPECT_EQ(Detail(*p, "hardware_revision"), "1");
  EXPECT_EQ(Detail(*p, "version"), "3.16.9");
  EXPECT_EQ(Detail(*p, "kernel_load_address"), "0x80002000");
  EXPECT_EQ(Detail(*p, "kernel_entry_point"), "0x801943b0");
  EXPECT_EQ(Detail(*p, "md5_1"), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  EXPECT_EQ(Detail(*p, "kernel_offset"), "0x200");
  EXPECT_EQ(Detail(*p, "rootfs_offset"), "0x2000");
  ASSERT_EQ(p->children.size(), 2u);
  EXPECT_EQ(p->children[0].name, "kernel");
  EXPECT_EQ(p->children[1].name, "rootfs");
  EXPECT_EQ(Sha256Hex(BlobString(p->children[0].blob)), Sha256Hex(kernel));
  EXPECT_EQ(Sha256Hex(BlobString(p->children[1].blob)), Sha256Hex(rootfs));

  Unpacked u = Info(blob);
  const Region* r = FindRegion(u.layout, "tplink");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0x40u);
  EXPECT_EQ(r->size, 0x3000u);
}

TEST(TpLink, VersionTwoAndOpenWrtVendor) {
  Fields f;
  f.version = 0x02000000;
  f.vendor = "OpenWrt";
  f.fw_version = "r49630";
  auto p = ParseWith("tplink", Standard(RandomBytes(100, 3), "hsqs", f));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(Detail(*p, "header_version"), "2");
  EXPECT_EQ(Detail(*p, "vendor"), "OpenWrt");
  // And the signature database finds it.
  Unpacked u = Info(Standard(RandomBytes(100, 3), "hsqs", f));
  EXPECT_NE(FindRegion(u.layout, "tplink"), nullptr);
}

TEST(TpLink, CombinedLayoutRootfsFollowsKernel) {
  // OpenWrt factory images: the header names the flash offset of the rootfs, the file has it right
  // after the kernel.
  Fields f;
  f.vendor = "OpenWrt";
  std::string kernel = RandomBytes(0x1234, 4);
  std::string rootfs = "hsqs" + RandomBytes(0x800, 5);
  f.fw_length = 0x4000;
  f.kernel_len = static_cast<uint32_t>(kernel.size());
  f.rootfs_ofs = 0x3000;
  f.rootfs_len = static_cast<uint32_t>(rootfs.size());
  std::string img = Header(f) + kernel + rootfs;
  img.resize(0x4000, '\0');
  auto p = ParseWith("tplink", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(Detail(*p, "rootfs_offset"), "0x1434");
  EXPECT_EQ(Detail(*p, "layout"), "combined (rootfs follows the kernel)");
  const SubBlob* rf = Child(*p, "rootfs");
  ASSERT_NE(rf, nullptr);
  EXPECT_EQ(Sha256Hex(BlobString(rf->blob)), Sha256Hex(rootfs));
}

TEST(TpLink, UpBootImageWithInnerHeader) {
  std::string boot = RandomBytes(0x5000, 6);
  std::string kernel = RandomBytes(3000, 7);
  std::string rootfs = "hsqs" + RandomBytes(2000, 8);
  std::string inner = Standard(kernel, rootfs);  // 0x3000 bytes
  Fields outer;
  outer.fw_length = 0x200 + 0x10000 + 0x3000;
  outer.kernel_len = static_cast<uint32_t>(kernel.size());
  outer.rootfs_ofs = 0x2000;
  outer.rootfs_len = static_cast<uint32_t>(rootfs.size());
  outer.boot_len = static_cast<uint32_t>(boot.size());
  std::string img = Header(outer) + boot;
  img.resize(0x200 + 0x10000, '\xff');
  img += inner;
  auto p = ParseWith("tplink", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, img.size());
  EXPECT_EQ(Detail(*p, "inner_header_offset"), "0x10200");
  EXPECT_EQ(Detail(*p, "kernel_offset"), "0x10400");
  EXPECT_EQ(Detail(*p, "rootfs_offset"), "0x12200");
  ASSERT_EQ(p->children.size(), 3u);
  EXPECT_EQ(p->children[0].name, "bootloader");
  EXPECT_EQ(Sha256Hex(BlobString(p->children[0].blob)), Sha256Hex(boot));
  EXPECT_EQ(Sha256Hex(BlobString(Child(*p, "kernel")->blob)), Sha256Hex(kernel));
  EXPECT_EQ(Sha256Hex(BlobString(Child(*p, "rootfs")->blob)), Sha256Hex(rootfs));
}

TEST(TpLink, InvalidHeadersRejected) {
  std::string kernel = RandomBytes(100, 9);
  auto reject = [&](Fields f, const char* why) {
    std::string img = Standard(kernel, "hsqs", f);
    // Standard() fills in lengths; re-apply the hostile values after it.
    EXPECT_FALSE(ParseWith("tplink", img).has_value()) << why;
  };
  Fields f;
  f.version = 0x03000000;
  reject(f, "version 3");
  f = {};
  f.vendor = std::string("TP\x01LINK", 7);
  reject(f, "unprintable vendor");
  f = {};
  f.vendor = "";
  reject(f, "empty vendor");

  auto with = [&](size_t field, uint32_t v) {
    std::string img = Standard(kernel, "hsqs");
    PutU32(img, field, v, true);
    return ParseWith("tplink", img);
  };
  EXPECT_FALSE(with(0x80, 0x10).has_value()) << "kernel inside the header";
  EXPECT_FALSE(with(0x84, 0).has_value()) << "empty kernel";
  EXPECT_FALSE(with(0x84, 0x3000).has_value()) << "kernel past fw_length";
  EXPECT_FALSE(with(0x80, 0xFFFFFFFF).has_value()) << "kernel offset overflow";
  EXPECT_FALSE(with(0x88, 0xFFFFFF00).has_value()) << "rootfs past fw_length";
  EXPECT_FALSE(with(0x8c, 0x1001).has_value()) << "rootfs length past fw_length";
  EXPECT_FALSE(with(0x7c, 0x100).has_value()) << "fw_length shorter than the header";
  EXPECT_FALSE(with(0x94, 0x4000).has_value()) << "bootloader past fw_length";
  EXPECT_FALSE(with(0x100, 0x12345678).has_value()) << "padding not zero";
}

TEST(TpLink, TruncationAndLengthPastEnd) {
  std::string img = Standard(RandomBytes(3000, 10), "hsqs" + RandomBytes(100, 11));
  for (size_t n = 0; n < 0x200; n += 5)
    EXPECT_FALSE(ParseWith("tplink", img.substr(0, n)).has_value()) << n;
  for (size_t n = 0x200; n < img.size(); n += 0x1f3) {
    auto p = ParseWith("tplink", img.substr(0, n));
    ASSERT_TRUE(p.has_value()) << n;
    EXPECT_TRUE(p->truncated);
    EXPECT_EQ(p->size, 0x3000u);
    for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), n);
  }
}

TEST(TpLink, GarbageAfterMagicRejected) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string g = std::string("\x01\x00\x00\x00TP-LINK", 11) + RandomBytes(0x300, seed);
    EXPECT_FALSE(ParseWith("tplink", g).has_value()) << seed;
  }
}

TEST(TpLink, BitFlipsNeverCrash) {
  Fields outer;
  std::string inner = Standard(RandomBytes(300, 12), "hsqs" + RandomBytes(50, 13));
  outer.fw_length = 0x200 + 0x10000 + 0x3000;
  outer.kernel_len = 300;
  outer.rootfs_ofs = 0x2000;
  outer.rootfs_len = 54;
  outer.boot_len = 0x100;
  std::string img = Header(outer) + RandomBytes(0x100, 14);
  img.resize(0x10200, '\xff');
  img += inner;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string m = FlipBits(img.substr(0, 0x200), seed, 1 + seed % 3, 11) + img.substr(0x200);
    auto p = ParseWith("tplink", m);
    if (p) {
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
    }
  }
  for (uint64_t seed = 0; seed < 20; ++seed) Info(FlipBits(img, seed, 8, 11));
}

struct RealCase {
  const char* file;
  const char* vendor;
  const char* fw_version;
  const char* hw_id;
  const char* version;  // "" when the header has none
  uint64_t kernel_ofs, kernel_len, rootfs_ofs, rootfs_len;
  bool bootloader;
};

class TpLinkReal : public ::testing::TestWithParam<RealCase> {};

TEST_P(TpLinkReal, HeaderAndPartitions) {
  const RealCase& c = GetParam();
  std::string img = ReadFile(SharedDir() + "/corpora/firmware/" + c.file);
  if (img.empty()) GTEST_SKIP() << c.file << " not available";
  Unpacked u = Info(img);
  const Region* r = FindRegion(u.layout, "tplink");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->size, img.size());
  EXPECT_EQ(Detail(r->details, "vendor"), c.vendor);
  EXPECT_EQ(Detail(r->details, "firmware_version"), c.fw_version);
  EXPECT_EQ(Detail(r->details, "hardware_id"), c.hw_id);
  if (*c.version) {
    EXPECT_EQ(Detail(r->details, "version"), c.version);
  }
  EXPECT_EQ(Detail(r->details, "kernel_offset"), fmt::format("0x{:x}", c.kernel_ofs));
  EXPECT_EQ(Detail(r->details, "kernel_size"), std::to_string(c.kernel_len));
  EXPECT_EQ(Detail(r->details, "rootfs_offset"), fmt::format("0x{:x}", c.rootfs_ofs));
  EXPECT_EQ(Detail(r->details, "rootfs_size"), std::to_string(c.rootfs_len));
  const BlobLayout* kernel = FindChildLayout(*r, "kernel");
  const BlobLayout* rootfs = FindChildLayout(*r, "rootfs");
  ASSERT_NE(kernel, nullptr);
  ASSERT_NE(rootfs, nullptr);
  EXPECT_EQ(kernel->size, c.kernel_len);
  EXPECT_EQ(rootfs->size, c.rootfs_len);
  EXPECT_EQ(FindChildLayout(*r, "bootloader") != nullptr, c.bootloader);
  // The kernel starts with an LZMA header (properties 0x5d or 0x6d), the rootfs with squashfs.
  uint8_t lzma_props = static_cast<uint8_t>(img[c.kernel_ofs]);
  EXPECT_TRUE(lzma_props == 0x5d || lzma_props == 0x6d) << std::hex << int(lzma_props);
  EXPECT_EQ(img.substr(c.rootfs_ofs, 4), "hsqs");
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, TpLinkReal,
    ::testing::Values(
        RealCase{"openwrt-12.09.2-aa-ar71xx-tl-wr703n-v1-factory.bin", "OpenWrt", "r42647",
                 "0x07030101", "", 0x200, 0xECE44, 0xED044, 0x200112, false},
        RealCase{"tplink-tl-wr841n-v10-3.16.9-150310-up_boot.bin", "TP-LINK Technologies",
                 "ver. 1.0", "0x08410010", "3.16.9", 0x20400, 0xB9E0E, 0x120200, 0x2C0000, true},
        RealCase{"fact-testvec-tplink-mr3020-stubrootfs.bin", "TP-LINK Technologies", "ver. 1.0",
                 "0x30200001", "3.17.2", 0x20400, 0xD9E1A, 0x120200, 0x1000, true}),
    [](const ::testing::TestParamInfo<RealCase>& info) {
      return "Image" + std::to_string(info.index);
    });

}  // namespace
}  // namespace firmwarden::unpack::testing
