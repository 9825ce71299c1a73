// UBI and UBIFS: images made by mkfs.ubifs (lzo, zlib, zstd, none) and ubinize (two volumes, one
// of them static) from a temporary tree, compared entry for entry with it, metadata included;
// truncation, bit flips and hand-broken headers.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "firmwarden/unpack.h"
#include "unpack/formats/handler_test_util.h"
#include "unpack/formats/roundtrip_test_util.h"

namespace firmwarden::unpack {
namespace {

namespace fs = std::filesystem;
using firmwarden::testing::Diagnostics;
using firmwarden::testing::ReadFile;
using firmwarden::testing::Sh;
using firmwarden::testing::TempDir;
using firmwarden::testing::TreeOf;
using testing::FindRegion;
using testing::Options;
using testing::RegionDetail;
using testing::Shell;

// Every chunk of `format` anywhere in the layout, depth first.
void CollectRegions(const BlobLayout& b, std::string_view format, std::vector<const Region*>* out) {
  for (const Region& r : b.regions) {
    if (r.kind == Region::Kind::kChunk && r.format == format) out->push_back(&r);
    for (const BlobLayout& c : r.children) CollectRegions(c, format, out);
  }
}

class UbifsImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Shell("command -v mkfs.ubifs >/dev/null 2>&1 && command -v ubinize >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "mtd-utils missing";
    if (!firmwarden::testing::BuildSourceTree(tmp_ / "src", true, true))
      GTEST_SKIP() << "cannot build tree (not root?)";
  }
  std::string MakeUbifs(const std::string& compr, const std::string& name = "fs.ubifs") {
    std::string img = tmp_ / name;
    std::string log;
    int rc = Shell("mkfs.ubifs -r " + Sh(tmp_ / "src") + " -m 2048 -e 126976 -c 400 -x " + compr +
                       " -o " + Sh(img) + " 2>&1",
                   &log);
    EXPECT_EQ(rc, 0) << log;
    return img;
  }
  // Two volumes: a dynamic UBIFS "rootfs" and a static raw volume "blob".
  std::string MakeUbi(const std::string& blob) {
    std::string ubifs = MakeUbifs("lzo");
    firmwarden::testing::WriteFile(tmp_ / "blob.bin", blob);
    std::string cfg = "[rootfs]\nmode=ubi\nimage=" + ubifs +
                      "\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_size=20MiB\n"
                      "[blob]\nmode=ubi\nimage=" +
                      (tmp_ / "blob.bin") + "\nvol_id=1\nvol_type=static\nvol_name=blob\n";
    firmwarden::testing::WriteFile(tmp_ / "ubi.cfg", cfg);
    std::string img = tmp_ / "fs.ubi";
    std::string log;
    int rc = Shell("ubinize -o " + Sh(img) + " -m 2048 -p 128KiB -s 2048 -Q 12345 " +
                       Sh(tmp_ / "ubi.cfg") + " 2>&1",
                   &log);
    EXPECT_EQ(rc, 0) << log;
    return img;
  }
  std::string Out() { return tmp_ / ("out" + std::to_string(n_++)); }
  void CheckUbifs(const std::string& compr) {
    std::string img = MakeUbifs(compr);
    std::string out = Out();
    auto u = Unpack(img, Options(out));
    ASSERT_TRUE(u.has_value()) << u.error().ToString();
    EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
    const Region* r = FindRegion(u->layout, "ubifs");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->offset, 0u);
    EXPECT_EQ(r->size, fs::file_size(img));
    EXPECT_EQ(RegionDetail(*r, "compression"), compr);
    EXPECT_EQ(RegionDetail(*r, "leb_size"), "126976");
    size_t t = TreeOf(*u, "ubifs");
    firmwarden::testing::ExpectTreeMatches(*u, t, tmp_ / "src", out);
  }
  TempDir tmp_;
  int n_ = 0;
};

TEST_F(UbifsImageTest, Lzo) { CheckUbifs("lzo"); }
TEST_F(UbifsImageTest, Zlib) { CheckUbifs("zlib"); }
TEST_F(UbifsImageTest, Zstd) { CheckUbifs("zstd"); }
TEST_F(UbifsImageTest, NoCompression) { CheckUbifs("none"); }

TEST_F(UbifsImageTest, UbiWithTwoVolumes) {
  const std::string blob = firmwarden::testing::RandomBytes(300000, 3);
  std::string img = MakeUbi(blob);
  std::string out = Out();
  auto u = Unpack(img, Options(out));
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
  const Region* r = FindRegion(u->layout, "ubi");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->size, fs::file_size(img));
  EXPECT_EQ(RegionDetail(*r, "peb_size"), "131072");
  EXPECT_EQ(RegionDetail(*r, "leb_size"), "126976");
  EXPECT_EQ(RegionDetail(*r, "volumes"), "2");
  EXPECT_EQ(RegionDetail(*r, "image_seq"), "0x3039");
  EXPECT_NE(RegionDetail(*r, "volume 0").find("rootfs (dynamic"), std::string::npos);
  EXPECT_NE(RegionDetail(*r, "volume 1").find("blob (static"), std::string::npos);
  const BlobLayout* rootfs = testing::FindChildLayout(*r, "rootfs");
  const BlobLayout* raw = testing::FindChildLayout(*r, "blob");
  ASSERT_NE(rootfs, nullptr);
  ASSERT_NE(raw, nullptr);
  // The static volume comes back byte for byte, at its exact size.
  EXPECT_EQ(raw->size, blob.size());
  ASSERT_FALSE(raw->disk_path.empty());
  EXPECT_EQ(ReadFile(out + "/" + raw->disk_path), blob);
  firmwarden::testing::ExpectTreeMatches(*u, TreeOf(*u, "ubifs"), tmp_ / "src", out);
}

TEST_F(UbifsImageTest, UbiInsideAFlashDump) {
  std::string img = ReadFile(MakeUbi("static volume data\n"));
  std::string dump = firmwarden::testing::RandomBytes(1 << 17, 9) + img +
                     std::string(3 << 17, '\xFF') + firmwarden::testing::RandomBytes(999, 10);
  auto u = UnpackMemory(dump, "dump", UnpackOptions{});
  ASSERT_TRUE(u.has_value());
  std::vector<const Region*> ubi;
  CollectRegions(u->layout, "ubi", &ubi);
  ASSERT_EQ(ubi.size(), 1u);
  EXPECT_EQ(ubi[0]->offset, 1u << 17);
  EXPECT_EQ(ubi[0]->size, img.size());
  firmwarden::testing::ExpectTreeMatches(*u, TreeOf(*u, "ubifs"), tmp_ / "src", "");
}

TEST_F(UbifsImageTest, NewerLebCopyWins) {
  // Two PEBs claim the static volume's LEB 0: the one with the higher sequence number is read.
  std::string img = ReadFile(MakeUbi(std::string(1000, 'A')));
  const size_t peb = 131072;
  size_t found = std::string::npos;
  for (size_t at = 0; at + peb <= img.size(); at += peb)
    if (img.compare(at + 4096, 1000, std::string(1000, 'A')) == 0) found = at;
  ASSERT_NE(found, std::string::npos);
  std::string copy = img.substr(found, peb);
  copy.replace(4096, 1000, std::string(1000, 'B'));
  // Raise sqnum (VID header at 2048, sqnum at +40) and fix both CRCs.
  auto put_be = [](std::string& s, size_t at, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s[at + i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
  };
  auto ubi_crc = [](std::string_view s) {
    uint32_t c = 0xFFFFFFFF;
    for (unsigned char ch : s) {
      c ^= ch;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    }
    return c;
  };
  put_be(copy, 2048 + 40, 1000000, 8);
  put_be(copy, 2048 + 32, ubi_crc(copy.substr(4096, 1000)), 4);  // data CRC (static volumes)
  put_be(copy, 2048 + 60, ubi_crc(copy.substr(2048, 60)), 4);
  img += copy;
  std::string out = Out();
  auto u = UnpackMemory(img, "two-copies", Options(out));
  ASSERT_TRUE(u.has_value());
  const Region* r = FindRegion(u->layout, "ubi");
  ASSERT_NE(r, nullptr);
  const BlobLayout* raw = testing::FindChildLayout(*r, "blob");
  ASSERT_NE(raw, nullptr);
  ASSERT_FALSE(raw->disk_path.empty());
  EXPECT_EQ(ReadFile(out + "/" + raw->disk_path), std::string(1000, 'B'));
}

TEST_F(UbifsImageTest, TruncatedImagesGiveDiagnostics) {
  for (const bool ubi : {false, true}) {
    std::string img = ReadFile(ubi ? MakeUbi("x") : MakeUbifs("lzo"));
    for (size_t len : {size_t{100}, size_t{5000}, size_t{130000}, size_t{270000}, img.size() / 2,
                       img.size() - 5000}) {
      SCOPED_TRACE(std::to_string(ubi) + " " + std::to_string(len));
      auto u = UnpackMemory(img.substr(0, len), "cut", Options(Out()));
      ASSERT_TRUE(u.has_value());
      // Whatever was found, something must be said about what is missing.
      EXPECT_FALSE(u->Clean() && TreeOf(*u, "ubifs") != SIZE_MAX &&
                   u->files.EntriesOf(TreeOf(*u, "ubifs")).size() >= 15)
          << Diagnostics(*u);
    }
  }
}

TEST_F(UbifsImageTest, BitFlipsNeverCrashOrEscape) {
  for (const bool ubi : {false, true}) {
    std::string img = ReadFile(ubi ? MakeUbi("static") : MakeUbifs("zlib"));
    ASSERT_NO_FATAL_FAILURE(
        testing::ExpectBitFlipsContained(img, ubi ? 77 : 78, 60, 8, [&] { return Out(); }));
  }
}

TEST(UbifsTest, HostileHeaders) {
  // An EC header with a bad CRC is not an UBI image; a bare UBIFS magic is not a superblock.
  std::string ec = "UBI#" + std::string(60, '\0');
  EXPECT_FALSE(testing::ParseWith("ubi", ec).has_value());
  std::string node = std::string("\x31\x18\x10\x06", 4) + std::string(4092, '\0');
  EXPECT_FALSE(testing::ParseWith("ubifs", node).has_value());
}

}  // namespace
}  // namespace firmwarden::unpack
