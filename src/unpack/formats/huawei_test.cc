#include <gtest/gtest.h>
#include <zlib.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::SharedDir;

// A tclinux image: the 256-byte "2RDH" header, kernel, rootfs, optional romfile.
std::string MakeTclinux(const std::string& kernel, const std::string& rootfs,
                        const std::string& romfile = "", std::string_view model = "HG532e") {
  std::string h(0x100, '\0');
  h.replace(0, 4, "2RDH");
  PutU32(h, 4, 0x100, true);
  h.replace(0x10, 9, "V100R001C");
  PutU32(h, 0x50, static_cast<uint32_t>(kernel.size()), true);
  PutU32(h, 0x54, static_cast<uint32_t>(rootfs.size()), true);
  PutU32(h, 0x58, static_cast<uint32_t>(romfile.size()), true);
  h.replace(0x5c, model.size(), model);
  PutU32(h, 0x7c, 0x80002000, true);
  std::string body = kernel + rootfs + romfile;
  PutU32(h, 8, static_cast<uint32_t>(h.size() + body.size()), true);
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  PutU32(h, 12, ~crc, true);
  return h + body;
}

// The packet: 128 opaque bytes, a bootloader padded with 0xFF to 0x11080, the tclinux image,
// a 4-byte trailer.
std::string MakePacket(const std::string& tclinux) {
  std::string s = RandomBytes(0x80, 40) + RandomBytes(0x3000, 41);
  s.resize(0x11080, '\xff');
  return s + tclinux + "\x2b\x6e\xdb\xdd";
}

TEST(Huawei, PacketItems) {
  std::string kernel = RandomBytes(3000, 1);
  std::string rootfs = "hsqs" + RandomBytes(2000, 2);
  std::string pkt = MakePacket(MakeTclinux(kernel, rootfs));
  auto p = ParseWith("huawei", pkt);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, pkt.size());
  EXPECT_TRUE(p->warnings.empty()) << p->warnings[0];
  EXPECT_EQ(Detail(*p, "layout"), "Huawei upgrade packet");
  EXPECT_EQ(Detail(*p, "crc32_verified"), "yes");
  EXPECT_EQ(Detail(*p, "model"), "HG532e");
  EXPECT_EQ(Detail(*p, "version"), "V100R001C");
  EXPECT_EQ(Detail(*p, "trailer"), "0x2b6edbdd");
  EXPECT_EQ(Detail(*p, "kernel_offset"), "0x11180");
  ASSERT_EQ(p->children.size(), 3u);
  EXPECT_EQ(p->children[0].name, "bootloader");
  EXPECT_EQ(p->children[0].blob.size(), 0x11000u);
  EXPECT_EQ(BlobString(p->children[1].blob), kernel);
  EXPECT_EQ(BlobString(p->children[2].blob), rootfs);

  Unpacked u = Info(pkt);
  ASSERT_EQ(u.layout.regions.size(), 1u);
  EXPECT_EQ(u.layout.regions[0].format, "huawei");
}

TEST(Huawei, BareTclinuxWithRomfile) {
  std::string t = MakeTclinux(RandomBytes(100, 3), RandomBytes(200, 4), RandomBytes(50, 5), "");
  std::string img = RandomBytes(64, 6) + t;
  auto p = ParseWith("huawei", img, 64);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, t.size());
  EXPECT_EQ(Detail(*p, "layout"), "bare tclinux image");
  ASSERT_EQ(p->children.size(), 3u);
  EXPECT_EQ(p->children[2].name, "romfile");
  Unpacked u = Info(img);
  const Region* r = FindRegion(u.layout, "huawei");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 64u);
}

TEST(Huawei, CrcMismatchAndHostileLengths) {
  std::string t = MakeTclinux(RandomBytes(100, 7), RandomBytes(200, 8));
  std::string bad = t;
  bad[0x150] ^= 0x10;
  auto p = ParseWith("huawei", bad);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_NE(p->warnings[0].find("tclinux CRC mismatch"), std::string::npos);
  // Parts longer than the total, a header length out of range, no kernel.
  for (auto [at, v] : std::vector<std::pair<size_t, uint32_t>>{
           {0x50, 0xFFFFFFF0}, {0x54, 0x7FFFFFFF}, {4, 0x10}, {4, 0x100000}, {0x50, 0}}) {
    std::string h = t;
    PutU32(h, at, v, true);
    auto r = ParseWith("huawei", h);
    EXPECT_FALSE(r.has_value()) << at;
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  // A packet whose bootloader area does not end in padding is no packet.
  std::string pkt = MakePacket(t);
  pkt[0x1107F] = 0;
  auto q = ParseWith("huawei", pkt);
  EXPECT_FALSE(q.has_value());
}

TEST(Huawei, TruncationAndBitFlips) {
  std::string pkt = MakePacket(MakeTclinux(RandomBytes(900, 9), RandomBytes(900, 10)));
  for (size_t n = 0x11080; n < pkt.size(); n += 37) {
    auto p = ParseWith("huawei", pkt.substr(0, n));
    if (n < 0x11080 + 0x80) {
      EXPECT_FALSE(p.has_value()) << n;
      continue;
    }
    ASSERT_TRUE(p.has_value()) << n;
    if (n < pkt.size() - 4) {
      EXPECT_TRUE(p->truncated) << n;
    }
    for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), n);
  }
  for (uint64_t seed = 0; seed < 150; ++seed) {
    std::string m = FlipBits(pkt, seed, 1 + seed % 3, 0x11000);
    auto p = ParseWith("huawei", m);
    if (p) {
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
    }
    Info(m);
  }
}

TEST(Huawei, RealHg532ePacket) {
  std::string img =
      ReadFile(SharedDir() + "/corpora/firmware/huawei-hg532e-V100R001C01B020-upgrade.bin");
  if (img.empty()) GTEST_SKIP() << "corpus not available";
  auto p = ParseWith("huawei", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, img.size());  // every byte accounted for, trailer included
  EXPECT_TRUE(p->warnings.empty()) << p->warnings[0];
  EXPECT_EQ(Detail(*p, "crc32_verified"), "yes");
  EXPECT_EQ(Detail(*p, "tclinux_header_offset"), "0x11080");
  EXPECT_EQ(Detail(*p, "kernel_offset"), "0x11180");  // the README's LZMA kernel
  EXPECT_EQ(Detail(*p, "rootfs_offset"), "0xecef9");  // the README's squashfs
  ASSERT_NE(Child(*p, "rootfs"), nullptr);
  EXPECT_EQ(Detail(*p, "rootfs_size"), std::to_string(Child(*p, "rootfs")->blob.size()));
  Unpacked u = Info(img);
  ASSERT_EQ(u.layout.regions.size(), 1u);
  const Region& r = u.layout.regions[0];
  EXPECT_EQ(r.format, "huawei");
  const BlobLayout* kernel = FindChildLayout(r, "kernel");
  ASSERT_NE(kernel, nullptr);
  EXPECT_NE(FindRegion(*kernel, "lzma"), nullptr);
  const BlobLayout* rootfs = FindChildLayout(r, "rootfs");
  ASSERT_NE(rootfs, nullptr);
  EXPECT_EQ(rootfs->offset_in_parent, 0xecef9u);
}

}  // namespace
}  // namespace firmwarden::unpack::testing
