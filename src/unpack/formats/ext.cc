// ext2 / ext3 / ext4 filesystems.
//
// parse() reads the primary superblock itself (1024 bytes at offset 1024) and checks it hard: the
// signature is only two bytes, so random data matches it every 64 KiB on average. extract() hands
// the chunk to libext2fs through an in-memory io_manager of our own, so a filesystem at any offset
// of a flash dump or inside a decompressed blob is read in place, without temporary files.
//
// libext2fs is trusted to be memory-safe on corrupt metadata, but not to be frugal: it allocates
// the whole group descriptor table up front, so extract() re-validates the superblock and refuses
// tables larger than the chunk before opening. Everything else it reads is bounded by a block.
// ext2fs.h includes ext2_err.h and et/com_err.h (error_message) inside extern "C"; neither has
// a C++ guard of its own, so they must not be included directly.
#include <ext2fs/ext2fs.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kSuperblockOffset = 1024;
constexpr size_t kSuperblockSize = 1024;
constexpr Magic kMagics[] = {{std::string_view("\x53\xEF", 2), kSuperblockOffset + 0x38}};

// Feature bits defined by the on-disk format (including ones libext2fs cannot read: those are
// still ext filesystems worth reporting; extract() then fails with libext2fs's own message).
constexpr uint32_t kKnownCompat = 0x1F7F;
constexpr uint32_t kKnownIncompat = 0x3F7DF;
constexpr uint32_t kKnownRoCompat = 0x1FFFF;

// Features that make a filesystem "ext4" rather than ext2/ext3.
constexpr uint32_t kExt4Incompat =
    EXT3_FEATURE_INCOMPAT_EXTENTS | EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG |
    EXT4_FEATURE_INCOMPAT_MMP | EXT4_FEATURE_INCOMPAT_EA_INODE | EXT4_FEATURE_INCOMPAT_CSUM_SEED |
    EXT4_FEATURE_INCOMPAT_LARGEDIR | EXT4_FEATURE_INCOMPAT_INLINE_DATA |
    EXT4_FEATURE_INCOMPAT_ENCRYPT | EXT4_FEATURE_INCOMPAT_CASEFOLD;
constexpr uint32_t kExt4RoCompat = ~static_cast<uint32_t>(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER |
                                                          EXT2_FEATURE_RO_COMPAT_LARGE_FILE | 0x4);

// The superblock fields firmwarden needs, validated.
struct Super {
  uint32_t inodes_count = 0;
  uint64_t blocks_count = 0;
  uint32_t free_inodes = 0;
  uint32_t first_data_block = 0;
  uint32_t log_block_size = 0;
  uint32_t blocks_per_group = 0;
  uint32_t inodes_per_group = 0;
  uint16_t state = 0;
  uint32_t rev_level = 0;
  uint32_t inode_size = 128;
  uint32_t compat = 0, incompat = 0, ro_compat = 0;
  std::string uuid;
  std::string volume_name;
  uint64_t groups = 0;
  uint32_t desc_size = 32;

  uint64_t block_size() const { return 1024ULL << log_block_size; }
  std::string_view type() const {
    if (incompat & EXT3_FEATURE_INCOMPAT_JOURNAL_DEV) return "ext3/4 external journal";
    if ((incompat & kExt4Incompat) || (ro_compat & kExt4RoCompat)) return "ext4";
    if (compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL) return "ext3";
    return "ext2";
  }
};

std::string Uuid(Bytes b) {
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", static_cast<uint8_t>(b[i]));
  }
  return out;
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Reads and validates the superblock of a filesystem starting at fs[0]. `base` is fs[0]'s offset
// in the blob, for error offsets.
Result<Super> ReadSuper(Bytes fs, uint64_t base) {
  auto sb_r = ByteReader(fs, base).At(kSuperblockOffset, kSuperblockSize);
  if (!sb_r) return Fail(ErrorCode::kTruncated, "ext superblock truncated", base);
  Bytes sb = *sb_r;
  uint64_t at = base + kSuperblockOffset;
  auto u16 = [&](size_t o) { return *ReadU16(sb, o, Endian::kLittle); };
  auto u32 = [&](size_t o) { return *ReadU32(sb, o, Endian::kLittle); };
  auto bad = [&](std::string why) {
    return Fail(ErrorCode::kMalformed, "ext superblock: " + why, at);
  };
  if (u16(0x38) != 0xEF53) return bad("bad magic");

  Super s;
  s.inodes_count = u32(0x00);
  uint32_t blocks_lo = u32(0x04);
  uint32_t free_blocks_lo = u32(0x0C);
  s.free_inodes = u32(0x10);
  s.first_data_block = u32(0x14);
  s.log_block_size = u32(0x18);
  uint32_t log_cluster_size = u32(0x1C);
  s.blocks_per_group = u32(0x20);
  uint32_t clusters_per_group = u32(0x24);
  s.inodes_per_group = u32(0x28);
  s.state = u16(0x3A);
  uint16_t errors = u16(0x3C);
  s.rev_level = u32(0x4C);
  s.compat = u32(0x5C);
  s.incompat = u32(0x60);
  s.ro_compat = u32(0x64);

  if (s.rev_level > 1) return bad(fmt::format("revision {} unknown", s.rev_level));
  if (s.rev_level == 0 && (s.compat | s.incompat | s.ro_compat) != 0)
    return bad("revision 0 with feature flags");
  if (s.compat & ~kKnownCompat) return bad(fmt::format("unknown compat features {:#x}", s.compat));
  if (s.incompat & ~kKnownIncompat)
    return bad(fmt::format("unknown incompat features {:#x}", s.incompat));
  if (s.ro_compat & ~kKnownRoCompat)
    return bad(fmt::format("unknown ro_compat features {:#x}", s.ro_compat));
  if (s.state & ~7u) return bad(fmt::format("state {:#x} invalid", s.state));
  if (errors > 3) return bad(fmt::format("error behaviour {} invalid", errors));
  if (s.log_block_size > 6) return bad(fmt::format("log block size {} > 6", s.log_block_size));
  const uint64_t bs = s.block_size();

  s.blocks_count = blocks_lo;
  bool is64 = (s.incompat & EXT4_FEATURE_INCOMPAT_64BIT) != 0;
  if (is64) {
    s.blocks_count |= static_cast<uint64_t>(u32(0x150)) << 32;
    s.desc_size = u16(0xFE);
    if (s.desc_size < 32 || s.desc_size > 1024 || !IsPowerOfTwo(s.desc_size))
      return bad(fmt::format("group descriptor size {} invalid", s.desc_size));
  }
  if (s.blocks_count == 0) return bad("no blocks");
  if (s.blocks_count > (1ULL << 48)) return bad("block count beyond 2^48");
  if (s.inodes_count == 0) return bad("no inodes");
  if (s.free_inodes > s.inodes_count) return bad("more free inodes than inodes");
  uint64_t free_blocks = free_blocks_lo;
  if (is64) free_blocks |= static_cast<uint64_t>(u32(0x158)) << 32;
  if (free_blocks > s.blocks_count) return bad("more free blocks than blocks");

  bool bigalloc = (s.ro_compat & EXT4_FEATURE_RO_COMPAT_BIGALLOC) != 0;
  uint32_t expected_first = (bs == 1024 && !bigalloc) ? 1 : 0;
  if (s.first_data_block != expected_first)
    return bad(fmt::format("first data block {} with {}-byte blocks", s.first_data_block, bs));
  if (s.blocks_count <= s.first_data_block) return bad("no blocks after the first data block");

  if (bigalloc) {
    if (log_cluster_size < s.log_block_size || log_cluster_size > s.log_block_size + 16)
      return bad(fmt::format("cluster size log {} invalid", log_cluster_size));
    uint32_t ratio_bits = log_cluster_size - s.log_block_size;
    if (clusters_per_group == 0 || clusters_per_group > 8 * bs || clusters_per_group % 8 != 0)
      return bad(fmt::format("{} clusters per group invalid", clusters_per_group));
    if (static_cast<uint64_t>(clusters_per_group) << ratio_bits != s.blocks_per_group)
      return bad("blocks per group does not match clusters per group");
  } else {
    if (s.blocks_per_group == 0 || s.blocks_per_group > 8 * bs || s.blocks_per_group % 8 != 0)
      return bad(fmt::format("{} blocks per group invalid", s.blocks_per_group));
    if (log_cluster_size != s.log_block_size)
      return bad("cluster size differs from block size without bigalloc");
  }
  if (s.inodes_per_group == 0 || s.inodes_per_group > 8 * bs)
    return bad(fmt::format("{} inodes per group invalid", s.inodes_per_group));
  s.groups = (s.blocks_count - s.first_data_block + s.blocks_per_group - 1) / s.blocks_per_group;
  if (s.groups * s.inodes_per_group != s.inodes_count)
    return bad(fmt::format("{} inodes is not {} groups of {}", s.inodes_count, s.groups,
                           s.inodes_per_group));

  if (s.rev_level >= 1) {
    s.inode_size = u16(0x58);
    uint32_t first_ino = u32(0x54);
    if (s.inode_size < 128 || s.inode_size > bs || !IsPowerOfTwo(s.inode_size))
      return bad(fmt::format("inode size {} invalid", s.inode_size));
    if (first_ino < EXT2_GOOD_OLD_FIRST_INO || first_ino > s.inodes_count)
      return bad(fmt::format("first inode {} invalid", first_ino));
  }
  s.uuid = Uuid(sb.subspan(0x68, 16));
  auto name = ByteReader(sb.subspan(0x78, 16)).FixedString(16);
  if (name) s.volume_name = *name;
  return s;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes fs = ctx.data.subspan(ctx.offset);
  auto s = ReadSuper(fs, ctx.offset);
  if (!s) return std::unexpected(s.error());
  Parsed p;
  p.size = s->blocks_count * s->block_size();  // <= 2^48 * 2^16: cannot overflow
  p.truncated = p.size > fs.size();
  p.details.push_back({"type", std::string(s->type())});
  p.details.push_back({"block_size", std::to_string(s->block_size())});
  p.details.push_back({"blocks", std::to_string(s->blocks_count)});
  p.details.push_back({"inodes", std::to_string(s->inodes_count)});
  p.details.push_back({"used_inodes", std::to_string(s->inodes_count - s->free_inodes)});
  p.details.push_back({"volume_name", s->volume_name});
  p.details.push_back({"uuid", s->uuid});
  if (s->incompat & EXT3_FEATURE_INCOMPAT_RECOVER)
    p.warnings.push_back(
        "ext journal needs recovery; it is not replayed, so recent changes may be "
        "missing");
  if (s->state & EXT2_ERROR_FS) p.warnings.push_back("ext filesystem is marked as having errors");
  return p;
}

// ---- an io_manager over memory ------------------------------------------------------------
//
// libext2fs opens a filesystem by name. Each extract() registers its chunk under a unique name for
// the duration of the open filesystem; the manager's open() looks the name up.

std::mutex registry_mutex;
std::unordered_map<std::string, Bytes>& Registry() {
  static auto* registry = new std::unordered_map<std::string, Bytes>();
  return *registry;
}

class Registration {
 public:
  explicit Registration(Bytes data) {
    static std::atomic<uint64_t> counter{0};
    name_ = fmt::format("firmwarden-mem:{}", counter.fetch_add(1));
    std::lock_guard lock(registry_mutex);
    Registry()[name_] = data;
  }
  ~Registration() {
    std::lock_guard lock(registry_mutex);
    Registry().erase(name_);
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

struct MemChannel {
  Bytes data;
  std::string name;
  uint64_t bytes_read = 0;
  struct_io_stats stats{};
};

MemChannel* Mem(io_channel ch) { return static_cast<MemChannel*>(ch->private_data); }

extern struct struct_io_manager mem_io_manager;

errcode_t MemOpen(const char* name, int flags, io_channel* out) {
  if (name == nullptr || out == nullptr) return EXT2_ET_BAD_DEVICE_NAME;
  if (flags & IO_FLAG_RW) return EXT2_ET_RO_FILSYS;
  Bytes data;
  {
    std::lock_guard lock(registry_mutex);
    auto it = Registry().find(name);
    if (it == Registry().end()) return EXT2_ET_BAD_DEVICE_NAME;
    data = it->second;
  }
  auto* mem = new (std::nothrow) MemChannel{data, name};
  auto* ch = new (std::nothrow) struct_io_channel{};
  if (mem == nullptr || ch == nullptr) {
    delete mem;
    delete ch;
    return EXT2_ET_NO_MEMORY;
  }
  ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  ch->manager = &mem_io_manager;
  ch->name = mem->name.data();
  ch->block_size = 1024;
  ch->refcount = 1;
  ch->private_data = mem;
  *out = ch;
  return 0;
}

errcode_t MemClose(io_channel ch) {
  EXT2_CHECK_MAGIC(ch, EXT2_ET_MAGIC_IO_CHANNEL);
  if (--ch->refcount > 0) return 0;
  delete Mem(ch);
  delete ch;
  return 0;
}

errcode_t MemSetBlksize(io_channel ch, int blksize) {
  EXT2_CHECK_MAGIC(ch, EXT2_ET_MAGIC_IO_CHANNEL);
  if (blksize <= 0 || blksize > (1 << 20)) return EXT2_ET_INVALID_ARGUMENT;
  ch->block_size = blksize;
  return 0;
}

// A negative count is a byte count (the libext2fs convention).
errcode_t MemRead64(io_channel ch, unsigned long long block, int count, void* buf) {
  EXT2_CHECK_MAGIC(ch, EXT2_ET_MAGIC_IO_CHANNEL);
  MemChannel* mem = Mem(ch);
  uint64_t size = count < 0 ? static_cast<uint64_t>(-static_cast<int64_t>(count))
                            : static_cast<uint64_t>(count) * static_cast<uint64_t>(ch->block_size);
  uint64_t offset = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(block), static_cast<uint64_t>(ch->block_size),
                             &offset))
    offset = UINT64_MAX;
  uint64_t avail = offset < mem->data.size() ? mem->data.size() - offset : 0;
  uint64_t n = std::min(size, avail);
  if (n > 0) std::memcpy(buf, mem->data.data() + offset, n);
  if (n < size) std::memset(static_cast<char*>(buf) + n, 0, size - n);
  mem->bytes_read += n;
  return n < size ? EXT2_ET_SHORT_READ : 0;
}

errcode_t MemRead(io_channel ch, unsigned long block, int count, void* buf) {
  return MemRead64(ch, block, count, buf);
}

errcode_t MemWrite(io_channel, unsigned long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t MemWrite64(io_channel, unsigned long long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t MemWriteByte(io_channel, unsigned long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t MemFlush(io_channel) { return 0; }
errcode_t MemSetOption(io_channel, const char*, const char*) { return EXT2_ET_INVALID_ARGUMENT; }

errcode_t MemGetStats(io_channel ch, io_stats* stats) {
  EXT2_CHECK_MAGIC(ch, EXT2_ET_MAGIC_IO_CHANNEL);
  MemChannel* mem = Mem(ch);
  mem->stats.num_fields = 2;
  mem->stats.bytes_read = mem->bytes_read;
  mem->stats.bytes_written = 0;
  if (stats != nullptr) *stats = &mem->stats;
  return 0;
}

struct struct_io_manager mem_io_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "firmwarden memory I/O manager",
    .open = MemOpen,
    .close = MemClose,
    .set_blksize = MemSetBlksize,
    .read_blk = MemRead,
    .write_blk = MemWrite,
    .flush = MemFlush,
    .write_byte = MemWriteByte,
    .set_option = MemSetOption,
    .get_stats = MemGetStats,
    .read_blk64 = MemRead64,
    .write_blk64 = MemWrite64,
    .discard = nullptr,  // the io_channel_* wrappers treat null as "unsupported"
    .cache_readahead = nullptr,
    .zeroout = nullptr,
    .reserved = {},
};

std::string ErrText(errcode_t err) {
  static std::once_flag once;
  std::call_once(once, [] { initialize_ext2_error_table(); });
  return fmt::format("{} (libext2fs code {})", error_message(err), err);
}

bool IsChecksumError(errcode_t err) {
  switch (err) {
    case EXT2_ET_INODE_CSUM_INVALID:
    case EXT2_ET_INODE_BITMAP_CSUM_INVALID:
    case EXT2_ET_EXTENT_CSUM_INVALID:
    case EXT2_ET_DIR_CSUM_INVALID:
    case EXT2_ET_EXT_ATTR_CSUM_INVALID:
    case EXT2_ET_SB_CSUM_INVALID:
    case EXT2_ET_BLOCK_BITMAP_CSUM_INVALID:
      return true;
    default:
      return false;
  }
}

// ---- the walk -------------------------------------------------------------------------------

constexpr int kMaxDirDepth = 256;             // the tree sink refuses deeper paths anyway
constexpr size_t kMaxSymlink = 4096;          // PATH_MAX: longer targets are corrupt
constexpr size_t kMaxXattrBytes = 64 * 1024;  // per entry, to keep the manifest sane
constexpr size_t kMaxProblemsKept = 5;

struct ChildRef {
  std::string name;
  ext2_ino_t ino;
};

class Walker {
 public:
  Walker(ext2_filsys fs, const ExtractContext& ctx, TreeSink& sink, const Super& super)
      : fs_(fs), ctx_(ctx), sink_(sink), super_(super), buf_(64 * 1024) {
    // In-inode xattrs of an EA_INODE filesystem may name a value inode of any size, which
    // libext2fs reads whole into memory: not worth it for a corrupt image.
    xattrs_ = (super.compat & EXT2_FEATURE_COMPAT_EXT_ATTR) &&
              !(super.incompat & EXT4_FEATURE_INCOMPAT_EA_INODE);
  }

  void Problem(std::string msg) {
    ++problem_count_;
    if (problems_.size() < kMaxProblemsKept) problems_.push_back(std::move(msg));
  }

  // Checksum mismatches are reported once; afterwards libext2fs is told to carry on without
  // verifying, so the rest of a slightly damaged image is still extracted.
  bool RelaxChecksums(errcode_t err, const std::string& where) {
    if (!IsChecksumError(err) || (fs_->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS)) return false;
    Problem(fmt::format("{}: {}; checksums are no longer verified", where, ErrText(err)));
    fs_->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
    return true;
  }

  Status Run() {
    struct Pending {
      ext2_ino_t ino;
      std::string path;
      int depth;
    };
    std::vector<Pending> stack{{EXT2_ROOT_INO, "", 0}};
    dirs_seen_.insert(EXT2_ROOT_INO);
    while (!stack.empty()) {
      Pending dir = std::move(stack.back());
      stack.pop_back();
      if (ctx_.budget.TimeUp())
        return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
      std::vector<ChildRef> children = List(dir.ino, dir.path);
      std::vector<Pending> subdirs;
      for (ChildRef& c : children) {
        std::string path = dir.path.empty() ? c.name : dir.path + "/" + c.name;
        bool descend = false;
        if (auto s = Emit(c.ino, path, dir.depth + 1, &descend); !s) return s;
        if (descend) subdirs.push_back({c.ino, std::move(path), dir.depth + 1});
      }
      // Reversed, so the stack pops them in directory order.
      for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) stack.push_back(std::move(*it));
    }
    return {};
  }

  Status Finish() const {
    if (problem_count_ == 0) return {};
    std::string msg = fmt::format("{} problem{} reading the ext filesystem: ", problem_count_,
                                  problem_count_ == 1 ? "" : "s");
    for (size_t i = 0; i < problems_.size(); ++i) msg += (i ? "; " : "") + problems_[i];
    if (problem_count_ > problems_.size()) msg += "; …";
    return Fail(ErrorCode::kMalformed, std::move(msg), ctx_.base_offset);
  }

 private:
  static std::string Where(ext2_ino_t ino, const std::string& path) {
    return fmt::format("\"/{}\" (inode {})", path, ino);
  }

  struct ListState {
    Walker* self;
    std::vector<ChildRef>* out;
    const std::string* path;
    uint64_t cap;
  };

  static int OnDirent(ext2_ino_t /*dir*/, int /*entry*/, struct ext2_dir_entry* d, int /*offset*/,
                      int /*blocksize*/, char* /*buf*/, void* priv) {
    auto* st = static_cast<ListState*>(priv);
    int len = ext2fs_dirent_name_len(d);
    std::string name(d->name, static_cast<size_t>(len));
    if (d->inode == 0 || name == "." || name == "..") return 0;
    if (st->out->size() >= st->cap) {
      st->self->Problem(
          fmt::format("directory \"/{}\" has more entries than the file limit allows", *st->path));
      return DIRENT_ABORT;
    }
    if (name.empty() || name.find('/') != std::string::npos) {
      st->self->Problem(
          fmt::format("directory \"/{}\" holds an invalid name (inode {})", *st->path, d->inode));
      return 0;
    }
    st->out->push_back({std::move(name), d->inode});
    return 0;
  }

  std::vector<ChildRef> List(ext2_ino_t ino, const std::string& path) {
    std::vector<ChildRef> out;
    // One more than the files still allowed: enough for the sink to report the limit itself.
    ListState st{this, &out, &path, std::min<uint64_t>(ctx_.budget.files_left, 1u << 24) + 1};
    errcode_t err = ext2fs_dir_iterate2(fs_, ino, 0, nullptr, OnDirent, &st);
    if (err && RelaxChecksums(err, "directory " + Where(ino, path))) {
      out.clear();
      err = ext2fs_dir_iterate2(fs_, ino, 0, nullptr, OnDirent, &st);
    }
    if (err)
      Problem(fmt::format("cannot list directory {}: {}{}", Where(ino, path), ErrText(err),
                          out.empty() ? "" : fmt::format(" (after {} entries)", out.size())));
    return out;
  }

  uint64_t InodeOffset(ext2_ino_t ino) const {
    uint64_t group = (ino - 1) / super_.inodes_per_group;
    uint64_t index = (ino - 1) % super_.inodes_per_group;
    if (group >= fs_->group_desc_count) return 0;
    return ext2fs_inode_table_loc(fs_, static_cast<dgrp_t>(group)) * fs_->blocksize +
           index * EXT2_INODE_SIZE(fs_->super);
  }

  Status Emit(ext2_ino_t ino, const std::string& path, int depth, bool* descend) {
    ext2_inode_large inode{};
    auto read = [&] {
      return ext2fs_read_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode));
    };
    errcode_t err = read();
    if (err && RelaxChecksums(err, "inode " + Where(ino, path))) err = read();
    if (err) {
      Problem(fmt::format("cannot read inode {}: {}", Where(ino, path), ErrText(err)));
      return {};
    }
    FileEntry e;
    e.raw_name = path;
    e.mode = inode.i_mode & 07777;
    e.uid = inode_uid(inode);
    e.gid = inode_gid(inode);
    e.mtime = static_cast<int32_t>(inode.i_mtime);
    if (EXT2_INODE_SIZE(fs_->super) > EXT2_GOOD_OLD_INODE_SIZE &&
        inode.i_extra_isize >= offsetof(ext2_inode_large, i_mtime_extra) +
                                   sizeof(inode.i_mtime_extra) - EXT2_GOOD_OLD_INODE_SIZE)
      e.mtime += static_cast<int64_t>(inode.i_mtime_extra & EXT4_EPOCH_MASK) << 32;
    e.origin.offset = InodeOffset(ino);
    uint64_t size = EXT2_I_SIZE(&inode);
    if (xattrs_) ReadXattrs(ino, path, &e);

    switch (inode.i_mode & 0xF000) {
      case LINUX_S_IFDIR:
        e.type = EntryType::kDir;
        if (!dirs_seen_.insert(ino).second)
          Problem(
              fmt::format("directory {} was already visited (a loop or a corrupt link); "
                          "its contents are listed once",
                          Where(ino, path)));
        else if (depth >= kMaxDirDepth)
          Problem(fmt::format("directory {} is nested deeper than {} levels; not descended",
                              Where(ino, path), kMaxDirDepth));
        else
          *descend = true;
        return sink_.Add(std::move(e));
      case LINUX_S_IFREG:
        if (auto it = files_seen_.find(ino); it != files_seen_.end()) {
          e.type = EntryType::kHardlink;
          e.link_target = it->second;
          return sink_.Add(std::move(e));
        }
        files_seen_.emplace(ino, path);
        e.type = EntryType::kFile;
        e.size = size;
        return CopyData(ino, path, inode, std::move(e));
      case LINUX_S_IFLNK: {
        e.type = EntryType::kSymlink;
        auto target = ReadSymlink(ino, path, inode);
        if (!target) return {};
        e.link_target = std::move(*target);
        e.size = e.link_target.size();
        return sink_.Add(std::move(e));
      }
      case LINUX_S_IFCHR:
      case LINUX_S_IFBLK: {
        e.type =
            (inode.i_mode & 0xF000) == LINUX_S_IFCHR ? EntryType::kCharDev : EntryType::kBlockDev;
        // Old encoding (8-bit major/minor) in i_block[0]; the new one in i_block[1].
        uint32_t old_dev = inode.i_block[0], new_dev = inode.i_block[1];
        if (old_dev != 0) {
          e.rdev_major = (old_dev >> 8) & 0xFF;
          e.rdev_minor = old_dev & 0xFF;
        } else {
          e.rdev_major = (new_dev & 0xFFF00) >> 8;
          e.rdev_minor = (new_dev & 0xFF) | ((new_dev >> 12) & 0xFFF00);
        }
        return sink_.Add(std::move(e));
      }
      case LINUX_S_IFIFO:
        e.type = EntryType::kFifo;
        return sink_.Add(std::move(e));
      case LINUX_S_IFSOCK:
        e.type = EntryType::kSocket;
        return sink_.Add(std::move(e));
      default:
        Problem(fmt::format("inode {} has unknown file type {:#o}", Where(ino, path),
                            inode.i_mode & 0xF000));
        return {};
    }
  }

  // Streams a regular file's data to the sink through a bounded buffer.
  Status CopyData(ext2_ino_t ino, const std::string& path, ext2_inode_large& inode, FileEntry e) {
    uint64_t size = e.size;
    auto out = sink_.OpenFile(std::move(e));
    if (!out) return std::unexpected(out.error());
    if (sink_.dry_run()) return (*out)->Close();  // info mode: metadata only, no data read
    ext2_file_t file = nullptr;
    errcode_t err = ext2fs_file_open2(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), 0, &file);
    if (err) {
      Problem(fmt::format("cannot open file {}: {}", Where(ino, path), ErrText(err)));
      return (*out)->Close(true);
    }
    uint64_t done = 0;
    bool broken = false;
    Status status;
    while (done < size) {
      unsigned want = static_cast<unsigned>(std::min<uint64_t>(buf_.size(), size - done));
      unsigned got = 0;
      err = ext2fs_file_read(file, buf_.data(), want, &got);
      if (got > 0) {
        status = (*out)->Write(Bytes(reinterpret_cast<const std::byte*>(buf_.data()), got));
        if (!status) break;
        done += got;
      }
      if (err) {
        if (got == 0 && RelaxChecksums(err, "file " + Where(ino, path))) continue;
        Problem(fmt::format("reading file {} failed at byte {} of {}: {}", Where(ino, path), done,
                            size, ErrText(err)));
        broken = true;
        break;
      }
      if (got == 0) {
        Problem(fmt::format("file {} ends at byte {} of {}", Where(ino, path), done, size));
        broken = true;
        break;
      }
      if ((done & ((16u << 20) - 1)) < want && ctx_.budget.TimeUp()) {
        status = Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
        break;
      }
    }
    ext2fs_file_close(file);
    Status closed = (*out)->Close(broken || !status);
    if (!status) return status;
    return closed;
  }

  std::optional<std::string> ReadSymlink(ext2_ino_t ino, const std::string& path,
                                         ext2_inode_large& inode) {
    uint64_t size = EXT2_I_SIZE(&inode);
    if (size >= kMaxSymlink) {
      Problem(fmt::format("symlink {} claims a {}-byte target", Where(ino, path), size));
      return std::nullopt;
    }
    auto* base = reinterpret_cast<ext2_inode*>(&inode);
    if (ext2fs_is_fast_symlink(base))  // the target is stored in i_block itself
      return std::string(reinterpret_cast<const char*>(inode.i_block),
                         std::min<size_t>(size, sizeof(inode.i_block)));
    // Slow symlinks (a data block) and inline-data ones: the file API reads both.
    ext2_file_t file = nullptr;
    errcode_t err = ext2fs_file_open2(fs_, ino, base, 0, &file);
    std::string target;
    if (!err) {
      target.resize(size);
      size_t done = 0;
      while (done < size) {
        unsigned got = 0;
        err =
            ext2fs_file_read(file, target.data() + done, static_cast<unsigned>(size - done), &got);
        done += got;
        if (err && got == 0 && RelaxChecksums(err, "symlink " + Where(ino, path))) continue;
        if (err || got == 0) break;
      }
      ext2fs_file_close(file);
      if (!err && done < size) err = EXT2_ET_SHORT_READ;
    }
    if (err) {
      Problem(fmt::format("cannot read symlink {}: {}", Where(ino, path), ErrText(err)));
      return std::nullopt;
    }
    return target;
  }

  struct XattrState {
    FileEntry* entry;
    size_t bytes;
    bool clipped;
  };

  static int OnXattr(char* name, char* value, size_t len, void* priv) {
    auto* st = static_cast<XattrState*>(priv);
    std::string key(name);
    // Inline file data is stored as the "system.data" attribute: it is data, not an attribute.
    if (key == "system.data") return 0;
    if (st->bytes + key.size() + len > kMaxXattrBytes) {
      st->clipped = true;
      return XATTR_ABORT;
    }
    st->bytes += key.size() + len;
    st->entry->xattrs.emplace_back(std::move(key), std::string(value, len));
    return 0;
  }

  void ReadXattrs(ext2_ino_t ino, const std::string& path, FileEntry* e) {
    ext2_xattr_handle* h = nullptr;
    if (ext2fs_xattrs_open(fs_, ino, &h) != 0) return;
    errcode_t err = ext2fs_xattrs_read(h);
    if (err && RelaxChecksums(err, "attributes of " + Where(ino, path)))
      err = ext2fs_xattrs_read(h);
    if (err) {
      Problem(
          fmt::format("cannot read extended attributes of {}: {}", Where(ino, path), ErrText(err)));
    } else {
      XattrState st{e, 0, false};
      ext2fs_xattrs_iterate(h, OnXattr, &st);
      if (st.clipped)
        Problem(fmt::format("extended attributes of {} exceed {} bytes; the rest were dropped",
                            Where(ino, path), kMaxXattrBytes));
    }
    ext2fs_xattrs_close(&h);
  }

  ext2_filsys fs_;
  const ExtractContext& ctx_;
  TreeSink& sink_;
  const Super& super_;
  std::vector<char> buf_;
  bool xattrs_ = false;
  std::unordered_set<ext2_ino_t> dirs_seen_;
  std::unordered_map<ext2_ino_t, std::string> files_seen_;  // first path of each file inode
  std::vector<std::string> problems_;
  uint64_t problem_count_ = 0;
};

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto super = ReadSuper(ctx.chunk, ctx.base_offset);
  if (!super) return std::unexpected(super.error());
  if (super->incompat & EXT3_FEATURE_INCOMPAT_JOURNAL_DEV) return {};  // no files in a journal
  // libext2fs allocates the whole group descriptor table before reading it; a table that does not
  // fit in the chunk cannot be read anyway, so do not let a corrupt count allocate gigabytes.
  uint64_t table = super->groups * super->desc_size;
  if (table > ctx.chunk.size())
    return Fail(ErrorCode::kTruncated,
                fmt::format("ext group descriptor table ({} bytes) is larger than the {} bytes "
                            "of data present",
                            table, ctx.chunk.size()),
                ctx.base_offset);

  Registration reg(ctx.chunk);
  ext2_filsys fs = nullptr;
  // Read-only, no journal replay (libext2fs never replays on open), 64-bit block numbers.
  const int flags = EXT2_FLAG_64BITS;
  errcode_t err = ext2fs_open2(reg.name().c_str(), nullptr, flags, 0, 0, &mem_io_manager, &fs);
  std::string relaxed;
  if (err) {
    // A damaged superblock checksum or group descriptor should not hide every file: retry with
    // libext2fs's consistency checks off and say so.
    relaxed = ErrText(err);
    fs = nullptr;
    err = ext2fs_open2(reg.name().c_str(), nullptr,
                       flags | EXT2_FLAG_IGNORE_CSUM_ERRORS | EXT2_FLAG_IGNORE_SB_ERRORS, 0, 0,
                       &mem_io_manager, &fs);
    if (err)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("libext2fs cannot open the filesystem: {}", relaxed),
                  ctx.base_offset);
  }
  Walker walker(fs, ctx, sink, *super);
  if (!relaxed.empty())
    walker.Problem(fmt::format("opened only with consistency checks off: {}", relaxed));
  Status s = walker.Run();
  ext2fs_close_free(&fs);
  if (!s) return s;
  return walker.Finish();
}

}  // namespace

extern const FormatHandler ext_handler{
    "ext", FormatKind::kFilesystem, "ext2/ext3/ext4 filesystem", kMagics, Parse, Extract};

}  // namespace firmwarden::unpack
