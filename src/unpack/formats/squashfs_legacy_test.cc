// SquashFS 1.x-3.x: the five real legacy and vendor images of the corpus (their inode counts
// from the corpus README, and files spot-checked); images made by a small squashfs 3.0 writer
// below (Debian has no 3.x mksquashfs) from a real directory tree, in both byte orders and
// every compression framing, compared entry for entry with the tree; and hostile inputs: every
// truncation, byte flips, crafted headers and a directory loop.
#include <gtest/gtest.h>
#include <lzma.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "firmwarden/unpack.h"
#include "test_util.h"
#include "unpack/formats/handler_test_util.h"
#include "unpack/formats/roundtrip_test_util.h"

namespace firmwarden {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::TreeOf;
using unpack::testing::RegionDetail;

// ---- a small squashfs 3.0 writer --------------------------------------------------------------

enum class Comp { kZlib, kLzmaAlone, kLzmaProps, kLzmaHeaderless };

struct WriterOptions {
  bool big_endian = false;
  Comp comp = Comp::kZlib;
  uint32_t block_size = 4096;
  bool compress_metadata = true;
};

// Packs `value` into `width` bits at bit `pos` (the bitfield order of the image's byte order:
// from the least significant bit of the first byte on a little-endian image, from the most
// significant on a big-endian one).
void SetBits(std::string& buf, size_t base, unsigned pos, unsigned width, uint64_t value, bool be) {
  for (unsigned i = 0; i < width; ++i) {
    const bool bit = (value >> (be ? width - 1 - i : i)) & 1;
    const unsigned at = pos + i;
    const size_t byte = base + at / 8;
    const unsigned shift = be ? 7 - at % 8 : at % 8;
    buf[byte] = static_cast<char>((static_cast<uint8_t>(buf[byte]) & ~(1u << shift)) |
                                  (bit ? 1u << shift : 0u));
  }
}

std::string Int(uint64_t v, int bytes, bool be) {
  std::string s(bytes, '\0');
  for (int i = 0; i < bytes; ++i) s[be ? bytes - 1 - i : i] = static_cast<char>(v >> (8 * i));
  return s;
}

// Raw LZMA1 (lc=3 lp=0 pb=2) without an end marker, then the framing's header.
std::string LzmaFrame(std::string_view raw, Comp comp) {
  lzma_options_lzma opt;
  lzma_lzma_preset(&opt, 6);
  opt.dict_size = 1 << 16;
  opt.lc = 3;
  opt.lp = 0;
  opt.pb = 2;
  opt.ext_flags = 0;
  opt.ext_size_low = static_cast<uint32_t>(raw.size());
  opt.ext_size_high = 0;
  lzma_filter filters[] = {{LZMA_FILTER_LZMA1EXT, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  std::string out(raw.size() + raw.size() / 2 + 1024, '\0');
  size_t pos = 0;
  lzma_ret r =
      lzma_raw_buffer_encode(filters, nullptr, reinterpret_cast<const uint8_t*>(raw.data()),
                             raw.size(), reinterpret_cast<uint8_t*>(out.data()), &pos, out.size());
  EXPECT_EQ(r, LZMA_OK);
  out.resize(pos);
  std::string head;
  if (comp != Comp::kLzmaHeaderless) {
    head = std::string(1, '\x5D') + Int(opt.dict_size, 4, false);
    if (comp == Comp::kLzmaAlone) head += Int(raw.size(), 8, false);
  }
  return head + out;
}

// Compresses one block; returns "" when storing it is no larger.
std::string Compress(std::string_view raw, Comp comp) {
  std::string out;
  if (comp == Comp::kZlib) {
    uLongf n = compressBound(raw.size());
    out.resize(n);
    EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &n,
                        reinterpret_cast<const Bytef*>(raw.data()), raw.size(), 9),
              Z_OK);
    out.resize(n);
  } else {
    out = LzmaFrame(raw, comp);
  }
  return out.size() < raw.size() ? out : "";
}

class Writer {
 public:
  explicit Writer(const WriterOptions& o) : o_(o), be_(o.big_endian) {}

  struct Result {
    std::string image;
    uint64_t root_ref = 0;
    // Absolute offsets in the image of directory entries, by path (meaningful with uncompressed
    // metadata only): where the entry's 5 bytes start.
    std::map<std::string, size_t> entry_pos;
    std::map<std::string, uint64_t> inode_ref;
    uint32_t inodes = 0;
  };

  Result Write(const std::string& root) {
    img_ = std::string(119, '\0');
    struct stat st {};
    EXPECT_EQ(lstat(root.c_str(), &st), 0);
    uint64_t root_ref = WriteDir(root, "", st, 0);
    FlushFragment();
    // Inode table, directory table, fragments, uid and gid tables.
    FlushMeta(inode_);
    FlushMeta(dir_);
    const uint64_t inode_start = img_.size();
    img_ += inode_.out;
    const uint64_t dir_start = img_.size();
    for (auto& [path, pos] : entry_rel_) result_.entry_pos[path] = dir_start + pos;
    img_ += dir_.out;
    // The fragment entries, in metadata blocks, then the index of those blocks.
    Meta frag;
    std::vector<uint64_t> frag_blocks;
    for (const auto& [start, size] : fragments_) {
      if (frag.cur.size() % 8192 == 0 && frag.cur.size() == 0)
        frag_blocks.push_back(img_.size() + frag.out.size());
      frag.cur += Int(start, 8, be_) + Int(size, 4, be_) + Int(0, 4, be_);
      if (frag.cur.size() == 8192) FlushBlock(frag);
    }
    FlushMeta(frag);
    img_ += frag.out;
    const uint64_t frag_index = img_.size();
    for (uint64_t b : frag_blocks) img_ += Int(b, 8, be_);
    const uint64_t uid_start = img_.size();
    for (uint32_t u : uids_) img_ += Int(u, 4, be_);
    const uint64_t gid_start = img_.size();
    for (uint32_t g : gids_) img_ += Int(g, 4, be_);
    const uint64_t bytes_used = img_.size();
    img_.resize((img_.size() + 4095) / 4096 * 4096, '\0');

    std::string& s = img_;
    const bool lzma = o_.comp != Comp::kZlib;
    s.replace(0, 4, be_ ? (lzma ? "qshs" : "sqsh") : (lzma ? "shsq" : "hsqs"));
    s.replace(4, 4, Int(next_inode_ - 1, 4, be_));
    s.replace(8, 4, Int(bytes_used, 4, be_));
    s.replace(12, 4, Int(uid_start, 4, be_));
    s.replace(16, 4, Int(gid_start, 4, be_));
    s.replace(20, 4, Int(inode_start, 4, be_));
    s.replace(24, 4, Int(dir_start, 4, be_));
    s.replace(28, 2, Int(3, 2, be_));
    s.replace(30, 2, Int(0, 2, be_));
    s.replace(32, 2, Int(o_.block_size & 0xFFFF, 2, be_));
    s.replace(34, 2, Int(std::countr_zero(o_.block_size), 2, be_));
    s[36] = static_cast<char>(o_.compress_metadata ? 0x40 : 0x41);
    s[37] = static_cast<char>(uids_.size());
    s[38] = static_cast<char>(gids_.size());
    s.replace(39, 4, Int(1234567890, 4, be_));
    s.replace(43, 8, Int(root_ref, 8, be_));
    s.replace(51, 4, Int(o_.block_size, 4, be_));
    s.replace(55, 4, Int(fragments_.size(), 4, be_));
    s.replace(59, 4, Int(frag_index, 4, be_));
    s.replace(63, 8, Int(bytes_used, 8, be_));
    s.replace(71, 8, Int(uid_start, 8, be_));
    s.replace(79, 8, Int(gid_start, 8, be_));
    s.replace(87, 8, Int(inode_start, 8, be_));
    s.replace(95, 8, Int(dir_start, 8, be_));
    s.replace(103, 8, Int(frag_index, 8, be_));
    s.replace(111, 8, Int(~uint64_t{0}, 8, be_));
    result_.image = img_;
    result_.root_ref = root_ref;
    result_.inodes = next_inode_ - 1;
    return result_;
  }

 private:
  // A metadata stream: finished blocks in `out`, the block being filled in `cur`.
  struct Meta {
    std::string out;
    std::string cur;
  };

  void FlushBlock(Meta& m) {
    std::string c = o_.compress_metadata ? Compress(m.cur, o_.comp) : "";
    if (c.empty()) {
      m.out += Int(m.cur.size() | 0x8000, 2, be_) + m.cur;
    } else {
      m.out += Int(c.size(), 2, be_) + c;
    }
    m.cur.clear();
  }
  void FlushMeta(Meta& m) {
    if (!m.cur.empty()) FlushBlock(m);
  }
  // Appends to a metadata stream; returns the reference (block << 16 | offset) of the start.
  uint64_t Append(Meta& m, const std::string& bytes) {
    uint64_t ref = (uint64_t{m.out.size()} << 16) | m.cur.size();
    for (char c : bytes) {
      m.cur += c;
      if (m.cur.size() == 8192) FlushBlock(m);
    }
    return ref;
  }

  uint32_t IdIndex(std::vector<uint32_t>& table, uint32_t id) {
    auto it = std::find(table.begin(), table.end(), id);
    if (it != table.end()) return static_cast<uint32_t>(it - table.begin());
    table.push_back(id);
    return static_cast<uint32_t>(table.size() - 1);
  }

  std::string BaseInode(unsigned type, const struct stat& st, size_t size, uint32_t number) {
    std::string h(size, '\0');
    SetBits(h, 0, 0, 4, type, be_);
    SetBits(h, 0, 4, 12, st.st_mode & 07777, be_);
    SetBits(h, 0, 16, 8, IdIndex(uids_, st.st_uid), be_);
    SetBits(h, 0, 24, 8, IdIndex(gids_, st.st_gid), be_);
    SetBits(h, 0, 32, 32, static_cast<uint64_t>(st.st_mtime), be_);
    SetBits(h, 0, 64, 32, number, be_);
    return h;
  }

  void FlushFragment() {
    if (frag_cur_.empty()) return;
    std::string c = Compress(frag_cur_, o_.comp);
    const uint64_t start = img_.size();
    if (c.empty()) {
      img_ += frag_cur_;
      fragments_.push_back({start, static_cast<uint32_t>(frag_cur_.size()) | (1u << 24)});
    } else {
      img_ += c;
      fragments_.push_back({start, static_cast<uint32_t>(c.size())});
    }
    frag_cur_.clear();
  }

  uint64_t WriteFile(const std::string& path, const struct stat& st) {
    if (st.st_nlink > 1) {
      auto it = links_.find({st.st_dev, st.st_ino});
      if (it != links_.end()) return it->second;
    }
    std::string data = ReadFile(path);
    const uint64_t start = img_.size();
    std::string list;
    size_t full = data.size() / o_.block_size;
    for (size_t i = 0; i < full; ++i) {
      std::string_view raw(data.data() + i * o_.block_size, o_.block_size);
      std::string c = Compress(raw, o_.comp);
      if (c.empty()) {
        img_ += raw;
        list += Int(o_.block_size | (1u << 24), 4, be_);
      } else {
        img_ += c;
        list += Int(c.size(), 4, be_);
      }
    }
    uint32_t frag = 0xFFFFFFFF, frag_off = 0;
    size_t tail = data.size() - full * o_.block_size;
    if (tail > 0) {
      if (frag_cur_.size() + tail > o_.block_size) FlushFragment();
      frag = static_cast<uint32_t>(fragments_.size());
      frag_off = static_cast<uint32_t>(frag_cur_.size());
      frag_cur_ += data.substr(full * o_.block_size);
    }
    const uint32_t number = next_inode_++;
    std::string h;
    if (st.st_nlink > 1) {  // the long form, which carries nlink
      h = BaseInode(9, st, 40, number);
      SetBits(h, 0, 96, 32, st.st_nlink, be_);
      SetBits(h, 0, 128, 64, start, be_);
      SetBits(h, 0, 192, 32, frag, be_);
      SetBits(h, 0, 224, 32, frag_off, be_);
      SetBits(h, 0, 256, 64, data.size(), be_);
    } else {
      h = BaseInode(2, st, 32, number);
      SetBits(h, 0, 96, 64, start, be_);
      SetBits(h, 0, 160, 32, frag, be_);
      SetBits(h, 0, 192, 32, frag_off, be_);
      SetBits(h, 0, 224, 32, data.size(), be_);
    }
    uint64_t ref = Append(inode_, h + list);
    if (st.st_nlink > 1) links_[{st.st_dev, st.st_ino}] = ref;
    return ref;
  }

  struct Entry {
    std::string name;
    uint64_t ref;
    unsigned type;
    uint32_t number;
  };

  // Post-order: children's inodes first, then this directory's listing, then its inode.
  uint64_t WriteDir(const std::string& path, const std::string& rel, const struct stat& st,
                    uint32_t parent) {
    std::vector<std::string> names;
    for (const auto& d : fs::directory_iterator(path)) names.push_back(d.path().filename());
    std::sort(names.begin(), names.end());
    std::vector<Entry> entries;
    for (const std::string& n : names) {
      std::string child = path + "/" + n;
      std::string child_rel = rel.empty() ? n : rel + "/" + n;
      struct stat cs {};
      EXPECT_EQ(lstat(child.c_str(), &cs), 0);
      uint64_t ref;
      unsigned type;
      if (S_ISDIR(cs.st_mode)) {
        ref = WriteDir(child, child_rel, cs, 0);
        type = 1;
      } else if (S_ISREG(cs.st_mode)) {
        ref = WriteFile(child, cs);
        type = 2;
      } else if (S_ISLNK(cs.st_mode)) {
        std::string target = fs::read_symlink(child).string();
        std::string h = BaseInode(3, cs, 18, next_inode_++);
        SetBits(h, 0, 96, 32, cs.st_nlink, be_);
        SetBits(h, 0, 128, 16, target.size(), be_);
        ref = Append(inode_, h + target);
        type = 3;
      } else if (S_ISBLK(cs.st_mode) || S_ISCHR(cs.st_mode)) {
        type = S_ISBLK(cs.st_mode) ? 4 : 5;
        std::string h = BaseInode(type, cs, 18, next_inode_++);
        SetBits(h, 0, 96, 32, cs.st_nlink, be_);
        SetBits(h, 0, 128, 16, (major(cs.st_rdev) << 8) | minor(cs.st_rdev), be_);
        ref = Append(inode_, h);
      } else {
        type = S_ISFIFO(cs.st_mode) ? 6 : 7;
        std::string h = BaseInode(type, cs, 16, next_inode_++);
        SetBits(h, 0, 96, 32, cs.st_nlink, be_);
        ref = Append(inode_, h);
      }
      result_.inode_ref[child_rel] = ref;
      entries.push_back({n, ref, type, next_inode_ - 1});
    }
    // The listing: runs of entries whose inodes share a metadata block, at most 256 per header.
    const uint64_t listing = (uint64_t{dir_.out.size()} << 16) | dir_.cur.size();
    size_t bytes = 0;
    for (size_t i = 0; i < entries.size();) {
      size_t j = i;
      while (j < entries.size() && j - i < 256 && (entries[j].ref >> 16) == (entries[i].ref >> 16))
        ++j;
      std::string head(9, '\0');
      SetBits(head, 0, 0, 8, j - i - 1, be_);
      SetBits(head, 0, 8, 32, entries[i].ref >> 16, be_);
      SetBits(head, 0, 40, 32, entries[i].number, be_);
      Append(dir_, head);
      bytes += 9;
      for (size_t k = i; k < j; ++k) {
        std::string d(5, '\0');
        SetBits(d, 0, 0, 13, entries[k].ref & 0xFFFF, be_);
        SetBits(d, 0, 13, 3, entries[k].type, be_);
        SetBits(d, 0, 16, 8, entries[k].name.size() - 1, be_);
        SetBits(d, 0, 24, 16,
                static_cast<uint16_t>(static_cast<int32_t>(entries[k].number) -
                                      static_cast<int32_t>(entries[i].number)),
                be_);
        std::string child_rel = rel.empty() ? entries[k].name : rel + "/" + entries[k].name;
        entry_rel_[child_rel] = dir_.out.size() + 2 + dir_.cur.size();
        Append(dir_, d + entries[k].name);
        bytes += 5 + entries[k].name.size();
      }
      i = j;
    }
    std::string h = BaseInode(1, st, 28, next_inode_++);
    SetBits(h, 0, 96, 32, st.st_nlink, be_);
    SetBits(h, 0, 128, 19, bytes + 3, be_);
    SetBits(h, 0, 147, 13, listing & 0xFFFF, be_);
    SetBits(h, 0, 160, 32, listing >> 16, be_);
    SetBits(h, 0, 192, 32, parent, be_);
    return Append(inode_, h);
  }

  WriterOptions o_;
  bool be_;
  std::string img_;
  Meta inode_, dir_;
  std::string frag_cur_;
  std::vector<std::pair<uint64_t, uint32_t>> fragments_;
  std::vector<uint32_t> uids_, gids_;
  std::map<std::pair<dev_t, ino_t>, uint64_t> links_;
  std::map<std::string, size_t> entry_rel_;  // offset in the directory table (stored blocks)
  uint32_t next_inode_ = 1;
  Result result_;
};

// ---- the source tree --------------------------------------------------------------------------

bool BuildTree(const std::string& root) {
  auto w = [&](const std::string& rel, const std::string& data) {
    testing::WriteFile(root + "/" + rel, data);
  };
  fs::create_directories(root + "/bin");
  fs::create_directories(root + "/etc/init.d");
  fs::create_directories(root + "/dev");
  fs::create_directories(root + "/home/user");
  fs::create_directories(root + "/emptydir");
  w("bin/busybox", testing::RandomBytes(3 * 4096 + 123, 1) + std::string(9000, 'a'));
  w("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  w("etc/init.d/rcS", "#!/bin/sh\ntelnetd -l /bin/sh\n");
  w("exact.bin", testing::RandomBytes(2 * 4096, 2));  // ends on a block boundary: no fragment
  w("zeros.bin", std::string(20000, '\0'));
  w("empty", "");
  w("home/user/owned.txt", "mine\n");
  w(std::string(200, 'n'), "long name\n");
  if (chmod((root + "/bin/busybox").c_str(), 04755) != 0) return false;
  if (chmod((root + "/home/user").c_str(), 0700) != 0) return false;
  if (chown((root + "/home/user").c_str(), 1000, 1000) != 0) return false;
  if (chown((root + "/home/user/owned.txt").c_str(), 1000, 100) != 0) return false;
  if (link((root + "/etc/passwd").c_str(), (root + "/etc/passwd.hard").c_str()) != 0) return false;
  if (symlink("busybox", (root + "/bin/sh").c_str()) != 0) return false;
  if (symlink("../etc/init.d/rcS", (root + "/bin/rc").c_str()) != 0) return false;
  if (mkfifo((root + "/fifo").c_str(), 0640) != 0) return false;
  if (mknod((root + "/dev/console").c_str(), S_IFCHR | 0600, makedev(5, 1)) != 0) return false;
  if (mknod((root + "/dev/mtdblock0").c_str(), S_IFBLK | 0660, makedev(31, 0)) != 0) return false;
  // Many entries: the root listing spans several inode blocks and directory headers.
  fs::create_directories(root + "/many");
  for (int i = 0; i < 300; ++i) w("many/f" + std::to_string(i), std::to_string(i));
  return true;
}

void ExpectMatchesSource(const Unpacked& u, const std::string& src, const std::string& out) {
  testing::Expect x;
  x.hardlink_size = true;
  x.min_entries = 301;
  const size_t t = TreeOf(u, "squashfs_legacy");
  testing::ExpectTreeMatches(u, t, src, out, x);
  if (::testing::Test::HasFatalFailure()) return;
  // Exactly one of the two hardlinked names is the file, the other links to it.
  const FileEntry* a = u.files.Find(t, "etc/passwd");
  const FileEntry* b = u.files.Find(t, "etc/passwd.hard");
  ASSERT_TRUE(a && b);
  EXPECT_EQ((a->type == EntryType::kHardlink) + (b->type == EntryType::kHardlink), 1);
}

class WriterTest : public ::testing::TestWithParam<std::tuple<bool, Comp>> {
 protected:
  void SetUp() override {
    if (!BuildTree(tmp_ / "src")) GTEST_SKIP() << "cannot build the tree (not root?)";
  }
  TempDir tmp_;
};

TEST_P(WriterTest, RoundTripsEntryForEntry) {
  WriterOptions o;
  o.big_endian = std::get<0>(GetParam());
  o.comp = std::get<1>(GetParam());
  Writer::Result w = Writer(o).Write(tmp_ / "src");
  // Behind a few bytes of something else, as in a flash dump.
  std::string image = std::string(1000, '\xFF') + w.image;
  std::string out = tmp_ / "out";
  UnpackOptions uo;
  uo.output_dir = out;
  auto u = UnpackMemory(image, "fw.bin", uo);
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_TRUE(u->Clean()) << testing::Diagnostics(*u);
  const Region* r = unpack::testing::FindRegionDeep(u->layout, "squashfs_legacy");
  ASSERT_NE(r, nullptr) << testing::Diagnostics(*u);
  EXPECT_EQ(r->offset, 1000u);
  EXPECT_EQ(RegionDetail(*r, "version"), "3.0");
  EXPECT_EQ(RegionDetail(*r, "endianness"), o.big_endian ? "big" : "little");
  EXPECT_EQ(RegionDetail(*r, "inodes"), std::to_string(w.inodes));
  const char* comp[] = {"gzip", "lzma-alone", "lzma-props", "lzma-headerless"};
  EXPECT_EQ(RegionDetail(*r, "compression"), comp[static_cast<int>(o.comp)]);
  ExpectMatchesSource(*u, tmp_ / "src", out);
  // Fuzzing seeds, on request (see fuzz/squashfs_legacy_fuzzer.cc).
  if (const char* seeds = std::getenv("FIRMWARDEN_SQFS_LEGACY_SEEDS")) {
    fs::create_directories(seeds);
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    testing::WriteFile(std::string(seeds) + "/" + name + ".sqfs", w.image);
  }
}

std::string ParamName(const ::testing::TestParamInfo<std::tuple<bool, Comp>>& i) {
  static const char* const kComp[] = {"Zlib", "LzmaAlone", "LzmaProps", "LzmaHeaderless"};
  return std::string(std::get<0>(i.param) ? "Big" : "Little") +
         kComp[static_cast<int>(std::get<1>(i.param))];
}

INSTANTIATE_TEST_SUITE_P(All, WriterTest,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Values(Comp::kZlib, Comp::kLzmaAlone,
                                                              Comp::kLzmaProps,
                                                              Comp::kLzmaHeaderless)),
                         ParamName);

// ---- hostile input ----------------------------------------------------------------------------

// A small image (one inode block, one directory block) for the mutation tests.
bool BuildSmallTree(const std::string& root) {
  fs::create_directories(root + "/a/b");
  testing::WriteFile(root + "/a/b/file", testing::RandomBytes(5000, 3));
  testing::WriteFile(root + "/a/small", "small\n");
  testing::WriteFile(root + "/top", std::string(3000, 'x'));
  return symlink("a/small", (root + "/link").c_str()) == 0;
}

Unpacked Extract(std::string_view image, const std::string& out) {
  UnpackOptions o;
  o.output_dir = out;
  o.limits.max_seconds = 20;
  o.write_manifest = false;
  auto u = UnpackMemory(image, "x.bin", o);
  EXPECT_TRUE(u.has_value());
  return u ? std::move(*u) : Unpacked{};
}

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!BuildSmallTree(tmp_ / "src")) GTEST_SKIP() << "cannot build the tree";
  }
  Writer::Result Make(bool be, Comp comp, bool compress_metadata = true) {
    WriterOptions o;
    o.big_endian = be;
    o.comp = comp;
    o.compress_metadata = compress_metadata;
    return Writer(o).Write(tmp_ / "src");
  }
  std::string Out() { return tmp_ / ("o" + std::to_string(n_++)); }
  TempDir tmp_;
  int n_ = 0;
};

TEST_F(HostileTest, EveryTruncationIsDiagnosed) {
  for (bool be : {false, true}) {
    Writer::Result w = Make(be, be ? Comp::kLzmaProps : Comp::kZlib);
    const size_t used = w.image.size();  // padded; the filesystem ends a little earlier
    for (size_t cut = 1; cut < used; ++cut) {
      SCOPED_TRACE(cut);
      std::string_view img(w.image.data(), cut);
      // Info mode for every cut, extraction for some of them (that reads file data too).
      UnpackOptions o;
      o.limits.max_seconds = 20;
      auto u = UnpackMemory(img, "cut", o);
      ASSERT_TRUE(u.has_value());
      const Region* r = unpack::testing::FindRegionDeep(u->layout, "squashfs_legacy");
      if (r != nullptr) {
        EXPECT_TRUE(r->truncated || !u->Clean() || r->size <= cut);
      }
      if (cut % 97 == 0) {
        std::string out = Out();
        Unpacked x = Extract(img, out);
        if (const Region* xr = unpack::testing::FindRegionDeep(x.layout, "squashfs_legacy");
            xr && xr->truncated) {
          EXPECT_FALSE(x.Clean());
        }
        fs::remove_all(out);
      }
    }
  }
}

TEST_F(HostileTest, RandomByteFlipsNeverCrash) {
  std::mt19937_64 rng(42);
  for (bool be : {false, true}) {
    for (Comp comp : {Comp::kZlib, Comp::kLzmaAlone, Comp::kLzmaHeaderless}) {
      Writer::Result w = Make(be, comp, comp != Comp::kLzmaHeaderless);
      for (int round = 0; round < 150; ++round) {
        std::string img = w.image;
        const int flips = 1 + static_cast<int>(rng() % 6);
        for (int k = 0; k < flips; ++k) {
          size_t at = rng() % img.size();
          img[at] = static_cast<char>(img[at] ^ (1 << (rng() % 8)));
        }
        std::string out = Out();
        Unpacked u = Extract(img, out);
        (void)u;
        fs::remove_all(out);
      }
    }
  }
}

std::string SetSuper(std::string img, size_t at, uint64_t v, int bytes) {
  img.replace(at, bytes, Int(v, bytes, false));
  return img;
}

TEST_F(HostileTest, CraftedHeadersAreRejectedWithADiagnostic) {
  Writer::Result w = Make(false, Comp::kZlib);
  struct Case {
    const char* what;
    std::string image;
  };
  const std::string& g = w.image;
  std::vector<Case> cases = {
      {"inode table past the end", SetSuper(g, 87, 1ULL << 39, 8)},
      {"bytes_used huge", SetSuper(g, 63, 1ULL << 50, 8)},
      {"block size not a power of two", SetSuper(g, 51, 5000, 4)},
      {"block_log disagrees", SetSuper(g, 34, 17, 2)},
      {"huge fragment count", SetSuper(g, 55, 0xFFFFFFFF, 4)},
      {"uid table out of range", SetSuper(g, 71, 0xFFFFFFFFF0ULL, 8)},
      {"root inode out of range", SetSuper(g, 43, 0xFFFF0000ULL, 8)},
      {"root offset out of range", SetSuper(g, 43, 0x1FFFF, 8)},
      {"zero inodes", SetSuper(g, 4, 0, 4)},
      {"version 9", SetSuper(g, 28, 9, 2)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Unpacked u = Extract(c.image, Out());
    const Region* r = unpack::testing::FindRegionDeep(u.layout, "squashfs_legacy");
    if (r == nullptr) continue;  // rejected outright: the bytes are a gap
    // Accepted (a harmless field): then it still unpacks, or says why not.
    EXPECT_TRUE(u.Clean() || !u.diagnostics.empty());
  }
  // The checked fields really are checked: none of these parse.
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].what);
    UnpackOptions o;
    auto u = UnpackMemory(cases[i].image, "x", o);
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(unpack::testing::FindRegionDeep(u->layout, "squashfs_legacy"), nullptr);
  }
}

// A directory entry pointing back at the root directory: the loop is cut and reported, and the
// rest of the tree still comes out.
TEST_F(HostileTest, DirectoryLoopIsCut) {
  Writer::Result w = Make(false, Comp::kZlib, /*compress_metadata=*/false);
  ASSERT_TRUE(w.entry_pos.count("a/b"));
  ASSERT_EQ(w.root_ref >> 16, w.inode_ref["a/b"] >> 16) << "fixture spans inode blocks";
  std::string img = w.image;
  SetBits(img, w.entry_pos["a/b"], 0, 13, w.root_ref & 0xFFFF, false);
  std::string out = Out();
  Unpacked u = Extract(img, out);
  EXPECT_FALSE(u.Clean());
  bool loop = false;
  for (const Diagnostic& d : u.diagnostics) loop |= d.message.find("loop") != std::string::npos;
  EXPECT_TRUE(loop) << testing::Diagnostics(u);
  size_t t = TreeOf(u, "squashfs_legacy");
  ASSERT_NE(t, SIZE_MAX);
  EXPECT_NE(u.files.Find(t, "top"), nullptr);
  EXPECT_NE(u.files.Find(t, "a/small"), nullptr);
}

// A name with a slash, and "..": skipped with a diagnostic, never written outside the tree.
TEST_F(HostileTest, HostileNamesAreSkipped) {
  Writer::Result w = Make(true, Comp::kZlib, /*compress_metadata=*/false);
  std::string img = w.image;
  // "top" -> "../" and "link" -> "a/x" (3 and 4 characters).
  size_t top = w.entry_pos["top"] + 5, link = w.entry_pos["link"] + 5;
  img.replace(top, 3, "../");
  img.replace(link, 4, "a/xy");
  std::string out = Out();
  Unpacked u = Extract(img, out);
  EXPECT_FALSE(u.Clean());
  EXPECT_FALSE(fs::exists(tmp_ / "xy"));
  size_t t = TreeOf(u, "squashfs_legacy");
  ASSERT_NE(t, SIZE_MAX);
  EXPECT_NE(u.files.Find(t, "a/b/file"), nullptr);
}

// ---- the real images --------------------------------------------------------------------------

std::string Image(const std::string& name) {
  return testing::SharedDir() + "/corpora/firmware/" + name;
}

struct Real {
  const char* file;
  uint64_t offset;  // in the blob holding the filesystem (a TRX partition is a blob of its own)
  int inodes;
  const char* version;
  const char* endianness;
  const char* format;  // "squashfs_legacy", or "squashfs" for the vendor 4.0 image
};

class RealLegacyTest : public ::testing::TestWithParam<Real> {};

TEST_P(RealLegacyTest, UnpacksToTheRootFilesystem) {
  const Real& e = GetParam();
  std::string path = Image(e.file);
  if (!testing::Exists(path)) GTEST_SKIP() << "no " << path;
  TempDir tmp;
  std::string out = tmp / "x";
  UnpackOptions o;
  o.output_dir = out;
  auto r = Unpack(path, o);
  ASSERT_TRUE(r) << r.error().message;
  const Region* sq = unpack::testing::FindRegionDeep(r->layout, e.format);
  ASSERT_NE(sq, nullptr) << testing::Diagnostics(*r);
  EXPECT_EQ(sq->offset, e.offset);
  EXPECT_EQ(RegionDetail(*sq, "inodes"), std::to_string(e.inodes));
  EXPECT_EQ(RegionDetail(*sq, "version"), e.version);
  if (std::string_view(e.format) == "squashfs_legacy") {
    EXPECT_EQ(RegionDetail(*sq, "endianness"), e.endianness);
  }
  ASSERT_TRUE(sq->tree.has_value());
  const Tree& tree = r->files.trees()[*sq->tree];
  // Every inode but the root is an entry; hardlinks add names, not inodes.
  EXPECT_GE(tree.entry_count, static_cast<size_t>(e.inodes - 1));
  size_t links = 0, truncated = 0;
  for (const FileEntry* f : r->files.EntriesOf(*sq->tree)) {
    links += f->type == EntryType::kHardlink;
    truncated += f->state == EntryState::kTruncated;
  }
  EXPECT_EQ(tree.entry_count - links, static_cast<size_t>(e.inodes - 1));
  EXPECT_EQ(truncated, 0u);
  for (const Diagnostic& d : r->diagnostics)
    EXPECT_EQ(d.where.find(e.format), std::string::npos) << d.where << ": " << d.message;

  const FileEntry* busybox = r->files.Find(*sq->tree, "bin/busybox");
  ASSERT_NE(busybox, nullptr);
  ASSERT_EQ(busybox->type, EntryType::kFile);
  EXPECT_GT(busybox->size, 100000u);
  std::string bb = ReadFile(out + "/" + busybox->disk_path);
  EXPECT_EQ(bb.size(), busybox->size);
  EXPECT_EQ(bb.substr(0, 4),
            "\x7F"
            "ELF");
  const FileEntry* sh = r->files.Find(*sq->tree, "bin/sh");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->type, EntryType::kSymlink);
  EXPECT_NE(sh->link_target.find("busybox"), std::string::npos);
  EXPECT_NE(r->files.Find(*sq->tree, "etc"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, RealLegacyTest,
    ::testing::Values(
        Real{"binwalk-testvec-bcm63xx-squashfs-v2-be.bin", 0, 431, "2.0", "big", "squashfs_legacy"},
        // The Huawei packet hands its rootfs item (at 0xECEF9 in the file) on as a blob of its own.
        Real{"huawei-hg532e-V100R001C01B020-upgrade.bin", 0, 193, "3.0", "big", "squashfs_legacy"},
        // In their TRX partitions; 0xB9A90 and 0x7D400 in the files.
        Real{"linksys-wrt54gl-4.30.18.006-etsi.bin", 0, 539, "3.0", "little", "squashfs_legacy"},
        Real{"openwrt-brcm-2.4-squashfs-2011.trx", 0, 893, "3.0", "little", "squashfs_legacy"},
        Real{"binwalk-testvec-squashfs4-lzma-2013.bin", 0, 1811, "4.0", "", "squashfs"}),
    [](const ::testing::TestParamInfo<Real>& i) {
      std::string n = i.param.file;
      for (char& c : n)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

}  // namespace
}  // namespace firmwarden
