// ext2/3/4: real images made by mke2fs -d (and genext2fs), compared entry by entry with the source
// tree they were made from; plus images embedded in a flash dump, truncated and bit-flipped ones.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "firmwarden/unpack.h"
#include "test_util.h"
#include "unpack/formats/handler_test_util.h"
#include "unpack/formats/roundtrip_test_util.h"

namespace firmwarden {
namespace {

namespace fs = std::filesystem;
using testing::Diagnostics;
using testing::Expect;
using testing::ExpectTreeMatches;
using testing::ReadFile;
using testing::Sh;
using testing::TempDir;
using unpack::testing::FindRegion;
using unpack::testing::Options;
using unpack::testing::RegionDetail;
using unpack::testing::Shell;

bool HaveTool(const std::string& tool) {
  return Shell("command -v " + tool + " >/dev/null 2>&1") == 0;
}

// The source tree every image is made from. Returns false when the system refuses (not root).
bool BuildTree(const std::string& root, bool big) {
  auto w = [&](const std::string& rel, const std::string& data) {
    testing::WriteFile(root + "/" + rel, data);
  };
  fs::create_directories(root + "/dir/sub/deep");
  fs::create_directories(root + "/home/user");
  fs::create_directories(root + "/dev");
  w("hello.txt", "hello world\n");
  w("empty", "");
  w("dir/sub/deep/file.txt", "deep file\n");
  w("dir/sub/" + std::string(200, 'n'), "long name\n");
  if (big) {
    w("big.bin", testing::RandomBytes(3 * 1024 * 1024 + 123, 42));
    // Sparse: holes at the start and in the middle read back as zeros.
    std::string p = root + "/sparse.bin";
    if (Shell("truncate -s 6M " + Sh(p) + " && printf data | dd of=" + Sh(p) +
              " bs=1 seek=1048576 conv=notrunc status=none && printf end >> " + Sh(p)) != 0)
      return false;
  }
  w("medium.bin", testing::RandomBytes(70000, 7));
  w("suid", "#!/bin/sh\necho root\n");
  w("home/user/owned.txt", "mine\n");
  if (chmod((root + "/suid").c_str(), 04755) != 0) return false;
  if (chmod((root + "/home/user").c_str(), 0700) != 0) return false;
  if (chown((root + "/home/user").c_str(), 1000, 1000) != 0) return false;
  if (chown((root + "/home/user/owned.txt").c_str(), 1000, 1000) != 0) return false;
  // High 16 bits of uid/gid live in a separate inode field.
  w("highid", "high ids\n");
  if (chown((root + "/highid").c_str(), 70000, 80000) != 0) return false;
  if (symlink("hello.txt", (root + "/short_link").c_str()) != 0) return false;
  std::string long_target = "dir/sub/deep/" + std::string(90, 'x');
  if (symlink(long_target.c_str(), (root + "/long_link").c_str()) != 0) return false;
  if (link((root + "/hello.txt").c_str(), (root + "/dir/hard").c_str()) != 0) return false;
  if (mkfifo((root + "/fifo").c_str(), 0640) != 0) return false;
  if (mknod((root + "/dev/console").c_str(), S_IFCHR | 0600, makedev(5, 1)) != 0) return false;
  if (mknod((root + "/dev/sda").c_str(), S_IFBLK | 0660, makedev(8, 0)) != 0) return false;
  // Needs the new (32-bit) device encoding.
  if (mknod((root + "/dev/big").c_str(), S_IFCHR | 0600, makedev(300, 70000)) != 0) return false;
  Shell("touch -h -d @1600000000 " + Sh(root + "/hello.txt"));
  return true;
}

// What ext keeps of the source: everything; directory and symlink times are not compared, and
// mke2fs (genext2fs too) adds lost+found.
Expect ExtExpect() {
  Expect x;
  x.dir_mtime = false;
  x.symlink_mtime = false;
  x.hardlink_size = true;
  x.hardlink_data = true;
  x.min_entries = 11;
  x.extra_entries = {"lost+found"};
  return x;
}

class ExtImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("mke2fs")) GTEST_SKIP() << "mke2fs not installed";
    if (!BuildTree(tmp_ / "src", /*big=*/true)) GTEST_SKIP() << "cannot build tree (not root?)";
  }
  std::string Make(const std::string& args) {
    std::string img = tmp_ / "fs.img";
    std::string log;
    int rc = Shell("mke2fs -q -F " + args + " -d " + Sh(tmp_ / "src") + " " + Sh(img) + " 16M 2>&1",
                   &log);
    EXPECT_EQ(rc, 0) << log;
    return img;
  }
  // `full`: the image also holds 32-bit device numbers and uids/gids above 65535.
  void Check(const std::string& img, std::string_view type, bool full = true) {
    std::string out = tmp_ / "out";
    Unpacked u;
    const Region* r = nullptr;
    ASSERT_NO_FATAL_FAILURE(testing::UnpackWholeImage(img, out, "ext", u, r));
    EXPECT_EQ(RegionDetail(*r, "type"), type);
    ASSERT_TRUE(r->tree.has_value());
    ExpectTreeMatches(u, *r->tree, tmp_ / "src", out, ExtExpect());
    const FileEntry* suid = u.files.Find(*r->tree, "suid");
    ASSERT_NE(suid, nullptr);
    EXPECT_EQ(suid->mode, 04755u);
    const FileEntry* owned = u.files.Find(*r->tree, "home/user/owned.txt");
    ASSERT_NE(owned, nullptr);
    EXPECT_EQ(owned->uid, 1000u);
    EXPECT_EQ(owned->gid, 1000u);
    if (full) {
      const FileEntry* big = u.files.Find(*r->tree, "dev/big");
      ASSERT_NE(big, nullptr);
      EXPECT_EQ(big->rdev_major, 300u);
      EXPECT_EQ(big->rdev_minor, 70000u);
      const FileEntry* high = u.files.Find(*r->tree, "highid");
      ASSERT_NE(high, nullptr);
      EXPECT_EQ(high->uid, 70000u);
      EXPECT_EQ(high->gid, 80000u);
    }
    const FileEntry* hello = u.files.Find(*r->tree, "hello.txt");
    ASSERT_NE(hello, nullptr);
    EXPECT_EQ(hello->mtime, 1600000000);
    // Exactly one of the two names of the hardlinked inode is the link.
    const FileEntry* hard = u.files.Find(*r->tree, "dir/hard");
    ASSERT_NE(hard, nullptr);
    EXPECT_NE(hard->type == EntryType::kHardlink, hello->type == EntryType::kHardlink);
    EXPECT_NE(u.files.Find(*r->tree, "lost+found"), nullptr);
    // origin.offset points at the inode: its first two bytes are i_mode.
    std::string bytes = ReadFile(img);
    for (const char* name : {"hello.txt", "suid", "dev/sda", "dir/sub/deep"}) {
      const FileEntry* e = u.files.Find(*r->tree, name);
      ASSERT_NE(e, nullptr) << name;
      if (e->type == EntryType::kHardlink) continue;
      ASSERT_GT(e->origin.offset, 0u) << name;
      ASSERT_LT(e->origin.offset + 2, bytes.size()) << name;
      struct stat st {};
      ASSERT_EQ(lstat((tmp_ / "src/" + name).c_str(), &st), 0);
      uint16_t mode = static_cast<uint8_t>(bytes[e->origin.offset]) |
                      static_cast<uint8_t>(bytes[e->origin.offset + 1]) << 8;
      EXPECT_EQ(mode, st.st_mode & 0xFFFF) << name;
    }
  }
  TempDir tmp_;
};

TEST_F(ExtImageTest, Ext2FromMke2fs) { Check(Make("-t ext2 -b 1024"), "ext2"); }
TEST_F(ExtImageTest, Ext3FromMke2fs) { Check(Make("-t ext3"), "ext3"); }
TEST_F(ExtImageTest, Ext4FromMke2fs) { Check(Make("-t ext4"), "ext4"); }
TEST_F(ExtImageTest, Ext4With64BitAndMetadataChecksums) {
  Check(Make("-t ext4 -O 64bit,metadata_csum -I 512"), "ext4");
}
TEST_F(ExtImageTest, Ext4WithInlineData) {
  // Small files, short directories and medium symlinks live inside the inode.
  Check(Make("-t ext4 -O inline_data -I 1024"), "ext4");
}

TEST_F(ExtImageTest, ExtendedAttributes) {
  std::string file = tmp_ / "src/hello.txt";
  if (setxattr(file.c_str(), "user.comment", "hello", 5, 0) != 0)
    GTEST_SKIP() << "no user xattrs on this filesystem";
  std::string big_value(3000, 'v');  // does not fit in the inode: goes to an EA block
  ASSERT_EQ(
      setxattr((tmp_ / "src/suid").c_str(), "user.big", big_value.data(), big_value.size(), 0), 0);
  for (const char* type : {"ext2", "ext4"}) {
    SCOPED_TRACE(type);
    std::string img = Make(std::string("-b 4096 -t ") + type);
    auto u = Unpack(img, UnpackOptions{});
    ASSERT_TRUE(u.has_value());
    EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
    const Region* r = FindRegion(u->layout, "ext");
    ASSERT_NE(r, nullptr);
    // hello.txt may be the hardlink name; the attributes belong to the inode.
    const FileEntry* hello = u->files.Find(*r->tree, "hello.txt");
    if (hello->type == EntryType::kHardlink) hello = u->files.Find(*r->tree, "dir/hard");
    ASSERT_NE(hello, nullptr);
    using Attr = std::pair<std::string, std::string>;
    EXPECT_NE(std::find(hello->xattrs.begin(), hello->xattrs.end(), Attr{"user.comment", "hello"}),
              hello->xattrs.end());
    const FileEntry* suid = u->files.Find(*r->tree, "suid");
    EXPECT_NE(std::find(suid->xattrs.begin(), suid->xattrs.end(), Attr{"user.big", big_value}),
              suid->xattrs.end());
    fs::remove(img);
  }
}

TEST_F(ExtImageTest, Ext2FromGenext2fs) {
  if (!HaveTool("genext2fs")) GTEST_SKIP() << "genext2fs not installed";
  // genext2fs stores only 8-bit device numbers and 16-bit ids.
  fs::remove(tmp_ / "src/dev/big");
  fs::remove(tmp_ / "src/highid");
  std::string img = tmp_ / "gen.img";
  std::string log;
  // Not -q: that squashes owners and modes.
  ASSERT_EQ(
      Shell("genext2fs -b 16384 -N 256 -d " + Sh(tmp_ / "src") + " " + Sh(img) + " >/dev/null 2>&1",
            &log),
      0)
      << log;
  Check(img, "ext2", /*full=*/false);
}

TEST_F(ExtImageTest, DetailsNameTheFilesystem) {
  std::string img =
      Make("-t ext4 -b 4096 -L firmroot -U 01234567-89ab-cdef-0123-456789abcdef -N 512");
  auto u = Unpack(img, UnpackOptions{});  // info mode: nothing written
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->Clean()) << Diagnostics(*u);  // the hardlink too, though nothing is written
  const Region* r = FindRegion(u->layout, "ext");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(RegionDetail(*r, "volume_name"), "firmroot");
  EXPECT_EQ(RegionDetail(*r, "uuid"), "01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_EQ(RegionDetail(*r, "block_size"), "4096");
  EXPECT_EQ(RegionDetail(*r, "blocks"), "4096");
  EXPECT_EQ(RegionDetail(*r, "inodes"), "512");
  size_t used = std::stoul(RegionDetail(*r, "used_inodes"));
  EXPECT_GE(used, 11u + 20u);  // reserved inodes plus the tree
  EXPECT_LE(used, 11u + 30u);
  EXPECT_EQ(RegionDetail(*r, "entries"), std::to_string(u->files.EntriesOf(*r->tree).size()));
  for (const FileEntry* e : u->files.EntriesOf(*r->tree)) EXPECT_TRUE(e->disk_path.empty());
}

TEST(ExtTest, Ext2InsideFlashDumpAtAlignedOffset) {
  if (!HaveTool("mke2fs")) GTEST_SKIP() << "mke2fs not installed";
  TempDir tmp;
  if (!BuildTree(tmp / "src", /*big=*/false)) GTEST_SKIP() << "cannot build tree (not root?)";
  std::string img = tmp / "fs.img";
  ASSERT_EQ(Shell("mke2fs -q -F -t ext2 -d " + Sh(tmp / "src") + " " + Sh(img) + " 2M"), 0);
  std::string fsbytes = ReadFile(img);
  // Random bytes are full of "\x53\xEF" pairs: every one must be rejected by parse().
  std::string dump = testing::RandomBytes(100000, 1);
  dump.resize(0x30000, '\xFF');
  dump += fsbytes;
  dump.resize(dump.size() + 0x10000, '\xFF');
  dump += testing::RandomBytes(300000, 2);
  testing::WriteFile(tmp / "flash.bin", dump);
  std::string out = tmp / "out";
  auto u = Unpack(tmp / "flash.bin", Options(out));
  ASSERT_TRUE(u.has_value());
  size_t ext_chunks = 0;
  const Region* r = nullptr;
  for (const Region& x : u->layout.regions)
    if (x.kind == Region::Kind::kChunk && x.format == "ext") ++ext_chunks, r = &x;
  ASSERT_EQ(ext_chunks, 1u);
  EXPECT_EQ(r->offset, 0x30000u);
  EXPECT_EQ(r->size, fsbytes.size());
  EXPECT_EQ(RegionDetail(*r, "type"), "ext2");
  ASSERT_TRUE(r->tree.has_value());
  ExpectTreeMatches(*u, *r->tree, tmp / "src", out, ExtExpect());
}

TEST(ExtTest, RandomDataWithMagicIsRejected) {
  // 53 EF planted at the superblock magic position of many candidate offsets.
  std::string data = testing::RandomBytes(1 << 20, 3);
  for (size_t off = 0x438; off + 2 < data.size(); off += 4096) {
    data[off] = '\x53';
    data[off + 1] = '\xEF';
  }
  auto u = UnpackMemory(data, "noise", UnpackOptions{});
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(FindRegion(u->layout, "ext"), nullptr);
}

// A small image for the damage tests (fast to unpack hundreds of times).
std::string SmallImage(TempDir& tmp, const std::string& type) {
  if (!HaveTool("mke2fs")) return "";
  if (!BuildTree(tmp / ("src-" + type), /*big=*/false)) return "";
  std::string img = tmp / (type + ".img");
  if (Shell("mke2fs -q -F -t " + type + " -d " + Sh(tmp / ("src-" + type)) + " " + Sh(img) +
            " 1M >/dev/null 2>&1") != 0)
    return "";
  return ReadFile(img);
}

// Unpacks `data` into a fresh directory below `tmp` and checks nothing escaped it.
Unpacked UnpackContained(TempDir& tmp, const std::string& data, int n) {
  std::string name = "out" + std::to_string(n);
  std::string out = tmp / name;
  UnpackOptions o = Options(out);
  o.limits.max_seconds = 20;
  o.limits.max_total_bytes = 64 << 20;
  auto u = UnpackMemory(data, "damaged", o);
  EXPECT_TRUE(u.has_value());
  for (const std::string& rel : testing::ListTree(tmp.path())) {
    bool inside = rel.rfind("out", 0) == 0 || rel.rfind("src-", 0) == 0 ||
                  (rel.size() > 4 && rel.substr(rel.size() - 4) == ".img");
    EXPECT_TRUE(inside) << "written outside the output directory: " << rel;
  }
  for (const std::string& rel : testing::ListTree(out)) {
    struct stat st {};
    if (lstat((out + "/" + rel).c_str(), &st) != 0) continue;
    EXPECT_TRUE(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) << rel;
    EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << rel;
  }
  fs::remove_all(out);
  return u ? std::move(*u) : Unpacked{};
}

TEST(ExtTest, TruncatedImagesGiveDiagnostics) {
  for (const std::string type : {"ext2", "ext4"}) {
    SCOPED_TRACE(type);
    TempDir tmp;
    std::string img = SmallImage(tmp, type);
    if (img.empty()) GTEST_SKIP() << "mke2fs unavailable or not root";
    int n = 0;
    for (size_t len :
         {size_t{1100}, size_t{2048}, size_t{4096}, size_t{8192}, size_t{20000}, size_t{65536},
          size_t{100000}, img.size() / 4, img.size() / 2, img.size() - 1024, img.size() - 1}) {
      SCOPED_TRACE(len);
      Unpacked u = UnpackContained(tmp, img.substr(0, len), n++);
      if (len < 2048) continue;  // no whole superblock: not even recognised
      const Region* r = FindRegion(u.layout, "ext");
      ASSERT_NE(r, nullptr);
      EXPECT_TRUE(r->truncated);
      EXPECT_FALSE(u.Clean());
    }
  }
}

TEST(ExtTest, BitFlipsNeverCrashOrEscape) {
  for (const std::string type : {"ext2", "ext4"}) {
    SCOPED_TRACE(type);
    TempDir tmp;
    std::string img = SmallImage(tmp, type);
    if (img.empty()) GTEST_SKIP() << "mke2fs unavailable or not root";
    std::mt19937_64 rng(type == "ext2" ? 1234 : 5678);
    int diagnosed = 0;
    const int rounds = 150;
    for (int i = 0; i < rounds; ++i) {
      std::string data = img;
      // Aim at metadata: the superblock and group descriptors, the first inodes of the inode
      // table (these 1 KiB-block images keep it at block 8 or so), and the first 160 KiB (bitmaps,
      // directories, some data).
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        size_t off = 0;
        switch (rng() % 3) {
          case 0:
            off = 1024 + rng() % 2048;
            break;
          case 1:
            off = 8192 + rng() % 8192;
            break;
          default:
            off = rng() % std::min<size_t>(data.size(), 160 * 1024);
            break;
        }
        data[off] = static_cast<char>(data[off] ^ (1u << (rng() % 8)));
      }
      SCOPED_TRACE(i);
      Unpacked u = UnpackContained(tmp, data, i);
      if (!u.Clean()) ++diagnosed;
    }
    // A flip in file data or an unused field changes nothing libext2fs can notice; one in the
    // superblock, a descriptor, an inode or a directory usually does.
    EXPECT_GT(diagnosed, 0);
    std::cout << type << ": " << diagnosed << " of " << rounds << " damaged images diagnosed\n";
  }
}

TEST(ExtTest, CorruptSuperblockFieldsAreRejected) {
  TempDir tmp;
  std::string img = SmallImage(tmp, "ext2");
  if (img.empty()) GTEST_SKIP() << "mke2fs unavailable or not root";
  auto put32 = [](std::string& s, size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) s[off + i] = static_cast<char>(v >> (8 * i));
  };
  struct Case {
    const char* what;
    size_t field;
    uint32_t value;
  };
  for (const Case& c :
       {Case{"log block size", 0x18, 7}, Case{"no blocks", 0x04, 0}, Case{"no inodes", 0x00, 0},
        Case{"rev level", 0x4C, 2}, Case{"inodes per group", 0x28, 0},
        Case{"unknown incompat", 0x60, 1u << 31}, Case{"first data block", 0x14, 5}}) {
    SCOPED_TRACE(c.what);
    std::string data = img;
    put32(data, 1024 + c.field, c.value);
    auto u = UnpackMemory(data, "bad", UnpackOptions{});
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(FindRegion(u->layout, "ext"), nullptr);
  }
}

}  // namespace
}  // namespace firmwarden
