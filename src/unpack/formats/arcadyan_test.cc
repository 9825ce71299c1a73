#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::SharedDir;

// LZMA as Arcadyan's images carry it: an 8 MiB dictionary, the default lc=3 (properties 0x5D).
std::string ArcadyanLzma(std::string_view in) { return LzmaAlone(in, 1 << 23); }

// The vendor's obfuscation, written from the description (the inverse of the handler's steps):
// nibble-swap and pair-swap the 32 bytes at 0x04, then exchange the blocks at 0x04 and 0x68.
std::string Obfuscate(std::string s) {
  for (size_t i = 4; i < 36; ++i) {
    auto b = static_cast<uint8_t>(s[i]);
    s[i] = static_cast<char>((b << 4) | (b >> 4));
  }
  for (size_t i = 4; i < 36; i += 2) std::swap(s[i], s[i + 1]);
  std::string a = s.substr(4, 32);
  s.replace(4, 32, s.substr(0x68, 32));
  s.replace(0x68, 32, a);
  return s;
}

uint32_t Crc(std::string_view s) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// Appends `payload` as one section: payload, 0xFF padding, trailer on a 1 KiB boundary.
void AddSection(std::string& img, const std::string& payload) {
  size_t start = img.size();
  img += payload;
  size_t end = (img.size() + 12 + 0x3FF) / 0x400 * 0x400;
  img.resize(end - 12, '\xff');
  std::string t;
  PutU32(t, 0, static_cast<uint32_t>(payload.size()), false);
  PutU32(t, 4, 0x12345678, false);
  PutU32(t, 8, Crc(std::string_view(img).substr(start, payload.size())), false);
  img += t;
}

struct Fixture {
  std::string image;
  std::string kernel;    // what the first section's LZMA holds
  std::string web_lzma;  // the second section, plain
};

Fixture Build(bool with_tag = true) {
  Fixture f;
  f.kernel = "ARCADYAN OS " + RandomBytes(3000, 1) + std::string(20000, 'k');
  std::string clean = std::string("\x30\x05\x11\x20", 4) + ArcadyanLzma(f.kernel);
  f.web_lzma = ArcadyanLzma("PFS/0.9" + std::string(5000, 'w'));
  AddSection(f.image, Obfuscate(clean));
  AddSection(f.image, f.web_lzma);
  if (with_tag) f.image += "BRNAP91880";
  return f;
}

TEST(Arcadyan, DeobfuscatesAndSplitsSections) {
  Fixture f = Build();
  auto p = ParseWith("arcadyan", f.image);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, f.image.size());
  EXPECT_TRUE(p->warnings.empty()) << p->warnings[0];
  EXPECT_EQ(Detail(*p, "sections"), "2");
  EXPECT_EQ(Detail(*p, "product_tag"), "BRNAP91880");
  EXPECT_EQ(Detail(*p, "header_word"), "0x20110530");
  EXPECT_EQ(Detail(*p, "section1_offset"), "0x" + fmt::format("{:x}", f.image.find(f.web_lzma)));
  ASSERT_EQ(p->children.size(), 2u);
  EXPECT_EQ(p->children[0].name, "lzma");
  std::string clean = BlobString(p->children[0].blob);
  EXPECT_EQ(clean.substr(0, 5), std::string("\x5d\x00\x00\x80\x00", 5));
  EXPECT_EQ(BlobString(p->children[1].blob), f.web_lzma);

  // The engine decodes the clean stream: the kernel comes back byte for byte.
  Unpacked u = Info(f.image);
  const Region* r = FindRegion(u.layout, "arcadyan");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->size, f.image.size());
  ASSERT_EQ(r->children.size(), 2u);
  const Region* lz = FindRegion(r->children[0], "lzma");
  ASSERT_NE(lz, nullptr);
  EXPECT_EQ(Detail(lz->details, "decompressed_size"), std::to_string(f.kernel.size()));
  EXPECT_NE(FindRegion(r->children[1], "lzma"), nullptr);
  EXPECT_TRUE(u.Clean());
}

TEST(Arcadyan, CrcMismatchIsAWarning) {
  Fixture f = Build(false);
  f.image[0x200] ^= 0x01;  // inside the first section's LZMA data
  auto p = ParseWith("arcadyan", f.image);
  ASSERT_TRUE(p.has_value());
  ASSERT_FALSE(p->warnings.empty());
  EXPECT_NE(p->warnings[0].find("section 0 CRC mismatch"), std::string::npos) << p->warnings[0];
}

TEST(Arcadyan, WithoutTrailerTheStreamEndsTheChunk) {
  Fixture f = Build(false);
  std::string kernel_only = Obfuscate(std::string("\x30\x05\x11\x20", 4) + ArcadyanLzma(f.kernel));
  std::string img = kernel_only + std::string(100, '\0');
  auto p = ParseWith("arcadyan", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, kernel_only.size());
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_NE(p->warnings[0].find("without section trailer"), std::string::npos);
}

TEST(Arcadyan, NotAnObfuscatedLzmaHeaderRejected) {
  std::string img = RandomBytes(4096, 7);
  img.replace(0x68, 4, std::string("\x00\xD5\x08\x00", 4));
  img[0x68 + 5] = 0x33;  // not a power-of-two dictionary after de-obfuscation
  EXPECT_FALSE(ParseWith("arcadyan", img).has_value());
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string g = RandomBytes(600, seed);
    g.replace(0x68, 4, std::string("\x00\xD5\x08\x00", 4));
    auto p = ParseWith("arcadyan", g);
    EXPECT_FALSE(p.has_value()) << seed;
  }
}

TEST(Arcadyan, TruncationNeverCrashesAndIsDiagnosed) {
  Fixture f = Build();
  const size_t sec1 = f.image.find(f.web_lzma);
  const size_t sec1_end = f.image.size() - 10;  // before the product tag
  for (size_t n = 0; n < f.image.size(); n += 53) {
    std::string cut = f.image.substr(0, n);
    auto p = ParseWith("arcadyan", cut);
    if (p) {
      EXPECT_LE(p->size, n);
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), n);
    }
    // Cut inside a section (past the first bytes of the second one, which could be anything):
    // always diagnosed.
    Unpacked u = Info(cut);
    if ((n > 0x88 && n < sec1) || (n >= sec1 + 14 && n < sec1_end)) {
      EXPECT_FALSE(u.Clean()) << n;
    }
  }
}

TEST(Arcadyan, BitFlipsNeverCrash) {
  Fixture f = Build();
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string m = FlipBits(f.image, seed, 1 + seed % 4);
    auto p = ParseWith("arcadyan", m);
    if (p) {
      EXPECT_LE(p->size, m.size());
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
    }
    Info(m);
  }
}

TEST(Arcadyan, RealBinwalkTestVector) {
  std::string img =
      ReadFile(SharedDir() + "/corpora/firmware/binwalk-testvec-arcadyan-obfuscated.bin");
  if (img.empty()) GTEST_SKIP() << "corpus not available";
  auto p = ParseWith("arcadyan", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, img.size());
  EXPECT_TRUE(p->warnings.empty()) << p->warnings[0];  // the section CRC matches
  EXPECT_EQ(Detail(*p, "sections"), "1");
  ASSERT_EQ(p->children.size(), 1u);
  // The clean stream decodes to exactly the size its header declares, and holds the
  // proprietary OS (its build paths name the Arcadyan "soho" kernel).
  auto lz = ParseWith("lzma", p->children[0].blob);
  ASSERT_TRUE(lz.has_value()) << lz.error().message;
  EXPECT_EQ(lz->size, p->children[0].blob.size());
  ASSERT_EQ(lz->children.size(), 1u);
  EXPECT_EQ(std::to_string(lz->children[0].blob.size()), Detail(*p, "lzma_declared_size"));
  EXPECT_NE(BlobString(lz->children[0].blob).find("/firmware/kernel/soho.c"), std::string::npos);
}

TEST(Arcadyan, RealLinksysWrt120n) {
  std::string img = ReadFile(SharedDir() + "/corpora/firmware/linksys-wrt120n-1.0.07.002-us.bin");
  if (img.empty()) GTEST_SKIP() << "corpus not available";
  Unpacked u = Info(img);
  ASSERT_EQ(u.layout.regions.size(), 1u);
  const Region& r = u.layout.regions[0];
  EXPECT_EQ(r.format, "arcadyan");
  EXPECT_EQ(r.size, img.size());
  EXPECT_EQ(Detail(r.details, "sections"), "2");
  EXPECT_EQ(Detail(r.details, "section1_offset"), "0xfe400");  // the README's LZMA offset
  EXPECT_EQ(Detail(r.details, "product_tag"), "BRNAP91880");
  ASSERT_EQ(r.children.size(), 2u);
  const Region* os = FindRegion(r.children[0], "lzma");
  ASSERT_NE(os, nullptr);
  EXPECT_EQ(Detail(os->details, "decompressed_size"), Detail(r.details, "lzma_declared_size"));
  const Region* web = FindRegion(r.children[1], "lzma");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(Detail(web->details, "declared_size"), Detail(web->details, "decompressed_size"));
  for (const Diagnostic& d : u.diagnostics)
    EXPECT_EQ(d.message.find("CRC"), std::string::npos) << d.message;
}

}  // namespace
}  // namespace firmwarden::unpack::testing
