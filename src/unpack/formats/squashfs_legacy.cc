// SquashFS 1.x, 2.x and 3.x, little- and big-endian, with zlib or any of the vendor LZMA
// framings (see LzmaFraming), under the standard magics ("hsqs", "sqsh") and the vendor ones
// ("shsq", "qshs", "sqlz", "zlqs"). libsquashfs reads only 4.0, so this reader is our own.
//
// Layout (offsets from the superblock; integers in the image's byte order):
//   superblock   the 3.x struct, 119 bytes (1.x/2.x use its first 63: 32-bit table offsets)
//   data blocks  files' blocks and fragment blocks; a 32-bit size word per block in the inode's
//                block list, bit 24 set = stored uncompressed (1.x: 16-bit words, bit 15)
//   inode table  metadata blocks: a 16-bit header (bit 15 = uncompressed, low 15 bits = stored
//                length; one more check byte after it when flag 0x04 is set), ≤ 8 KiB decoded
//   dir table    metadata blocks of listings: header {count-1, inode block, [3.x] inode base},
//                then entries {offset in block:13, type:3, name length-1:8, [3.x] inode delta}
//   fragments    3.x: 16-byte entries {start:64, size:32, unused:32}; 2.x: {start:32, size:32};
//                a table of pointers (64/32-bit) to the metadata blocks holding them
//   uid, gid     plain 32-bit ids; an inode's uid/gid are 8-bit (1.x: 4-bit) indexes, gid 255
//                (1.x: 15) meaning "same as uid"
// The inodes and directory headers are C bitfields: a little-endian image packs them from the
// least significant bit of the first byte, a big-endian one from the most significant bit. All
// field positions below are bit positions in that packing order, so one table serves both.
//
// Nothing is trusted: every table offset is checked against bytes_used, metadata is decoded
// into bounded blocks, directories are walked with a visited set and a depth cap, counts are
// capped, and every problem becomes a diagnostic naming the file and offset.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/env.h"
#include "unpack/formats/lzma_common.h"
#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

// "hsqs"/"sqsh": the standard magic in either byte order; "shsq"/"qshs": the LZMA magic of the
// sqlzma patches; "sqlz"/"zlqs": another vendor LZMA magic. The byte order is taken from the
// version field, not the magic, so a vendor magic in an unexpected order is still read.
constexpr Magic kMagics[] = {{"hsqs", 0}, {"sqsh", 0}, {"shsq", 0},
                             {"qshs", 0}, {"sqlz", 0}, {"zlqs", 0}};

constexpr size_t kSuper3Size = 119;
constexpr size_t kSuper2Size = 63;
constexpr size_t kMetaSize = 8192;
constexpr size_t kMaxDepth = 256;
constexpr size_t kMaxEntriesPerDir = 1 << 18;
constexpr uint64_t kNoFragment = 0xFFFFFFFF;
constexpr uint64_t kMetaCacheBytes = 64ULL << 20;
constexpr uint8_t kFlagCheck = 0x04;

// ---- bit-packed fields ------------------------------------------------------------------------

// `width` bits at bit `pos` of a packed structure (see the header comment).
uint64_t Bits(const uint8_t* p, unsigned pos, unsigned width, Endian e) {
  const unsigned first = pos / 8, last = (pos + width - 1) / 8;
  uint64_t v = 0;
  if (e == Endian::kLittle) {
    for (unsigned i = last + 1; i-- > first;) v = v << 8 | p[i];
    v >>= pos % 8;
  } else {
    for (unsigned i = first; i <= last; ++i) v = v << 8 | p[i];
    v >>= (last - first + 1) * 8 - pos % 8 - width;
  }
  return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
}

// ---- superblock -------------------------------------------------------------------------------

struct Super {
  Endian endian = Endian::kLittle;
  std::string magic;
  uint16_t major = 0, minor = 0;
  uint32_t inodes = 0;
  uint32_t block_size = 0;
  uint32_t fragments = 0;
  uint8_t flags = 0;
  uint8_t no_uids = 0, no_guids = 0;
  uint32_t mkfs_time = 0;
  uint64_t root_inode = 0;
  uint64_t bytes_used = 0;
  uint64_t uid_start = 0, guid_start = 0;
  uint64_t inode_table = 0, dir_table = 0, fragment_table = 0;
  size_t super_size = 0;
  bool v3() const { return major == 3; }
  bool v1() const { return major == 1; }
  bool check() const { return flags & kFlagCheck; }
};

Result<Super> ReadSuper(Bytes data, uint64_t base) {
  auto bad = [&](std::string what, uint64_t at = 0) {
    return Fail(ErrorCode::kMalformed, "squashfs " + what, base + at);
  };
  if (data.size() < kSuper2Size)
    return Fail(ErrorCode::kTruncated, "squashfs superblock cut short", base);
  Super s;
  s.magic = std::string(AsChars(data.first(4)));
  // The version decides the byte order: 1..3 in one order is 256..768 in the other.
  bool found = false;
  for (Endian e : {Endian::kLittle, Endian::kBig}) {
    uint16_t major = *ReadU16(data, 28, e);
    if (major >= 1 && major <= 4) {
      s.endian = e;
      s.major = major;
      found = true;
      break;
    }
  }
  if (!found) return bad("version field is not 1..4", 28);
  const Endian e = s.endian;
  s.minor = *ReadU16(data, 30, e);
  if (s.major == 4)
    return Fail(ErrorCode::kUnsupported, "squashfs 4.0 is read by the squashfs handler", base);
  s.super_size = s.v3() ? kSuper3Size : kSuper2Size;
  if (data.size() < s.super_size)
    return Fail(ErrorCode::kTruncated, "squashfs superblock cut short", base);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  s.inodes = *ReadU32(data, 4, e);
  const uint16_t block_size_1 = *ReadU16(data, 32, e);
  const uint16_t block_log = *ReadU16(data, 34, e);
  s.flags = p[36];
  s.no_uids = p[37];
  s.no_guids = p[38];
  s.mkfs_time = *ReadU32(data, 39, e);
  s.root_inode = *ReadU64(data, 43, e);
  if (s.v1()) {
    // 1.x has no 32-bit block size and no fragments.
    s.block_size = block_size_1;
    s.root_inode &= 0xFFFFFFFF;
  } else {
    s.block_size = *ReadU32(data, 51, e);
    s.fragments = *ReadU32(data, 55, e);
  }
  if (s.v3()) {
    s.bytes_used = *ReadU64(data, 63, e);
    s.uid_start = *ReadU64(data, 71, e);
    s.guid_start = *ReadU64(data, 79, e);
    s.inode_table = *ReadU64(data, 87, e);
    s.dir_table = *ReadU64(data, 95, e);
    s.fragment_table = *ReadU64(data, 103, e);
  } else {
    s.bytes_used = *ReadU32(data, 8, e);
    s.uid_start = *ReadU32(data, 12, e);
    s.guid_start = *ReadU32(data, 16, e);
    s.inode_table = *ReadU32(data, 20, e);
    s.dir_table = *ReadU32(data, 24, e);
    if (!s.v1()) s.fragment_table = *ReadU32(data, 59, e);
  }
  const uint32_t min_block = s.v1() ? 512 : 4096;
  const uint32_t max_block = s.v1() ? 32768 : (1u << 20);
  if (!std::has_single_bit(s.block_size) || s.block_size < min_block || s.block_size > max_block)
    return bad(fmt::format("block size {} is not a power of two in {}..{}", s.block_size, min_block,
                           max_block),
               51);
  if (block_log > 20 || (1u << block_log) != s.block_size)
    return bad(fmt::format("block_log {} disagrees with block size {}", block_log, s.block_size),
               34);
  if (s.inodes == 0) return bad("has no inodes", 4);
  if (s.bytes_used < s.super_size || s.bytes_used > (uint64_t{1} << 40))
    return bad(fmt::format("bytes_used {} is implausible", s.bytes_used), s.v3() ? 63 : 8);
  const uint64_t end = s.bytes_used;
  if (s.inode_table < s.super_size || s.inode_table >= s.dir_table || s.dir_table >= end)
    return bad(
        fmt::format("inode table {:#x} / directory table {:#x} are inconsistent with a "
                    "filesystem of {} bytes",
                    s.inode_table, s.dir_table, end));
  if (s.no_uids == 0) return bad("has an empty uid table", 37);
  if (s.uid_start < s.dir_table || s.uid_start > end || uint64_t{s.no_uids} * 4 > end - s.uid_start)
    return bad(fmt::format("uid table {:#x} lies outside the filesystem", s.uid_start));
  if (s.no_guids != 0 && (s.guid_start < s.dir_table || s.guid_start > end ||
                          uint64_t{s.no_guids} * 4 > end - s.guid_start))
    return bad(fmt::format("gid table {:#x} lies outside the filesystem", s.guid_start));
  if ((s.root_inode >> 16) >= s.dir_table - s.inode_table || (s.root_inode & 0xFFFF) >= kMetaSize)
    return bad(
        fmt::format("root inode reference {:#x} points outside the inode table", s.root_inode));
  if (s.fragments != 0) {
    const uint64_t entry = s.v3() ? 16 : 8, ptr = s.v3() ? 8 : 4;
    const uint64_t index = (uint64_t{s.fragments} * entry + kMetaSize - 1) / kMetaSize * ptr;
    // Every fragment block takes at least a byte before the inode table.
    if (s.fragments > s.inode_table || s.fragment_table < s.dir_table || s.fragment_table > end ||
        index > end - s.fragment_table)
      return bad(fmt::format("fragment table ({} entries at {:#x}) lies outside the filesystem",
                             s.fragments, s.fragment_table));
  }
  return s;
}

// ---- block decoding ---------------------------------------------------------------------------

bool LooksLikeZlib(Bytes in) {
  if (in.size() < 2) return false;
  const unsigned cmf = static_cast<uint8_t>(in[0]), flg = static_cast<uint8_t>(in[1]);
  return (cmf & 0x0F) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
}

// Decodes data and metadata blocks: zlib when the block carries a zlib header, else the vendor
// LZMA framings (remembering which one worked, to try it first next time).
class Decoder {
 public:
  Decoder() { zlib_ok_ = inflateInit(&zs_) == Z_OK; }
  ~Decoder() {
    if (zlib_ok_) inflateEnd(&zs_);
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes `in` into out (its size is the most the block may hold); `exact` (when non-zero) is
  // the size it must decode to. Returns the decoded size.
  Result<size_t> Decode(Bytes in, std::span<std::byte> out, size_t exact) {
    std::string zlib_why;
    if (LooksLikeZlib(in)) {
      auto n = Inflate(in, out, exact);
      if (n) {
        used_zlib_ = true;
        return n;
      }
      zlib_why = n.error().message;
    }
    auto n = DecodeLzmaBlock(in, out, exact, &framing_);
    if (n) {
      used_lzma_ = true;
      return n;
    }
    if (!zlib_why.empty()) return Fail(ErrorCode::kMalformed, "zlib: " + zlib_why);
    return std::unexpected(n.error());
  }

  std::string Name() const {
    if (used_zlib_ && used_lzma_) return fmt::format("gzip+{}", LzmaFramingName(framing_));
    if (used_zlib_) return "gzip";
    if (used_lzma_) return std::string(LzmaFramingName(framing_));
    return "unknown";
  }

 private:
  Result<size_t> Inflate(Bytes in, std::span<std::byte> out, size_t exact) {
    if (!zlib_ok_) return Fail(ErrorCode::kLimit, "zlib unavailable");
    inflateReset(&zs_);
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    zs_.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
    zs_.next_out = reinterpret_cast<Bytef*>(out.data());
    zs_.avail_out = static_cast<uInt>(out.size());
    int ret = inflate(&zs_, Z_FINISH);
    if (ret != Z_STREAM_END)
      return Fail(ErrorCode::kMalformed, fmt::format("inflate failed (zlib code {})", ret));
    const size_t n = out.size() - zs_.avail_out;
    if (exact != 0 && n != exact)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("block decodes to {} bytes, expected {}", n, exact));
    return n;
  }

  z_stream zs_{};
  bool zlib_ok_ = false;
  LzmaFraming framing_ = LzmaFraming::kAlone;
  bool used_zlib_ = false;
  bool used_lzma_ = false;
};

// ---- metadata ---------------------------------------------------------------------------------

// A position in a metadata table: the block's offset (from the superblock) and an offset into
// its decoded bytes.
struct Cursor {
  uint64_t block = 0;
  size_t offset = 0;
};

class Metadata {
 public:
  Metadata(Bytes fs, const Super& s, Decoder& dec) : fs_(fs), s_(s), dec_(dec) {}

  // Reads n bytes at `c` (crossing into the following blocks as needed) and advances it. `limit`
  // is where the table ends: no block at or after it is read. Returns "" or why not.
  std::string Read(Cursor& c, void* dst, size_t n, uint64_t limit) {
    auto* out = static_cast<uint8_t*>(dst);
    while (n > 0) {
      const Block* b = nullptr;
      if (std::string why = Load(c.block, limit, &b); !why.empty()) return why;
      if (c.offset >= b->data.size()) {
        if (b->data.size() < kMetaSize && c.offset > b->data.size())
          return fmt::format("offset {} past the {} bytes of the metadata block at {:#x}", c.offset,
                             b->data.size(), c.block);
        c.offset -= b->data.size();
        c.block = b->next;
        continue;
      }
      const size_t k = std::min(n, b->data.size() - c.offset);
      std::memcpy(out, b->data.data() + c.offset, k);
      out += k;
      n -= k;
      c.offset += k;
    }
    return "";
  }

  std::string Skip(Cursor& c, size_t n, uint64_t limit) {
    uint8_t buf[256];
    while (n > 0) {
      const size_t k = std::min(n, sizeof buf);
      if (std::string why = Read(c, buf, k, limit); !why.empty()) return why;
      n -= k;
    }
    return "";
  }

 private:
  struct Block {
    std::vector<uint8_t> data;
    uint64_t next = 0;
  };

  std::string Load(uint64_t pos, uint64_t limit, const Block** out) {
    if (auto it = cache_.find(pos); it != cache_.end()) {
      *out = &it->second;
      return "";
    }
    if (pos >= limit || pos >= s_.bytes_used)
      return fmt::format("metadata block at {:#x} is past the end of its table ({:#x})", pos,
                         limit);
    const size_t head = s_.check() ? 3 : 2;
    auto word = ReadU16(fs_, pos, s_.endian);
    if (!word || pos + head > fs_.size())
      return fmt::format("metadata block header at {:#x} beyond the image", pos);
    const bool stored = *word & 0x8000;
    const size_t len = *word & 0x7FFF;
    if (len == 0) return fmt::format("metadata block at {:#x} has length 0", pos);
    if (pos + head + len > std::min<uint64_t>(fs_.size(), s_.bytes_used))
      return fmt::format("metadata block at {:#x} ({} bytes) runs past the end of the image", pos,
                         len);
    Bytes in = fs_.subspan(pos + head, len);
    Block b;
    b.next = pos + head + len;
    if (stored) {
      if (len > kMetaSize)
        return fmt::format("uncompressed metadata block at {:#x} holds {} bytes", pos, len);
      b.data.assign(reinterpret_cast<const uint8_t*>(in.data()),
                    reinterpret_cast<const uint8_t*>(in.data()) + len);
    } else {
      b.data.resize(kMetaSize);
      auto n = dec_.Decode(in, std::as_writable_bytes(std::span<uint8_t>(b.data)), 0);
      if (!n) return fmt::format("metadata block at {:#x}: {}", pos, n.error().message);
      b.data.resize(*n);
    }
    if (cached_bytes_ + b.data.size() > kMetaCacheBytes) {
      cache_.clear();
      cached_bytes_ = 0;
    }
    cached_bytes_ += b.data.size();
    auto [it, inserted] = cache_.emplace(pos, std::move(b));
    *out = &it->second;
    return "";
  }

  Bytes fs_;
  const Super& s_;
  Decoder& dec_;
  std::unordered_map<uint64_t, Block> cache_;
  uint64_t cached_bytes_ = 0;
};

// ---- inodes -----------------------------------------------------------------------------------

enum class Kind { kDir, kFile, kSymlink, kBlockDev, kCharDev, kFifo, kSocket };

struct Inode {
  Kind kind = Kind::kFile;
  uint32_t mode = 0;
  uint32_t uid_index = 0, gid_index = 0;
  bool gid_is_uid = false;
  uint32_t mtime = 0;
  // Files
  uint64_t start_block = 0;
  uint64_t fragment = kNoFragment;
  uint32_t frag_offset = 0;
  uint64_t file_size = 0;
  Cursor block_list;  // right after the inode
  // Directories
  uint64_t dir_size = 0;
  uint32_t dir_block = 0;
  uint32_t dir_offset = 0;
  // Symlinks and devices
  std::string target;
  uint32_t rdev = 0;
};

// ---- the walk ---------------------------------------------------------------------------------

class Walker {
 public:
  Walker(const ExtractContext& ctx, TreeSink& sink, const Super& s)
      : ctx_(ctx),
        fs_(ctx.chunk),
        s_(s),
        sink_(sink),
        meta_(ctx.chunk, s, dec_),
        block_(s.block_size) {
    // Every metadata block takes at least 3 bytes and decodes to at most 8 KiB: the inode table
    // cannot list more block sizes than this.
    const uint64_t table = s.dir_table - s.inode_table;
    max_block_entries_ = std::min<uint64_t>(uint64_t{1} << 26, (table / 3 + 1) * kMetaSize / 2);
    dir_limit_ = s.bytes_used;
    for (uint64_t t : {s.uid_start, s.guid_start, s.fragment_table})
      if (t > s.dir_table) dir_limit_ = std::min(dir_limit_, t);
  }

  Status Run() {
    if (auto s = LoadIds(); !s) return s;
    Inode root;
    if (std::string why = ReadInode(s_.root_inode, &root); !why.empty())
      return Fail(ErrorCode::kMalformed, "squashfs root inode unreadable: " + why,
                  ctx_.base_offset + s_.inode_table + (s_.root_inode >> 16));
    if (root.kind != Kind::kDir)
      return Fail(ErrorCode::kMalformed, "squashfs root inode is not a directory",
                  ctx_.base_offset + s_.inode_table + (s_.root_inode >> 16));
    struct Dir {
      std::string path;
      Inode inode;
      size_t depth;
    };
    std::vector<Dir> stack;
    stack.push_back({"", std::move(root), 0});
    while (!stack.empty()) {
      Dir d = std::move(stack.back());
      stack.pop_back();
      const std::string shown = d.path.empty() ? "/" : d.path;
      const uint64_t key = (uint64_t{d.inode.dir_block} << 16) | d.inode.dir_offset;
      if (!visited_.insert(key).second) {
        Problem(fmt::format(
            "directory \"{}\" repeats a listing already walked (a loop); not entered again",
            shown));
        continue;
      }
      std::vector<Child> children;
      if (auto s = List(shown, d.inode, children); !s) return s;
      std::vector<Dir> subdirs;
      for (Child& c : children) {
        if (auto s = CheckTime(); !s) return s;
        std::string path = d.path.empty() ? c.name : d.path + "/" + c.name;
        Inode in;
        if (std::string why = ReadInode(c.ref, &in); !why.empty()) {
          Problem(fmt::format("\"{}\": inode {:#x} unreadable: {}", path, c.ref, why));
          continue;
        }
        if (in.kind == Kind::kDir) {
          FileEntry e = Base(path, in);
          e.type = EntryType::kDir;
          if (auto s = sink_.Add(std::move(e)); !s) return s;
          if (d.depth + 1 >= kMaxDepth) {
            Problem(
                fmt::format("directory \"{}\" is nested deeper than {} levels", path, kMaxDepth));
          } else if (!ListingEmpty(in)) {
            subdirs.push_back({path, std::move(in), d.depth + 1});
          }
          continue;
        }
        if (auto s = Emit(path, c.ref, in); !s) return s;
      }
      // Reversed so that the stack pops them in listing order.
      for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) stack.push_back(std::move(*it));
    }
    for (FileEntry& e : pending_links_)
      if (auto s = sink_.Add(std::move(e)); !s) return s;
    if (problems_ == 0) return {};
    return Fail(ErrorCode::kMalformed,
                problems_ == 1
                    ? first_problem_
                    : fmt::format("{} (and {} more problems)", first_problem_, problems_ - 1),
                ctx_.base_offset);
  }

  std::string CompressionName() const { return dec_.Name(); }

 private:
  struct Child {
    std::string name;
    uint64_t ref;
  };

  void Problem(std::string msg) {
    if (problems_++ == 0) first_problem_ = std::move(msg);
  }

  Status CheckTime() {
    if ((++ticks_ & 0x3F) == 0 && ctx_.budget.TimeUp())
      return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
    return {};
  }

  Status LoadIds() {
    auto load = [&](uint64_t start, size_t n, std::vector<uint32_t>& out) {
      for (size_t i = 0; i < n; ++i) {
        auto v = ReadU32(fs_, start + i * 4, s_.endian);
        if (!v) return false;
        out.push_back(*v);
      }
      return true;
    };
    if (!load(s_.uid_start, s_.no_uids, uids_))
      return Fail(ErrorCode::kTruncated, "squashfs uid table beyond the image",
                  ctx_.base_offset + s_.uid_start);
    if (!load(s_.guid_start, s_.no_guids, gids_))
      return Fail(ErrorCode::kTruncated, "squashfs gid table beyond the image",
                  ctx_.base_offset + s_.guid_start);
    return {};
  }

  // 3.x counts "." and ".." as 3 bytes of a listing; 1.x and 2.x do not.
  uint64_t ListingBytes(const Inode& in) const {
    if (!s_.v3()) return in.dir_size;
    return in.dir_size > 3 ? in.dir_size - 3 : 0;
  }
  bool ListingEmpty(const Inode& in) const { return ListingBytes(in) == 0; }

  // Reads an inode; returns "" or why not.
  std::string ReadInode(uint64_t ref, Inode* out) {
    Cursor c{s_.inode_table + (ref >> 16), static_cast<size_t>(ref & 0xFFFF)};
    if ((ref >> 16) >= s_.dir_table - s_.inode_table || c.offset >= kMetaSize)
      return "reference outside the inode table";
    const uint64_t limit = s_.dir_table;
    const Endian e = s_.endian;
    uint8_t h[48] = {};
    // The type is the first 4 bits in either packing.
    const size_t base = s_.v3() ? 12 : (s_.v1() ? 3 : 4);
    if (std::string why = meta_.Read(c, h, base, limit); !why.empty()) return why;
    const unsigned type = static_cast<unsigned>(Bits(h, 0, 4, e));
    Inode& in = *out;
    in.mode = static_cast<uint32_t>(Bits(h, 4, 12, e));
    in.mtime = s_.mkfs_time;
    size_t total = 0;  // the fixed part's size for this type
    // uid and gid indexes: 8 bits each (1.x: 4), all ones meaning "same as uid".
    const unsigned id_bits = s_.v1() ? 4 : 8;
    in.uid_index = static_cast<uint32_t>(Bits(h, 16, id_bits, e));
    in.gid_index = static_cast<uint32_t>(Bits(h, 16 + id_bits, id_bits, e));
    in.gid_is_uid = in.gid_index == (1u << id_bits) - 1;
    if (s_.v3()) {
      in.mtime = static_cast<uint32_t>(Bits(h, 32, 32, e));
      static constexpr size_t kSize3[] = {0, 28, 32, 18, 18, 18, 16, 16, 31, 40};
      if (type == 0 || type > 9) return fmt::format("unknown inode type {}", type);
      total = kSize3[type];
    } else if (!s_.v1()) {
      static constexpr size_t kSize2[] = {0, 15, 24, 6, 6, 6, 4, 4, 18};
      if (type == 0 || type > 8) return fmt::format("unknown inode type {}", type);
      total = kSize2[type];
    } else {
      static constexpr size_t kSize1[] = {4, 14, 15, 5, 5, 5};
      if (type > 5) return fmt::format("unknown inode type {}", type);
      total = kSize1[type];
    }
    if (total > base)
      if (std::string why = meta_.Read(c, h + base, total - base, limit); !why.empty()) return why;
    if (s_.v3()) return Decode3(type, h, c, in);
    if (!s_.v1()) return Decode2(type, h, c, in);
    return Decode1(type, h, c, in);
  }

  std::string ReadTarget(Cursor& c, size_t n, Inode& in) {
    in.kind = Kind::kSymlink;
    in.target.resize(n);
    return meta_.Read(c, in.target.data(), n, s_.dir_table);
  }

  // The three versions lay out each kind's fields in the same order, one after another; they
  // differ in where the fields start, how wide some are and which are present. So each kind is
  // decoded once, from its first bit position and its widths.
  void DecodeDir(const uint8_t* h, unsigned at, unsigned size_bits, bool has_mtime,
                 unsigned block_bits, Inode& in) const {
    const Endian e = s_.endian;
    in.kind = Kind::kDir;
    in.dir_size = Bits(h, at, size_bits, e);
    at += size_bits;
    in.dir_offset = static_cast<uint32_t>(Bits(h, at, 13, e));
    at += 13;
    if (has_mtime) {
      in.mtime = static_cast<uint32_t>(Bits(h, at, 32, e));
      at += 32;
    }
    in.dir_block = static_cast<uint32_t>(Bits(h, at, block_bits, e));
  }

  void DecodeFile(const uint8_t* h, const Cursor& c, unsigned at, bool has_mtime,
                  unsigned start_bits, bool has_fragment, unsigned size_bits, Inode& in) const {
    const Endian e = s_.endian;
    in.kind = Kind::kFile;
    if (has_mtime) {
      in.mtime = static_cast<uint32_t>(Bits(h, at, 32, e));
      at += 32;
    }
    in.start_block = Bits(h, at, start_bits, e);
    at += start_bits;
    if (has_fragment) {
      in.fragment = Bits(h, at, 32, e);
      in.frag_offset = static_cast<uint32_t>(Bits(h, at + 32, 32, e));
      at += 64;
    }
    in.file_size = Bits(h, at, size_bits, e);
    in.block_list = c;
  }

  // Symlinks, devices, fifos and sockets: their fields start at bit `at` in every version.
  std::string DecodeOther(unsigned type, const uint8_t* h, unsigned at, Cursor& c, Inode& in) {
    switch (type) {
      case 3:
        return ReadTarget(c, Bits(h, at, 16, s_.endian), in);
      case 4:
      case 5:
        in.kind = type == 4 ? Kind::kBlockDev : Kind::kCharDev;
        in.rdev = static_cast<uint32_t>(Bits(h, at, 16, s_.endian));
        return "";
      case 6:
      case 7:
        in.kind = type == 6 ? Kind::kFifo : Kind::kSocket;
        return "";
    }
    return fmt::format("unknown inode type {}", type);
  }

  std::string Decode3(unsigned type, const uint8_t* h, Cursor& c, Inode& in) {
    switch (type) {
      case 1:  // directory
        DecodeDir(h, 128, 19, false, 32, in);
        return "";
      case 8:  // directory with an index (the index is for lookups; the walk does not need it)
        DecodeDir(h, 128, 27, false, 32, in);
        return "";
      case 2:
        DecodeFile(h, c, 96, false, 64, true, 32, in);
        return "";
      case 9:
        DecodeFile(h, c, 128, false, 64, true, 64, in);
        return "";
    }
    return DecodeOther(type, h, 128, c, in);
  }

  std::string Decode2(unsigned type, const uint8_t* h, Cursor& c, Inode& in) {
    switch (type) {
      case 1:
        DecodeDir(h, 32, 19, true, 24, in);
        return "";
      case 8:
        DecodeDir(h, 32, 27, true, 24, in);
        return "";
      case 2:
        DecodeFile(h, c, 32, true, 32, true, 32, in);
        return "";
    }
    return DecodeOther(type, h, 32, c, in);
  }

  // 1.x has no fifo/socket types 6 and 7 (ReadInode refuses types above 5): they are type 0.
  std::string Decode1(unsigned type, const uint8_t* h, Cursor& c, Inode& in) {
    const Endian e = s_.endian;
    switch (type) {
      case 0: {  // fifo or socket; the spare nibble extends the uid index
        const unsigned sub = static_cast<unsigned>(Bits(h, 24, 4, e));
        in.kind = sub == 7 ? Kind::kSocket : Kind::kFifo;
        in.uid_index += static_cast<uint32_t>(Bits(h, 28, 4, e)) * 16;
        return "";
      }
      case 1:
        DecodeDir(h, 24, 19, true, 24, in);
        return "";
      case 2:
        DecodeFile(h, c, 24, true, 32, false, 32, in);
        return "";
    }
    return DecodeOther(type, h, 24, c, in);
  }

  // Reads a directory's listing into `out`.
  Status List(const std::string& shown, const Inode& dir, std::vector<Child>& out) {
    const uint64_t len = ListingBytes(dir);
    if (len == 0) return {};
    Cursor c{s_.dir_table + dir.dir_block, dir.dir_offset};
    if (dir.dir_block >= dir_limit_ - s_.dir_table || dir.dir_offset >= kMetaSize) {
      Problem(fmt::format("directory \"{}\": listing at {:#x}:{} lies outside the directory table",
                          shown, dir.dir_block, dir.dir_offset));
      return {};
    }
    const Endian e = s_.endian;
    const size_t head_size = s_.v3() ? 9 : 4;
    const size_t entry_size = s_.v3() ? 5 : 3;
    const size_t cap = std::min<uint64_t>(kMaxEntriesPerDir, ctx_.budget.files_left + 1);
    uint64_t done = 0;
    while (done + head_size <= len) {
      if (auto s = CheckTime(); !s) return s;
      uint8_t h[9];
      if (std::string why = meta_.Read(c, h, head_size, dir_limit_); !why.empty()) {
        Problem(fmt::format("directory \"{}\": listing broken after {} entries: {}", shown,
                            out.size(), why));
        return {};
      }
      done += head_size;
      const size_t count = Bits(h, 0, 8, e) + 1;
      const uint64_t block = Bits(h, 8, s_.v3() ? 32 : 24, e);
      for (size_t i = 0; i < count; ++i) {
        uint8_t d[5];
        char name[257];
        std::string why = meta_.Read(c, d, entry_size, dir_limit_);
        const size_t name_len = why.empty() ? Bits(d, 16, 8, e) + 1 : 0;
        if (why.empty()) why = meta_.Read(c, name, name_len, dir_limit_);
        if (!why.empty()) {
          Problem(fmt::format("directory \"{}\": listing broken after {} entries: {}", shown,
                              out.size(), why));
          return {};
        }
        done += entry_size + name_len;
        if (done > len) {
          Problem(fmt::format("directory \"{}\": an entry runs past the listing's {} bytes", shown,
                              len));
          return {};
        }
        if (out.size() >= cap) {
          Problem(fmt::format("directory \"{}\" has more than {} entries; the rest were skipped",
                              shown, cap));
          return {};
        }
        std::string n(name, name_len);
        if (n == "." || n == ".." || n.find('/') != std::string::npos ||
            n.find('\0') != std::string::npos) {
          Problem(fmt::format("directory \"{}\": entry name \"{}\" is not a file name; skipped",
                              shown, n));
          continue;
        }
        const uint64_t offset = Bits(d, 0, 13, e);
        out.push_back({std::move(n), (block << 16) | offset});
      }
    }
    return {};
  }

  FileEntry Base(const std::string& path, const Inode& in) {
    FileEntry e;
    e.raw_name = path;
    e.mode = in.mode & 07777;
    e.mtime = in.mtime;
    if (in.uid_index >= uids_.size()) {
      Problem(fmt::format("\"{}\": uid index {} outside the uid table of {}", path, in.uid_index,
                          uids_.size()));
    } else {
      e.uid = uids_[in.uid_index];
    }
    if (in.gid_is_uid) {
      e.gid = e.uid;
    } else if (in.gid_index >= gids_.size()) {
      Problem(fmt::format("\"{}\": gid index {} outside the gid table of {}", path, in.gid_index,
                          gids_.size()));
    } else {
      e.gid = gids_[in.gid_index];
    }
    return e;
  }

  Status Emit(const std::string& path, uint64_t ref, const Inode& in) {
    FileEntry e = Base(path, in);
    switch (in.kind) {
      case Kind::kDir:
        break;  // handled by the walk
      case Kind::kFile:
        return EmitFile(path, ref, in, std::move(e));
      case Kind::kSymlink:
        e.type = EntryType::kSymlink;
        e.link_target = in.target;
        e.size = in.target.size();
        return sink_.Add(std::move(e));
      case Kind::kBlockDev:
      case Kind::kCharDev:
        e.type = in.kind == Kind::kBlockDev ? EntryType::kBlockDev : EntryType::kCharDev;
        // The old 16-bit encoding: 8-bit major and minor.
        e.rdev_major = (in.rdev >> 8) & 0xFF;
        e.rdev_minor = in.rdev & 0xFF;
        return sink_.Add(std::move(e));
      case Kind::kFifo:
        e.type = EntryType::kFifo;
        return sink_.Add(std::move(e));
      case Kind::kSocket:
        e.type = EntryType::kSocket;
        return sink_.Add(std::move(e));
    }
    return {};
  }

  Status EmitFile(const std::string& path, uint64_t ref, const Inode& in, FileEntry e) {
    e.type = EntryType::kFile;
    e.size = in.file_size;
    e.origin.offset = in.start_block;
    // A hardlinked file's inode is stored once; every name refers to the same inode.
    if (auto seen = files_.find(ref); seen != files_.end()) {
      e.type = EntryType::kHardlink;
      e.link_target = seen->second;
      pending_links_.push_back(std::move(e));
      return {};
    }
    files_.emplace(ref, path);
    const bool has_frag = !s_.v1() && in.fragment != kNoFragment;
    const uint64_t blocks = has_frag ? in.file_size / s_.block_size
                                     : (in.file_size + s_.block_size - 1) / s_.block_size;
    if (blocks > max_block_entries_) {
      Problem(fmt::format("\"{}\": file size {} needs more blocks than the inode table can list",
                          path, in.file_size));
      e.size = 0;
      auto out = sink_.OpenFile(std::move(e));
      if (!out) return std::unexpected(out.error());
      return *out == nullptr ? Status{} : (*out)->Close(true);
    }
    auto out = sink_.OpenFile(std::move(e));
    if (!out) return std::unexpected(out.error());
    if (*out == nullptr) return {};
    TreeSink::FileOut& fo = **out;
    if (sink_.dry_run()) return fo.Close();
    uint64_t written = 0;
    std::string why = ReadData(in, blocks, has_frag, fo, written);
    if (why == "\x01") return std::unexpected(limit_error_);
    if (!why.empty()) {
      Problem(fmt::format("\"{}\": {}; file truncated at {} bytes", path, why, written));
      return fo.Close(true);
    }
    return fo.Close();
  }

  // Streams a file's blocks and tail fragment into `fo`. Returns "" on success, "\x01" when the
  // sink refused (limit_error_ holds why), or why the data is broken.
  std::string ReadData(const Inode& in, uint64_t blocks, bool has_frag, TreeSink::FileOut& fo,
                       uint64_t& written) {
    Cursor list = in.block_list;
    uint64_t pos = in.start_block;
    const size_t word = s_.v1() ? 2 : 4;
    for (uint64_t i = 0; i < blocks; ++i) {
      if (auto s = CheckTime(); !s) {
        limit_error_ = s.error();
        return "\x01";
      }
      uint8_t w[4];
      if (std::string why = meta_.Read(list, w, word, s_.dir_table); !why.empty())
        return fmt::format("block list entry {} unreadable: {}", i, why);
      const uint32_t v = word == 2
                             ? *ReadU16(Bytes(reinterpret_cast<std::byte*>(w), 2), 0, s_.endian)
                             : *ReadU32(Bytes(reinterpret_cast<std::byte*>(w), 4), 0, s_.endian);
      const bool stored = word == 2 ? (v & 0x8000) : (v & (1u << 24));
      const uint64_t len = word == 2 ? (v & 0x7FFF) : (v & ~(1u << 24));
      const size_t want =
          static_cast<size_t>(std::min<uint64_t>(s_.block_size, in.file_size - i * s_.block_size));
      std::span<std::byte> buf(block_.data(), want);
      if (len == 0) {
        // A sparse block: zeros.
        std::fill(buf.begin(), buf.end(), std::byte{0});
      } else {
        if (pos > fs_.size() || len > fs_.size() - pos || pos + len > s_.bytes_used)
          return fmt::format("data block {} at {:#x} ({} bytes) lies beyond the image", i, pos,
                             len);
        Bytes src = fs_.subspan(pos, len);
        if (stored) {
          if (len != want)
            return fmt::format("uncompressed data block {} at {:#x} holds {} bytes, not {}", i, pos,
                               len, want);
          std::memcpy(buf.data(), src.data(), want);
        } else {
          auto n = dec_.Decode(src, std::span<std::byte>(block_), want);
          if (!n) return fmt::format("data block {} at {:#x}: {}", i, pos, n.error().message);
        }
        pos += len;
      }
      if (auto s = fo.Write(buf); !s) {
        limit_error_ = s.error();
        return "\x01";
      }
      written += want;
    }
    if (has_frag && written < in.file_size) {
      const uint64_t tail = in.file_size - written;
      const std::vector<std::byte>* frag = nullptr;
      if (std::string why = Fragment(in.fragment, &frag); !why.empty()) return why;
      if (in.frag_offset > frag->size() || tail > frag->size() - in.frag_offset)
        return fmt::format("tail of {} bytes at {} lies outside fragment {} ({} bytes)", tail,
                           in.frag_offset, in.fragment, frag->size());
      if (auto s = fo.Write(Bytes(frag->data() + in.frag_offset, tail)); !s) {
        limit_error_ = s.error();
        return "\x01";
      }
      written += tail;
    }
    if (written != in.file_size)
      return fmt::format("{} bytes of data for a size of {}", written, in.file_size);
    return "";
  }

  // The decoded fragment block `index`, from a small cache (files sharing a fragment are
  // usually listed together).
  std::string Fragment(uint64_t index, const std::vector<std::byte>** out) {
    if (auto it = frag_cache_.find(index); it != frag_cache_.end()) {
      *out = &it->second;
      return "";
    }
    if (index >= s_.fragments)
      return fmt::format("fragment {} beyond the table of {}", index, s_.fragments);
    const uint64_t entry = s_.v3() ? 16 : 8, ptr = s_.v3() ? 8 : 4;
    const uint64_t byte = index * entry;
    const uint64_t slot = s_.fragment_table + byte / kMetaSize * ptr;
    uint64_t block = 0;
    if (ptr == 8) {
      auto v = ReadU64(fs_, slot, s_.endian);
      if (!v) return fmt::format("fragment index at {:#x} beyond the image", slot);
      block = *v;
    } else {
      auto v = ReadU32(fs_, slot, s_.endian);
      if (!v) return fmt::format("fragment index at {:#x} beyond the image", slot);
      block = *v;
    }
    Cursor c{block, static_cast<size_t>(byte % kMetaSize)};
    uint8_t raw[16];
    if (std::string why = meta_.Read(c, raw, entry, s_.bytes_used); !why.empty())
      return fmt::format("fragment entry {} unreadable: {}", index, why);
    const uint64_t start = Bits(raw, 0, ptr * 8, s_.endian);
    const uint32_t size_word = static_cast<uint32_t>(Bits(raw, ptr * 8, 32, s_.endian));
    const bool stored = size_word & (1u << 24);
    const uint64_t len = size_word & ~(1u << 24);
    if (len == 0 || start > fs_.size() || len > fs_.size() - start || start + len > s_.bytes_used)
      return fmt::format("fragment {} at {:#x} ({} bytes) lies beyond the image", index, start,
                         len);
    std::vector<std::byte> data;
    Bytes src = fs_.subspan(start, len);
    if (stored) {
      if (len > s_.block_size)
        return fmt::format("uncompressed fragment {} holds {} bytes", index, len);
      data.assign(src.begin(), src.end());
    } else {
      data.resize(s_.block_size);
      auto n = dec_.Decode(src, std::span<std::byte>(data), 0);
      if (!n) return fmt::format("fragment {} at {:#x}: {}", index, start, n.error().message);
      data.resize(*n);
    }
    if (frag_cache_.size() >= 8) frag_cache_.clear();
    auto [it, inserted] = frag_cache_.emplace(index, std::move(data));
    *out = &it->second;
    return "";
  }

  const ExtractContext& ctx_;
  Bytes fs_;
  const Super& s_;
  TreeSink& sink_;
  Decoder dec_;
  Metadata meta_;
  std::vector<std::byte> block_;
  uint64_t max_block_entries_ = 0;
  uint64_t dir_limit_ = 0;
  std::vector<uint32_t> uids_, gids_;
  std::unordered_set<uint64_t> visited_;
  std::unordered_map<uint64_t, std::string> files_;  // inode reference -> first path
  std::vector<FileEntry> pending_links_;
  std::unordered_map<uint64_t, std::vector<std::byte>> frag_cache_;
  Error limit_error_;
  uint64_t problems_ = 0;
  std::string first_problem_;
  uint64_t ticks_ = 0;
};

// Which compression the image uses, from its first inode-table block.
std::string ProbeCompression(Bytes fs, const Super& s) {
  Decoder dec;
  Metadata meta(fs, s, dec);
  Cursor c{s.inode_table, 0};
  uint8_t b;
  if (!meta.Read(c, &b, 1, s.dir_table).empty()) return "unknown";
  std::string name = dec.Name();
  return name == "unknown" ? "unknown (metadata stored uncompressed)" : name;
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
      {"endianness", s->endian == Endian::kLittle ? "little" : "big"},
      {"magic", s->magic},
      {"compression", ProbeCompression(data.first(std::min<uint64_t>(data.size(), p.size)), *s)},
      {"block_size", std::to_string(s->block_size)},
      {"inodes", std::to_string(s->inodes)},
      {"mkfs_time",
       FormatUtc(std::chrono::system_clock::time_point(std::chrono::seconds(s->mkfs_time)))},
      {"bytes_used", std::to_string(s->bytes_used)},
  };
  return p;
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto s = ReadSuper(ctx.chunk, ctx.base_offset);
  if (!s) return std::unexpected(s.error());
  Walker w(ctx, sink, *s);
  return w.Run();
}

}  // namespace

extern const FormatHandler squashfs_legacy_handler{
    "squashfs_legacy",
    FormatKind::kFilesystem,
    "SquashFS 1.x/2.x/3.x (either endian; zlib or vendor LZMA, magics hsqs sqsh shsq qshs sqlz)",
    kMagics,
    Parse,
    Extract};

}  // namespace firmwarden::unpack
