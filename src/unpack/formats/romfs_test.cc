// romfs: images made by genromfs from a temporary tree, compared entry for entry with it; checksum
// mismatches; hand-made hostile images (loops, bad hardlinks, unterminated names); truncation and
// bit flips.
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
using testing::PutU32;
using testing::RegionDetail;
using testing::Shell;

// What the kernel shows for a romfs entry: permissions from the type, plus 0111 when executable.
uint32_t RomfsMode(const struct stat& st) {
  uint32_t base = 0644;
  if (S_ISLNK(st.st_mode)) base = 0777;
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) base = 0600;
  return base | ((st.st_mode & 0111) ? 0111 : 0);
}

class RomfsImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Shell("command -v genromfs >/dev/null 2>&1") != 0) GTEST_SKIP() << "genromfs missing";
    if (!firmwarden::testing::BuildSourceTree(tmp_ / "src"))
      GTEST_SKIP() << "cannot build tree (not root?)";
  }
  std::string Make() {
    std::string img = tmp_ / "fs.romfs";
    std::string log;
    int rc = Shell("genromfs -V testvol -d " + Sh(tmp_ / "src") + " -f " + Sh(img) + " 2>&1", &log);
    EXPECT_EQ(rc, 0) << log;
    return img;
  }
  firmwarden::testing::Expect RomfsExpect() {
    firmwarden::testing::Expect x;
    x.mode = RomfsMode;
    x.owners = false;
    x.mtime = false;
    return x;
  }
  std::string Out() { return tmp_ / ("out" + std::to_string(n_++)); }
  TempDir tmp_;
  int n_ = 0;
};

TEST_F(RomfsImageTest, RoundTrip) {
  std::string img = Make();
  std::string out = Out();
  auto u = Unpack(img, Options(out));
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
  const Region* r = FindRegion(u->layout, "romfs");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_LE(r->size, fs::file_size(img));
  EXPECT_EQ(RegionDetail(*r, "checksum"), "ok");
  EXPECT_EQ(RegionDetail(*r, "volume"), "testvol");
  size_t t = TreeOf(*u, "romfs");
  firmwarden::testing::ExpectTreeMatches(*u, t, tmp_ / "src", out, RomfsExpect());
  // genromfs stores the second name of hello.txt as a hardlink.
  size_t hardlinks = 0;
  for (const FileEntry* e : u->files.EntriesOf(t)) hardlinks += e->type == EntryType::kHardlink;
  EXPECT_EQ(hardlinks, 1u);
}

TEST_F(RomfsImageTest, InfoModeAndEmbedded) {
  std::string img = ReadFile(Make());
  std::string dump = firmwarden::testing::RandomBytes(3000, 5) + img + std::string(777, '\xFF');
  auto u = UnpackMemory(dump, "dump", UnpackOptions{});
  ASSERT_TRUE(u.has_value());
  const Region* r = FindRegion(u->layout, "romfs");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 3000u);
  firmwarden::testing::ExpectTreeMatches(*u, TreeOf(*u, "romfs"), tmp_ / "src", "", RomfsExpect());
}

TEST_F(RomfsImageTest, ChecksumMismatchesAreDiagnosed) {
  std::string img = ReadFile(Make());
  std::string super = img;
  super[20] = static_cast<char>(super[20] ^ 1);  // in the volume name
  auto u = UnpackMemory(super, "bad", UnpackOptions{});
  ASSERT_TRUE(u.has_value());
  const Region* r = FindRegion(u->layout, "romfs");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(RegionDetail(*r, "checksum"), "mismatch");
  EXPECT_FALSE(u->Clean());
  EXPECT_NE(TreeOf(*u, "romfs"), SIZE_MAX);

  // A file header's name: the entry keeps its (changed) name and its checksum is reported.
  std::string hdr = img;
  size_t at = hdr.find(std::string("exact.bin\0", 10));
  ASSERT_NE(at, std::string::npos);
  hdr[at] = 'E';
  auto v = UnpackMemory(hdr, "bad", UnpackOptions{});
  ASSERT_TRUE(v.has_value());
  EXPECT_NE(Diagnostics(*v).find("checksum mismatch"), std::string::npos) << Diagnostics(*v);
  size_t t = TreeOf(*v, "romfs");
  ASSERT_NE(t, SIZE_MAX);
  EXPECT_NE(v->files.Find(t, "Exact.bin"), nullptr);
}

TEST_F(RomfsImageTest, TruncatedImagesGiveDiagnostics) {
  std::string img = ReadFile(Make());
  const Region* whole = nullptr;
  auto full = UnpackMemory(img, "full", UnpackOptions{});
  ASSERT_TRUE(full.has_value());
  whole = FindRegion(full->layout, "romfs");
  ASSERT_NE(whole, nullptr);
  const size_t size = whole->size;
  for (size_t len :
       {size_t{16}, size_t{40}, size_t{100}, size_t{600}, size / 2, size - 100, size - 1}) {
    SCOPED_TRACE(len);
    std::string out = Out();
    auto u = UnpackMemory(img.substr(0, len), "cut", Options(out));
    ASSERT_TRUE(u.has_value());
    const Region* r = FindRegion(u->layout, "romfs");
    if (len < 32) continue;  // no whole superblock
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(r->truncated);
    EXPECT_FALSE(u->Clean());
  }
}

TEST_F(RomfsImageTest, BitFlipsNeverCrashOrEscape) {
  std::string img = ReadFile(Make());
  ASSERT_NO_FATAL_FAILURE(testing::ExpectBitFlipsContained(
      img, 4321, 150, 4, [&] { return Out(); }, 1024));
}

// A hand-made image: superblock and one header per call, checksums filled in.
class Builder {
 public:
  explicit Builder(const std::string& volume = "v") {
    img_ = "-rom1fs-";
    img_.resize(16, '\0');
    img_ += volume;
    img_.resize(Align(img_.size() + 1), '\0');
  }
  // Appends a header and returns its offset.
  size_t Add(uint32_t next, uint32_t spec, const std::string& name, const std::string& data) {
    size_t at = img_.size();
    PutU32(img_, at, next, true);
    PutU32(img_, at + 4, spec, true);
    PutU32(img_, at + 8, static_cast<uint32_t>(data.size()), true);
    PutU32(img_, at + 12, 0, true);
    img_ += name;
    img_.resize(Align(img_.size() + 1), '\0');
    PutU32(img_, at + 12, -Sum(at, img_.size() - at), true);
    img_ += data;
    img_.resize(Align(img_.size()), '\0');
    return at;
  }
  std::string Finish() {
    PutU32(img_, 8, static_cast<uint32_t>(img_.size()), true);
    PutU32(img_, 12, 0, true);
    PutU32(img_, 12, -Sum(0, std::min<size_t>(512, img_.size())), true);
    return img_;
  }
  size_t size() const { return img_.size(); }

 private:
  static size_t Align(size_t v) { return (v + 15) & ~size_t{15}; }
  uint32_t Sum(size_t from, size_t len) const {
    uint32_t s = 0;
    for (size_t i = from; i + 4 <= from + len; i += 4)
      s += (static_cast<uint32_t>(static_cast<uint8_t>(img_[i])) << 24) |
           (static_cast<uint32_t>(static_cast<uint8_t>(img_[i + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(img_[i + 2])) << 8) |
           static_cast<uint32_t>(static_cast<uint8_t>(img_[i + 3]));
    return s;
  }
  std::string img_;
};

TEST(RomfsTest, HandMadeImageWithAllTypes) {
  Builder b;
  const size_t first = b.size();  // 32
  // Each header is 32 bytes with a short name; data adds its length rounded up to 16.
  // f (exec file, 5 bytes) @32 -> s (symlink) @80 -> c (char dev) @128 -> h (hardlink to f) @160
  // -> p (fifo) @192
  b.Add(80 | 2 | 8, 0, "f", "data\n");
  b.Add(128 | 3, 0, "s", "f");
  b.Add(160 | 5, (4u << 16) | 64, "c", "");
  b.Add(192 | 0, static_cast<uint32_t>(first), "h", "");
  b.Add(0 | 7, 0, "p", "");
  std::string img = b.Finish();
  TempDir tmp;
  std::string out = tmp / "out";
  auto u = UnpackMemory(img, "made", Options(out));
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->Clean()) << Diagnostics(*u);
  size_t t = TreeOf(*u, "romfs");
  ASSERT_NE(t, SIZE_MAX);
  const FileEntry* f = u->files.Find(t, "f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, EntryType::kFile);
  EXPECT_EQ(f->mode, 0755u);
  EXPECT_EQ(ReadFile(out + "/" + f->disk_path), "data\n");
  const FileEntry* s = u->files.Find(t, "s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->link_target, "f");
  EXPECT_EQ(s->mode, 0777u);
  const FileEntry* c = u->files.Find(t, "c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->type, EntryType::kCharDev);
  EXPECT_EQ(c->rdev_major, 4u);
  EXPECT_EQ(c->rdev_minor, 64u);
  EXPECT_EQ(c->mode, 0600u);
  const FileEntry* h = u->files.Find(t, "h");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, EntryType::kHardlink);
  EXPECT_EQ(h->link_target, "f");
  const FileEntry* p = u->files.Find(t, "p");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type, EntryType::kFifo);
}

TEST(RomfsTest, HostileImages) {
  auto run = [](const std::string& img) {
    TempDir tmp;
    auto u = UnpackMemory(img, "hostile", Options(tmp / "out"));
    EXPECT_TRUE(u.has_value());
    return u ? Diagnostics(*u) : std::string();
  };
  {
    // A next chain that loops back on itself.
    Builder b;
    b.Add(64 | 2, 0, "a", "");
    b.Add(32 | 2, 0, "b", "");
    EXPECT_NE(run(b.Finish()).find("loop"), std::string::npos);
  }
  {
    // A directory whose listing is the root's listing: reached twice, cut.
    Builder b;
    b.Add(0 | 1, 32, "d", "");
    EXPECT_NE(run(b.Finish()).find("loop"), std::string::npos);
  }
  {
    // A hardlink to a directory, and one to nowhere.
    Builder b;
    b.Add(64 | 1, 0, "d", "");
    b.Add(96 | 0, 32, "h", "");
    b.Add(0 | 0, 4096, "x", "");
    std::string d = run(b.Finish());
    EXPECT_NE(d.find("hardlink to a directory"), std::string::npos) << d;
    EXPECT_NE(d.find("no entry of the tree"), std::string::npos) << d;
  }
  {
    // A file whose size runs past the image, and a directory listing at a misaligned offset.
    Builder b;
    b.Add(80 | 2, 0, "f", "abc");
    b.Add(0 | 1, 40, "d", "");
    std::string img = b.Finish();
    PutU32(img, 32 + 8, 1u << 30, true);
    std::string d = run(img);
    EXPECT_NE(d.find("run past the image"), std::string::npos) << d;
    EXPECT_NE(d.find("not 16-byte aligned"), std::string::npos) << d;
  }
  {
    // A name without its NUL up to the end of the image.
    Builder b;
    std::string img = b.Finish();
    img += std::string(16, '\0') + std::string(64, 'n');
    PutU32(img, 8, static_cast<uint32_t>(img.size()), true);
    std::string d = run(img);
    EXPECT_NE(d.find("not terminated"), std::string::npos) << d;
  }
  {
    // Smaller than its own superblock: not a romfs.
    Builder b("volume");
    std::string img = b.Finish();
    PutU32(img, 8, 20, true);
    auto p = testing::ParseWith("romfs", img);
    EXPECT_FALSE(p.has_value());
  }
}

}  // namespace
}  // namespace firmwarden::unpack
