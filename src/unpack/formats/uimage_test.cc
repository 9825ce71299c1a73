#include <gtest/gtest.h>
#include <zlib.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::Sh;
using firmwarden::testing::Sha256Hex;
using firmwarden::testing::SharedDir;
using firmwarden::testing::TempDir;
using firmwarden::testing::WriteFile;

uint32_t Crc(std::string_view s) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// A uImage built by hand, for the cases mkimage will not produce.
std::string MakeUImage(std::string_view data, uint8_t type, uint8_t comp, std::string_view name,
                       uint32_t declared_size = UINT32_MAX) {
  std::string h(64, '\0');
  PutU32(h, 0, 0x27051956, true);
  PutU32(h, 8, 1600000000, true);
  PutU32(h, 12, declared_size == UINT32_MAX ? data.size() : declared_size, true);
  PutU32(h, 16, 0x80000000, true);
  PutU32(h, 20, 0x80000400, true);
  PutU32(h, 24, Crc(data), true);
  h[28] = 5;  // linux
  h[29] = 5;  // mips
  h[30] = static_cast<char>(type);
  h[31] = static_cast<char>(comp);
  h.replace(32, std::min<size_t>(name.size(), 32), name.substr(0, 32));
  PutU32(h, 4, Crc(h), true);
  return h + std::string(data);
}

bool HaveMkimage() { return Shell("command -v mkimage >/dev/null 2>&1") == 0; }

TEST(UImage, MkimageGzipKernel) {
  if (!HaveMkimage()) GTEST_SKIP() << "mkimage (u-boot-tools) not installed";
  TempDir dir;
  std::string raw = RandomBytes(5000, 1) + std::string(3000, 'A');
  WriteFile(dir / "k.bin", raw);
  ASSERT_EQ(Shell("gzip -n -9 -c " + Sh(dir / "k.bin") + " > " + Sh(dir / "k.gz")), 0);
  ASSERT_EQ(Shell("SOURCE_DATE_EPOCH=1600000000 mkimage -A mips -O linux -T kernel -C gzip "
                  "-a 0x80060000 -e 0x80060400 -n 'Test Kernel 1.0' -d " +
                  Sh(dir / "k.gz") + " " + Sh(dir / "k.img") + " >/dev/null"),
            0);
  std::string gz = ReadFile(dir / "k.gz");
  std::string img = ReadFile(dir / "k.img");
  // Embed it at an offset, with trailing junk, to check the chunk is measured, not assumed.
  std::string blob = std::string(100, '\xff') + img + std::string(50, '\0');
  auto p = ParseWith("uimage", blob, 100);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, 64 + gz.size());
  EXPECT_FALSE(p->truncated);
  EXPECT_TRUE(p->warnings.empty());
  EXPECT_EQ(Detail(*p, "name"), "Test Kernel 1.0");
  EXPECT_EQ(Detail(*p, "os"), "linux");
  EXPECT_EQ(Detail(*p, "arch"), "mips");
  EXPECT_EQ(Detail(*p, "type"), "kernel");
  EXPECT_EQ(Detail(*p, "compression"), "gzip");
  EXPECT_EQ(Detail(*p, "load_address"), "0x80060000");
  EXPECT_EQ(Detail(*p, "entry_point"), "0x80060400");
  EXPECT_EQ(Detail(*p, "timestamp"), "2020-09-13 12:26:40 UTC");
  ASSERT_EQ(p->children.size(), 1u);
  EXPECT_EQ(p->children[0].name, "payload");
  EXPECT_EQ(Sha256Hex(BlobString(p->children[0].blob)), Sha256Hex(gz));

  // Through the engine: the payload is scanned again and the gzip handler inflates it.
  Unpacked u = Info(blob);
  const Region* r = FindRegion(u.layout, "uimage");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 100u);
  EXPECT_EQ(r->size, 64 + gz.size());
  const BlobLayout* payload = FindChildLayout(*r, "payload");
  ASSERT_NE(payload, nullptr);
  const Region* g = FindRegion(*payload, "gzip");
  ASSERT_NE(g, nullptr);
  ASSERT_EQ(g->children.size(), 1u);
  EXPECT_EQ(g->children[0].size, raw.size());
}

TEST(UImage, MkimageMultiFile) {
  if (!HaveMkimage()) GTEST_SKIP() << "mkimage (u-boot-tools) not installed";
  TempDir dir;
  std::string a = RandomBytes(1001, 2), b = RandomBytes(333, 3), c = RandomBytes(64, 4);
  WriteFile(dir / "a", a);
  WriteFile(dir / "b", b);
  WriteFile(dir / "c", c);
  ASSERT_EQ(Shell("SOURCE_DATE_EPOCH=1600000000 mkimage -A arm -O linux -T multi -C none -a 0 -e 0 "
                  "-n multi -d " +
                  Sh(dir / "a") + ":" + Sh(dir / "b") + ":" + Sh(dir / "c") + " " +
                  Sh(dir / "m.img") + " >/dev/null"),
            0);
  std::string img = ReadFile(dir / "m.img");
  auto p = ParseWith("uimage", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, img.size());
  EXPECT_EQ(Detail(*p, "type"), "multi");
  EXPECT_EQ(Detail(*p, "arch"), "arm");
  EXPECT_EQ(Detail(*p, "parts"), "3");
  EXPECT_TRUE(p->warnings.empty());
  ASSERT_EQ(p->children.size(), 3u);
  EXPECT_EQ(p->children[0].name, "image0");
  EXPECT_EQ(p->children[1].name, "image1");
  EXPECT_EQ(p->children[2].name, "image2");
  EXPECT_EQ(Sha256Hex(BlobString(p->children[0].blob)), Sha256Hex(a));
  EXPECT_EQ(Sha256Hex(BlobString(p->children[1].blob)), Sha256Hex(b));
  EXPECT_EQ(Sha256Hex(BlobString(p->children[2].blob)), Sha256Hex(c));
}

TEST(UImage, BadDataCrcIsAWarning) {
  std::string img = MakeUImage("hello, payload", 2, 0, "k");
  img[70] ^= 1;
  auto p = ParseWith("uimage", img);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_NE(p->warnings[0].find("data CRC mismatch"), std::string::npos);
  EXPECT_EQ(p->size, img.size());
}

TEST(UImage, BadHeaderCrcRejects) {
  std::string img = MakeUImage("hello, payload", 2, 0, "k");
  for (size_t i = 4; i < 64; ++i) {
    std::string bad = img;
    bad[i] ^= 0x10;
    EXPECT_FALSE(ParseWith("uimage", bad).has_value()) << "flipped header byte " << i;
  }
}

TEST(UImage, TruncatedHeaderRejectedTruncatedDataFlagged) {
  std::string img = MakeUImage(RandomBytes(200, 5), 2, 3, "k");
  for (size_t n = 0; n < 64; ++n)
    EXPECT_FALSE(ParseWith("uimage", img.substr(0, n)).has_value()) << n;
  for (size_t n = 64; n < img.size(); n += 7) {
    auto p = ParseWith("uimage", img.substr(0, n));
    ASSERT_TRUE(p.has_value()) << n;
    EXPECT_TRUE(p->truncated);
    EXPECT_EQ(p->size, img.size());
    if (n > 64) {
      ASSERT_EQ(p->children.size(), 1u);
      EXPECT_EQ(p->children[0].blob.size(), n - 64);
    }
  }
}

TEST(UImage, HostileMultiTables) {
  // Sizes past the end, a table without terminator, an enormous part count.
  std::string past;
  PutU32(past, 0, 16, true);
  PutU32(past, 4, 0x7FFFFFFF, true);
  PutU32(past, 8, 0, true);
  past += std::string(40, 'x');
  auto p = ParseWith("uimage", MakeUImage(past, 4, 0, "m"));
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->warnings.empty());
  ASSERT_EQ(p->children.size(), 2u);
  EXPECT_EQ(p->children[0].blob.size(), 16u);
  EXPECT_EQ(p->children[1].blob.size(), 40u - 16u);

  std::string unterminated(64, '\x01');
  p = ParseWith("uimage", MakeUImage(unterminated, 4, 0, "m"));
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->children.empty());
  EXPECT_FALSE(p->warnings.empty());

  std::string many;
  for (int i = 0; i < 5000; ++i) PutU32(many, many.size(), 1, true);
  p = ParseWith("uimage", MakeUImage(many, 4, 0, "m"));
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->children.empty());

  // A declared size larger than the data: truncated, never read past the end.
  p = ParseWith("uimage", MakeUImage("abc", 4, 0, "m", 0xFFFFFF00));
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->truncated);
}

TEST(UImage, GarbageAfterMagicRejected) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string g = std::string("\x27\x05\x19\x56", 4) + RandomBytes(300, seed);
    EXPECT_FALSE(ParseWith("uimage", g).has_value()) << seed;
  }
}

TEST(UImage, BitFlipsNeverCrash) {
  std::string a = RandomBytes(100, 7), b = RandomBytes(77, 8);
  std::string multi;
  PutU32(multi, 0, a.size(), true);
  PutU32(multi, 4, b.size(), true);
  PutU32(multi, 8, 0, true);
  multi += a + std::string(3, '\0') + b;
  std::string img = MakeUImage(multi, 4, 0, "multi");
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::string m = FlipBits(img, seed, 1 + seed % 4);
    auto p = ParseWith("uimage", m);
    if (p) {
      // Accepted only when the header survived (flips in the data).
      EXPECT_EQ(m.substr(0, 64), img.substr(0, 64)) << seed;
    }
    Info(m);
  }
}

TEST(UImage, RealOpenWrtLzmaKernel) {
  std::string path = SharedDir() + "/corpora/firmware/openwrt-ar71xx-uImage-lzma-linux-4.9.87.bin";
  std::string img = ReadFile(path);
  if (img.empty()) GTEST_SKIP() << path << " not available";
  Unpacked u = Info(img);
  const Region* r = FindRegion(u.layout, "uimage");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->size, img.size());
  EXPECT_EQ(Detail(r->details, "name"), "MIPS OpenWrt Linux-4.9.87");
  EXPECT_EQ(Detail(r->details, "compression"), "lzma");
  EXPECT_EQ(Detail(r->details, "type"), "kernel");
  EXPECT_EQ(Detail(r->details, "arch"), "mips");
  EXPECT_EQ(Detail(r->details, "load_address"), "0x80060000");
  ASSERT_EQ(r->children.size(), 1u);
  EXPECT_EQ(r->children[0].name, "payload");
  EXPECT_EQ(r->children[0].size, img.size() - 64);
  for (const Diagnostic& d : u.diagnostics)
    EXPECT_EQ(d.message.find("CRC"), std::string::npos) << d.message;
}

}  // namespace
}  // namespace firmwarden::unpack::testing
