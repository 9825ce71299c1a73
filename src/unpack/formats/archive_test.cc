// tar, cpio (4 encodings), zip, 7z and ISO 9660 written by the real tools from one tree: every
// entry comes back with the metadata the format can carry.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;

struct Archiver {
  const char* name;
  const char* format;   // handler expected
  const char* command;  // run inside src/, writes ../out
  bool owners;          // carries uid/gid
  bool specials;        // carries devices and fifos
  bool hardlinks;       // keeps the hardlink as a link (else: a second file with the data)
};

class ArchiveTest : public ::testing::TestWithParam<Archiver> {};

// The tree every archiver packs.
void MakeTree(const std::string& src) {
  std::string s = t::Sh(src);
  ASSERT_EQ(t::Run("mkdir -p " + s + "/etc/init.d " + s + "/bin " + s + "/empty " + s +
                   "/dev && cd " + s +
                   " && printf 'root::0:0:root:/root:/bin/sh\\n' > etc/passwd"
                   " && head -c 200000 /dev/urandom > bin/busybox && chmod 755 bin/busybox"
                   " && ln -s busybox bin/sh && ln -s ../../bin/busybox etc/init.d/rcS"
                   " && cp bin/busybox bin/su && chmod 4755 bin/su"
                   " && echo data > etc/hosts && ln etc/hosts etc/hosts.hard"
                   " && chown 1000:1001 etc/hosts && chmod 640 etc/hosts"
                   " && mknod dev/console c 5 1 && mkfifo dev/initctl"
                   " && find . -exec touch -h -d @1700000000 {} +"),
            0);
}

TEST_P(ArchiveTest, RoundTrip) {
  const Archiver& a = GetParam();
  t::TempDir d;
  MakeTree(d / "src");
  ASSERT_EQ(t::Run("cd " + t::Sh(d / "src") + " && { " + a.command + "; } >/dev/null 2>&1"), 0)
      << a.command;
  UnpackOptions o;
  o.output_dir = d / "x";
  auto r = Unpack(d / "out", o);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->files.trees().size(), 1u) << a.name;
  EXPECT_EQ(r->files.trees()[0].format, a.format);
  const FileTree& ft = r->files;
  std::string root = d / ("x/" + ft.trees()[0].disk_dir);

  const FileEntry* bb = ft.Find(0, "bin/busybox");
  ASSERT_NE(bb, nullptr) << a.name;
  EXPECT_EQ(bb->type, EntryType::kFile);
  EXPECT_EQ(bb->mode, 0755u);
  EXPECT_EQ(bb->size, 200000u);
  EXPECT_EQ(t::Sha256Hex(t::ReadFile(root + "/bin/busybox")),
            t::Sha256Hex(t::ReadFile(d / "src/bin/busybox")));

  const FileEntry* su = ft.Find(0, "bin/su");
  ASSERT_NE(su, nullptr);
  EXPECT_EQ(su->mode, 04755u) << a.name;
  struct stat st;
  ASSERT_EQ(stat((root + "/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07000, 0u);

  const FileEntry* sh = ft.Find(0, "bin/sh");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->type, EntryType::kSymlink);
  EXPECT_EQ(sh->link_target, "busybox");
  const FileEntry* rcs = ft.Find(0, "etc/init.d/rcS");
  ASSERT_NE(rcs, nullptr);
  EXPECT_EQ(rcs->link_target, "../../bin/busybox");
  ASSERT_EQ(lstat((root + "/etc/init.d/rcS").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));

  const FileEntry* hosts = ft.Find(0, "etc/hosts");
  const FileEntry* hard = ft.Find(0, "etc/hosts.hard");
  ASSERT_TRUE(hosts && hard) << a.name;
  EXPECT_EQ(hosts->mode, 0640u);
  if (a.owners) {
    EXPECT_EQ(hosts->uid, 1000u) << a.name;
    EXPECT_EQ(hosts->gid, 1001u) << a.name;
  }
  // Both names give the data, whichever one the archive stored it with.
  EXPECT_EQ(t::ReadFile(root + "/etc/hosts"), "data\n") << a.name;
  EXPECT_EQ(t::ReadFile(root + "/etc/hosts.hard"), "data\n") << a.name;
  if (a.hardlinks) {
    EXPECT_TRUE(hosts->type == EntryType::kHardlink || hard->type == EntryType::kHardlink)
        << a.name;
  }

  ASSERT_NE(ft.Find(0, "empty"), nullptr);
  EXPECT_EQ(ft.Find(0, "empty")->type, EntryType::kDir);
  EXPECT_EQ(bb->mtime, 1700000000);

  if (a.specials) {
    const FileEntry* console = ft.Find(0, "dev/console");
    ASSERT_NE(console, nullptr) << a.name;
    EXPECT_EQ(console->type, EntryType::kCharDev);
    EXPECT_EQ(console->rdev_major, 5u);
    EXPECT_EQ(console->rdev_minor, 1u);
    ASSERT_NE(ft.Find(0, "dev/initctl"), nullptr);
    EXPECT_EQ(ft.Find(0, "dev/initctl")->type, EntryType::kFifo);
    EXPECT_FALSE(t::Exists(root + "/dev/console"));
  }
  EXPECT_TRUE(r->Clean()) << a.name;
}

INSTANTIATE_TEST_SUITE_P(
    RealTools, ArchiveTest,
    ::testing::Values(
        Archiver{"tar_gnu", "tar", "tar --format=gnu -cf ../out .", true, true, true},
        Archiver{"tar_pax", "tar", "tar --format=pax -cf ../out .", true, true, true},
        Archiver{"cpio_newc", "cpio", "find . | cpio -o -H newc > ../out", true, true, true},
        Archiver{"cpio_crc", "cpio", "find . | cpio -o -H crc > ../out", true, true, true},
        Archiver{"cpio_odc", "cpio", "find . | cpio -o -H odc > ../out", true, true, false},
        Archiver{"cpio_bin", "cpio", "find . | cpio -o -H bin > ../out", true, true, false},
        Archiver{"zip", "zip", "zip -qry ../out.zip . -x 'dev/*' && mv ../out.zip ../out", true,
                 false, false},
        Archiver{"sevenzip", "7z", "7z a -bd -snl ../out.7z . -x!dev && mv ../out.7z ../out", false,
                 false, false},
        Archiver{"iso9660", "iso9660", "xorriso -as mkisofs -quiet -R -o ../out .", true, true,
                 true}),
    [](const ::testing::TestParamInfo<Archiver>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace firmwarden
