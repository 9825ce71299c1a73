// JFFS2: real images made by mkfs.jffs2 in both byte orders and with each compressor Debian's
// mkfs.jffs2 has, compared entry by entry with the source tree; the real Buildroot image; and
// truncated and bit-flipped images, which must never crash.
#include <gtest/gtest.h>
#include <lzma.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
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

bool HaveMkfs() { return Shell("command -v mkfs.jffs2 >/dev/null 2>&1") == 0; }

// The source tree every image is made from. Returns false when the system refuses (not root).
bool BuildTree(const std::string& root) {
  auto w = [&](const std::string& rel, const std::string& data) {
    testing::WriteFile(root + "/" + rel, data);
  };
  fs::create_directories(root + "/dir/sub/deep");
  fs::create_directories(root + "/home/user");
  fs::create_directories(root + "/dev");
  w("hello.txt", "hello world\n");
  w("empty", "");
  w("dir/sub/deep/file.txt", "deep file\n");
  // Random (incompressible) and repetitive (compressible) data, both spanning many 4 KiB nodes.
  w("random.bin", testing::RandomBytes(70000, 7));
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "line " + std::to_string(i % 97) + " of some text\n";
  w("dir/text.txt", text);
  w("zeros.bin", std::string(20000, '\0') + "tail");
  w("suid", "#!/bin/sh\necho root\n");
  w("home/user/owned.txt", "mine\n");
  if (chmod((root + "/suid").c_str(), 04755) != 0) return false;
  if (chmod((root + "/home/user").c_str(), 0700) != 0) return false;
  if (chown((root + "/home/user").c_str(), 1000, 1000) != 0) return false;
  if (chown((root + "/home/user/owned.txt").c_str(), 1000, 1000) != 0) return false;
  if (symlink("hello.txt", (root + "/short_link").c_str()) != 0) return false;
  if (symlink("dir/sub/deep/file.txt", (root + "/deep_link").c_str()) != 0) return false;
  if (link((root + "/hello.txt").c_str(), (root + "/dir/hard").c_str()) != 0) return false;
  if (mkfifo((root + "/fifo").c_str(), 0640) != 0) return false;
  if (mknod((root + "/dev/console").c_str(), S_IFCHR | 0600, makedev(5, 1)) != 0) return false;
  if (mknod((root + "/dev/sda").c_str(), S_IFBLK | 0660, makedev(8, 0)) != 0) return false;
  Shell("touch -h -d @1600000000 " + Sh(root + "/hello.txt"));
  return true;
}

// JFFS2's CRC32: the reflected 0xEDB88320 polynomial, seeded with 0 and not inverted at the end.
uint32_t Crc(std::string_view b) {
  uint32_t c = 0;
  for (unsigned char x : b) {
    c ^= x;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
  }
  return c;
}

// Raw LZMA1 as the OpenWrt/U-Boot JFFS2 lzma compressor writes it: no header, lc=0 lp=0 pb=0,
// an 8 KiB dictionary, and (unless `eopm`) no end marker, since the node's dsize gives the size.
std::string LzmaRaw(std::string_view data, bool eopm) {
  lzma_options_lzma opt{};
  if (lzma_lzma_preset(&opt, 6)) return "";
  opt.lc = 0;
  opt.lp = 0;
  opt.pb = 0;
  opt.dict_size = 0x2000;
  opt.ext_flags = eopm ? LZMA_LZMA1EXT_ALLOW_EOPM : 0;
  opt.ext_size_low = static_cast<uint32_t>(data.size());
  opt.ext_size_high = 0;
  lzma_filter filters[] = {{LZMA_FILTER_LZMA1EXT, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  std::string out(data.size() + data.size() / 2 + 256, '\0');
  size_t out_pos = 0;
  lzma_ret ret = lzma_raw_buffer_encode(
      filters, nullptr, reinterpret_cast<const uint8_t*>(data.data()), data.size(),
      reinterpret_cast<uint8_t*>(out.data()), &out_pos, out.size());
  if (ret != LZMA_OK) return "";
  out.resize(out_pos);
  return out;
}

// Byte-order aware field access for the rewriter.
uint32_t Get32(const std::string& s, size_t pos, bool big) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    uint32_t b = static_cast<unsigned char>(s[pos + i]);
    v |= big ? b << (8 * (3 - i)) : b << (8 * i);
  }
  return v;
}
void Put32(std::string& s, size_t pos, uint32_t v, bool big) {
  for (int i = 0; i < 4; ++i) s[pos + i] = static_cast<char>(v >> (big ? 8 * (3 - i) : 8 * i));
}

// What the lzma rewriter did, and a hook to damage the k-th compressed payload afterwards
// (the CRCs are computed over the damaged bytes, so only the decoder can notice).
struct LzmaRewrite {
  size_t rewritten = 0;
  size_t kept = 0;  // nodes with data that were not re-encoded
  std::function<void(size_t k, std::string& payload, uint32_t& dsize)> damage;
};

// Takes a mkfs.jffs2 image written without compression and re-encodes every data node (of
// regular files only, as the kernel does, unless `all_nodes`: symlinks and devices too) with
// compressor 8, fixing csize, the data, node and header CRCs and the 4-byte padding. Nodes are
// laid end to end, dropping the erase-block padding mkfs.jffs2 put between them.
std::string RewriteAsLzma(const std::string& img, bool big, bool all_nodes, bool eopm,
                          LzmaRewrite* info) {
  std::string out;
  size_t pos = 0;
  while (pos + 12 <= img.size()) {
    uint32_t first = Get32(img, pos, big);
    uint16_t magic = static_cast<uint16_t>(big ? first >> 16 : first & 0xFFFF);
    uint16_t type = static_cast<uint16_t>(big ? first & 0xFFFF : first >> 16);
    uint32_t totlen = Get32(img, pos + 4, big);
    if (magic != 0x1985 || totlen < 12 || pos + totlen > img.size()) {
      pos += 4;
      continue;
    }
    std::string node = img.substr(pos, totlen);
    pos += (totlen + 3) & ~3U;
    if (type == 0xE002 && node.size() >= 68) {
      uint32_t mode = Get32(node, 20, big);
      uint32_t csize = Get32(node, 48, big);
      uint32_t dsize = Get32(node, 52, big);
      bool regular = (mode & S_IFMT) == S_IFREG;
      if (node[56] == 0 && csize > 0 && csize == dsize && (regular || all_nodes)) {
        std::string payload = LzmaRaw(std::string_view(node).substr(68, csize), eopm);
        if (payload.empty()) return "";
        if (info->damage) info->damage(info->rewritten, payload, dsize);
        ++info->rewritten;
        node.resize(68);
        node += payload;
        node[56] = 8;  // compr: lzma
        Put32(node, 4, static_cast<uint32_t>(node.size()), big);
        Put32(node, 8, Crc(std::string_view(node).substr(0, 8)), big);
        Put32(node, 48, static_cast<uint32_t>(payload.size()), big);
        Put32(node, 52, dsize, big);
        Put32(node, 60, Crc(payload), big);
        Put32(node, 64, Crc(std::string_view(node).substr(0, 60)), big);
      } else if (csize > 0) {
        ++info->kept;  // data left as it was
      }
    }
    while (node.size() % 4) node += '\xFF';
    out += node;
  }
  return out;
}

// What JFFS2 keeps of the source: everything; directory times are not compared.
Expect Jffs2Expect() {
  Expect x;
  x.dir_mtime = false;
  x.hardlink_data = true;
  x.min_entries = 16;
  return x;
}

class Jffs2ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveMkfs()) GTEST_SKIP() << "mkfs.jffs2 not installed (mtd-utils)";
    if (!BuildTree(tmp_ / "src")) GTEST_SKIP() << "cannot build tree (not root?)";
  }
  std::string Make(const std::string& args) {
    std::string img = tmp_ / "fs.img";
    std::string log;
    int rc = Shell(
        "mkfs.jffs2 -r " + Sh(tmp_ / "src") + " -o " + Sh(img) + " -e 0x10000 -n " + args + " 2>&1",
        &log);
    EXPECT_EQ(rc, 0) << log;
    return img;
  }
  void Check(const std::string& img, std::string_view endian) {
    std::string out = tmp_ / "out";
    Unpacked u;
    const Region* r = nullptr;
    ASSERT_NO_FATAL_FAILURE(testing::UnpackWholeImage(img, out, "jffs2", u, r));
    EXPECT_EQ(RegionDetail(*r, "endianness"), endian);
    ASSERT_TRUE(r->tree.has_value());
    ExpectTreeMatches(u, *r->tree, tmp_ / "src", out, Jffs2Expect());
    const FileEntry* suid = u.files.Find(*r->tree, "suid");
    ASSERT_NE(suid, nullptr);
    EXPECT_EQ(suid->mode, 04755u);
    const FileEntry* owned = u.files.Find(*r->tree, "home/user/owned.txt");
    ASSERT_NE(owned, nullptr);
    EXPECT_EQ(owned->uid, 1000u);
    EXPECT_EQ(owned->gid, 1000u);
    const FileEntry* hello = u.files.Find(*r->tree, "hello.txt");
    const FileEntry* hard = u.files.Find(*r->tree, "dir/hard");
    ASSERT_NE(hello, nullptr);
    ASSERT_NE(hard, nullptr);
    EXPECT_EQ(hello->mtime, 1600000000);
    EXPECT_NE(hard->type == EntryType::kHardlink, hello->type == EntryType::kHardlink);
    const FileEntry* console = u.files.Find(*r->tree, "dev/console");
    ASSERT_NE(console, nullptr);
    EXPECT_EQ(console->rdev_major, 5u);
    EXPECT_EQ(console->rdev_minor, 1u);
  }
  TempDir tmp_;
};

TEST_F(Jffs2ImageTest, LittleEndianDefaultCompression) { Check(Make("-l"), "little"); }
TEST_F(Jffs2ImageTest, BigEndianDefaultCompression) { Check(Make("-b"), "big"); }
TEST_F(Jffs2ImageTest, LittleEndianLzo) { Check(Make("-l -X lzo -x zlib"), "little"); }
TEST_F(Jffs2ImageTest, BigEndianLzo) { Check(Make("-b -X lzo -x zlib -x rtime"), "big"); }
TEST_F(Jffs2ImageTest, RtimeOnly) { Check(Make("-l -x zlib"), "little"); }
TEST_F(Jffs2ImageTest, Uncompressed) { Check(Make("-b -x zlib -x rtime"), "big"); }

// Compressor 8 (lzma), which Debian's mkfs.jffs2 cannot write: its uncompressed output with every
// file data node re-encoded by RewriteAsLzma must give back the source tree, entry for entry.
TEST_F(Jffs2ImageTest, LittleEndianLzma) {
  LzmaRewrite info;
  std::string img =
      RewriteAsLzma(ReadFile(Make("-l -x zlib -x rtime")), false, false, false, &info);
  ASSERT_FALSE(img.empty());
  EXPECT_GT(info.rewritten, 25u);  // random.bin and text.txt alone span 25 4 KiB nodes
  testing::WriteFile(tmp_ / "lzma.img", img);
  Check(tmp_ / "lzma.img", "little");
}

TEST_F(Jffs2ImageTest, BigEndianLzmaEverywhereWithEndMarkers) {
  // Symlink targets and device numbers too, and streams that carry an end marker.
  LzmaRewrite info;
  std::string img = RewriteAsLzma(ReadFile(Make("-b -x zlib -x rtime")), true, true, true, &info);
  ASSERT_FALSE(img.empty());
  EXPECT_GT(info.rewritten, 25u);
  EXPECT_EQ(info.kept, 0u) << "every inode node with data should have been re-encoded";
  testing::WriteFile(tmp_ / "lzma.img", img);
  Check(tmp_ / "lzma.img", "big");
}

TEST_F(Jffs2ImageTest, HostileLzmaPayloadsGiveDiagnostics) {
  std::string plain = ReadFile(Make("-l -x zlib -x rtime"));
  struct Case {
    const char* name;
    std::function<void(std::string&, uint32_t&)> damage;
    const char* expect;
  };
  const Case cases[] = {
      {"cut in half", [](std::string& p, uint32_t&) { p.resize(p.size() / 2); }, "lzma data"},
      {"cut to one byte", [](std::string& p, uint32_t&) { p.resize(1); }, "lzma data"},
      {"garbage",
       [](std::string& p, uint32_t&) {
         for (size_t i = 0; i < p.size(); i += 3) p[i] ^= '\x5A';
       },
       "lzma data"},
      {"first byte not zero", [](std::string& p, uint32_t&) { p[0] = '\x80'; }, "lzma data"},
      {"dsize larger than the stream", [](std::string&, uint32_t& d) { d += 100; }, "lzma data"},
      {"dsize smaller than the stream", [](std::string&, uint32_t& d) { d = d > 1 ? d / 2 : 0; },
       "lzma data"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    LzmaRewrite info;
    // Damage every fifth node, the first one included.
    info.damage = [&](size_t k, std::string& p, uint32_t& d) {
      if (k % 5 == 0) c.damage(p, d);
    };
    std::string img = RewriteAsLzma(plain, false, false, false, &info);
    ASSERT_FALSE(img.empty());
    std::string path = tmp_ / ("bad" + std::to_string(n));
    testing::WriteFile(path, img);
    auto u = Unpack(path, Options(tmp_ / ("bad_out" + std::to_string(n))));
    ++n;
    ASSERT_TRUE(u.has_value()) << u.error().ToString();
    std::string diags = Diagnostics(*u);
    EXPECT_NE(diags.find(c.expect), std::string::npos) << diags;
    const Region* r = FindRegion(u->layout, "jffs2");
    ASSERT_NE(r, nullptr);
    ASSERT_TRUE(r->tree.has_value());
    size_t truncated = 0;
    for (const FileEntry* e : u->files.EntriesOf(*r->tree))
      if (e->state == EntryState::kTruncated) ++truncated;
    EXPECT_GT(truncated, 0u) << "a file with an undecodable node is marked truncated";
    // Undamaged files still come out whole.
    const FileEntry* hello = u->files.Find(*r->tree, "hello.txt");
    ASSERT_NE(hello, nullptr);
    if (hello->state != EntryState::kTruncated) {
      EXPECT_EQ(ReadFile(tmp_ / ("bad_out" + std::to_string(n - 1)) + "/" + hello->disk_path),
                "hello world\n");
    }
  }
}

TEST_F(Jffs2ImageTest, InfoModeListsEverything) {
  std::string img = Make("-l");
  auto u = Unpack(img, UnpackOptions{});
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
  const Region* r = FindRegion(u->layout, "jffs2");
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(r->tree.has_value());
  const FileEntry* random = u->files.Find(*r->tree, "random.bin");
  ASSERT_NE(random, nullptr);
  EXPECT_EQ(random->size, 70000u);
}

TEST_F(Jffs2ImageTest, EmbeddedInFlashDumpWithPadding) {
  std::string img = Make("-b -p");
  std::string fsdata = ReadFile(img);
  std::string dump = std::string(0x20000, '\xFF') + fsdata + std::string(0x20000, '\xFF');
  testing::WriteFile(tmp_ / "dump.bin", dump);
  auto u = Unpack(tmp_ / "dump.bin", Options(tmp_ / "out"));
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  const Region* r = FindRegion(u->layout, "jffs2");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0x20000u);
  EXPECT_LE(r->size, fsdata.size());
  ASSERT_TRUE(r->tree.has_value());
  ExpectTreeMatches(*u, *r->tree, tmp_ / "src", tmp_ / "out", Jffs2Expect());
}

std::string SmallImage(const TempDir& tmp, const std::string& flag) {
  if (!HaveMkfs() || !BuildTree(tmp / "src")) return "";
  std::string img = tmp / "small.img";
  if (Shell("mkfs.jffs2 -r " + Sh(tmp / "src") + " -o " + Sh(img) + " -e 0x10000 -n " + flag +
            " >/dev/null 2>&1") != 0)
    return "";
  return ReadFile(img);
}

Unpacked UnpackBytes(const TempDir& tmp, const std::string& data, int n, bool write = true) {
  std::string in = tmp / ("in" + std::to_string(n));
  testing::WriteFile(in, data);
  UnpackOptions o;
  if (write) o.output_dir = tmp / ("out" + std::to_string(n));
  auto u = Unpack(in, o);
  EXPECT_TRUE(u.has_value());
  return u ? std::move(*u) : Unpacked{};
}

TEST(Jffs2Test, TruncatedImagesGiveDiagnostics) {
  for (const std::string flag : {"-l", "-b"}) {
    SCOPED_TRACE(flag);
    TempDir tmp;
    std::string img = SmallImage(tmp, flag);
    if (img.empty()) GTEST_SKIP() << "mkfs.jffs2 unavailable or not root";
    int n = 0;
    for (size_t len :
         {size_t{20}, size_t{100}, size_t{1000}, img.size() / 4, img.size() / 2, img.size() - 5}) {
      SCOPED_TRACE(len);
      Unpacked u = UnpackBytes(tmp, img.substr(0, len), n++);
      const Region* r = FindRegion(u.layout, "jffs2");
      ASSERT_NE(r, nullptr);
      EXPECT_FALSE(u.Clean()) << "a cut node or a missing file should be reported";
    }
  }
}

TEST(Jffs2Test, BitFlipsNeverCrash) {
  for (const std::string flag : {"-l", "-b"}) {
    SCOPED_TRACE(flag);
    TempDir tmp;
    std::string img = SmallImage(tmp, flag);
    if (img.empty()) GTEST_SKIP() << "mkfs.jffs2 unavailable or not root";
    std::mt19937_64 rng(flag == "-l" ? 1985 : 2003);
    int diagnosed = 0;
    const int rounds = 60;
    for (int i = 0; i < rounds; ++i) {
      std::string data = img;
      for (int k = 0; k < 4; ++k) data[rng() % data.size()] ^= static_cast<char>(1 << (rng() % 8));
      Unpacked u = UnpackBytes(tmp, data, i, /*write=*/i % 2 == 0);
      if (!u.Clean()) ++diagnosed;
    }
    // CRCs cover every node, so nearly every flip is noticed.
    EXPECT_GT(diagnosed, rounds / 2);
  }
}

// Hand-built log: what mkfs.jffs2 never writes but a mounted filesystem leaves behind.

void Le32(std::string& s, size_t pos, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[pos + i] = static_cast<char>(v >> (8 * i));
}

std::string Node(uint16_t type, std::string body) {
  std::string n(12, '\0');
  n[0] = '\x85';
  n[1] = '\x19';
  n[2] = static_cast<char>(type & 0xFF);
  n[3] = static_cast<char>(type >> 8);
  n += body;
  Le32(n, 4, static_cast<uint32_t>(n.size()));
  Le32(n, 8, Crc(std::string_view(n).substr(0, 8)));
  while (n.size() % 4) n += '\xFF';
  return n;
}

std::string Dirent(uint32_t pino, uint32_t version, uint32_t ino, const std::string& name) {
  std::string b(28, '\0');
  Le32(b, 0, pino);
  Le32(b, 4, version);
  Le32(b, 8, ino);
  b[16] = static_cast<char>(name.size());
  std::string n = Node(0xE001, b + name);
  Le32(n, 32, Crc(std::string_view(n).substr(0, 32)));
  Le32(n, 36, Crc(name));
  return n;
}

std::string Inode(uint32_t ino, uint32_t version, uint32_t mode, uint32_t isize, uint32_t offset,
                  const std::string& data, uint8_t compr = 0, uint32_t dsize = 0) {
  std::string b(56, '\0');
  Le32(b, 0, ino);
  Le32(b, 4, version);
  Le32(b, 8, mode);
  Le32(b, 16, isize);
  Le32(b, 24, 1234);  // mtime
  Le32(b, 32, offset);
  Le32(b, 36, static_cast<uint32_t>(data.size()));
  Le32(b, 40, dsize ? dsize : static_cast<uint32_t>(data.size()));
  b[44] = static_cast<char>(compr);
  std::string n = Node(0xE002, b + data);
  Le32(n, 60, Crc(data));
  Le32(n, 64, Crc(std::string_view(n).substr(0, 60)));
  return n;
}

TEST(Jffs2Test, ReplaysVersionsDeletionsHolesAndLoops) {
  std::string img = Dirent(1, 1, 2, "a") + Inode(2, 1, 0100644, 5, 0, "hello") +
                    Dirent(1, 1, 3, "b") + Inode(3, 1, 0100600, 3, 0, "bye") +
                    // Version 2 of a overwrites its first byte; b is deleted.
                    Inode(2, 2, 0100644, 5, 0, "J") + Dirent(1, 2, 0, "b") +
                    // A hole: 6 zero bytes, then data.
                    Dirent(1, 1, 5, "h") + Inode(5, 1, 0100644, 10, 6, "abcd") +
                    // A directory that contains itself.
                    Dirent(1, 1, 4, "c") + Inode(4, 1, 0040755, 0, 0, "") +
                    Dirent(4, 1, 4, "loop") +
                    // A compressor Debian's mkfs.jffs2 never writes.
                    Dirent(1, 1, 6, "rubin") + Inode(6, 1, 0100644, 4, 0, "xx", 0x05, 4) +
                    std::string(4096, '\xFF');
  TempDir tmp;
  testing::WriteFile(tmp / "log.img", img);
  auto u = Unpack(tmp / "log.img", Options(tmp / "out"));
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  const Region* r = FindRegion(u->layout, "jffs2");
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(r->tree.has_value());
  const FileEntry* a = u->files.Find(*r->tree, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(ReadFile(tmp / "out/" + a->disk_path), "Jello");
  EXPECT_EQ(u->files.Find(*r->tree, "b"), nullptr);
  const FileEntry* h = u->files.Find(*r->tree, "h");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(ReadFile(tmp / "out/" + h->disk_path), std::string(6, '\0') + "abcd");
  const FileEntry* c = u->files.Find(*r->tree, "c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->type, EntryType::kDir);
  const FileEntry* rubin = u->files.Find(*r->tree, "rubin");
  ASSERT_NE(rubin, nullptr);
  EXPECT_EQ(rubin->state, EntryState::kTruncated);
  std::string diags = Diagnostics(*u);
  EXPECT_NE(diags.find("linked twice"), std::string::npos) << diags;
  EXPECT_NE(diags.find("dynrubin"), std::string::npos) << diags;
}

TEST(Jffs2Test, RealBuildrootImage) {
  std::string img = testing::SharedDir() + "/corpora/firmware/buildroot-allwinner-v3s-rootfs.jffs2";
  if (!testing::Exists(img)) GTEST_SKIP() << "corpus image missing: " << img;
  TempDir tmp;
  auto u = Unpack(img, Options(tmp / "out"));
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
  const Region* r = FindRegion(u->layout, "jffs2");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(RegionDetail(*r, "endianness"), "little");
  ASSERT_TRUE(r->tree.has_value());
  const FileEntry* busybox = u->files.Find(*r->tree, "bin/busybox");
  ASSERT_NE(busybox, nullptr);
  EXPECT_EQ(busybox->type, EntryType::kFile);
  EXPECT_GT(busybox->size, 100000u);
  std::string data = ReadFile(tmp / "out/" + busybox->disk_path);
  EXPECT_EQ(data.size(), busybox->size);
  EXPECT_EQ(data.substr(0, 4),
            "\x7f"
            "ELF");
  const FileEntry* sh = u->files.Find(*r->tree, "bin/sh");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->type, EntryType::kSymlink);
  size_t modules = 0;
  for (const FileEntry* e : u->files.EntriesOf(*r->tree)) {
    if (e->tree_path.ends_with(".ko")) {
      ++modules;
      EXPECT_NE(e->state, EntryState::kTruncated) << e->tree_path;
    }
  }
  EXPECT_GT(modules, 0u);
  EXPECT_GE(u->files.EntriesOf(*r->tree).size(), 400u);
}

}  // namespace
}  // namespace firmwarden
