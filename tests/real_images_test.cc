// The real vendor and OpenWrt images in ../shared/corpora/firmware: the ones whose formats this
// version reads unpack to their root filesystem with the inode counts their README gives; every
// image survives truncation and bit flips with a diagnostic, never a crash.
#include <gtest/gtest.h>

#include <string>

#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;

std::string Image(const std::string& name) { return t::SharedDir() + "/corpora/firmware/" + name; }

// Depth-first search for the first chunk of `format`.
const Region* FindChunk(const BlobLayout& b, std::string_view format) {
  for (const Region& r : b.regions) {
    if (r.kind == Region::Kind::kChunk && r.format == format) return &r;
    for (const BlobLayout& c : r.children)
      if (const Region* f = FindChunk(c, format)) return f;
  }
  return nullptr;
}

std::string Detail(const Region& r, std::string_view key) {
  for (const KeyValue& kv : r.details)
    if (kv.key == key) return kv.value;
  return "";
}

bool AnyBanner(const BlobLayout& b, std::string_view needle) {
  for (const KeyValue& kv : b.notes)
    if (kv.key == "linux_banner" && kv.value.find(needle) != std::string::npos) return true;
  for (const Region& r : b.regions)
    for (const BlobLayout& c : r.children)
      if (AnyBanner(c, needle)) return true;
  return false;
}

struct Expected {
  const char* file;
  uint64_t squashfs_offset;  // absolute offset of the root filesystem in the image
  int inodes;                // from the corpus README
  const char* kernel;        // version in the kernel banner
};

class RealSquashfsTest : public ::testing::TestWithParam<Expected> {};

TEST_P(RealSquashfsTest, UnpacksToTheRootFilesystem) {
  const Expected& e = GetParam();
  std::string path = Image(e.file);
  if (!t::Exists(path)) GTEST_SKIP() << "no " << path;
  t::TempDir out;
  UnpackOptions o;
  o.output_dir = out / "x";
  auto r = Unpack(path, o);
  ASSERT_TRUE(r) << r.error().message;
  const Region* sq = FindChunk(r->layout, "squashfs");
  ASSERT_NE(sq, nullptr) << e.file << ": no squashfs found";
  EXPECT_EQ(Detail(*sq, "inodes"), std::to_string(e.inodes));
  ASSERT_TRUE(sq->tree.has_value());
  const Tree& tree = r->files.trees()[*sq->tree];
  // Every inode but the root directory is an entry (hardlinks would add names, not inodes).
  EXPECT_GE(tree.entry_count, static_cast<size_t>(e.inodes - 1));
  const FileEntry* busybox = r->files.Find(*sq->tree, "bin/busybox");
  ASSERT_NE(busybox, nullptr);
  EXPECT_EQ(busybox->type, EntryType::kFile);
  EXPECT_GT(busybox->size, 100000u);
  EXPECT_NE(r->files.Find(*sq->tree, "etc/passwd"), nullptr);
  EXPECT_TRUE(AnyBanner(r->layout, e.kernel)) << e.file << ": kernel " << e.kernel;
  EXPECT_EQ(r->layout.size, r->stats.input_bytes);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, RealSquashfsTest,
    ::testing::Values(
        Expected{"openwrt-12.09.2-aa-ar71xx-tl-wr703n-v1-factory.bin", 0xED044, 864, "3.3.8"},
        Expected{"openwrt-12.09.2-aa-ar71xx-tl-mr3020-v1-factory.bin", 0xED0CC, 869, "3.3.8"},
        Expected{"openwrt-15.05.1-ar71xx-tl-wr703n-v1-sysupgrade.bin", 0x11B0A0, 1019, "3.18"},
        Expected{"tplink-tl-wr841n-v10-3.16.9-150310-up_boot.bin", 0x120200, 560, "2.6.31"}),
    [](const ::testing::TestParamInfo<Expected>& i) {
      std::string n = i.param.file;
      for (char& c : n)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

TEST(RealImages, OpenWrtUImageKernel) {
  std::string path = Image("openwrt-ar71xx-uImage-lzma-linux-4.9.87.bin");
  if (!t::Exists(path)) GTEST_SKIP();
  auto r = Unpack(path, {});
  ASSERT_TRUE(r);
  const Region* u = FindChunk(r->layout, "uimage");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->offset, 0u);
  EXPECT_EQ(Detail(*u, "name"), "MIPS OpenWrt Linux-4.9.87");
  ASSERT_NE(FindChunk(r->layout, "lzma"), nullptr);
  EXPECT_TRUE(AnyBanner(r->layout, "Linux version 4.9.87"));
  EXPECT_TRUE(AnyBanner(r->layout, "r6519-0f30f56"));
}

TEST(RealImages, FactTpLinkStubRootfs) {
  std::string path = Image("fact-testvec-tplink-mr3020-stubrootfs.bin");
  if (!t::Exists(path)) GTEST_SKIP();
  auto r = Unpack(path, {});
  ASSERT_TRUE(r);
  const Region* tp = FindChunk(r->layout, "tplink");
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->offset, 0u);
  const Region* sq = FindChunk(r->layout, "squashfs");
  ASSERT_NE(sq, nullptr);
  ASSERT_TRUE(sq->tree.has_value());
  EXPECT_GE(r->files.trees()[*sq->tree].entry_count, 1u);
  EXPECT_NE(FindChunk(r->layout, "lzma"), nullptr);
}

// Truncation and bit flips of every real image, in info mode (nothing written): never a crash,
// always a result that accounts for every byte, and a diagnostic when a chunk was cut.
class RealRobustnessTest : public ::testing::TestWithParam<std::string> {};

void CheckTiling(const BlobLayout& b) {
  uint64_t pos = 0;
  for (const Region& r : b.regions) {
    ASSERT_EQ(r.offset, pos) << b.path;
    pos += r.size;
    for (const BlobLayout& c : r.children) CheckTiling(c);
  }
  ASSERT_EQ(pos, b.size) << b.path;
}

TEST_P(RealRobustnessTest, TruncationAndBitFlips) {
  std::string path = Image(GetParam());
  if (!t::Exists(path)) GTEST_SKIP();
  std::string data = t::ReadFile(path);
  UnpackOptions o;
  o.limits.max_seconds = 60;
  auto full = UnpackMemory(data, GetParam(), o);
  ASSERT_TRUE(full);
  CheckTiling(full->layout);
  for (int i = 1; i <= 8; ++i) {
    size_t cut = data.size() * i / 9 + static_cast<size_t>(i) * 4099;
    if (cut >= data.size()) continue;
    auto r = UnpackMemory(std::string_view(data).substr(0, cut), "cut", o);
    ASSERT_TRUE(r);
    CheckTiling(r->layout);
    // Was a chunk of the full image cut in two? Then the cut image must carry a diagnostic.
    bool cut_chunk = false;
    for (const Region& reg : full->layout.regions)
      // A bare zlib stream has no header to speak of: cut short, it is indistinguishable from
      // other bytes, so it is not required to be diagnosed.
      cut_chunk |= reg.kind == Region::Kind::kChunk && reg.format != "zlib" && reg.offset < cut &&
                   reg.offset + reg.size > cut;
    if (cut_chunk) {
      EXPECT_FALSE(r->Clean()) << GetParam() << " cut at " << cut;
    }
  }
  std::string noise = t::RandomBytes(256, 1234);
  for (int round = 0; round < 4; ++round) {
    std::string flipped = data;
    for (int k = 0; k < 16; ++k) {
      size_t at = (static_cast<uint8_t>(noise[round * 16 + k]) * 65537u + k * 2654435761u +
                   round * 40503u) %
                  flipped.size();
      flipped[at] = static_cast<char>(flipped[at] ^ (1 << ((k + round) % 8)));
    }
    auto r = UnpackMemory(flipped, "flipped", o);
    ASSERT_TRUE(r);
    CheckTiling(r->layout);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, RealRobustnessTest,
    ::testing::Values("openwrt-12.09.2-aa-ar71xx-tl-wr703n-v1-factory.bin",
                      "openwrt-12.09.2-aa-ar71xx-tl-mr3020-v1-factory.bin",
                      "openwrt-15.05.1-ar71xx-tl-wr703n-v1-sysupgrade.bin",
                      "openwrt-ar71xx-uImage-lzma-linux-4.9.87.bin",
                      "tplink-tl-wr841n-v10-3.16.9-150310-up_boot.bin",
                      "fact-testvec-tplink-mr3020-stubrootfs.bin",
                      "huawei-hg532e-V100R001C01B020-upgrade.bin",
                      "linksys-wrt54gl-4.30.18.006-etsi.bin", "openwrt-brcm-2.4-squashfs-2011.trx",
                      "binwalk-testvec-bcm63xx-squashfs-v2-be.bin",
                      "binwalk-testvec-squashfs4-lzma-2013.bin",
                      "buildroot-allwinner-v3s-rootfs.jffs2", "esp32s3-linux-rootfs.cramfs",
                      "fact-testvec-tplink-vxworks-wr.fw", "linksys-wrt120n-1.0.07.002-us.bin",
                      "binwalk-testvec-arcadyan-obfuscated.bin"),
    [](const ::testing::TestParamInfo<std::string>& i) {
      std::string n = i.param;
      for (char& c : n)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

}  // namespace
}  // namespace firmwarden
