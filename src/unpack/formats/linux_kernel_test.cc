#include <gtest/gtest.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;

void PutU64le(std::string& s, size_t at, uint64_t v) {
  PutU32(s, at, static_cast<uint32_t>(v), false);
  PutU32(s, at + 4, static_cast<uint32_t>(v >> 32), false);
}

std::string ZImage(size_t size, bool be, bool flag = true) {
  std::string s = RandomBytes(size, 1);
  for (size_t i = 0; i < 0x24; i += 4) PutU32(s, i, 0xE1A00000, be);  // mov r0, r0
  PutU32(s, 0x24, 0x016F2818, be);
  PutU32(s, 0x28, 0, be);
  PutU32(s, 0x2C, static_cast<uint32_t>(size), be);
  PutU32(s, 0x30, flag ? 0x04030201 : 0xDEADBEEF, be);
  return s;
}

TEST(LinuxKernel, ArmZImageBothByteOrders) {
  for (bool be : {false, true}) {
    std::string z = ZImage(0x3000, be);
    std::string blob = std::string(0x100, '\0') + z + RandomBytes(500, 2);
    auto p = ParseWith("linux_kernel", blob, 0x100);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(p->size, 0x3000u);
    EXPECT_FALSE(p->truncated);
    EXPECT_EQ(Detail(*p, "type"), "ARM zImage");
    EXPECT_EQ(Detail(*p, "endianness"), be ? "big" : "little");
    EXPECT_TRUE(p->children.empty());
    Unpacked u = Info(blob);
    const Region* r = FindRegion(u.layout, "linux_kernel");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->offset, 0x100u);
    EXPECT_EQ(r->size, 0x3000u);
  }
}

TEST(LinuxKernel, ArmZImageImplausible) {
  std::string z = ZImage(0x3000, false);
  std::string bad = z;
  PutU32(bad, 0x28, 0x5000, false);  // end before start
  EXPECT_FALSE(ParseWith("linux_kernel", bad).has_value());
  bad = z;
  PutU32(bad, 0x2C, 0x20, false);  // tiny
  EXPECT_FALSE(ParseWith("linux_kernel", bad).has_value());
  // Longer than the data: truncated with the endianness flag, rejected without it.
  auto p = ParseWith("linux_kernel", z.substr(0, 0x2000));
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->truncated);
  EXPECT_FALSE(ParseWith("linux_kernel", ZImage(0x3000, false, false).substr(0, 0x2000)));
  EXPECT_TRUE(ParseWith("linux_kernel", ZImage(0x3000, false, false)).has_value());
}

std::string Arm64Image(uint64_t image_size, size_t file_size, bool pe) {
  std::string s = RandomBytes(file_size, 3);
  s.replace(0, 0x40, std::string(0x40, '\0'));
  PutU32(s, 0, pe ? 0xFA405A4D : 0x14000010, false);  // "MZ@\xfa" for EFI-stub kernels
  PutU64le(s, 0x08, 0x80000);
  PutU64le(s, 0x10, image_size);
  PutU64le(s, 0x18, 0x0A);
  s.replace(0x38, 4, "ARM\x64");
  if (pe) {
    const uint32_t pe_off = 0x40;
    PutU32(s, 0x3C, pe_off, false);
    std::string hdr(24 + 0xA0 + 2 * 40, '\0');
    hdr.replace(0, 4, std::string("PE\0\0", 4));
    PutU16(hdr, 4, 0xAA64, false);
    PutU16(hdr, 6, 2, false);      // sections
    PutU16(hdr, 20, 0xA0, false);  // optional header size
    size_t t = 24 + 0xA0;
    hdr.replace(t, 5, ".text");
    PutU32(hdr, t + 16, 0x1000, false);  // raw size
    PutU32(hdr, t + 20, 0x200, false);   // raw pointer
    hdr.replace(t + 40, 5, ".data");
    PutU32(hdr, t + 40 + 16, 0x800, false);
    PutU32(hdr, t + 40 + 20, 0x1200, false);
    s.replace(pe_off, hdr.size(), hdr);
  }
  return s;
}

TEST(LinuxKernel, Arm64ImageSizeFromPeSections) {
  std::string img = Arm64Image(0x100000, 0x1A00 + 0x300, true);
  auto p = ParseWith("linux_kernel", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, 0x1A00u);
  EXPECT_EQ(Detail(*p, "type"), "ARM64 Image");
  EXPECT_EQ(Detail(*p, "endianness"), "little");
  EXPECT_EQ(Detail(*p, "image_size"), std::to_string(0x100000));
  EXPECT_EQ(Detail(*p, "size_from"), "EFI stub PE sections");
}

TEST(LinuxKernel, Arm64ImageWithoutPeUsesImageSize) {
  auto p = ParseWith("linux_kernel", Arm64Image(0x1800, 0x2000, false));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, 0x1800u);
  // image_size counts BSS: a file shorter than it is not reported as truncated.
  p = ParseWith("linux_kernel", Arm64Image(0x100000, 0x2000, false));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->size, 0x2000u);
  EXPECT_FALSE(p->truncated);
  std::string bad = Arm64Image(0x1800, 0x2000, false);
  bad[0x21] = 1;  // reserved field
  EXPECT_FALSE(ParseWith("linux_kernel", bad).has_value());
}

std::string BzImage(uint32_t syssize, size_t file_size) {
  std::string s = RandomBytes(file_size, 4);
  s[0x1F1] = 0;  // setup_sects 0 means 4
  PutU32(s, 0x1F4, syssize, false);
  PutU16(s, 0x1FE, 0xAA55, false);
  s.replace(0x202, 4, "HdrS");
  PutU16(s, 0x206, 0x020F, false);
  PutU16(s, 0x20E, 0x300, false);
  s[0x211] = 1;
  std::string ver = std::string("6.1.0-test (builder@host) #1 SMP\0", 34);
  s.replace(0x500, ver.size(), ver);
  return s;
}

TEST(LinuxKernel, X86BzImage) {
  std::string k = BzImage(0x100, 5 * 512 + 0x1000);
  auto p = ParseWith("linux_kernel", k + RandomBytes(100, 5));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, 5u * 512 + 0x1000);
  EXPECT_EQ(Detail(*p, "type"), "x86 bzImage");
  EXPECT_EQ(Detail(*p, "boot_protocol"), "2.15");
  EXPECT_EQ(Detail(*p, "setup_sectors"), "4");
  EXPECT_EQ(Detail(*p, "version"), "6.1.0-test (builder@host) #1 SMP");
  Unpacked u = Info("PAD!" + k);
  const Region* r = FindRegion(u.layout, "linux_kernel");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 4u);
  std::string bad = k;
  PutU16(bad, 0x1FE, 0, false);
  EXPECT_FALSE(ParseWith("linux_kernel", bad).has_value());
  bad = k;
  PutU16(bad, 0x206, 0x0103, false);
  EXPECT_FALSE(ParseWith("linux_kernel", bad).has_value());
}

TEST(LinuxKernel, GarbageTruncationAndBitFlips) {
  // Random data with each signature in place must not be claimed.
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::string g = RandomBytes(0x600, seed);
    std::string z = g, a = g, x = g;
    z.replace(0x24, 4, "\x18\x28\x6f\x01");
    a.replace(0x38, 4, "ARM\x64");
    x.replace(0x202, 4, "HdrS");
    EXPECT_FALSE(ParseWith("linux_kernel", z).has_value()) << seed;
    EXPECT_FALSE(ParseWith("linux_kernel", a).has_value()) << seed;
    EXPECT_FALSE(ParseWith("linux_kernel", x).has_value()) << seed;
  }
  for (const std::string& k :
       {ZImage(0x2000, false), Arm64Image(0x1000, 0x1A00, true), BzImage(0x40, 0x1000)}) {
    for (size_t n = 0; n < 0x240; n += 3) (void)ParseWith("linux_kernel", k.substr(0, n));
    for (uint64_t seed = 0; seed < 200; ++seed) {
      std::string m = FlipBits(k.substr(0, 0x300), seed, 1 + seed % 3) + k.substr(0x300);
      auto p = ParseWith("linux_kernel", m);
      if (p) {
        EXPECT_LE(p->size, 256u << 20);
      }
    }
  }
}

}  // namespace
}  // namespace firmwarden::unpack::testing
