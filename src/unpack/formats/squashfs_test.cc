// SquashFS handler tests against images built by the real mksquashfs, for every compressor, plus
// hostile variants (truncated, bit-flipped, patched names) and the real firmware corpus.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::Run;
using testing::Sh;
using testing::TempDir;

// What the source tree holds, from lstat(): the ground truth for every image built from it.
struct Expected {
  EntryType type;
  uint32_t mode;
  uint32_t uid, gid;
  uint64_t size;
  std::string sha256;  // files
  std::string target;  // symlinks
  uint32_t major = 0, minor = 0;
  ino_t ino = 0;
  nlink_t nlink = 1;
};

// Every path below `root`, relative and sorted. Unlike testing::ListTree this never resolves
// symlinks, so a planted link to "/etc/passwd" is listed under its own name.
std::vector<std::string> ListTree(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec))
    out.push_back(it->path().lexically_relative(root).string());
  std::sort(out.begin(), out.end());
  return out;
}

bool IsRoot() { return geteuid() == 0; }

bool HaveMksquashfs() { return Run("mksquashfs -version >/dev/null 2>&1") == 0; }

void Sys(const std::string& cmd) { ASSERT_EQ(Run(cmd), 0) << cmd; }

// Builds the source tree: every inode type, a multi-block file, a fragment-sized file, a sparse
// file, special permission bits, owners, a hardlink pair and an xattr.
void BuildTree(const std::string& root) {
  fs::create_directories(root);
  std::string big = testing::RandomBytes(1536 * 1024 + 77, 42);  // > 1 MiB, not block-aligned
  testing::WriteFile(root + "/big.bin", big);
  testing::WriteFile(root + "/tiny.txt", "hello, fragment\n");
  testing::WriteFile(root + "/empty", "");
  fs::create_directories(root + "/dir/sub/deeper");
  fs::create_directories(root + "/emptydir");
  testing::WriteFile(root + "/dir/sub/deep.txt", std::string(5000, 'z'));
  // Sparse: a hole of whole zero blocks between two pieces of data.
  testing::WriteFile(root + "/sparse.bin",
                     std::string("head") + std::string(600 * 1024, '\0') + "tail");
  Sys("ln -s tiny.txt " + Sh(root + "/link"));
  Sys("ln -s /etc/passwd " + Sh(root + "/dir/abs_link"));
  Sys("ln " + Sh(root + "/dir/sub/deep.txt") + " " + Sh(root + "/hard"));
  testing::WriteFile(root + "/suid", "#!/bin/sh\n");
  Sys("chmod 4755 " + Sh(root + "/suid"));
  testing::WriteFile(root + "/sgid_sticky", "x");
  Sys("chmod 3710 " + Sh(root + "/sgid_sticky"));
  testing::WriteFile(root + "/owned", "mine");
  Sys("chown 1000:1000 " + Sh(root + "/owned"));
  Sys("chown 1234:5678 " + Sh(root + "/dir"));
  Sys("mkfifo " + Sh(root + "/fifo"));
  Sys("mknod " + Sh(root + "/null") + " c 1 3");
  Sys("mknod " + Sh(root + "/sda1") + " b 8 1");
  // Major and minor above 255 exercise the split encoding of squashfs device numbers.
  Sys("mknod " + Sh(root + "/bigdev") + " c 300 70000");
  {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(s, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = root + "/sock";
    ASSERT_LT(path.size(), sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
    close(s);
  }
  ASSERT_EQ(setxattr((root + "/tiny.txt").c_str(), "user.comment", "hello", 5, 0), 0)
      << strerror(errno);
  // A fixed, old mtime proves times come from the inode, not from extraction.
  Sys("touch -h -d @1000000000 " + Sh(root + "/tiny.txt"));
}

std::map<std::string, Expected> Describe(const std::string& root) {
  std::map<std::string, Expected> out;
  for (const std::string& rel : ListTree(root)) {
    std::string p = root + "/" + rel;
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) continue;
    Expected e{};
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.ino = st.st_ino;
    e.nlink = st.st_nlink;
    if (S_ISREG(st.st_mode)) {
      e.type = EntryType::kFile;
      e.size = st.st_size;
      e.sha256 = testing::Sha256Hex(ReadFile(p));
    } else if (S_ISDIR(st.st_mode)) {
      e.type = EntryType::kDir;
    } else if (S_ISLNK(st.st_mode)) {
      e.type = EntryType::kSymlink;
      e.target = fs::read_symlink(p).string();
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      e.type = S_ISCHR(st.st_mode) ? EntryType::kCharDev : EntryType::kBlockDev;
      e.major = major(st.st_rdev);
      e.minor = minor(st.st_rdev);
    } else if (S_ISFIFO(st.st_mode)) {
      e.type = EntryType::kFifo;
    } else if (S_ISSOCK(st.st_mode)) {
      e.type = EntryType::kSocket;
    }
    out[rel] = e;
  }
  return out;
}

// Index of the first squashfs tree in `u`, or -1.
int SquashTree(const Unpacked& u) {
  for (size_t i = 0; i < u.files.trees().size(); ++i)
    if (u.files.trees()[i].format == "squashfs") return static_cast<int>(i);
  return -1;
}

// Depth-first; `abs` receives the chunk's offset in the image when every blob on the way is a
// slice of its parent (payloads, partitions), which is the case for vendor headers.
const Region* FindRegion(const BlobLayout& layout, std::string_view format, uint64_t base = 0,
                         uint64_t* abs = nullptr) {
  for (const Region& r : layout.regions) {
    if (r.kind == Region::Kind::kChunk && r.format == format) {
      if (abs != nullptr) *abs = base + r.offset;
      return &r;
    }
    for (const BlobLayout& c : r.children)
      if (const Region* f = FindRegion(c, format, base + c.offset_in_parent.value_or(0), abs))
        return f;
  }
  return nullptr;
}

std::string Detail(const Region& r, std::string_view key) {
  for (const KeyValue& kv : r.details)
    if (kv.key == key) return kv.value;
  return "";
}

UnpackOptions SmallLimits(std::optional<std::string> out) {
  UnpackOptions o;
  o.output_dir = std::move(out);
  o.limits.max_total_bytes = 64ULL << 20;
  o.limits.ratio_floor = 64ULL << 20;
  o.limits.max_files = 10000;
  o.limits.max_seconds = 20;
  return o;
}

// Nothing may appear in `parent` except the output directory itself.
void ExpectConfined(const std::string& parent, const std::string& out_name) {
  for (const std::string& p : ListTree(parent))
    EXPECT_TRUE(p == out_name || p.rfind(out_name + "/", 0) == 0) << "written outside: " << p;
}

// Shared source tree and its description, built once.
class SquashfsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!IsRoot() || !HaveMksquashfs()) return;
    src_ = new TempDir();
    BuildTree(src_->path() + "/root");
    expected_ = new std::map<std::string, Expected>(Describe(src_->path() + "/root"));
  }
  static void TearDownTestSuite() {
    delete expected_;
    delete src_;
    expected_ = nullptr;
    src_ = nullptr;
  }
  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (mknod, chown)";
    if (!HaveMksquashfs()) GTEST_SKIP() << "mksquashfs not installed";
    ASSERT_NE(src_, nullptr);
  }

  // Builds an image of the shared tree (or of `dir`) and returns its bytes.
  static std::string MakeImage(const std::string& comp, const std::string& img,
                               const std::string& extra = "", const std::string& dir = "") {
    std::string from = dir.empty() ? src_->path() + "/root" : dir;
    std::string cmd = "mksquashfs " + Sh(from) + " " + Sh(img) + " -comp " + comp +
                      " -noappend -quiet -no-progress " + extra + " >/dev/null 2>&1";
    EXPECT_EQ(testing::Run(cmd), 0) << cmd;
    return ReadFile(img);
  }

  static TempDir* src_;
  static std::map<std::string, Expected>* expected_;
};
TempDir* SquashfsTest::src_ = nullptr;
std::map<std::string, Expected>* SquashfsTest::expected_ = nullptr;

class SquashfsCompressorTest : public SquashfsTest,
                               public ::testing::WithParamInterface<const char*> {};

TEST_P(SquashfsCompressorTest, EveryEntryMatchesTheSourceTree) {
  const std::string comp = GetParam();
  TempDir work;
  std::string img = work / "fs.img";
  MakeImage(comp, img);
  std::string out = work / "out";
  auto u = Unpack(img, SmallLimits(out));
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  for (const Diagnostic& d : u->diagnostics) ADD_FAILURE() << d.where << ": " << d.message;

  const Region* r = FindRegion(u->layout, "squashfs");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(Detail(*r, "compression"), comp);
  EXPECT_EQ(Detail(*r, "version"), "4.0");
  EXPECT_EQ(Detail(*r, "block_size"), "131072");
  EXPECT_FALSE(r->truncated);

  int tree = SquashTree(*u);
  ASSERT_GE(tree, 0);
  auto entries = u->files.EntriesOf(tree);
  EXPECT_EQ(entries.size(), expected_->size());
  // The root adds one inode and the hardlinked pair shares one: the two cancel out.
  EXPECT_EQ(Detail(*r, "inodes"), std::to_string(expected_->size()));

  const std::string disk_root = out + "/" + u->files.trees()[tree].disk_dir;
  for (const auto& [path, want] : *expected_) {
    SCOPED_TRACE(comp + ": " + path);
    const FileEntry* e = u->files.Find(tree, path);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->mode, want.mode);
    EXPECT_EQ(e->uid, want.uid);
    EXPECT_EQ(e->gid, want.gid);
    if (want.type == EntryType::kDir) {
      EXPECT_EQ(e->type, EntryType::kDir);
    } else if (want.type == EntryType::kFile) {
      EXPECT_EQ(e->size, want.size);
      if (want.nlink > 1) {
        // One of the pair is the file, the other a hardlink to it; which comes first is the
        // directory order.
        if (e->type == EntryType::kHardlink)
          EXPECT_NE(e->link_target, path);
        else
          EXPECT_EQ(e->type, EntryType::kFile);
      } else {
        EXPECT_EQ(e->type, EntryType::kFile);
      }
      EXPECT_EQ(e->state, EntryState::kWritten);
      EXPECT_EQ(testing::Sha256Hex(ReadFile(disk_root + "/" + path)), want.sha256);
      EXPECT_EQ(e->disk_path, u->files.trees()[tree].disk_dir + "/" + path);
    } else if (want.type == EntryType::kSymlink) {
      EXPECT_EQ(e->type, EntryType::kSymlink);
      EXPECT_EQ(e->link_target, want.target);
      EXPECT_EQ(fs::read_symlink(disk_root + "/" + path).string(), want.target);
    } else {
      EXPECT_EQ(e->type, want.type);
      EXPECT_EQ(e->rdev_major, want.major);
      EXPECT_EQ(e->rdev_minor, want.minor);
      // Devices, fifos and sockets are recorded, never created.
      EXPECT_FALSE(testing::Exists(disk_root + "/" + path));
    }
  }
  // The hardlink pair: exactly one file and one link pointing at it.
  const FileEntry* a = u->files.Find(tree, "hard");
  const FileEntry* b = u->files.Find(tree, "dir/sub/deep.txt");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->type == EntryType::kHardlink, b->type == EntryType::kHardlink);
  const FileEntry* link = a->type == EntryType::kHardlink ? a : b;
  const FileEntry* file = link == a ? b : a;
  EXPECT_EQ(link->link_target, file->tree_path);

  const FileEntry* tiny = u->files.Find(tree, "tiny.txt");
  ASSERT_NE(tiny, nullptr);
  EXPECT_EQ(tiny->mtime, 1000000000);
  ASSERT_EQ(tiny->xattrs.size(), 1u);
  EXPECT_EQ(tiny->xattrs[0].first, "user.comment");
  EXPECT_EQ(tiny->xattrs[0].second, "hello");

  // Nothing on disk is special: no device nodes, fifos or sockets, no setuid/setgid/sticky.
  for (const std::string& rel : ListTree(out)) {
    struct stat st {};
    ASSERT_EQ(lstat((out + "/" + rel).c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) << rel;
    EXPECT_EQ(st.st_mode & 07000, 0u) << rel;
  }
  EXPECT_EQ(u->files.Find(tree, "suid")->mode, 04755u);
}

INSTANTIATE_TEST_SUITE_P(AllCompressors, SquashfsCompressorTest,
                         ::testing::Values("gzip", "xz", "lzma", "lzo", "lz4", "zstd"),
                         [](const auto& info) { return std::string(info.param); });

TEST_F(SquashfsTest, SmallBlocksAndNoFragmentsAndUncompressedMetadata) {
  // Other writer options change the on-disk shapes: 4 KiB blocks (many block-list entries),
  // no fragments (the tail is a short block), uncompressed tables and data.
  TempDir work;
  for (const std::string extra :
       {"-b 4096 -no-fragments", "-noI -noD -noF -noX", "-always-use-fragments -no-xattrs"}) {
    SCOPED_TRACE(extra);
    std::string img = work / "fs.img";
    MakeImage("gzip", img, extra);
    auto u = Unpack(img, SmallLimits(work / "out"));
    ASSERT_TRUE(u.has_value());
    EXPECT_TRUE(u->Clean());
    int tree = SquashTree(*u);
    ASSERT_GE(tree, 0);
    EXPECT_EQ(u->files.EntriesOf(tree).size(), expected_->size());
    for (const auto& [path, want] : *expected_) {
      if (want.type != EntryType::kFile) continue;
      EXPECT_EQ(testing::Sha256Hex(ReadFile(work / "out/0x0.squashfs/" + path)), want.sha256)
          << path;
    }
    fs::remove_all(work / "out");
  }
}

TEST_F(SquashfsTest, FoundAtAnOffsetInsideFlashPadding) {
  TempDir work;
  std::string img = MakeImage("xz", work / "fs.img");
  // A flash dump: erased 0xFF before and after, the filesystem at an eraseblock boundary.
  std::string dump = std::string(0x30000, '\xff') + img + std::string(0x20000, '\xff');
  auto u = UnpackMemory(dump, "flash.bin", SmallLimits(work / "out"));
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->Clean());
  const Region* r = FindRegion(u->layout, "squashfs");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 0x30000u);
  EXPECT_EQ(r->size, std::stoull(Detail(*r, "bytes_used")));
  int tree = SquashTree(*u);
  ASSERT_GE(tree, 0);
  EXPECT_EQ(u->files.EntriesOf(tree).size(), expected_->size());
  EXPECT_EQ(testing::Sha256Hex(ReadFile(work / "out/0x30000.squashfs/big.bin")),
            expected_->at("big.bin").sha256);

  // Info mode: same tree, nothing written.
  auto dry = UnpackMemory(dump, "flash.bin", SmallLimits(std::nullopt));
  ASSERT_TRUE(dry.has_value());
  ASSERT_GE(SquashTree(*dry), 0);
  EXPECT_EQ(dry->files.EntriesOf(SquashTree(*dry)).size(), expected_->size());
}

TEST_F(SquashfsTest, TruncatedImagesGiveDiagnosticsAndPartialTrees) {
  TempDir work;
  std::string img = MakeImage("gzip", work / "fs.img");
  uint64_t used = 0;  // mksquashfs pads the file to 4 KiB; bytes_used is the real end
  std::memcpy(&used, img.data() + 40, 8);
  ASSERT_LE(used, img.size());
  for (size_t cut : {size_t{100}, size_t{4096}, used / 3, used / 2, used * 9 / 10, used - 1}) {
    SCOPED_TRACE(cut);
    TempDir parent;
    auto u =
        UnpackMemory(std::string_view(img).substr(0, cut), "cut.img", SmallLimits(parent / "out"));
    ASSERT_TRUE(u.has_value());
    EXPECT_FALSE(u->Clean());
    const Region* r = FindRegion(u->layout, "squashfs");
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(r->truncated);
    ExpectConfined(parent.path(), "out");
  }
}

TEST_F(SquashfsTest, BitFlippedImagesNeverEscapeOrCrash) {
  TempDir work;
  // Uncompressed metadata makes flips land in live inode and directory fields, not only in
  // compressed streams that fail their checks.
  const std::vector<std::pair<std::string, std::string>> variants = {
      {"gzip", "-b 4096"}, {"lzo", "-noI"}, {"xz", ""}, {"lz4", "-noI -noD"}};
  for (const auto& [comp, extra] : variants) {
    std::string img = MakeImage(comp, work / "fs.img", extra);
    ASSERT_GT(img.size(), 200u);
    uint64_t inode_table = 0;
    std::memcpy(&inode_table, img.data() + 64, 8);
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      SCOPED_TRACE(comp + " " + extra + " seed " + std::to_string(seed));
      std::mt19937_64 rng(seed);
      std::string bad = img;
      // Odd seeds hit the metadata tables (inodes, directories, fragments, ids), even seeds
      // anywhere after the superblock; every fourth seed also flips a superblock byte.
      size_t lo = (seed & 1) ? std::min<size_t>(inode_table, img.size() - 1) : 96;
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < flips; ++i)
        bad[lo + rng() % (img.size() - lo)] ^= static_cast<char>(1 + rng() % 255);
      if (seed % 4 == 0) bad[8 + rng() % 88] ^= static_cast<char>(1 + rng() % 255);
      TempDir parent;
      auto u = UnpackMemory(bad, "flipped.img", SmallLimits(parent / "out"));
      ASSERT_TRUE(u.has_value());
      ExpectConfined(parent.path(), "out");
      for (const std::string& rel : ListTree(parent / "out")) {
        struct stat st {};
        ASSERT_EQ(lstat((parent / "out/" + rel).c_str(), &st), 0);
        EXPECT_FALSE(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode));
        EXPECT_EQ(st.st_mode & 07000, 0u);
      }
    }
  }
}

// Replaces the single occurrence of `from` in `img` by `to` (same length).
void PatchUnique(std::string& img, std::string_view from, std::string_view to) {
  ASSERT_EQ(from.size(), to.size());
  size_t at = img.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  ASSERT_EQ(img.find(from, at + 1), std::string::npos) << from << " is not unique";
  img.replace(at, to.size(), to);
}

TEST_F(SquashfsTest, CraftedDotDotNameIsRefused) {
  // mksquashfs will not store "..", so the name is patched into an uncompressed directory table.
  TempDir work;
  fs::create_directories(work / "src/d");
  testing::WriteFile(work / "src/d/QQ", "payload");
  testing::WriteFile(work / "src/d/ok", "fine");
  std::string img = MakeImage("gzip", work / "fs.img", "-noI", work / "src");
  PatchUnique(img, "QQ", "..");
  TempDir parent;
  auto u = UnpackMemory(img, "dotdot.img", SmallLimits(parent / "out"));
  ASSERT_TRUE(u.has_value());
  ExpectConfined(parent.path(), "out");
  int tree = SquashTree(*u);
  ASSERT_GE(tree, 0);
  bool refused = false;
  for (const FileEntry* e : u->files.EntriesOf(tree))
    if (e->state == EntryState::kUnsafe && e->raw_name == "d/..") refused = true;
  EXPECT_TRUE(refused);
  EXPECT_FALSE(testing::Exists(parent / "out/0x0.squashfs/QQ"));
  EXPECT_EQ(ReadFile(parent / "out/0x0.squashfs/d/ok"), "fine");
  EXPECT_FALSE(u->Clean());
}

TEST_F(SquashfsTest, CraftedSymlinkAndDirectoryOfTheSameNameStayInside) {
  // "evil -> <outside>" next to a directory "evil" holding "x": if the symlink were followed,
  // x would land outside. Both orders of the two entries are tried (the directory listing is
  // sorted, so the patched-in name decides which comes first).
  for (const char* decoy : {"evi1", "evim"}) {
    SCOPED_TRACE(decoy);
    TempDir work;
    TempDir outside;
    fs::create_directories(work / "src/evil");
    testing::WriteFile(work / "src/evil/x", "should stay inside");
    Sys("ln -s " + Sh(outside.path()) + " " + Sh(work / "src/" + decoy));
    std::string img = MakeImage("gzip", work / "fs.img", "-noI", work / "src");
    PatchUnique(img, decoy, "evil");
    TempDir parent;
    auto u = UnpackMemory(img, "evil.img", SmallLimits(parent / "out"));
    ASSERT_TRUE(u.has_value());
    ExpectConfined(parent.path(), "out");
    EXPECT_TRUE(ListTree(outside.path()).empty());
    // x is inside the output, in a real directory.
    struct stat st {};
    ASSERT_EQ(lstat((parent / "out/0x0.squashfs/evil").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(ReadFile(parent / "out/0x0.squashfs/evil/x"), "should stay inside");
  }
}

// Offset of the first inode of `type` in the uncompressed (-noI) inode table of `img` whose 32-bit
// little-endian field at `field` equals `value`.
size_t FindInode(const std::string& img, uint16_t type, size_t field, uint32_t value) {
  uint64_t inode_table = 0, dir_table = 0;
  std::memcpy(&inode_table, img.data() + 64, 8);
  std::memcpy(&dir_table, img.data() + 72, 8);
  for (size_t i = inode_table + 2; i + field + 4 <= dir_table; ++i) {
    uint16_t t;
    uint32_t v;
    std::memcpy(&t, img.data() + i, 2);
    std::memcpy(&v, img.data() + i + field, 4);
    if (t == type && v == value) return i;
  }
  return std::string::npos;
}

TEST_F(SquashfsTest, CraftedHugeSizesAreRefusedBeforeAllocating) {
  // libsquashfs allocates a file's block list from its size, and a symlink target from its
  // length, before reading them: the handler must check both first (under ASan an unchecked
  // 2^47-byte request aborts the process).
  TempDir work;
  fs::create_directories(work / "src");
  testing::WriteFile(work / "src/file", "sixteen bytes!!\n");
  Sys("ln " + Sh(work / "src/file") + " " + Sh(work / "src/file2"));  // extended file inode
  Sys("ln -s 0123456789abcdefghij " + Sh(work / "src/link"));
  testing::WriteFile(work / "src/plain", "still readable");
  std::string img = MakeImage("gzip", work / "fs.img", "-noI", work / "src");
  // Extended file inode (type 9): file_size is the u64 at +24 of the inode.
  size_t file = FindInode(img, 9, 24, 16);
  ASSERT_NE(file, std::string::npos);
  // Symlink inode (type 3): target_size is the u32 at +20.
  size_t link = FindInode(img, 3, 20, 20);
  ASSERT_NE(link, std::string::npos);
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    std::string bad = img;
    if (variant == 0) {
      uint64_t huge = uint64_t{1} << 62;
      std::memcpy(&bad[file + 24], &huge, 8);
    } else if (variant == 1) {
      uint64_t huge = ~uint64_t{0};
      std::memcpy(&bad[file + 24], &huge, 8);
    } else {
      uint32_t huge = 0xFFFFFFF0;
      std::memcpy(&bad[link + 20], &huge, 4);
    }
    TempDir parent;
    auto u = UnpackMemory(bad, "huge.img", SmallLimits(parent / "out"));
    ASSERT_TRUE(u.has_value());
    ExpectConfined(parent.path(), "out");
    EXPECT_FALSE(u->Clean());
    int tree = SquashTree(*u);
    ASSERT_GE(tree, 0);
    EXPECT_EQ(ReadFile(parent / "out/0x0.squashfs/plain"), "still readable");
    if (variant < 2)
      EXPECT_EQ(u->files.Find(tree, "file"), nullptr);
    else
      EXPECT_EQ(u->files.Find(tree, "link"), nullptr);
    bool named = false;
    for (const Diagnostic& d : u->diagnostics)
      if (d.message.find(variant < 2 ? "\"file" : "\"link\"") != std::string::npos) named = true;
    EXPECT_TRUE(named) << "the diagnostic names the entry";
  }
}

TEST_F(SquashfsTest, CraftedDirectoryLoopIsWalkedOnce) {
  // Point the entry of subdirectory "sub" at the root inode: a cycle root -> sub -> root.
  TempDir work;
  fs::create_directories(work / "src/sub");
  testing::WriteFile(work / "src/sub/f", "in sub");
  testing::WriteFile(work / "src/top", "at top");
  std::string img = MakeImage("gzip", work / "fs.img", "-noI", work / "src");
  uint64_t root_ref = 0;
  std::memcpy(&root_ref, img.data() + 32, 8);
  ASSERT_EQ(root_ref >> 16, 0u) << "test assumes one inode metadata block";
  // A directory entry is: u16 inode offset, s16 inode number delta, u16 type, u16 name size - 1,
  // then the name.
  uint64_t dir_table = 0;  // file data may hold the same bytes: search the listing only
  std::memcpy(&dir_table, img.data() + 72, 8);
  size_t name = img.find("sub", dir_table);
  ASSERT_NE(name, std::string::npos);
  uint16_t offset = static_cast<uint16_t>(root_ref & 0xFFFF);
  std::memcpy(&img[name - 8], &offset, 2);
  TempDir parent;
  auto u = UnpackMemory(img, "loop.img", SmallLimits(parent / "out"));
  ASSERT_TRUE(u.has_value());
  ExpectConfined(parent.path(), "out");
  int tree = SquashTree(*u);
  ASSERT_GE(tree, 0);
  // root lists "sub" (now the root again) and "top"; the cycle is reported and not followed.
  EXPECT_EQ(u->files.EntriesOf(tree).size(), 2u);
  bool loop = false;
  for (const Diagnostic& d : u->diagnostics)
    if (d.message.find("loop") != std::string::npos) loop = true;
  EXPECT_TRUE(loop);
}

TEST_F(SquashfsTest, RejectsBadSuperblocks) {
  TempDir work;
  std::string img = MakeImage("gzip", work / "fs.img");
  auto put16 = [](std::string& s, size_t at, uint16_t v) { std::memcpy(&s[at], &v, 2); };
  auto put32 = [](std::string& s, size_t at, uint32_t v) { std::memcpy(&s[at], &v, 4); };
  auto put64 = [](std::string& s, size_t at, uint64_t v) { std::memcpy(&s[at], &v, 8); };
  std::vector<std::pair<std::string, std::string>> cases;
  auto add = [&](std::string name, auto&& patch) {
    std::string s = img;
    patch(s);
    cases.emplace_back(std::move(name), std::move(s));
  };
  add("version 3.1", [&](std::string& s) {
    put16(s, 28, 3);
    put16(s, 30, 1);
  });
  add("block size not a power of two", [&](std::string& s) { put32(s, 12, 131073); });
  add("block_log disagrees", [&](std::string& s) { put16(s, 22, 16); });
  add("compression 7", [&](std::string& s) { put16(s, 20, 7); });
  add("bytes_used tiny", [&](std::string& s) { put64(s, 40, 10); });
  add("id table past end", [&](std::string& s) { put64(s, 48, 1ULL << 30); });
  add("inode table after dir table", [&](std::string& s) { std::memcpy(&s[64], &s[72], 8); });
  add("huge fragment count", [&](std::string& s) { put32(s, 16, 0xFFFFFFF0); });
  for (const auto& [name, bytes] : cases) {
    auto u = UnpackMemory(bytes, "bad.img", SmallLimits(std::nullopt));
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(FindRegion(u->layout, "squashfs"), nullptr) << name;
  }
  auto ok = UnpackMemory(img, "good.img", SmallLimits(std::nullopt));
  ASSERT_TRUE(ok.has_value());
  EXPECT_NE(FindRegion(ok->layout, "squashfs"), nullptr);
}

// Real vendor images: the superblock inode count and the extracted entry count (every inode
// but the root) must agree with the corpus README.
struct RealImage {
  const char* file;
  uint64_t offset;
  const char* compression;
  uint64_t inodes;
};

class SquashfsRealImageTest : public ::testing::TestWithParam<RealImage> {};

TEST_P(SquashfsRealImageTest, InodeCountsMatch) {
  const RealImage& ri = GetParam();
  std::string path = testing::SharedDir() + "/corpora/firmware/" + ri.file;
  if (!testing::Exists(path)) GTEST_SKIP() << path << " not present";
  TempDir work;
  UnpackOptions opts;
  opts.output_dir = work / "out";
  auto u = Unpack(path, opts);
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  uint64_t abs = 0;
  const Region* r = FindRegion(u->layout, "squashfs", 0, &abs);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(abs, ri.offset);
  EXPECT_EQ(Detail(*r, "compression"), ri.compression);
  EXPECT_EQ(Detail(*r, "inodes"), std::to_string(ri.inodes));
  EXPECT_FALSE(r->truncated);
  int tree = SquashTree(*u);
  ASSERT_GE(tree, 0);
  auto entries = u->files.EntriesOf(tree);
  EXPECT_EQ(entries.size(), ri.inodes - 1);
  for (const FileEntry* e : entries) {
    EXPECT_TRUE(e->state == EntryState::kWritten) << e->tree_path;
  }
  for (const Diagnostic& d : u->diagnostics)
    EXPECT_EQ(d.where.find("squashfs"), std::string::npos) << d.where << ": " << d.message;
  EXPECT_NE(u->files.Find(tree, "bin/busybox"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, SquashfsRealImageTest,
    ::testing::Values(
        RealImage{"openwrt-12.09.2-aa-ar71xx-tl-wr703n-v1-factory.bin", 0xED044, "xz", 864},
        RealImage{"tplink-tl-wr841n-v10-3.16.9-150310-up_boot.bin", 0x120200, "lzma", 560}),
    [](const auto& info) { return std::string(info.param.compression); });

}  // namespace
}  // namespace firmwarden
