// Shared by the filesystem round-trip tests (romfs, UBIFS, YAFFS2, cramfs, SquashFS 1.x-3.x): a
// source tree with every kind of entry, and an entry-for-entry comparison of an unpacked tree with
// that source, metadata included. What a format cannot store (owners, times, permission bits) is
// described by `Expect`, so each test states its format's limits instead of skipping the check.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "firmwarden/unpack.h"
#include "test_util.h"
#include "unpack/formats/handler_test_util.h"

namespace firmwarden::testing {

// Builds the source tree: directories, regular files (empty, small, multi-page, a sparse-looking
// run of zeros), a 2-name hardlink, symlinks, a fifo and devices, owners and odd modes. Returns
// false when the system refuses something (not root).
inline bool BuildSourceTree(const std::string& root, bool with_special = true,
                            bool wide_dev = false) {
  namespace fs = std::filesystem;
  auto w = [&](const std::string& rel, const std::string& data) {
    WriteFile(root + "/" + rel, data);
  };
  fs::create_directories(root + "/dir/sub/deep");
  fs::create_directories(root + "/home/user");
  fs::create_directories(root + "/emptydir");
  w("hello.txt", "hello world\n");
  w("empty", "");
  w("dir/sub/deep/file.txt", "deep file\n");
  w("dir/sub/" + std::string(200, 'n'), "long name\n");
  w("multi.bin", RandomBytes(3 * 4096 + 77, 7));
  w("exact.bin", RandomBytes(2 * 4096, 8));
  w("zeros.bin", std::string(50000, '\0'));
  w("text.txt", std::string(30000, 'a') + "tail\n");
  w("bin.sh", "#!/bin/sh\necho root\n");
  w("home/user/owned.txt", "mine\n");
  if (chmod((root + "/bin.sh").c_str(), 04755) != 0) return false;
  if (chmod((root + "/home/user").c_str(), 0700) != 0) return false;
  if (chown((root + "/home/user").c_str(), 1000, 1000) != 0) return false;
  if (chown((root + "/home/user/owned.txt").c_str(), 1000, 100) != 0) return false;
  if (link((root + "/hello.txt").c_str(), (root + "/dir/hard.txt").c_str()) != 0) return false;
  if (symlink("hello.txt", (root + "/short_link").c_str()) != 0) return false;
  std::string long_target = "dir/sub/deep/" + std::string(90, 'x');
  if (symlink(long_target.c_str(), (root + "/long_link").c_str()) != 0) return false;
  if (with_special) {
    fs::create_directories(root + "/dev");
    if (mkfifo((root + "/fifo").c_str(), 0640) != 0) return false;
    if (mknod((root + "/dev/console").c_str(), S_IFCHR | 0600, makedev(5, 1)) != 0) return false;
    if (mknod((root + "/dev/sda").c_str(), S_IFBLK | 0660, makedev(8, 0)) != 0) return false;
    // A device number that only the 32-bit encodings hold (12-bit major, 20-bit minor).
    if (wide_dev && mknod((root + "/dev/big").c_str(), S_IFCHR | 0620, makedev(300, 70000)) != 0)
      return false;
  }
  return true;
}

struct Expect {
  // The mode the format keeps for a source entry (default: all 12 permission bits).
  std::function<uint32_t(const struct stat&)> mode = [](const struct stat& st) {
    return static_cast<uint32_t>(st.st_mode & 07777);
  };
  bool owners = true;              // uid/gid kept (else: 0)
  uint32_t uid_mask = 0xFFFFFFFF;  // with owners: the bits of the uid the format keeps
  uint32_t gid_mask = 0xFFFFFFFF;  // and of the gid
  bool mtime = true;               // mtime kept (else: not compared, unless zero_mtime)
  bool dir_mtime = true;           // with mtime: directories' compared too
  bool symlink_mtime = true;       // with mtime: symlinks' compared too
  bool zero_mtime = false;         // no times stored: every mtime is 0
  bool hardlinks = true;           // a second name of an inode is a kHardlink entry (else: a copy)
  bool symlink_size = false;       // a symlink's size is its target's length
  bool hardlink_size = false;      // a hardlink's size is its file's
  bool hardlink_data = false;      // a hardlink is written out too: its data is compared
  size_t min_entries = 15;
  // Entries the format adds that the source does not have (ext's lost+found): allowed, not needed.
  std::vector<std::string> extra_entries;
};

inline size_t TreeOf(const Unpacked& u, std::string_view format, size_t nth = 0) {
  for (size_t i = 0; i < u.files.trees().size(); ++i)
    if (u.files.trees()[i].format == format && nth-- == 0) return i;
  return SIZE_MAX;
}

inline std::string Diagnostics(const Unpacked& u) {
  std::string s;
  for (const Diagnostic& d : u.diagnostics) s += d.where + ": " + d.message + "\n";
  return s;
}

// Unpacks the image file `img` into `out`: it must give a clean result with a chunk of `format`
// that spans the whole file, untruncated; `r` is that chunk. Call it inside
// ASSERT_NO_FATAL_FAILURE.
inline void UnpackWholeImage(const std::string& img, const std::string& out,
                             std::string_view format, Unpacked& u, const Region*& r) {
  auto result = Unpack(img, unpack::testing::Options(out));
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  u = std::move(*result);
  EXPECT_TRUE(u.Clean()) << Diagnostics(u);
  r = unpack::testing::FindRegion(u.layout, format);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->size, std::filesystem::file_size(img));
  EXPECT_FALSE(r->truncated);
}

// Compares tree `t` of `u` with the directory `src`, entry for entry, and the files written under
// `out` (empty in info mode: data is then not compared).
inline void ExpectTreeMatches(const Unpacked& u, size_t t, const std::string& src,
                              const std::string& out, const Expect& x = Expect{}) {
  namespace fs = std::filesystem;
  ASSERT_NE(t, SIZE_MAX);
  std::map<std::string, const FileEntry*> entries;
  for (const FileEntry* e : u.files.EntriesOf(t)) entries[e->tree_path] = e;
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;  // of each multiply linked inode
  size_t compared = 0;
  for (auto it = fs::recursive_directory_iterator(src); it != fs::end(it); ++it) {
    std::string rel = it->path().lexically_relative(src).string();
    SCOPED_TRACE(rel);
    struct stat st {};
    ASSERT_EQ(lstat(it->path().c_str(), &st), 0);
    auto found = entries.find(rel);
    ASSERT_NE(found, entries.end()) << "missing from the tree";
    const FileEntry& e = *found->second;
    ++compared;
    EXPECT_EQ(e.mode, x.mode(st)) << std::oct << e.mode;
    EXPECT_EQ(e.uid, x.owners ? st.st_uid & x.uid_mask : 0u);
    EXPECT_EQ(e.gid, x.owners ? st.st_gid & x.gid_mask : 0u);
    if (x.mtime && (x.dir_mtime || !S_ISDIR(st.st_mode)) &&
        (x.symlink_mtime || !S_ISLNK(st.st_mode))) {
      EXPECT_EQ(e.mtime, st.st_mtime);
    } else if (x.zero_mtime) {
      EXPECT_EQ(e.mtime, 0);
    }
    EXPECT_NE(e.state, EntryState::kUnsafe);
    EXPECT_NE(e.state, EntryState::kTruncated);
    if (S_ISDIR(st.st_mode)) {
      EXPECT_EQ(e.type, EntryType::kDir);
    } else if (S_ISREG(st.st_mode)) {
      if (e.type == EntryType::kHardlink) {
        EXPECT_TRUE(x.hardlinks);
        EXPECT_GT(st.st_nlink, 1u);
        if (x.hardlink_size) {
          EXPECT_EQ(e.size, static_cast<uint64_t>(st.st_size));
        }
        const FileEntry* target = u.files.Find(t, e.link_target);
        ASSERT_NE(target, nullptr) << e.link_target;
        EXPECT_EQ(target->type, EntryType::kFile);
        struct stat tst {};
        ASSERT_EQ(lstat((src + "/" + e.link_target).c_str(), &tst), 0);
        EXPECT_EQ(tst.st_ino, st.st_ino) << "links to another inode";
        if (x.hardlink_data && !out.empty()) {
          ASSERT_FALSE(e.disk_path.empty());
          std::string want = ReadFile(it->path());
          std::string got = ReadFile(out + "/" + e.disk_path);
          EXPECT_EQ(got.size(), want.size());
          EXPECT_EQ(Sha256Hex(got), Sha256Hex(want));
        }
        continue;
      }
      EXPECT_EQ(e.type, EntryType::kFile);
      if (x.hardlinks && st.st_nlink > 1) {
        auto [slot, fresh] = first_name.try_emplace({st.st_dev, st.st_ino}, rel);
        EXPECT_TRUE(fresh) << "a second file entry for the inode of " << slot->second;
      }
      std::string want = ReadFile(it->path());
      EXPECT_EQ(e.size, static_cast<uint64_t>(st.st_size));
      if (!out.empty()) {
        ASSERT_FALSE(e.disk_path.empty());
        std::string got = ReadFile(out + "/" + e.disk_path);
        EXPECT_EQ(got.size(), want.size());
        EXPECT_EQ(Sha256Hex(got), Sha256Hex(want));
      }
    } else if (S_ISLNK(st.st_mode)) {
      EXPECT_EQ(e.type, EntryType::kSymlink);
      std::string target = fs::read_symlink(it->path()).string();
      EXPECT_EQ(e.link_target, target);
      if (x.symlink_size) {
        EXPECT_EQ(e.size, target.size());
      }
      if (!out.empty()) {
        EXPECT_EQ(fs::read_symlink(out + "/" + e.disk_path).string(), target);
      }
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      EXPECT_EQ(e.type, S_ISCHR(st.st_mode) ? EntryType::kCharDev : EntryType::kBlockDev);
      EXPECT_EQ(e.rdev_major, major(st.st_rdev));
      EXPECT_EQ(e.rdev_minor, minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      EXPECT_EQ(e.type, EntryType::kFifo);
    }
  }
  EXPECT_GE(compared, x.min_entries);
  size_t extras = 0;
  for (const std::string& name : x.extra_entries) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(src + "/" + name))) << name << " is in the source";
    extras += entries.count(name);
  }
  EXPECT_EQ(entries.size(), compared + extras) << "extra entries in the tree";
  if (out.empty()) return;
  // On disk: no device node, fifo, socket, setuid/setgid bit anywhere.
  for (const std::string& rel : ListTree(out)) {
    struct stat st {};
    ASSERT_EQ(lstat((out + "/" + rel).c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) << rel;
    EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << rel;
  }
}

}  // namespace firmwarden::testing
