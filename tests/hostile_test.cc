// Hostile inputs: archives that try to escape the output directory, device nodes and setuid bits,
// compression bombs, and deep nesting. For each: nothing outside the output directory is touched,
// the limits hold, and the result says what happened.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <string>

#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

using testing::ListTree;
using testing::ReadFile;

using testing::Sh;
using testing::TempDir;

struct HostileFixture {
  TempDir dir;
  std::string archives = dir / "archives";
  std::string escape = dir / "escape";
  HostileFixture() {
    std::string cmd = "mkdir -p " + Sh(escape) + " && echo victim > " + Sh(escape + "/victim") +
                      " && python3 " +
                      Sh(std::string(FIRMWARDEN_SOURCE_DIR) + "/tests/hostile/make_hostile.py") +
                      " " + Sh(archives) + " " + Sh(escape);
    EXPECT_EQ(testing::Run(cmd), 0) << cmd;
  }
};

bool HasDiagnostic(const Unpacked& u, std::string_view needle) {
  return std::any_of(u.diagnostics.begin(), u.diagnostics.end(), [&](const Diagnostic& d) {
    return d.message.find(needle) != std::string::npos;
  });
}

Unpacked ExtractTo(const std::string& image, const std::string& out, Limits limits = {}) {
  UnpackOptions o;
  o.output_dir = out;
  o.limits = limits;
  auto r = Unpack(image, o);
  EXPECT_TRUE(r) << image << ": " << (r ? "" : r.error().message);
  return r ? std::move(*r) : Unpacked{};
}

class EscapeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EscapeTest, NothingOutsideTheOutputDirectoryIsTouched) {
  HostileFixture f;
  auto before = ListTree(f.dir.path());
  std::string out = f.dir / "out";
  Unpacked u = ExtractTo(f.archives + "/" + GetParam(), out);
  // Everything new is under out/; the escape directory still holds only the victim, unchanged.
  auto after = ListTree(f.dir.path());
  for (const std::string& p : after) {
    if (p == "out" || p.rfind("out/", 0) == 0) continue;
    EXPECT_TRUE(std::find(before.begin(), before.end(), p) != before.end())
        << GetParam() << " created " << p << " outside the output directory";
  }
  EXPECT_EQ(ListTree(f.escape), std::vector<std::string>{"victim"}) << GetParam();
  EXPECT_EQ(ReadFile(f.escape + "/victim"), "victim\n");
  // No symlink inside the output leads to a file that was written through it.
  ASSERT_FALSE(u.files.entries().empty()) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Hostile, EscapeTest,
                         ::testing::Values("tar-dotdot.tar", "tar-absolute.tar",
                                           "tar-symlink-write.tar", "tar-symlink-replace.tar",
                                           "tar-hardlink-out.tar", "cpio-dotdot.cpio",
                                           "zip-dotdot.zip"));

TEST(Hostile, DotDotNamesAreRefusedAndRecorded) {
  HostileFixture f;
  Unpacked u = ExtractTo(f.archives + "/tar-dotdot.tar", f.dir / "out");
  EXPECT_TRUE(HasDiagnostic(u, "'..'"));
  EXPECT_FALSE(u.Clean());
  size_t unsafe = 0;
  for (const FileEntry& e : u.files.entries()) unsafe += e.state == EntryState::kUnsafe;
  EXPECT_EQ(unsafe, 2u);
  EXPECT_EQ(ReadFile(f.dir / "out/0x0.tar/ok.txt"), "fine\n");
  std::string manifest = ReadFile(f.dir / "out/manifest.json");
  EXPECT_NE(manifest.find("\"state\":\"unsafe\""), std::string::npos);
}

TEST(Hostile, AbsoluteNamesStayInside) {
  HostileFixture f;
  Unpacked u = ExtractTo(f.archives + "/tar-absolute.tar", f.dir / "out");
  std::string inside = f.dir / ("out/0x0.tar" + f.escape + "/abs-pwned");
  EXPECT_EQ(ReadFile(inside), "pwned\n");
  ASSERT_EQ(u.files.entries().size(), 1u);
  EXPECT_EQ(u.files.entries()[0].raw_name, f.escape + "/abs-pwned");
}

TEST(Hostile, WritesThroughPlantedSymlinksAreRefused) {
  HostileFixture f;
  Unpacked u = ExtractTo(f.archives + "/tar-symlink-write.tar", f.dir / "out");
  EXPECT_TRUE(HasDiagnostic(u, "refusing to write through it"));
  struct stat st;
  ASSERT_EQ(lstat((f.dir / "out/0x0.tar/evil").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));  // the link itself is kept: it is what the device has
  EXPECT_FALSE(testing::Exists(f.escape + "/symlink-pwned"));
}

TEST(Hostile, ReplacingASymlinkWithAFileDoesNotFollowIt) {
  HostileFixture f;
  Unpacked u = ExtractTo(f.archives + "/tar-symlink-replace.tar", f.dir / "out");
  struct stat st;
  ASSERT_EQ(lstat((f.dir / "out/0x0.tar/x").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_FALSE(testing::Exists(f.escape + "/replace-pwned"));
}

TEST(Hostile, HardlinksToOutsideAreRefused) {
  HostileFixture f;
  Unpacked u = ExtractTo(f.archives + "/tar-hardlink-out.tar", f.dir / "out");
  EXPECT_TRUE(HasDiagnostic(u, "hardlink"));
  EXPECT_FALSE(testing::Exists(f.dir / "out/0x0.tar/hl"));
  EXPECT_FALSE(testing::Exists(f.dir / "out/0x0.tar/hl2"));
  struct stat st;
  ASSERT_EQ(stat((f.escape + "/victim").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST(Hostile, DevicesAndSetuidLiveOnlyInTheManifest) {
  HostileFixture f;
  Unpacked u = ExtractTo(f.archives + "/tar-devices.tar", f.dir / "out");
  const FileTree& t = u.files;
  const FileEntry* sda = t.Find(0, "dev/sda");
  const FileEntry* mem = t.Find(0, "dev/mem");
  const FileEntry* su = t.Find(0, "bin/su");
  const FileEntry* wall = t.Find(0, "bin/wall");
  const FileEntry* tmp = t.Find(0, "tmp");
  ASSERT_TRUE(sda && mem && su && wall && tmp);
  EXPECT_EQ(sda->type, EntryType::kBlockDev);
  EXPECT_EQ(sda->rdev_major, 8u);
  EXPECT_EQ(mem->type, EntryType::kCharDev);
  EXPECT_EQ(mem->rdev_minor, 1u);
  EXPECT_EQ(su->mode, 04755u);
  EXPECT_EQ(wall->mode, 02755u);
  EXPECT_EQ(tmp->mode, 01777u);
  EXPECT_FALSE(testing::Exists(f.dir / "out/0x0.tar/dev/sda"));
  EXPECT_FALSE(testing::Exists(f.dir / "out/0x0.tar/dev/mem"));
  EXPECT_FALSE(testing::Exists(f.dir / "out/0x0.tar/dev/fifo"));
  struct stat st;
  ASSERT_EQ(stat((f.dir / "out/0x0.tar/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07000, 0u) << "setuid bit set on disk";
  ASSERT_EQ(stat((f.dir / "out/0x0.tar/bin/wall").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07000, 0u) << "setgid bit set on disk";
  std::string manifest = ReadFile(f.dir / "out/manifest.json");
  EXPECT_NE(manifest.find("\"path\":\"bin/su\",\"type\":\"file\",\"mode\":\"4755\""),
            std::string::npos);
  EXPECT_NE(manifest.find("\"type\":\"blockdev\""), std::string::npos);
}

std::string GzipOf(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(Hostile, GzipBombStopsAtTheOutputLimit) {
  TempDir d;
  // 256 MiB of zeros in about 256 KiB.
  ASSERT_EQ(testing::Run("head -c 256M /dev/zero | gzip -9 > " + Sh(d / "bomb.gz")), 0);
  Limits lim;
  lim.max_ratio = 10;
  lim.ratio_floor = 8ULL << 20;
  Unpacked u = ExtractTo(d / "bomb.gz", d / "out", lim);
  EXPECT_TRUE(HasDiagnostic(u, "output limit")) << "no limit diagnostic";
  uint64_t allowed = std::max<uint64_t>(lim.ratio_floor, 10 * u.stats.input_bytes);
  EXPECT_LT(allowed, 256ULL << 20);
  EXPECT_LE(u.stats.output_bytes, allowed);
  EXPECT_FALSE(u.Clean());
}

TEST(Hostile, XzBombStopsAtTheOutputLimit) {
  TempDir d;
  ASSERT_EQ(testing::Run("head -c 128M /dev/zero | xz -0 -T1 > " + Sh(d / "bomb.xz")), 0);
  Limits lim;
  lim.max_ratio = 10;
  lim.ratio_floor = 8ULL << 20;
  Unpacked u = ExtractTo(d / "bomb.xz", d / "out", lim);
  EXPECT_TRUE(HasDiagnostic(u, "output limit"));
  uint64_t allowed = std::max<uint64_t>(lim.ratio_floor, 10 * u.stats.input_bytes);
  EXPECT_LT(allowed, 128ULL << 20);
  EXPECT_LE(u.stats.output_bytes, allowed);
}

TEST(Hostile, HundredNestedLayersHitTheDepthLimit) {
  std::string data = "the innermost layer\n";
  for (int i = 0; i < 100; ++i) data = GzipOf(data);
  UnpackOptions o;
  auto r = UnpackMemory(data, "nested.gz", o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(HasDiagnostic(*r, "nesting deeper than"));
  // Depth is bounded: count the levels of the layout.
  int depth = 0;
  const BlobLayout* b = &r->layout;
  while (!b->regions.empty() && !b->regions[0].children.empty()) {
    b = &b->regions[0].children[0];
    ++depth;
  }
  EXPECT_EQ(depth, o.limits.max_depth + 1);
}

TEST(Hostile, FileCountLimitIsADiagnostic) {
  TempDir d;
  ASSERT_EQ(testing::Run(
                "cd " + Sh(d.path()) +
                " && mkdir t && for i in $(seq 1 300); do echo $i > t/f$i; done && tar cf t.tar t"),
            0);
  Limits lim;
  lim.max_files = 100;
  Unpacked u = ExtractTo(d / "t.tar", d / "out", lim);
  EXPECT_TRUE(HasDiagnostic(u, "file-count limit"));
  EXPECT_LE(u.files.entries().size(), 100u);
}

TEST(Hostile, NonEmptyOutputDirectoryIsRefused) {
  TempDir d;
  testing::WriteFile(d / "img", GzipOf("x"));
  ASSERT_EQ(testing::Run("mkdir " + Sh(d / "out") + " && touch " + Sh(d / "out/keep")), 0);
  UnpackOptions o;
  o.output_dir = d / "out";
  auto r = Unpack(d / "img", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUsage);
}

}  // namespace
}  // namespace firmwarden
