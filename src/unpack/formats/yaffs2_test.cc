// YAFFS2: Debian has no writer, so these tests carry a small one (below, written from the on-flash
// format: object headers, data chunks, packed tags in the spare area). Its output is checked with
// Debian's unyaffs as an independent reader, then read back by firmwarden entry for entry, in
// several page/spare layouts, both byte orders and without spare; plus superseded, deleted and
// unlinked objects, truncation and bit flips.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "firmwarden/unpack.h"
#include "unpack/formats/handler_test_util.h"
#include "unpack/formats/roundtrip_test_util.h"

// The tests build headers with designated initializers that leave the other fields at their
// defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

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
using testing::PutU32;
using testing::RegionDetail;
using testing::Shell;

// A YAFFS2 image writer in the style of mkyaffs2image: objects in directory order, each header
// followed by its file's data chunks, ids counting up from 0x101, one block sequence number per
// 64 chunks, tags (sequence, object, chunk, bytes) at `tags_at` in the spare area.
class Yaffs2Writer {
 public:
  Yaffs2Writer(size_t page, size_t spare, bool big_endian, size_t tags_at = 0)
      : page_(page), spare_(spare), be_(big_endian), tags_at_(tags_at) {}

  struct Obj {
    uint32_t type = 1, parent = 1, mode = 0, uid = 0, gid = 0, mtime = 0, size = 0, equiv = 0,
             rdev = 0;
    std::string name, alias;
  };

  // Writes a header chunk for object `id`.
  void Header(uint32_t id, const Obj& o) {
    std::string c(page_, '\xFF');
    Put(c, 0, o.type);
    Put(c, 4, o.parent);
    std::string name = o.name;
    name.resize(256, '\0');
    c.replace(10, 256, name);
    c[266] = c[267] = '\0';
    Put(c, 268, o.mode);
    Put(c, 272, o.uid);
    Put(c, 276, o.gid);
    Put(c, 280, o.mtime);  // atime
    Put(c, 284, o.mtime);
    Put(c, 288, o.mtime);  // ctime
    Put(c, 292, o.size);
    Put(c, 296, o.equiv);
    std::string alias = o.alias;
    alias.resize(160, '\0');
    c.replace(300, 160, alias);
    Put(c, 460, o.rdev);
    Chunk(c, id, 0, 0xFFFF);
  }
  void Data(uint32_t id, uint32_t chunk_id, std::string_view bytes) {
    std::string c(bytes);
    c.resize(page_, '\xFF');
    Chunk(c, id, chunk_id, static_cast<uint32_t>(bytes.size()));
  }
  void File(uint32_t id, const Obj& o, std::string_view content) {
    Header(id, o);
    for (size_t at = 0, n = 1; at < content.size(); at += page_, ++n)
      Data(id, static_cast<uint32_t>(n), content.substr(at, page_));
  }
  // Starts a new block (a later sequence number).
  void NextBlock() {
    while (chunks_ % kChunksPerBlock != 0) {
      out_ += std::string(page_ + spare_, '\xFF');
      ++chunks_;
    }
  }

  // Writes the whole tree under `root`; returns false on an unreadable entry.
  bool Tree(const std::string& root) { return Dir(root, 1); }

  const std::string& image() const { return out_; }

 private:
  static constexpr size_t kChunksPerBlock = 64;

  void Put(std::string& s, size_t at, uint32_t v) { PutU32(s, at, v, be_); }

  void Chunk(const std::string& data, uint32_t id, uint32_t chunk_id, uint32_t bytes) {
    out_ += data;
    if (spare_ > 0) {
      std::string sp(spare_, '\xFF');
      Put(sp, tags_at_, 0x1000 + static_cast<uint32_t>(chunks_ / kChunksPerBlock));
      Put(sp, tags_at_ + 4, id);
      Put(sp, tags_at_ + 8, chunk_id);
      Put(sp, tags_at_ + 12, bytes);
      out_ += sp;
    }
    ++chunks_;
  }

  bool Dir(const std::string& dir, uint32_t parent) {
    std::vector<fs::path> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path());
    std::sort(names.begin(), names.end());
    for (const fs::path& p : names) {
      struct stat st {};
      if (lstat(p.c_str(), &st) != 0) return false;
      Obj o;
      o.parent = parent;
      o.name = p.filename().string();
      o.mode = st.st_mode;
      o.uid = st.st_uid;
      o.gid = st.st_gid;
      o.mtime = static_cast<uint32_t>(st.st_mtime);
      uint32_t id = next_id_++;
      if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
        auto [it, fresh] = inodes_.try_emplace(st.st_ino, id);
        if (!fresh) {
          o.type = 4;
          o.equiv = it->second;
          Header(id, o);
          continue;
        }
      }
      if (S_ISDIR(st.st_mode)) {
        o.type = 3;
        Header(id, o);
        if (!Dir(p.string(), id)) return false;
      } else if (S_ISREG(st.st_mode)) {
        o.type = 1;
        o.size = static_cast<uint32_t>(st.st_size);
        File(id, o, ReadFile(p.string()));
      } else if (S_ISLNK(st.st_mode)) {
        o.type = 2;
        o.alias = fs::read_symlink(p).string();
        Header(id, o);
      } else {
        o.type = 5;
        o.rdev = static_cast<uint32_t>(st.st_rdev);
        Header(id, o);
      }
    }
    return true;
  }

  size_t page_, spare_;
  bool be_;
  size_t tags_at_;
  std::string out_;
  size_t chunks_ = 0;
  uint32_t next_id_ = 0x101;
  std::map<ino_t, uint32_t> inodes_;
};

class Yaffs2ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!firmwarden::testing::BuildSourceTree(tmp_ / "src"))
      GTEST_SKIP() << "cannot build tree (not root?)";
  }
  std::string Make(size_t page, size_t spare, bool be, size_t tags_at = 0) {
    Yaffs2Writer w(page, spare, be, tags_at);
    EXPECT_TRUE(w.Tree(tmp_ / "src"));
    return w.image();
  }
  std::string Out() { return tmp_ / ("out" + std::to_string(n_++)); }
  void Check(const std::string& img, size_t page, size_t spare, std::string_view endian) {
    std::string out = Out();
    auto u = UnpackMemory(img, "fs.yaffs2", Options(out));
    ASSERT_TRUE(u.has_value()) << u.error().ToString();
    EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
    const Region* r = FindRegion(u->layout, "yaffs2");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->offset, 0u);
    EXPECT_EQ(r->size, img.size());
    EXPECT_EQ(RegionDetail(*r, "page_size"), std::to_string(page));
    EXPECT_EQ(RegionDetail(*r, "spare_size"), std::to_string(spare));
    EXPECT_EQ(RegionDetail(*r, "endianness"), endian);
    firmwarden::testing::ExpectTreeMatches(*u, TreeOf(*u, "yaffs2"), tmp_ / "src", out);
  }
  TempDir tmp_;
  int n_ = 0;
};

// The writer's output, read by Debian's unyaffs: the same names, types, data and link targets as
// the source tree (owners and modes too, since the tests run as root).
TEST_F(Yaffs2ImageTest, WriterAgreesWithUnyaffs) {
  if (Shell("command -v unyaffs >/dev/null 2>&1") != 0) GTEST_SKIP() << "unyaffs missing";
  std::string img = tmp_ / "fs.yaffs2";
  firmwarden::testing::WriteFile(img, Make(2048, 64, false));
  std::string ref = tmp_ / "unyaffs";
  std::string log;
  ASSERT_EQ(Shell("unyaffs " + Sh(img) + " " + Sh(ref) + " 2>&1", &log), 0) << log;
  std::string src = tmp_ / "src";
  size_t compared = 0;
  for (auto it = fs::recursive_directory_iterator(src); it != fs::end(it); ++it) {
    std::string rel = it->path().lexically_relative(src).string();
    SCOPED_TRACE(rel);
    struct stat a {
    }, b{};
    ASSERT_EQ(lstat(it->path().c_str(), &a), 0);
    ASSERT_EQ(lstat((ref + "/" + rel).c_str(), &b), 0) << log;
    EXPECT_EQ(a.st_mode & S_IFMT, b.st_mode & S_IFMT);
    EXPECT_EQ(a.st_mode & 0777, b.st_mode & 0777);
    EXPECT_EQ(a.st_uid, b.st_uid);
    EXPECT_EQ(a.st_gid, b.st_gid);
    if (S_ISREG(a.st_mode)) {
      EXPECT_EQ(ReadFile(ref + "/" + rel), ReadFile(it->path()));
    } else if (S_ISLNK(a.st_mode)) {
      EXPECT_EQ(fs::read_symlink(ref + "/" + rel), fs::read_symlink(it->path()));
    } else if (S_ISCHR(a.st_mode) || S_ISBLK(a.st_mode)) {
      EXPECT_EQ(a.st_rdev, b.st_rdev);
    }
    ++compared;
  }
  EXPECT_GE(compared, 15u);
  EXPECT_EQ(firmwarden::testing::ListTree(ref).size(), compared);
  // And firmwarden reads the very same file.
  std::string out = Out();
  auto u = Unpack(img, Options(out));
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
  firmwarden::testing::ExpectTreeMatches(*u, TreeOf(*u, "yaffs2"), src, out);
}

TEST_F(Yaffs2ImageTest, Page2048Spare64) { Check(Make(2048, 64, false), 2048, 64, "little"); }
TEST_F(Yaffs2ImageTest, Page2048Spare64BigEndian) { Check(Make(2048, 64, true), 2048, 64, "big"); }
TEST_F(Yaffs2ImageTest, Page512Spare16) { Check(Make(512, 16, false), 512, 16, "little"); }
TEST_F(Yaffs2ImageTest, Page4096Spare128) { Check(Make(4096, 128, false), 4096, 128, "little"); }
TEST_F(Yaffs2ImageTest, BadBlockMarkerBeforeTags) {
  std::string img = Make(2048, 64, false, 2);
  Check(img, 2048, 64, "little");
  auto u = UnpackMemory(img, "bb", UnpackOptions{});
  ASSERT_TRUE(u.has_value());
  const Region* r = FindRegion(u->layout, "yaffs2");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(RegionDetail(*r, "tags_offset"), "2");
}
TEST_F(Yaffs2ImageTest, NoSpare2048) { Check(Make(2048, 0, false), 2048, 0, "little"); }
TEST_F(Yaffs2ImageTest, NoSpare512BigEndian) { Check(Make(512, 0, true), 512, 0, "big"); }

TEST_F(Yaffs2ImageTest, InsideAFlashDump) {
  std::string img = Make(2048, 64, false);
  std::string dump = firmwarden::testing::RandomBytes(5000, 1) + img +
                     std::string(64 * 2112, '\xFF') + firmwarden::testing::RandomBytes(300, 2);
  auto u = UnpackMemory(dump, "dump", UnpackOptions{});
  ASSERT_TRUE(u.has_value());
  const Region* r = FindRegion(u->layout, "yaffs2");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 5000u);
  EXPECT_EQ(r->size, img.size());
  firmwarden::testing::ExpectTreeMatches(*u, TreeOf(*u, "yaffs2"), tmp_ / "src", "");
}

// A later block rewrites one header (a rename and a new size) and one data chunk; an object is
// moved to the deleted directory and another to the unlinked one.
TEST(Yaffs2Test, NewestChunksWinAndDeletedObjectsAreSkipped) {
  Yaffs2Writer w(2048, 64, false);
  Yaffs2Writer::Obj dir{.type = 3, .parent = 1, .mode = 040755, .name = "etc"};
  w.Header(0x101, dir);
  std::string v1(5000, 'a');
  Yaffs2Writer::Obj f{
      .type = 1, .parent = 0x101, .mode = 0100644, .uid = 5, .size = 5000, .name = "old"};
  w.File(0x102, f, v1);
  Yaffs2Writer::Obj gone{.type = 1, .parent = 0x101, .mode = 0100600, .size = 3, .name = "gone"};
  w.File(0x103, gone, "abc");
  Yaffs2Writer::Obj tmp{.type = 1, .parent = 1, .mode = 0100600, .size = 3, .name = "tmp"};
  w.File(0x104, tmp, "xyz");
  w.NextBlock();
  f.name = "new";
  f.size = 4100;
  w.Header(0x102, f);
  w.Data(0x102, 2, std::string(2048, 'b'));  // replaces bytes 2048..4095
  gone.parent = 4;                           // deleted
  w.Header(0x103, gone);
  tmp.parent = 3;  // unlinked
  w.Header(0x104, tmp);
  TempDir t;
  std::string out = t / "out";
  auto u = UnpackMemory(w.image(), "fs", Options(out));
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
  size_t tree = TreeOf(*u, "yaffs2");
  ASSERT_NE(tree, SIZE_MAX);
  EXPECT_EQ(u->files.EntriesOf(tree).size(), 2u);
  EXPECT_EQ(u->files.Find(tree, "etc/old"), nullptr);
  EXPECT_EQ(u->files.Find(tree, "etc/gone"), nullptr);
  EXPECT_EQ(u->files.Find(tree, "tmp"), nullptr);
  const FileEntry* e = u->files.Find(tree, "etc/new");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, 4100u);
  EXPECT_EQ(e->uid, 5u);
  EXPECT_EQ(ReadFile(out + "/" + e->disk_path),
            std::string(2048, 'a') + std::string(2048, 'b') + std::string(4, 'a'));
}

TEST(Yaffs2Test, HostileObjects) {
  Yaffs2Writer w(2048, 64, false);
  // A directory that is its own parent, a hardlink to nothing, a file whose chunks are missing.
  w.Header(0x101, {.type = 3, .parent = 0x101, .mode = 040755, .name = "loop"});
  w.Header(0x102, {.type = 4, .parent = 1, .equiv = 0x999, .name = "hl"});
  w.Header(0x103, {.type = 1, .parent = 1, .mode = 0100644, .size = 100000, .name = "big"});
  w.Data(0x103, 1, "only the first chunk");
  w.Header(0x104, {.type = 1, .parent = 1, .mode = 0100644, .size = 0, .name = "../escape"});
  TempDir t;
  std::string out = t / "out";
  auto u = UnpackMemory(w.image(), "fs", Options(out));
  ASSERT_TRUE(u.has_value());
  std::string d = Diagnostics(*u);
  EXPECT_NE(d.find("hardlink to object"), std::string::npos) << d;
  EXPECT_NE(d.find("of 100000 bytes present"), std::string::npos) << d;
  EXPECT_NE(d.find("invalid name"), std::string::npos) << d;
  size_t tree = TreeOf(*u, "yaffs2");
  ASSERT_NE(tree, SIZE_MAX);
  EXPECT_EQ(u->files.Find(tree, "loop"), nullptr);
  const FileEntry* big = u->files.Find(tree, "big");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->state, EntryState::kTruncated);
  for (const std::string& rel : firmwarden::testing::ListTree(out))
    EXPECT_EQ(rel.find(".."), std::string::npos) << rel;
}

TEST_F(Yaffs2ImageTest, TruncatedAndFlippedImagesNeverCrashOrEscape) {
  for (const size_t spare : {size_t{64}, size_t{0}}) {
    std::string img = Make(2048, spare, false);
    for (size_t len : {size_t{100}, size_t{600}, size_t{2100}, img.size() / 3, img.size() / 2,
                       img.size() - 2112}) {
      SCOPED_TRACE(std::to_string(spare) + " cut " + std::to_string(len));
      auto u = UnpackMemory(img.substr(0, len), "cut", Options(Out()));
      ASSERT_TRUE(u.has_value());
      size_t t = TreeOf(*u, "yaffs2");
      // Whatever was recognised, a cut image is either diagnosed or visibly smaller.
      if (t != SIZE_MAX) {
        EXPECT_TRUE(!u->Clean() || u->files.EntriesOf(t).size() < 19u) << Diagnostics(*u);
      }
    }
    ASSERT_NO_FATAL_FAILURE(
        testing::ExpectBitFlipsContained(img, spare + 1, 80, 6, [&] { return Out(); }));
  }
}

}  // namespace
}  // namespace firmwarden::unpack

namespace firmwarden::unpack {
namespace {

// Found by yaffs2_fuzzer: with 16-byte spares, tags shifted by the 2-byte bad-block marker do not
// fit; probing that layout read past the spare. A 512+16 image whose first tags are implausible
// makes the detection try it.
TEST(Yaffs2Test, ShiftedTagsThatDoNotFitTheSpare) {
  Yaffs2Writer w(512, 16, false);
  w.Header(0x101, {.type = 3, .parent = 1, .mode = 040755, .name = "etc"});
  w.File(0x102, {.type = 1, .parent = 0x101, .mode = 0100644, .size = 600, .name = "f"},
         std::string(600, 'x'));
  std::string img = w.image();
  PutU32(img, 512, 0, false);  // the first chunk's sequence number: 0, never used
  auto u = UnpackMemory(img + std::string(4096, '\xFF'), "fs", UnpackOptions{});
  ASSERT_TRUE(u.has_value());
  // Whatever layout is left, nothing is read outside the input (ASan checks) and the result is
  // diagnosed or plausible.
  size_t t = TreeOf(*u, "yaffs2");
  if (t != SIZE_MAX) {
    EXPECT_LE(u->files.EntriesOf(t).size(), 2u);
  }
}

}  // namespace
}  // namespace firmwarden::unpack
