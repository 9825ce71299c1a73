#include <gtest/gtest.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack {
uint32_t NetgearChecksum(Bytes data);
}

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;

// Netgear's checksum, written again here from its description so the handler is checked against
// an independent implementation: two running sums, each folded to 16 bits.
uint32_t Sum(std::string_view s) {
  uint32_t c0 = 0, c1 = 0;
  for (char ch : s) {
    c0 += static_cast<uint8_t>(ch);
    c1 += c0;
  }
  auto fold = [](uint32_t v) {
    uint32_t b = (v & 0xFFFF) + (v >> 16);
    return ((b >> 16) + b) & 0xFFFF;
  };
  return (fold(c1) << 16) | fold(c0);
}

// A CHK image from the header description: magic, header length, region, version[7], kernel and
// rootfs checksums, their lengths, image checksum, header checksum, board id.
std::string MakeChk(const std::string& kernel, const std::string& rootfs,
                    std::string_view board = "U12H139T00_NETGEAR", uint8_t region = 1) {
  std::string h(40, '\0');
  h.replace(0, 4, "*#$^");
  h += board;
  h.resize((h.size() + 3) / 4 * 4 + 4, '\0');
  PutU32(h, 4, static_cast<uint32_t>(h.size()), true);
  h[8] = static_cast<char>(region);
  const uint8_t version[7] = {1, 0, 4, 44, 1, 0, 1};
  for (int i = 0; i < 7; ++i) h[9 + i] = static_cast<char>(version[i]);
  PutU32(h, 16, Sum(kernel), true);
  PutU32(h, 20, Sum(rootfs), true);
  PutU32(h, 24, static_cast<uint32_t>(kernel.size()), true);
  PutU32(h, 28, static_cast<uint32_t>(rootfs.size()), true);
  PutU32(h, 32, Sum(kernel + rootfs), true);
  PutU32(h, 36, Sum(h), true);  // over the header with this field still zero
  return h + kernel + rootfs;
}

TEST(NetgearChk, FieldsChecksumsAndChildren) {
  std::string kernel = RandomBytes(5000, 1);
  std::string rootfs = "hsqs" + RandomBytes(7000, 2);
  std::string img = MakeChk(kernel, rootfs);
  auto p = ParseWith("netgear_chk", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, img.size());
  EXPECT_TRUE(p->warnings.empty()) << p->warnings[0];
  EXPECT_EQ(Detail(*p, "board_id"), "U12H139T00_NETGEAR");
  EXPECT_EQ(Detail(*p, "region"), "1");
  EXPECT_EQ(Detail(*p, "version"), "V1.0.4.44_1.0.1");
  ASSERT_EQ(p->children.size(), 2u);
  EXPECT_EQ(BlobString(p->children[0].blob), kernel);
  EXPECT_EQ(BlobString(p->children[1].blob), rootfs);
  EXPECT_EQ(NetgearChecksum(AsBytes(kernel)), Sum(kernel));
  Unpacked u = Info(img);
  EXPECT_NE(FindRegion(u.layout, "netgear_chk"), nullptr);
  EXPECT_TRUE(u.Clean());
}

TEST(NetgearChk, EachChecksumMismatchIsNamed) {
  std::string img = MakeChk(RandomBytes(300, 3), RandomBytes(300, 4));
  const size_t hdr = img.size() - 600;
  struct Case {
    size_t at;
    std::vector<std::string> names;
  };
  for (const Case& c : std::vector<Case>{{hdr + 10, {"kernel", "image"}},
                                         {hdr + 400, {"rootfs", "image"}},
                                         {20, {"header"}},     // the kernel checksum field
                                         {36, {"header"}}}) {  // the header checksum itself
    std::string m = img;
    m[c.at] ^= 0x01;
    auto p = ParseWith("netgear_chk", m);
    ASSERT_TRUE(p.has_value());
    std::string all;
    for (const std::string& w : p->warnings) all += w + "\n";
    for (const std::string& n : c.names)
      EXPECT_NE(all.find("CHK " + n + " checksum mismatch"), std::string::npos) << c.at << all;
  }
}

TEST(NetgearChk, HostileHeadersRejected) {
  std::string img = MakeChk(RandomBytes(300, 5), RandomBytes(300, 6));
  for (auto [at, v] : std::vector<std::pair<size_t, uint32_t>>{{4, 8}, {4, 0x100000}, {24, 0}}) {
    std::string m = img;
    PutU32(m, at, v, true);
    EXPECT_FALSE(ParseWith("netgear_chk", m).has_value()) << at;
  }
  std::string m = img;
  m[41] = '\x01';  // board id not text
  EXPECT_FALSE(ParseWith("netgear_chk", m).has_value());
  // Huge lengths: accepted as truncated, children clamped to the data.
  m = img;
  PutU32(m, 28, 0xFFFFFFF0, true);
  auto p = ParseWith("netgear_chk", m);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->truncated);
  for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
}

TEST(NetgearChk, TruncationAndBitFlips) {
  std::string img = MakeChk(RandomBytes(400, 7), RandomBytes(400, 8));
  const size_t hdr = img.size() - 800;
  for (size_t n = 0; n < img.size(); n += 13) {
    auto p = ParseWith("netgear_chk", img.substr(0, n));
    if (n < hdr) {
      EXPECT_FALSE(p.has_value()) << n;
      continue;
    }
    ASSERT_TRUE(p.has_value()) << n;
    EXPECT_TRUE(p->truncated);
    EXPECT_FALSE(Info(img.substr(0, n)).Clean()) << n;
  }
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string m = FlipBits(img, seed, 1 + seed % 3, 4);
    auto p = ParseWith("netgear_chk", m);
    if (p) {
      for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), m.size());
    }
    Info(m);
  }
}

}  // namespace
}  // namespace firmwarden::unpack::testing
