// SquashFS 4.0, little-endian ("hsqs"). parse() reads the 96-byte superblock itself and checks
// every table offset against bytes_used, so that a candidate that passes is safe to hand to
// libsquashfs. extract() gives libsquashfs a bounds-checked in-memory file over the chunk (a
// filesystem at any offset of a flash dump, no temp files), walks the directory tree itself (so
// it controls loops, caps and error recovery), and streams file data block by block into the
// TreeSink. LZO is decoded by our own Lzo1xDecompress: Debian's libsquashfs lacks it and liblzo2
// is GPL.
#include <fmt/format.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_reader.h>
#include <sqfs/super.h>
#include <sqfs/xattr.h>
#include <sqfs/xattr_reader.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/env.h"
#include "unpack/formats/lzma_common.h"
#include "unpack/handler.h"
#include "unpack/lzo1x.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{"hsqs", 0}};

constexpr size_t kSuperSize = 96;
constexpr uint64_t kNoTable = ~uint64_t{0};
constexpr size_t kMetaBlockSize = 8192;
// Names collected from one directory listing before its inodes are read. Far above any real
// firmware; a crafted listing (metadata compresses ~1000:1) could otherwise claim millions.
constexpr size_t kMaxEntriesPerDir = 1 << 18;
constexpr size_t kMaxXattrsPerInode = 256;
constexpr size_t kMaxXattrValue = 64 * 1024;
constexpr size_t kMaxDepth = 256;

// ---- superblock ---------------------------------------------------------------------------

struct Super {
  uint32_t inode_count;
  uint32_t mkfs_time;
  uint32_t block_size;
  uint32_t fragment_count;
  uint16_t compression;
  uint16_t block_log;
  uint16_t flags;
  uint16_t id_count;
  uint16_t major, minor;
  uint64_t root_inode;
  uint64_t bytes_used;
  uint64_t id_table, xattr_table, inode_table, dir_table, fragment_table, export_table;
};

std::string_view CompressionName(uint16_t id) {
  switch (id) {
    case SQFS_COMP_GZIP:
      return "gzip";
    case SQFS_COMP_LZMA:
      return "lzma";
    case SQFS_COMP_LZO:
      return "lzo";
    case SQFS_COMP_XZ:
      return "xz";
    case SQFS_COMP_LZ4:
      return "lz4";
    case SQFS_COMP_ZSTD:
      return "zstd";
  }
  return "unknown";
}

// Bytes of the index of a table of `count` entries of `entry_size` bytes: one 64-bit pointer per
// 8 KiB metadata block.
uint64_t IndexBytes(uint64_t count, uint64_t entry_size) {
  return (count * entry_size + kMetaBlockSize - 1) / kMetaBlockSize * 8;
}

// Reads and validates the superblock at data[0]. `base` is for error offsets. Everything
// libsquashfs later trusts for an allocation size is bounded here.
Result<Super> ReadSuper(Bytes data, uint64_t base) {
  ByteReader r(data, base);
  auto magic = r.Take(4);
  if (!magic) return std::unexpected(magic.error());
  if (AsChars(*magic) != "hsqs") return Fail(ErrorCode::kMalformed, "not a squashfs", base);
  if (r.remaining() < kSuperSize - 4)
    return Fail(ErrorCode::kTruncated, "squashfs superblock cut short", base);
  Super s{};
  // The reads below cannot fail: the 96 bytes are there.
  s.inode_count = *r.U32le();
  s.mkfs_time = *r.U32le();
  s.block_size = *r.U32le();
  s.fragment_count = *r.U32le();
  s.compression = *r.U16le();
  s.block_log = *r.U16le();
  s.flags = *r.U16le();
  s.id_count = *r.U16le();
  s.major = *r.U16le();
  s.minor = *r.U16le();
  s.root_inode = *r.U64le();
  s.bytes_used = *r.U64le();
  s.id_table = *r.U64le();
  s.xattr_table = *r.U64le();
  s.inode_table = *r.U64le();
  s.dir_table = *r.U64le();
  s.fragment_table = *r.U64le();
  s.export_table = *r.U64le();

  auto bad = [&](std::string what) {
    return Fail(ErrorCode::kMalformed, "squashfs " + what, base);
  };
  if (s.major != 4 || s.minor != 0) {
    // Versions 1-3 are different formats (and often big-endian); not this handler's job.
    return Fail(ErrorCode::kUnsupported,
                fmt::format("squashfs version {}.{} is not supported", s.major, s.minor), base);
  }
  if (!std::has_single_bit(s.block_size) || s.block_size < SQFS_MIN_BLOCK_SIZE ||
      s.block_size > SQFS_MAX_BLOCK_SIZE)
    return bad(fmt::format("block size {} is not a power of two in 4K..1M", s.block_size));
  if (s.block_log > 20 || (1u << s.block_log) != s.block_size)
    return bad(fmt::format("block_log {} disagrees with block size {}", s.block_log, s.block_size));
  if (s.compression < SQFS_COMP_MIN || s.compression > SQFS_COMP_MAX)
    return bad(fmt::format("compression id {} is unknown", s.compression));
  if (s.inode_count == 0) return bad("has no inodes");
  if (s.id_count == 0) return bad("has an empty id table");
  // 2^40 is far beyond any flash part and keeps all offset arithmetic below from overflowing.
  if (s.bytes_used < kSuperSize || s.bytes_used > (uint64_t{1} << 40))
    return bad(fmt::format("bytes_used {} is implausible", s.bytes_used));
  const uint64_t end = s.bytes_used;
  // Table order written by every mksquashfs: inodes < directories < fragments < export < ids <
  // xattrs. Only the relations libsquashfs relies on are enforced.
  if (s.inode_table < kSuperSize || s.inode_table >= s.dir_table || s.dir_table >= end)
    return bad("inode/directory table offsets are inconsistent");
  if (s.id_table < s.dir_table || s.id_table > end || IndexBytes(s.id_count, 4) > end - s.id_table)
    return bad("id table lies outside the filesystem");
  if ((s.root_inode >> 16) >= s.dir_table - s.inode_table || (s.root_inode & 0xFFFF) >= 8192 ||
      (s.root_inode >> 48) != 0)
    return bad("root inode reference points outside the inode table");
  auto optional_table = [&](uint64_t off, uint64_t index_bytes) {
    return off == kNoTable || (off >= s.dir_table && off <= end && index_bytes <= end - off);
  };
  const bool has_fragments = s.fragment_count != 0 && !(s.flags & SQFS_FLAG_NO_FRAGMENTS);
  if (!optional_table(s.fragment_table, has_fragments ? IndexBytes(s.fragment_count, 16) : 0))
    return bad("fragment table lies outside the filesystem");
  // Every fragment block takes at least one byte of the data area before the inode table; this
  // bounds the table libsquashfs allocates (16 bytes per entry) by the image's own size.
  if (has_fragments && (s.fragment_table == kNoTable || s.fragment_count > s.inode_table))
    return bad(fmt::format("fragment count {} is implausible", s.fragment_count));
  if (!optional_table(s.export_table, IndexBytes(s.inode_count, 8)))
    return bad("export table lies outside the filesystem");
  if (!optional_table(s.xattr_table, 16)) return bad("xattr table lies outside the filesystem");
  return s;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto s = ReadSuper(data, ctx.offset);
  if (!s) return std::unexpected(s.error());
  Parsed p;
  p.size = s->bytes_used;
  p.truncated = s->bytes_used > data.size();
  p.details = {
      {"version", fmt::format("{}.{}", s->major, s->minor)},
      {"compression", std::string(CompressionName(s->compression))},
      {"block_size", std::to_string(s->block_size)},
      {"inodes", std::to_string(s->inode_count)},
      {"mkfs_time",
       FormatUtc(std::chrono::system_clock::time_point(std::chrono::seconds(s->mkfs_time)))},
      {"bytes_used", std::to_string(s->bytes_used)},
  };
  if (s->flags & SQFS_FLAG_COMPRESSOR_OPTIONS) p.details.push_back({"compressor_options", "yes"});
  return p;
}

// ---- libsquashfs plumbing --------------------------------------------------------------------

struct SqfsDestroy {
  void operator()(void* obj) const { sqfs_destroy(obj); }
};
template <typename T>
using SqfsObject = std::unique_ptr<T, SqfsDestroy>;

struct SqfsFree {
  void operator()(void* p) const { sqfs_free(p); }
};
template <typename T>
using SqfsBuffer = std::unique_ptr<T, SqfsFree>;

std::string SqfsErrorText(int code) {
  switch (code) {
    case SQFS_ERROR_ALLOC:
      return "allocation failed";
    case SQFS_ERROR_IO:
      return "I/O error";
    case SQFS_ERROR_COMPRESSOR:
      return "decompression failed";
    case SQFS_ERROR_INTERNAL:
      return "internal libsquashfs error";
    case SQFS_ERROR_CORRUPTED:
      return "corrupted data";
    case SQFS_ERROR_UNSUPPORTED:
      return "unsupported feature";
    case SQFS_ERROR_OVERFLOW:
      return "size overflow";
    case SQFS_ERROR_OUT_OF_BOUNDS:
      return "reference past the end of the image";
    case SFQS_ERROR_SUPER_MAGIC:
      return "bad superblock magic";
    case SFQS_ERROR_SUPER_VERSION:
      return "bad superblock version";
    case SQFS_ERROR_SUPER_BLOCK_SIZE:
      return "bad block size";
    case SQFS_ERROR_NOT_DIR:
      return "not a directory";
    case SQFS_ERROR_NO_ENTRY:
      return "no such entry";
    case SQFS_ERROR_LINK_LOOP:
      return "link loop";
    case SQFS_ERROR_NOT_FILE:
      return "not a regular file";
    case SQFS_ERROR_ARG_INVALID:
      return "invalid argument (corrupt structure)";
    case SQFS_ERROR_SEQUENCE:
      return "call sequence error";
  }
  return fmt::format("libsquashfs error {}", code);
}

// A read-only sqfs_file_t over bytes that outlive it (the chunk). The first member is the
// libsquashfs base struct, so the library's sqfs_file_t* and ours are the same address.
struct MemFile {
  sqfs_file_t base;
  const std::byte* data;
  size_t size;

  static MemFile* Create(Bytes bytes) {
    auto* f = new (std::nothrow) MemFile{};
    if (f == nullptr) return nullptr;
    f->base.base.destroy = &Destroy;
    f->base.base.copy = &Copy;
    f->base.read_at = &ReadAt;
    f->base.write_at = &WriteAt;
    f->base.get_size = &GetSize;
    f->base.truncate = &Truncate;
    f->data = bytes.data();
    f->size = bytes.size();
    return f;
  }
  static MemFile* Self(sqfs_file_t* f) { return reinterpret_cast<MemFile*>(f); }
  static const MemFile* Self(const sqfs_file_t* f) { return reinterpret_cast<const MemFile*>(f); }

  static void Destroy(sqfs_object_t* obj) { delete reinterpret_cast<MemFile*>(obj); }
  static sqfs_object_t* Copy(const sqfs_object_t* obj) {
    const auto* self = reinterpret_cast<const MemFile*>(obj);
    auto* f = new (std::nothrow) MemFile(*self);
    return f == nullptr ? nullptr : &f->base.base;
  }
  static int ReadAt(sqfs_file_t* file, sqfs_u64 offset, void* buffer, size_t size) {
    const MemFile* self = Self(file);
    if (offset > self->size || size > self->size - offset) return SQFS_ERROR_OUT_OF_BOUNDS;
    if (size != 0) std::memcpy(buffer, self->data + offset, size);
    return 0;
  }
  static int WriteAt(sqfs_file_t*, sqfs_u64, const void*, size_t) {
    return SQFS_ERROR_UNSUPPORTED;  // the image is read-only
  }
  static sqfs_u64 GetSize(const sqfs_file_t* file) { return Self(file)->size; }
  static int Truncate(sqfs_file_t*, sqfs_u64) { return SQFS_ERROR_UNSUPPORTED; }
};
static_assert(std::is_standard_layout_v<MemFile>);

// Decompress-only compressor object around one of our own block decoders: LZO1X (our own
// decoder) and LZMA. squashfs 4.0 "lzma" is LZMA-alone (a 13-byte header) in mksquashfs, but
// vendor builds (sasquatch's raison d'être) write the 5 property bytes without a size, or no
// header at all; DecodeLzmaBlock tries each framing per block, starting from `hint`.
struct OwnCompressor {
  // Decodes one block; returns its size, 0 when it does not fit, or an SQFS_ERROR_* code.
  using DecodeFn = sqfs_s32 (*)(OwnCompressor& self, Bytes in, std::span<std::byte> out);

  sqfs_compressor_t base;
  sqfs_compressor_config_t config;
  DecodeFn decode;
  LzmaFraming hint;

  static OwnCompressor* Create(SQFS_COMPRESSOR id, uint32_t block_size, DecodeFn decode) {
    auto* c = new (std::nothrow) OwnCompressor{};
    if (c == nullptr) return nullptr;
    c->base.base.destroy = &Destroy;
    c->base.base.copy = &Copy;
    c->base.get_configuration = &GetConfiguration;
    c->base.write_options = &WriteOptions;
    c->base.read_options = &ReadOptions;
    c->base.do_block = &DoBlock;
    c->config.id = id;
    c->config.flags = SQFS_COMP_FLAG_UNCOMPRESS;
    c->config.block_size = block_size;
    if (id == SQFS_COMP_LZO) c->config.opt.lzo.algorithm = SQFS_LZO_DEFAULT_ALG;
    c->decode = decode;
    c->hint = LzmaFraming::kAlone;
    return c;
  }
  static void Destroy(sqfs_object_t* obj) { delete reinterpret_cast<OwnCompressor*>(obj); }
  static sqfs_object_t* Copy(const sqfs_object_t* obj) {
    auto* c = new (std::nothrow) OwnCompressor(*reinterpret_cast<const OwnCompressor*>(obj));
    return c == nullptr ? nullptr : &c->base.base;
  }
  static void GetConfiguration(const sqfs_compressor_t* cmp, sqfs_compressor_config_t* cfg) {
    *cfg = reinterpret_cast<const OwnCompressor*>(cmp)->config;
  }
  static int WriteOptions(sqfs_compressor_t*, sqfs_file_t*) { return SQFS_ERROR_UNSUPPORTED; }
  // The options (algorithm, level, dictionary) only matter to a compressor: every LZO1X variant
  // decodes with the same decoder, and the LZMA properties travel with each block.
  static int ReadOptions(sqfs_compressor_t*, sqfs_file_t*) { return 0; }
  static sqfs_s32 DoBlock(sqfs_compressor_t* cmp, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                          sqfs_u32 outsize) {
    auto* self = reinterpret_cast<OwnCompressor*>(cmp);
    if (outsize > static_cast<uint32_t>(INT32_MAX)) outsize = INT32_MAX;
    return self->decode(*self, Bytes(reinterpret_cast<const std::byte*>(in), size),
                        std::span<std::byte>(reinterpret_cast<std::byte*>(out), outsize));
  }
};
static_assert(std::is_standard_layout_v<OwnCompressor>);

sqfs_s32 DecodeLzoBlock(OwnCompressor&, Bytes in, std::span<std::byte> out) {
  auto n = Lzo1xDecompress(in, out);
  if (!n) return n.error().code == ErrorCode::kLimit ? 0 : SQFS_ERROR_COMPRESSOR;
  return static_cast<sqfs_s32>(*n);
}

sqfs_s32 DecodeLzmaSquashfsBlock(OwnCompressor& self, Bytes in, std::span<std::byte> out) {
  auto n = DecodeLzmaBlock(in, out, 0, &self.hint);
  if (!n) return SQFS_ERROR_COMPRESSOR;
  return static_cast<sqfs_s32>(*n);
}

Result<SqfsObject<sqfs_compressor_t>> MakeCompressor(const sqfs_super_t& super) {
  OwnCompressor::DecodeFn own = nullptr;
  if (super.compression_id == SQFS_COMP_LZMA) own = &DecodeLzmaSquashfsBlock;
  if (super.compression_id == SQFS_COMP_LZO) own = &DecodeLzoBlock;
  if (own != nullptr) {
    auto* c = OwnCompressor::Create(static_cast<SQFS_COMPRESSOR>(super.compression_id),
                                    super.block_size, own);
    if (c == nullptr) return Fail(ErrorCode::kLimit, "out of memory");
    return SqfsObject<sqfs_compressor_t>(&c->base);
  }
  sqfs_compressor_config_t cfg{};
  int ret = sqfs_compressor_config_init(&cfg, static_cast<SQFS_COMPRESSOR>(super.compression_id),
                                        super.block_size, SQFS_COMP_FLAG_UNCOMPRESS);
  sqfs_compressor_t* cmp = nullptr;
  if (ret == 0) ret = sqfs_compressor_create(&cfg, &cmp);
  if (ret != 0 || cmp == nullptr)
    return Fail(ErrorCode::kUnsupported,
                fmt::format("cannot create {} decompressor: {}",
                            CompressionName(super.compression_id), SqfsErrorText(ret)));
  // Compressor options (stored after the superblock) are not read: they tune compression, and
  // none of the decoders needs them.
  return SqfsObject<sqfs_compressor_t>(cmp);
}

// ---- the walk --------------------------------------------------------------------------------
//
// The walk uses libsquashfs's metadata readers directly rather than sqfs_dir_reader: readdir then
// hands back each entry's inode reference, and the inode's fixed part can be peeked at before
// libsquashfs decodes it. That matters because libsquashfs sizes allocations from inode fields
// (a file's block list from its size, a symlink target from its length) before it knows whether
// the metadata holds that many bytes; a few flipped bits would otherwise ask for terabytes.

using Inode = SqfsBuffer<sqfs_inode_generic_t>;

struct Child {
  std::string name;
  uint64_t iref;  // metadata block (relative to the inode table) << 16 | offset in that block
};

struct PendingDir {
  std::string path;
  Inode inode;
  size_t depth;
};

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // squashfs is little-endian, as are all hosts this builds for
}
uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
static_assert(std::endian::native == std::endian::little);

class Walker {
 public:
  // Makes a second data reader (with its own decompressor) for the helper thread; libsquashfs
  // readers and compressors keep state and are not shared between threads.
  using DataReaderFactory = std::function<sqfs_data_reader_t*()>;

  struct Tables {
    const sqfs_super_t* super;
    sqfs_meta_reader_t* inodes;
    sqfs_meta_reader_t* dirs;
    sqfs_data_reader_t* data;
    const sqfs_id_table_t* ids;
    sqfs_xattr_reader_t* xattr_ids;  // null when the image has no (readable) xattrs
    sqfs_meta_reader_t* xattr_kv;
    uint64_t xattr_kv_start;
    DataReaderFactory make_data_reader;
  };

  Walker(const ExtractContext& ctx, TreeSink& sink, const Tables& t)
      : ctx_(ctx), sink_(sink), t_(t) {
    // Every metadata block stores at least a 2-byte header and one byte, and expands to at most
    // 8 KiB: the inode table cannot hold more block-list bytes than this.
    const uint64_t table = t.super->directory_table_start - t.super->inode_table_start;
    max_block_entries_ = std::min<uint64_t>(uint64_t{1} << 26, (table / 2 + 1) * 8192 / 4);
  }

  Status Run() {
    const uint64_t root_ref = t_.super->root_inode_ref;
    Inode root;
    if (std::string why = ReadInode(root_ref, &root); !why.empty())
      return Fail(ErrorCode::kMalformed, "squashfs root inode unreadable: " + why);
    if (!IsDir(root->base.type))
      return Fail(ErrorCode::kMalformed, "squashfs root inode is not a directory");
    bool loop = false;
    if (ShouldWalk(*root, &loop)) {
      // An explicit stack instead of recursion: a crafted image must not decide how deep our
      // C++ stack goes.
      stack_.push_back({"", std::move(root), 0});
    }
    while (!stack_.empty()) {
      PendingDir dir = std::move(stack_.back());
      stack_.pop_back();
      if (auto s = WalkDir(dir); !s) return s;
    }
    if (auto s = FlushFiles(); !s) return s;
    if (problems_ > 0)
      return Fail(ErrorCode::kMalformed,
                  problems_ == 1
                      ? first_problem_
                      : fmt::format("{} (and {} more problems)", first_problem_, problems_ - 1));
    return {};
  }

 private:
  static bool IsDir(uint16_t type) { return type == SQFS_INODE_DIR || type == SQFS_INODE_EXT_DIR; }

  void Problem(std::string msg) {
    if (problems_++ == 0) first_problem_ = std::move(msg);
  }

  Status CheckTime() {
    if ((++ticks_ & 0x3F) == 0 && ctx_.budget.TimeUp())
      return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
    return {};
  }

  // Reads the inode at `iref`, after checking the fields libsquashfs allocates from. Returns ""
  // or why the inode was not read.
  std::string ReadInode(uint64_t iref, Inode* out) {
    const uint64_t block = iref >> 16;
    const size_t offset = iref & 0xFFFF;
    uint8_t head[16 + 40];
    int ret = sqfs_meta_reader_seek(t_.inodes, t_.super->inode_table_start + block, offset);
    if (ret == 0) ret = sqfs_meta_reader_read(t_.inodes, head, 16);
    if (ret != 0) return SqfsErrorText(ret);
    const uint16_t type = static_cast<uint16_t>(head[0] | (head[1] << 8));
    const uint8_t* body = head + 16;
    switch (type) {
      case SQFS_INODE_FILE:
      case SQFS_INODE_EXT_FILE: {
        const bool ext = type == SQFS_INODE_EXT_FILE;
        if (int r = sqfs_meta_reader_read(t_.inodes, head + 16, ext ? 40 : 16); r != 0)
          return SqfsErrorText(r);
        uint64_t size = ext ? LoadU64(body + 8) : LoadU32(body + 12);
        uint64_t blocks = size / t_.super->block_size + 1;
        if (blocks > max_block_entries_)
          return fmt::format("file size {} needs more blocks than the inode table can list", size);
        break;
      }
      case SQFS_INODE_SLINK:
      case SQFS_INODE_EXT_SLINK: {
        if (int r = sqfs_meta_reader_read(t_.inodes, head + 16, 8); r != 0) return SqfsErrorText(r);
        // Linux caps a symlink target at PATH_MAX including the terminator.
        if (uint32_t n = LoadU32(body + 4); n > 4095)
          return fmt::format("symlink target of {} bytes", n);
        break;
      }
      default:
        break;
    }
    sqfs_inode_generic_t* raw = nullptr;
    ret = sqfs_meta_reader_read_inode(t_.inodes, t_.super, block, offset, &raw);
    out->reset(raw);
    if (ret != 0 || raw == nullptr) return SqfsErrorText(ret);
    return "";
  }

  // Where a directory's listing lives; walking each listing once defeats both cycles and
  // crafted diamond-shaped hierarchies that would expand exponentially. The size counts the
  // implicit "." and ".." as 3 bytes, so 3 or less means an empty directory: empty ones share
  // their (unused) location with the next listing and are never walked.
  bool ShouldWalk(const sqfs_inode_generic_t& inode, bool* loop) {
    uint64_t key;
    bool empty;
    if (inode.base.type == SQFS_INODE_EXT_DIR) {
      key = (uint64_t{inode.data.dir_ext.start_block} << 16) | inode.data.dir_ext.offset;
      empty = inode.data.dir_ext.size <= 3;
    } else {
      key = (uint64_t{inode.data.dir.start_block} << 16) | inode.data.dir.offset;
      empty = inode.data.dir.size <= 3;
    }
    *loop = false;
    if (empty) return false;
    *loop = !visited_dirs_.insert(key).second;
    return !*loop;
  }

  static std::string Join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
  }

  Status WalkDir(PendingDir& dir) {
    const std::string shown = dir.path.empty() ? "/" : dir.path;
    sqfs_readdir_state_t state{};
    int ret = sqfs_readdir_state_init(&state, t_.super, dir.inode.get());
    if (ret != 0) {
      Problem(fmt::format("directory \"{}\": listing unreadable: {}", shown, SqfsErrorText(ret)));
      return {};
    }
    // Names first, inodes after: the listing is small, and each inode is then read (and freed)
    // one at a time.
    std::vector<Child> children;
    const size_t cap = std::min<uint64_t>(kMaxEntriesPerDir, ctx_.budget.files_left + 1);
    for (;;) {
      if (auto s = CheckTime(); !s) return s;
      sqfs_dir_entry_t* ent_raw = nullptr;
      sqfs_u64 iref = 0;
      ret = sqfs_meta_reader_readdir(t_.dirs, &state, &ent_raw, nullptr, &iref);
      SqfsBuffer<sqfs_dir_entry_t> ent(ent_raw);
      if (ret > 0) break;
      if (ret < 0 || ent == nullptr) {
        Problem(fmt::format("directory \"{}\": listing broken after {} entries: {}", shown,
                            children.size(), SqfsErrorText(ret)));
        break;
      }
      if (children.size() >= cap) {
        Problem(fmt::format("directory \"{}\" has more than {} entries; the rest were skipped",
                            shown, cap));
        break;
      }
      // The name is stored with its length minus one and no terminator.
      children.push_back(
          {std::string(reinterpret_cast<const char*>(ent->name), size_t{ent->size} + 1), iref});
    }
    for (const Child& c : children) {
      if (auto s = CheckTime(); !s) return s;
      std::string path = Join(dir.path, c.name);
      Inode inode;
      if (std::string why = ReadInode(c.iref, &inode); !why.empty()) {
        Problem(fmt::format("\"{}\": inode unreadable: {}", path, why));
        continue;
      }
      if (auto s = Emit(path, c.iref, std::move(inode), dir.depth); !s) return s;
    }
    return {};
  }

  FileEntry Base(const std::string& path, const sqfs_inode_generic_t& inode) {
    FileEntry e;
    e.raw_name = path;
    e.mode = inode.base.mode & 07777;
    e.mtime = inode.base.mod_time;
    sqfs_u32 uid = 0, gid = 0;
    if (sqfs_id_table_index_to_id(t_.ids, inode.base.uid_idx, &uid) != 0 ||
        sqfs_id_table_index_to_id(t_.ids, inode.base.gid_idx, &gid) != 0) {
      Problem(fmt::format("\"{}\": owner index {}/{} outside the id table", path,
                          inode.base.uid_idx, inode.base.gid_idx));
    }
    e.uid = uid;
    e.gid = gid;
    ReadXattrs(path, inode, e);
    return e;
  }

  // Reads n bytes from the xattr key/value area; false on any error.
  bool KvRead(void* out, size_t n) { return sqfs_meta_reader_read(t_.xattr_kv, out, n) == 0; }

  // The key/value pairs are decoded here rather than by sqfs_xattr_reader_read_value, which
  // would allocate whatever 32-bit length the image claims before reading it.
  void ReadXattrs(const std::string& path, const sqfs_inode_generic_t& inode, FileEntry& e) {
    if (t_.xattr_ids == nullptr) return;
    sqfs_u32 idx = 0xFFFFFFFF;
    if (sqfs_inode_get_xattr_index(&inode, &idx) != 0 || idx == 0xFFFFFFFF) return;
    sqfs_xattr_id_t desc{};
    int ret = sqfs_xattr_reader_get_desc(t_.xattr_ids, idx, &desc);
    if (ret == 0)
      ret = sqfs_meta_reader_seek(t_.xattr_kv, t_.xattr_kv_start + (desc.xattr >> 16),
                                  desc.xattr & 0xFFFF);
    if (ret != 0) {
      Problem(fmt::format("\"{}\": xattrs unreadable: {}", path, SqfsErrorText(ret)));
      return;
    }
    const size_t count = std::min<size_t>(desc.count, kMaxXattrsPerInode);
    for (size_t i = 0; i < count; ++i) {
      std::string why = ReadOneXattr(e);
      if (!why.empty()) {
        Problem(fmt::format("\"{}\": xattr {} of {}: {}", path, i, desc.count, why));
        return;
      }
    }
    if (desc.count > count)
      Problem(fmt::format("\"{}\": {} xattrs, only the first {} kept", path, desc.count, count));
  }

  std::string ReadOneXattr(FileEntry& e) {
    uint8_t head[4];
    if (!KvRead(head, 4)) return "key unreadable";
    const uint16_t type = static_cast<uint16_t>(head[0] | (head[1] << 8));
    const uint16_t name_size = static_cast<uint16_t>(head[2] | (head[3] << 8));
    const char* prefix =
        sqfs_get_xattr_prefix(static_cast<SQFS_XATTR_TYPE>(type & SQFS_XATTR_PREFIX_MASK));
    if (prefix == nullptr) return fmt::format("unknown namespace {}", type & 0xFF);
    std::string name(name_size, '\0');
    if (!KvRead(name.data(), name.size())) return "key unreadable";
    uint8_t size_bytes[4];
    if (!KvRead(size_bytes, 4)) return "value unreadable";
    uint32_t size = LoadU32(size_bytes);
    std::string value;
    if (type & SQFS_XATTR_FLAG_OOL) {
      // Out of line: the value is a reference to where the (shared) value is stored.
      uint8_t ref_bytes[8];
      if (size != 8 || !KvRead(ref_bytes, 8)) return "bad out-of-line value reference";
      const uint64_t ref = LoadU64(ref_bytes);
      sqfs_u64 back_block = 0;
      size_t back_offset = 0;
      sqfs_meta_reader_get_position(t_.xattr_kv, &back_block, &back_offset);
      if (sqfs_meta_reader_seek(t_.xattr_kv, t_.xattr_kv_start + (ref >> 16), ref & 0xFFFF) != 0 ||
          !KvRead(size_bytes, 4))
        return "out-of-line value unreadable";
      size = LoadU32(size_bytes);
      if (size > kMaxXattrValue) return fmt::format("value of {} bytes", size);
      value.resize(size);
      if (!KvRead(value.data(), size)) return "out-of-line value unreadable";
      if (sqfs_meta_reader_seek(t_.xattr_kv, back_block, back_offset) != 0)
        return "cannot return from an out-of-line value";
    } else {
      // Linux refuses values above 64 KiB (XATTR_SIZE_MAX), so no real image has one.
      if (size > kMaxXattrValue) return fmt::format("value of {} bytes", size);
      value.resize(size);
      if (!KvRead(value.data(), size)) return "value unreadable";
    }
    e.xattrs.emplace_back(prefix + name, std::move(value));
    return "";
  }

  Status Emit(const std::string& path, uint64_t iref, Inode inode, size_t depth) {
    FileEntry e = Base(path, *inode);
    switch (inode->base.type) {
      case SQFS_INODE_DIR:
      case SQFS_INODE_EXT_DIR: {
        e.type = EntryType::kDir;
        if (auto s = sink_.Add(std::move(e)); !s) return s;
        bool loop = false;
        if (!ShouldWalk(*inode, &loop)) {
          if (loop)
            Problem(fmt::format(
                "directory \"{}\" repeats a listing already walked (a loop); not entered again",
                path));
        } else if (depth + 1 >= kMaxDepth) {
          Problem(fmt::format("directory \"{}\" is nested deeper than {} levels", path, kMaxDepth));
        } else {
          stack_.push_back({path, std::move(inode), depth + 1});
        }
        return {};
      }
      case SQFS_INODE_FILE:
      case SQFS_INODE_EXT_FILE:
        return EmitFile(path, iref, std::move(inode), std::move(e));
      case SQFS_INODE_SLINK:
      case SQFS_INODE_EXT_SLINK: {
        e.type = EntryType::kSymlink;
        // The target follows the fixed part, without a terminator.
        size_t n = std::min<size_t>(inode->data.slink.target_size, inode->payload_bytes_used);
        e.link_target.assign(reinterpret_cast<const char*>(inode->extra), n);
        e.size = e.link_target.size();
        return sink_.Add(std::move(e));
      }
      case SQFS_INODE_BDEV:
      case SQFS_INODE_EXT_BDEV:
      case SQFS_INODE_CDEV:
      case SQFS_INODE_EXT_CDEV: {
        bool block = inode->base.type == SQFS_INODE_BDEV || inode->base.type == SQFS_INODE_EXT_BDEV;
        e.type = block ? EntryType::kBlockDev : EntryType::kCharDev;
        // dev_ext shares the leading fields with dev; the number is the kernel's
        // new_encode_dev() form: minor bits 0-7 and 20-31, major bits 8-19.
        uint32_t devno = inode->data.dev.devno;
        e.rdev_major = (devno & 0xFFF00) >> 8;
        e.rdev_minor = (devno & 0xFF) | ((devno >> 12) & 0xFFF00);
        return sink_.Add(std::move(e));
      }
      case SQFS_INODE_FIFO:
      case SQFS_INODE_EXT_FIFO:
        e.type = EntryType::kFifo;
        return sink_.Add(std::move(e));
      case SQFS_INODE_SOCKET:
      case SQFS_INODE_EXT_SOCKET:
        e.type = EntryType::kSocket;
        return sink_.Add(std::move(e));
    }
    Problem(fmt::format("\"{}\": unknown inode type {}", path, inode->base.type));
    return {};
  }

  // Regular files are not read during the walk: their data is read afterwards in the order the
  // data lies in the image (by tail fragment, then first block), so that each fragment block is
  // decompressed once (libsquashfs keeps only the last one) and reads go forward. Hardlinks wait
  // until the file they name is on disk.
  struct PendingFile {
    std::string path;
    Inode inode;
    FileEntry entry;
    uint32_t frag_index;
    uint64_t start;
  };

  Status EmitFile(const std::string& path, uint64_t iref, Inode inode_ptr, FileEntry e) {
    const sqfs_inode_generic_t& inode = *inode_ptr;
    sqfs_u64 size = 0, start = 0;
    sqfs_u32 frag_index = 0xFFFFFFFF, frag_offset = 0xFFFFFFFF;
    sqfs_inode_get_file_size(&inode, &size);
    sqfs_inode_get_file_block_start(&inode, &start);
    sqfs_inode_get_frag_location(&inode, &frag_index, &frag_offset);
    e.type = EntryType::kFile;
    e.size = size;
    e.origin.offset = start;

    // A second directory entry for an inode already written is a hardlink to the first path
    // (mksquashfs stores a hardlinked file's inode once; the entries share its reference).
    if (auto seen = files_.find(iref); seen != files_.end()) {
      e.type = EntryType::kHardlink;
      e.link_target = seen->second;
      pending_links_.push_back(std::move(e));
      return {};
    }
    files_.emplace(iref, path);
    pending_files_.push_back({path, std::move(inode_ptr), std::move(e), frag_index, start});
    return {};
  }

 public:
  // Writes the files and hardlinks the walk found, in image order. With enough data, the work is
  // shared from both ends of the list: this thread decodes and writes files from the front while
  // a helper thread decodes files from the back into memory (at most kMaxInFlight bytes ahead),
  // which this thread writes as they arrive; they meet wherever the load puts them. Only this
  // thread touches the sink, the budget and the diagnostics.
  Status FlushFiles() {
    std::stable_sort(pending_files_.begin(), pending_files_.end(),
                     [](const PendingFile& a, const PendingFile& b) {
                       return a.frag_index != b.frag_index ? a.frag_index < b.frag_index
                                                           : a.start < b.start;
                     });
    uint64_t total = 0;
    for (const PendingFile& f : pending_files_) total += f.entry.size;
    sqfs_data_reader_t* second = nullptr;
    if (!sink_.dry_run() && total >= kMinParallelBytes && t_.make_data_reader)
      second = t_.make_data_reader();
    Prefetcher helper(second, pending_files_);
    Status status;
    auto write_ready = [&]() -> Status {
      for (auto& [i, d] : helper.TakeReady()) {
        PendingFile& f = pending_files_[i];
        if (auto s = WriteDecoded(f.path, std::move(f.entry), std::move(d)); !s) return s;
      }
      return {};
    };
    while (true) {
      std::optional<size_t> i = helper.ClaimFront();
      if (!i) break;
      PendingFile& f = pending_files_[*i];
      status = WriteFile(f.path, *f.inode, std::move(f.entry), t_.data);
      if (!status) break;
      status = write_ready();
      if (!status) break;
    }
    // The helper's remaining files (or none, after an error: Stop() makes it quit).
    while (status && helper.WaitMore()) {
      status = write_ready();
    }
    if (status) status = write_ready();
    helper.Stop();
    if (!status) return status;
    pending_files_.clear();
    for (FileEntry& e : pending_links_)
      if (auto s = sink_.Add(std::move(e)); !s) return s;
    pending_links_.clear();
    return {};
  }

 private:
  static constexpr uint64_t kMinParallelBytes = 1ULL << 20;
  static constexpr uint64_t kMaxInFlight = 64ULL << 20;

  // A file decoded by the helper thread.
  struct Decoded {
    std::vector<std::byte> data;
    std::string problem;  // why the data is short, "" when complete
  };

  // Decodes one file fully into memory. Runs on the helper thread: no sink, no budget.
  static Decoded DecodeFile(sqfs_data_reader_t* reader, const std::string& path,
                            const sqfs_inode_generic_t& inode, uint64_t size) {
    Decoded d;
    d.data.reserve(static_cast<size_t>(size));
    const size_t blocks = sqfs_inode_get_file_block_count(&inode);
    for (size_t i = 0; i < blocks; ++i) {
      size_t n = 0;
      sqfs_u8* raw = nullptr;
      int ret = sqfs_data_reader_get_block(reader, &inode, i, &n, &raw);
      SqfsBuffer<sqfs_u8> buf(raw);
      if (ret != 0) {
        d.problem = fmt::format(
            "\"{}\": data block {} of {} unreadable: {}; file truncated at {} "
            "bytes",
            path, i, blocks, SqfsErrorText(ret), d.data.size());
        return d;
      }
      auto* p = reinterpret_cast<const std::byte*>(buf.get());
      d.data.insert(d.data.end(), p, p + n);
    }
    sqfs_u32 frag_index = 0xFFFFFFFF, frag_offset = 0xFFFFFFFF;
    sqfs_inode_get_frag_location(&inode, &frag_index, &frag_offset);
    if (d.data.size() < size && frag_index != 0xFFFFFFFF) {
      size_t n = 0;
      sqfs_u8* raw = nullptr;
      int ret = sqfs_data_reader_get_fragment(reader, &inode, &n, &raw);
      SqfsBuffer<sqfs_u8> buf(raw);
      if (ret != 0) {
        d.problem =
            fmt::format("\"{}\": tail fragment {} unreadable: {}; file truncated at {} bytes", path,
                        frag_index, SqfsErrorText(ret), d.data.size());
        return d;
      }
      auto* p = reinterpret_cast<const std::byte*>(buf.get());
      d.data.insert(d.data.end(), p, p + n);
    }
    if (d.data.size() != size)
      d.problem =
          fmt::format("\"{}\": {} bytes of data for a size of {}", path, d.data.size(), size);
    return d;
  }

  // The helper thread and the shared claim counters. Without a reader (no helper), ClaimFront
  // hands out every file and the rest is a no-op.
  class Prefetcher {
   public:
    Prefetcher(sqfs_data_reader_t* reader, std::vector<PendingFile>& files)
        : reader_(reader), files_(files), back_(files.size()) {
      if (reader_ != nullptr) thread_ = std::thread([this] { Run(); });
    }
    ~Prefetcher() { Stop(); }

    // The next file from the front for this thread, or nothing when the two ends have met.
    std::optional<size_t> ClaimFront() {
      std::lock_guard<std::mutex> lock(mu_);
      if (front_ >= back_) return std::nullopt;
      return front_++;
    }

    // Files the helper finished, with their data.
    std::vector<std::pair<size_t, Decoded>> TakeReady() {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<std::pair<size_t, Decoded>> out;
      out.swap(ready_);
      in_flight_ = 0;
      cv_.notify_all();
      return out;
    }

    // Waits until the helper has something ready or has finished; false when there is nothing
    // left to wait for.
    bool WaitMore() {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !ready_.empty() || helper_done_ || reader_ == nullptr; });
      return !ready_.empty();
    }

    void Stop() {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
        cv_.notify_all();
      }
      if (thread_.joinable()) thread_.join();
      if (reader_ != nullptr) {
        sqfs_destroy(reader_);
        reader_ = nullptr;
      }
    }

   private:
    void Run() {
      while (true) {
        size_t i;
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return stop_ || in_flight_ < kMaxInFlight; });
          if (stop_ || front_ >= back_) break;
          i = --back_;
        }
        const PendingFile& f = files_[i];
        Decoded d = DecodeFile(reader_, f.path, *f.inode, f.entry.size);
        std::lock_guard<std::mutex> lock(mu_);
        in_flight_ += d.data.size();
        ready_.emplace_back(i, std::move(d));
        cv_.notify_all();
      }
      std::lock_guard<std::mutex> lock(mu_);
      helper_done_ = true;
      cv_.notify_all();
    }

    sqfs_data_reader_t* reader_;
    std::vector<PendingFile>& files_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    size_t front_ = 0;
    size_t back_;
    std::vector<std::pair<size_t, Decoded>> ready_;
    uint64_t in_flight_ = 0;
    bool helper_done_ = false;
    bool stop_ = false;
  };

  Status WriteDecoded(const std::string& path, FileEntry e, Decoded d) {
    auto out = sink_.OpenFile(std::move(e));
    if (!out) return std::unexpected(out.error());
    if (auto s = CheckTime(); !s) {
      (void)(*out)->Close(true);
      return s;
    }
    if (auto s = (*out)->Write(Bytes(d.data.data(), d.data.size())); !s) {
      (void)(*out)->Close(true);
      return s;
    }
    if (!d.problem.empty()) {
      Problem(std::move(d.problem));
      return (*out)->Close(true);
    }
    return (*out)->Close();
  }

 private:
  Status WriteFile(const std::string& path, const sqfs_inode_generic_t& inode, FileEntry e,
                   sqfs_data_reader_t* reader) {
    sqfs_u64 size = e.size;
    sqfs_u32 frag_index = 0xFFFFFFFF, frag_offset = 0xFFFFFFFF;
    sqfs_inode_get_frag_location(&inode, &frag_index, &frag_offset);
    auto out = sink_.OpenFile(std::move(e));
    if (!out) return std::unexpected(out.error());
    if (sink_.dry_run()) return (*out)->Close();  // info mode: metadata only, no data read
    TreeSink::FileOut& fo = **out;
    uint64_t written = 0;
    // Blocks stream straight from the decompressor to the sink; nothing holds a whole file.
    auto write = [&](const sqfs_u8* p, size_t n) -> Status {
      written += n;
      return fo.Write(Bytes(reinterpret_cast<const std::byte*>(p), n));
    };
    const size_t blocks = sqfs_inode_get_file_block_count(&inode);
    for (size_t i = 0; i < blocks; ++i) {
      if (auto s = CheckTime(); !s) {
        (void)fo.Close(true);
        return s;
      }
      size_t n = 0;
      sqfs_u8* buf_raw = nullptr;
      int ret = sqfs_data_reader_get_block(reader, &inode, i, &n, &buf_raw);
      SqfsBuffer<sqfs_u8> buf(buf_raw);
      if (ret != 0) {
        Problem(
            fmt::format("\"{}\": data block {} of {} unreadable: {}; file truncated at {} "
                        "bytes",
                        path, i, blocks, SqfsErrorText(ret), written));
        return fo.Close(true);
      }
      if (auto s = write(buf.get(), n); !s) {
        (void)fo.Close(true);
        return s;
      }
    }
    if (written < size && frag_index != 0xFFFFFFFF) {
      size_t n = 0;
      sqfs_u8* buf_raw = nullptr;
      int ret = sqfs_data_reader_get_fragment(reader, &inode, &n, &buf_raw);
      SqfsBuffer<sqfs_u8> buf(buf_raw);
      if (ret != 0) {
        Problem(fmt::format("\"{}\": tail fragment {} unreadable: {}; file truncated at {} bytes",
                            path, frag_index, SqfsErrorText(ret), written));
        return fo.Close(true);
      }
      if (auto s = write(buf.get(), n); !s) {
        (void)fo.Close(true);
        return s;
      }
    }
    if (written != size) {
      Problem(fmt::format("\"{}\": {} bytes of data for a size of {}", path, written, size));
      return fo.Close(true);
    }
    return fo.Close();
  }

  const ExtractContext& ctx_;
  TreeSink& sink_;
  const Tables t_;
  uint64_t max_block_entries_ = 0;
  std::vector<PendingDir> stack_;
  std::unordered_set<uint64_t> visited_dirs_;
  std::unordered_map<uint64_t, std::string> files_;  // inode reference -> first path
  std::vector<PendingFile> pending_files_;
  std::vector<FileEntry> pending_links_;
  uint64_t problems_ = 0;
  std::string first_problem_;
  uint64_t ticks_ = 0;
};

// The xattr id table header (uncompressed, 16 bytes: key/value area start, id count) is checked
// here because libsquashfs sizes an allocation from the id count before reading anything else.
// Returns the start of the key/value area.
std::optional<uint64_t> XattrKvStart(Bytes chunk, uint64_t header) {
  auto kv = ReadU64(chunk, header, Endian::kLittle);
  auto ids = ReadU32(chunk, header + 8, Endian::kLittle);
  if (!kv || !ids || *kv >= header || header + 16 > chunk.size()) return std::nullopt;
  if (IndexBytes(*ids, 16) > chunk.size() - header - 16) return std::nullopt;
  return *kv;
}

// Where the directory table ends at the latest: the first table that follows it.
uint64_t DirectoryTableLimit(const sqfs_super_t& s) {
  uint64_t limit = s.id_table_start;
  for (uint64_t t : {s.fragment_table_start, s.export_table_start, s.xattr_id_table_start})
    if (t != kNoTable && t > s.directory_table_start) limit = std::min(limit, t);
  return limit;
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto checked = ReadSuper(ctx.chunk, ctx.base_offset);
  if (!checked) return std::unexpected(checked.error());

  SqfsObject<sqfs_file_t> file;
  if (MemFile* f = MemFile::Create(ctx.chunk)) file.reset(&f->base);
  if (file == nullptr) return Fail(ErrorCode::kLimit, "out of memory");

  sqfs_super_t super{};
  if (int ret = sqfs_super_read(&super, file.get()); ret != 0)
    return Fail(ErrorCode::kMalformed,
                fmt::format("squashfs superblock rejected: {}", SqfsErrorText(ret)),
                ctx.base_offset);

  auto cmp = MakeCompressor(super);
  if (!cmp) return std::unexpected(cmp.error());

  SqfsObject<sqfs_id_table_t> ids(sqfs_id_table_create(0));
  if (ids == nullptr) return Fail(ErrorCode::kLimit, "out of memory");
  if (int ret = sqfs_id_table_read(ids.get(), file.get(), &super, cmp->get()); ret != 0)
    return Fail(ErrorCode::kMalformed,
                fmt::format("squashfs id table unreadable: {}", SqfsErrorText(ret)),
                ctx.base_offset + super.id_table_start);

  SqfsObject<sqfs_meta_reader_t> inodes(sqfs_meta_reader_create(
      file.get(), cmp->get(), super.inode_table_start, super.directory_table_start));
  SqfsObject<sqfs_meta_reader_t> dirs(sqfs_meta_reader_create(
      file.get(), cmp->get(), super.directory_table_start, DirectoryTableLimit(super)));
  SqfsObject<sqfs_data_reader_t> data(
      sqfs_data_reader_create(file.get(), super.block_size, cmp->get(), 0));
  if (inodes == nullptr || dirs == nullptr || data == nullptr)
    return Fail(ErrorCode::kLimit, "out of memory");
  // A broken fragment table only costs the files that end in a fragment: carry on without it
  // (those files come out truncated, named in the diagnostics).
  int frag_ret = sqfs_data_reader_load_fragment_table(data.get(), &super);

  SqfsObject<sqfs_xattr_reader_t> xattr_ids;
  SqfsObject<sqfs_meta_reader_t> xattr_kv;
  std::optional<uint64_t> kv_start;
  int xattr_ret = 0;
  if (!(super.flags & SQFS_FLAG_NO_XATTRS) && super.xattr_id_table_start != kNoTable) {
    kv_start = XattrKvStart(ctx.chunk, super.xattr_id_table_start);
    if (!kv_start) {
      xattr_ret = SQFS_ERROR_OUT_OF_BOUNDS;
    } else {
      xattr_ids.reset(sqfs_xattr_reader_create(0));
      xattr_kv.reset(
          sqfs_meta_reader_create(file.get(), cmp->get(), *kv_start, super.xattr_id_table_start));
      if (xattr_ids == nullptr || xattr_kv == nullptr)
        return Fail(ErrorCode::kLimit, "out of memory");
      xattr_ret = sqfs_xattr_reader_load(xattr_ids.get(), &super, file.get(), cmp->get());
      if (xattr_ret != 0) xattr_ids.reset();
    }
  }

  // A second reader for the helper thread, with its own decompressor, kept alive here.
  std::vector<SqfsObject<sqfs_compressor_t>> extra_compressors;
  auto make_reader = [&]() -> sqfs_data_reader_t* {
    if (frag_ret != 0) return nullptr;
    auto c = MakeCompressor(super);
    if (!c) return nullptr;
    sqfs_data_reader_t* r = sqfs_data_reader_create(file.get(), super.block_size, c->get(), 0);
    if (r == nullptr) return nullptr;
    if (sqfs_data_reader_load_fragment_table(r, &super) != 0) {
      sqfs_destroy(r);
      return nullptr;
    }
    extra_compressors.push_back(std::move(*c));
    return r;
  };
  Walker::Tables tables{&super,     inodes.get(),    dirs.get(),     data.get(),
                        ids.get(),  xattr_ids.get(), xattr_kv.get(), kv_start.value_or(0),
                        make_reader};
  Walker walker(ctx, sink, tables);
  Status s = walker.Run();
  if (!s) return s;
  if (frag_ret != 0)
    return Fail(ErrorCode::kMalformed,
                fmt::format("squashfs fragment table unreadable: {}", SqfsErrorText(frag_ret)));
  if (xattr_ret != 0)
    return Fail(ErrorCode::kMalformed,
                fmt::format("squashfs xattr table unreadable: {}", SqfsErrorText(xattr_ret)));
  return {};
}

}  // namespace

extern const FormatHandler squashfs_handler{
    "squashfs", FormatKind::kFilesystem, "SquashFS 4.0 filesystem (little-endian)", kMagics, Parse,
    Extract};

}  // namespace firmwarden::unpack
