// cramfs: real images made by mkfs.cramfs in both byte orders (and with the 512-byte pad),
// compared entry by entry with the tree they were made from; the real ESP32-S3 XIP image; and
// truncated and bit-flipped images.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "firmwarden/unpack.h"
#include "test_util.h"
#include "unpack/formats/handler_test_util.h"
#include "unpack/formats/roundtrip_test_util.h"

namespace firmwarden {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::Sh;
using testing::TempDir;
using testing::TreeOf;
using unpack::testing::FindRegion;
using unpack::testing::Options;
using unpack::testing::RegionDetail;
using unpack::testing::Shell;

bool HaveMkfs() { return Shell("command -v mkfs.cramfs >/dev/null 2>&1") == 0; }

// The source tree. Returns false when the system refuses (not root).
bool BuildTree(const std::string& root) {
  auto w = [&](const std::string& rel, const std::string& data) {
    testing::WriteFile(root + "/" + rel, data);
  };
  fs::create_directories(root + "/dir/sub/deep");
  fs::create_directories(root + "/home/user");
  fs::create_directories(root + "/dev");
  fs::create_directories(root + "/emptydir");
  w("hello.txt", "hello world\n");
  w("empty", "");
  w("dir/sub/deep/file.txt", "deep file\n");
  w("dir/sub/" + std::string(200, 'n'), "long name\n");
  w("multi.bin", testing::RandomBytes(3 * 4096 + 77, 7));  // four blocks, last one short
  w("exact.bin", testing::RandomBytes(2 * 4096, 8));       // ends on a block boundary
  w("zeros.bin", std::string(50000, '\0'));                // compresses very well
  w("copy.txt", "hello world\n");                          // mkfs.cramfs shares its data
  w("suid", "#!/bin/sh\necho root\n");
  w("home/user/owned.txt", "mine\n");
  if (chmod((root + "/suid").c_str(), 04755) != 0) return false;
  if (chmod((root + "/home/user").c_str(), 0700) != 0) return false;
  if (chown((root + "/home/user").c_str(), 1000, 1000) != 0) return false;
  if (chown((root + "/home/user/owned.txt").c_str(), 1000, 1000) != 0) return false;
  if (symlink("hello.txt", (root + "/short_link").c_str()) != 0) return false;
  std::string long_target = "dir/sub/deep/" + std::string(90, 'x');
  if (symlink(long_target.c_str(), (root + "/long_link").c_str()) != 0) return false;
  if (mkfifo((root + "/fifo").c_str(), 0640) != 0) return false;
  if (mknod((root + "/dev/console").c_str(), S_IFCHR | 0600, makedev(5, 1)) != 0) return false;
  if (mknod((root + "/dev/sda").c_str(), S_IFBLK | 0660, makedev(8, 0)) != 0) return false;
  return true;
}

// Compares every entry of the cramfs tree with the source directory, and what is on disk.
void ExpectMatchesSource(const Unpacked& u, const std::string& src, const std::string& out) {
  testing::Expect x;
  x.uid_mask = 0xFFFF;  // cramfs keeps 16 bits of uid and 8 of gid
  x.gid_mask = 0xFF;
  x.mtime = false;  // and no times
  x.zero_mtime = true;
  x.symlink_size = true;
  x.min_entries = 16;
  testing::ExpectTreeMatches(u, TreeOf(u, "cramfs"), src, out, x);
}

class CramfsImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveMkfs()) GTEST_SKIP() << "mkfs.cramfs not installed";
    if (!BuildTree(tmp_ / "src")) GTEST_SKIP() << "cannot build tree (not root?)";
  }
  std::string Make(const std::string& args) {
    std::string img = tmp_ / "fs.img";
    std::string log;
    int rc = Shell("mkfs.cramfs " + args + " " + Sh(tmp_ / "src") + " " + Sh(img) + " 2>&1", &log);
    EXPECT_EQ(rc, 0) << log;
    return img;
  }
  void Check(const std::string& img, std::string_view endian, std::string_view pad) {
    std::string out = tmp_ / "out";
    Unpacked u;
    const Region* r = nullptr;
    ASSERT_NO_FATAL_FAILURE(testing::UnpackWholeImage(img, out, "cramfs", u, r));
    EXPECT_EQ(RegionDetail(*r, "endianness"), endian);
    EXPECT_EQ(RegionDetail(*r, "version"), "2");
    EXPECT_EQ(RegionDetail(*r, "crc"), "ok");
    EXPECT_EQ(RegionDetail(*r, "pad"), pad);
    ExpectMatchesSource(u, tmp_ / "src", out);
  }
  TempDir tmp_;
  int n_ = 0;  // numbers output directories
};

TEST_F(CramfsImageTest, LittleEndian) { Check(Make(""), "little", "<missing pad>"); }
TEST_F(CramfsImageTest, BigEndian) { Check(Make("-N big"), "big", "<missing pad>"); }
TEST_F(CramfsImageTest, PaddedLittleEndian) { Check(Make("-p"), "little", "512"); }
TEST_F(CramfsImageTest, PaddedBigEndian) { Check(Make("-p -N big"), "big", "512"); }

// -z stores all-zero blocks as holes (empty block ranges).
TEST_F(CramfsImageTest, Holes) { Check(Make("-z"), "little", "<missing pad>"); }

// A directory whose listing is the root's: walked once, reported, no endless recursion.
TEST_F(CramfsImageTest, DirectoryLoopIsCut) {
  std::string img = ReadFile(Make(""));
  auto u32 = [&](size_t off) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= static_cast<uint32_t>(static_cast<uint8_t>(img[off + i])) << (8 * i);
    return v;
  };
  // Root listing: inodes of 12 bytes, each followed by its name (namelen * 4 bytes).
  size_t pos = 76;
  bool patched = false;
  while (pos + 12 < img.size() && !patched) {
    uint32_t w2 = u32(pos + 8);
    size_t name_len = (w2 & 0x3F) * 4;
    std::string name = img.substr(pos + 12, name_len);
    if (name.rfind("dir", 0) == 0 && name.find_first_not_of('\0', 3) == std::string::npos) {
      uint32_t nw = (w2 & 0x3F) | ((76 / 4) << 6);
      for (int i = 0; i < 4; ++i) img[pos + 8 + i] = static_cast<char>(nw >> (8 * i));
      // The listing size must match the root's for the listing to repeat exactly.
      uint32_t root_size = u32(64 + 4) & 0xFFFFFF;
      uint32_t w1 = (u32(pos + 4) & 0xFF000000) | root_size;
      for (int i = 0; i < 4; ++i) img[pos + 4 + i] = static_cast<char>(w1 >> (8 * i));
      patched = true;
    }
    pos += 12 + name_len;
  }
  ASSERT_TRUE(patched);
  auto u = UnpackMemory(img, "loop", Options(tmp_ / "out"));
  ASSERT_TRUE(u.has_value());
  EXPECT_FALSE(u->Clean());
  EXPECT_NE(testing::Diagnostics(*u).find("loop"), std::string::npos) << testing::Diagnostics(*u);
  size_t t = TreeOf(*u, "cramfs");
  ASSERT_NE(t, SIZE_MAX);
  EXPECT_NE(u->files.Find(t, "hello.txt"), nullptr);
  EXPECT_LT(u->files.EntriesOf(t).size(), 100u);
}

TEST_F(CramfsImageTest, InfoModeListsWithoutWriting) {
  std::string img = Make("");
  auto u = Unpack(img, UnpackOptions{});
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_TRUE(u->Clean()) << testing::Diagnostics(*u);
  size_t t = TreeOf(*u, "cramfs");
  ASSERT_NE(t, SIZE_MAX);
  const FileEntry* e = u->files.Find(t, "multi.bin");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, 3u * 4096 + 77);
  const FileEntry* l = u->files.Find(t, "short_link");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->link_target, "hello.txt");
}

TEST_F(CramfsImageTest, EmbeddedInAFlashDump) {
  std::string img = ReadFile(Make(""));
  // Zeros right before the image look like a 512-byte pad; they must not be taken as one.
  std::string dump = testing::RandomBytes(4096 * 3 + 100, 99) + std::string(1024, '\0') + img +
                     std::string(5000, '\xFF');
  std::string out = tmp_ / "out";
  auto u = UnpackMemory(dump, "dump", Options(out));
  ASSERT_TRUE(u.has_value());
  const Region* r = FindRegion(u->layout, "cramfs");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 4096u * 3 + 100 + 1024);
  EXPECT_EQ(r->size, img.size());
  size_t t = TreeOf(*u, "cramfs");
  ASSERT_NE(t, SIZE_MAX);
  EXPECT_NE(u->files.Find(t, "dir/sub/deep/file.txt"), nullptr);
}

TEST_F(CramfsImageTest, CrcMismatchIsAWarningOnly) {
  std::string img = ReadFile(Make(""));
  img[img.size() - 1] = static_cast<char>(img[img.size() - 1] ^ 0x40);  // inside file data
  auto u = UnpackMemory(img, "bad", UnpackOptions{});
  ASSERT_TRUE(u.has_value());
  const Region* r = FindRegion(u->layout, "cramfs");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(RegionDetail(*r, "crc"), "mismatch");
  EXPECT_FALSE(u->Clean());
  EXPECT_NE(TreeOf(*u, "cramfs"), SIZE_MAX);
}

TEST_F(CramfsImageTest, TruncatedImagesGiveDiagnostics) {
  for (const std::string args : {"", "-N big"}) {
    std::string img = ReadFile(Make(args));
    for (size_t len : {size_t{40}, size_t{76}, size_t{100}, size_t{500}, size_t{4096},
                       img.size() / 2, img.size() - 100, img.size() - 1}) {
      SCOPED_TRACE(args + " " + std::to_string(len));
      if (len >= img.size()) continue;
      auto u =
          UnpackMemory(img.substr(0, len), "cut", Options(tmp_ / ("cut" + std::to_string(n_++))));
      ASSERT_TRUE(u.has_value());
      if (len < 76) continue;  // no whole superblock: not even recognised
      const Region* r = FindRegion(u->layout, "cramfs");
      ASSERT_NE(r, nullptr);
      EXPECT_TRUE(r->truncated);
      EXPECT_FALSE(u->Clean());
    }
  }
}

TEST_F(CramfsImageTest, BitFlipsNeverCrashOrEscape) {
  for (const std::string args : {"", "-N big"}) {
    std::string img = ReadFile(Make(args));
    int diagnosed = 0;
    const int rounds = 150;
    // Mostly metadata: the superblock, the inodes and names, the block pointers.
    ASSERT_NO_FATAL_FAILURE(unpack::testing::ExpectBitFlipsContained(
        img, args.empty() ? 1234 : 5678, rounds, 4,
        [&] { return tmp_ / ("flip" + std::to_string(n_++)); }, 2048,
        [&](const Unpacked& u) {
          // A flip in the magic or the signature leaves nothing to recognise (and nothing to say).
          if (!u.Clean() || FindRegion(u.layout, "cramfs") == nullptr) ++diagnosed;
        }));
    // Every other flip breaks the CRC at least.
    EXPECT_EQ(diagnosed, rounds);
  }
}

// mkfs.cramfs never writes extended block pointers; the ESP32 image below has direct uncompressed
// (XIP) and plain blocks but no direct compressed one. This hand-made image has a direct
// compressed block (length prefix) followed by a plain uncompressed block, whose start must be
// worked out from the direct block before it.
TEST(CramfsTest, ExtendedBlockPointers) {
  std::string a = testing::RandomBytes(4096, 1);
  a.replace(0, 2048, std::string(2048, 'a'));  // compressible
  std::string b = testing::RandomBytes(100, 2);
  uLongf clen = compressBound(a.size());
  std::string z(clen, '\0');
  ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &clen,
                      reinterpret_cast<const Bytef*>(a.data()), a.size(), 9),
            Z_OK);
  z.resize(clen);

  std::string img(100, '\0');
  auto put32 = [&](size_t off, uint32_t v) {
    if (img.size() < off + 4) img.resize(off + 4, '\0');
    for (int i = 0; i < 4; ++i) img[off + i] = static_cast<char>(v >> (8 * i));
  };
  const uint32_t size = 4096 + 100;
  put32(0, 0x28CD3D45);
  put32(8, 0x1 | 0x2 | 0x800);
  img.replace(16, 16, "Compressed ROMFS");
  put32(44, 2);                        // files
  put32(64, 040755);                   // root: mode, uid 0
  put32(68, 16);                       // listing: one inode + 4-byte name
  put32(72, (76 / 4) << 6);            // namelen 0, offset 76
  put32(76, 0100644 | (1000u << 16));  // "f": mode, uid
  put32(80, size | (7u << 24));        // size, gid
  put32(84, 1 | ((92 / 4) << 6));      // namelen 1 (4 bytes), data at 92
  img.replace(88, 4, std::string("f\0\0\0", 4));
  put32(92, (100 / 4) | (1u << 30));  // block 0: direct, compressed, at 100
  img.resize(100);
  img += static_cast<char>(z.size() & 0xFF);
  img += static_cast<char>(z.size() >> 8);
  img += z + b;
  put32(96, static_cast<uint32_t>(img.size()) | (1u << 31));  // block 1: ends here, uncompressed
  put32(4, static_cast<uint32_t>(img.size()));
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(img.data()), img.size());
  put32(32, static_cast<uint32_t>(crc));

  TempDir tmp;
  std::string out = tmp / "out";
  auto u = UnpackMemory(img, "ext.cramfs", Options(out));
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->Clean()) << testing::Diagnostics(*u);
  size_t t = TreeOf(*u, "cramfs");
  ASSERT_NE(t, SIZE_MAX);
  const FileEntry* e = u->files.Find(t, "f");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, size);
  EXPECT_EQ(e->uid, 1000u);
  EXPECT_EQ(e->gid, 7u);
  EXPECT_EQ(e->mode, 0644u);
  EXPECT_EQ(ReadFile(out + "/" + e->disk_path), a + b);
}

TEST(CramfsTest, RealEsp32XipImage) {
  std::string img = testing::SharedDir() + "/corpora/firmware/esp32s3-linux-rootfs.cramfs";
  if (!testing::Exists(img)) GTEST_SKIP() << "corpus image not available";
  TempDir tmp;
  std::string out = tmp / "out";
  auto u = Unpack(img, Options(out));
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_TRUE(u->Clean()) << testing::Diagnostics(*u);
  const Region* r = FindRegion(u->layout, "cramfs");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(RegionDetail(*r, "flags"), "0x803");
  EXPECT_EQ(RegionDetail(*r, "crc"), "ok");
  size_t t = TreeOf(*u, "cramfs");
  ASSERT_NE(t, SIZE_MAX);
  auto entries = u->files.EntriesOf(t);
  // The superblock counts 401 inodes: the root plus 400 entries under it.
  EXPECT_EQ(RegionDetail(*r, "files"), "401");
  EXPECT_EQ(entries.size(), 400u);
  for (const FileEntry* e : entries) {
    EXPECT_NE(e->state, EntryState::kTruncated) << e->tree_path;
    EXPECT_NE(e->state, EntryState::kUnsafe) << e->tree_path;
  }
}

}  // namespace
}  // namespace firmwarden
