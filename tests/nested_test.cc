// Files inside an extracted tree that are containers themselves are unpacked beside the tree,
// never inside it; plain files and weak signatures are left alone.
#include <gtest/gtest.h>

#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;

TEST(Nested, ArchiveInsideAFilesystemIsUnpackedBesideTheTree) {
  t::TempDir d;
  ASSERT_EQ(
      t::Run("cd " + t::Sh(d.path()) +
             " && mkdir -p inner/etc rootfs/lib/firmware && echo secret > inner/etc/key"
             " && tar czf rootfs/lib/firmware/blob.tar.gz -C inner ."
             " && printf 'x\\234not really zlib, just text that starts like it......' > rootfs/weak"
             " && echo hello > rootfs/plain"
             " && mksquashfs rootfs fs.sqfs -comp xz -noappend -quiet >/dev/null"),
      0);
  UnpackOptions o;
  o.output_dir = d / "out";
  auto r = Unpack(d / "fs.sqfs", o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->Clean());
  ASSERT_EQ(r->files.trees().size(), 2u);  // the squashfs, then the tar inside the gzip
  EXPECT_EQ(r->files.trees()[0].format, "squashfs");
  EXPECT_EQ(r->files.trees()[1].format, "tar");
  // The rootfs tree holds exactly its own three files; the nested tree lives in .nested/.
  EXPECT_EQ(t::ReadFile(d / "out/0x0.squashfs/plain"), "hello\n");
  EXPECT_FALSE(t::Exists(d / "out/0x0.squashfs/lib/firmware/blob.tar.gz.extracted"));
  const std::string nested = r->files.trees()[1].disk_dir;
  EXPECT_EQ(nested.rfind("0x0.squashfs.nested/", 0), 0u) << nested;
  EXPECT_EQ(t::ReadFile(d / ("out/" + nested + "/etc/key")), "secret\n");
  const Region& sq = r->layout.regions[0];
  ASSERT_EQ(sq.children.size(), 1u);
  EXPECT_EQ(sq.children[0].path, "/0x0.squashfs/lib/firmware/blob.tar.gz");
}

// Extraction runs on two threads (SquashFS data is decoded from both ends of the file list); the
// manifest must not depend on which thread finished first.
TEST(Determinism, TwoRunsGiveTheSameManifestAndLayout) {
  std::string dir = t::CorpusDir();
  if (dir.empty()) GTEST_SKIP() << "no corpus";
  std::string image = dir + "/bookworm-mipsel/tplink-v1.bin";
  if (!t::Exists(image)) GTEST_SKIP() << "no " << image;
  t::TempDir d;
  std::string a, b;
  ASSERT_EQ(t::Run(std::string(FIRMWARDEN_BINARY) + " extract --json " + t::Sh(image) + " -o " +
                       t::Sh(d / "a") + " | sed 's/\"seconds\": [0-9.e-]*//'",
                   &a),
            0);
  ASSERT_EQ(t::Run(std::string(FIRMWARDEN_BINARY) + " extract --json " + t::Sh(image) + " -o " +
                       t::Sh(d / "b") + " | sed 's/\"seconds\": [0-9.e-]*//'",
                   &b),
            0);
  EXPECT_EQ(a, b);
  std::string ma = t::ReadFile(d / "a/manifest.json"), mb = t::ReadFile(d / "b/manifest.json");
  EXPECT_GT(ma.size(), 1000u);
  EXPECT_EQ(ma, mb);
}

}  // namespace
}  // namespace firmwarden
