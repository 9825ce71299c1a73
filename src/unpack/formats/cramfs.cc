// cramfs (v1 and v2), in either byte order, with or without the 512-byte boot pad before the
// superblock, including the extended block pointers (flag 0x800) that XIP images use.
//
// Layout (all integers in the image's byte order; offsets are from the start of the image, pad
// included):
//   superblock (76 bytes): magic, size, flags, future, "Compressed ROMFS", fsid {crc, edition,
//                          blocks, files}, name[16], root inode
//   inode (12 bytes):      mode:16 uid:16 | size:24 gid:8 | namelen:6 offset:26 (offset in units
//                          of 4 bytes), followed by namelen*4 bytes of NUL-padded name
//   directory:             offset -> its children's inodes, size = bytes of those inodes+names
//   file / symlink:        offset -> ceil(size/4096) u32 block pointers, then the blocks
//   device:                size = the device number in the old 16-bit encoding
// The bitfields are declared with the C compiler's native bit order, so a big-endian image packs
// them from the most significant bit down: mode is the top half of the first word there.
//
// Nothing is trusted: every read goes through checked helpers, directories are walked with a
// visited set, a depth cap and a cap on the number of inodes (each inode occupies 12 distinct
// bytes, so a real image cannot have more than size/12).
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr uint32_t kMagic = 0x28CD3D45;
constexpr size_t kPad = 512;  // mkfs.cramfs -p: room for a boot sector before the superblock
constexpr size_t kSuperSize = 76;
constexpr size_t kInodeSize = 12;
constexpr size_t kBlockSize = 4096;  // PAGE_SIZE on every machine cramfs images are made for
constexpr size_t kMaxDepth = 256;
constexpr size_t kMaxSymlink = 65536;

constexpr uint32_t kFlagFsidV2 = 0x1;
constexpr uint32_t kFlagSortedDirs = 0x2;
constexpr uint32_t kFlagHoles = 0x100;
constexpr uint32_t kFlagWrongSignature = 0x200;
constexpr uint32_t kFlagShiftedRoot = 0x400;
constexpr uint32_t kFlagExtBlockPointers = 0x800;
// What the Linux kernel accepts (bits 0-7 are "compatible" flags).
constexpr uint32_t kKnownFlags =
    0xFF | kFlagHoles | kFlagWrongSignature | kFlagShiftedRoot | kFlagExtBlockPointers;

constexpr uint32_t kBlkUncompressed = 1U << 31;
constexpr uint32_t kBlkDirect = 1U << 30;
constexpr uint32_t kBlkFlags = kBlkUncompressed | kBlkDirect;

constexpr Magic kMagics[] = {{std::string_view("\x45\x3D\xCD\x28", 4), 0},
                             {std::string_view("\x28\xCD\x3D\x45", 4), 0},
                             {std::string_view("\x45\x3D\xCD\x28", 4), kPad},
                             {std::string_view("\x28\xCD\x3D\x45", 4), kPad}};

struct Inode {
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t size = 0;
  uint32_t gid = 0;
  uint32_t name_bytes = 0;  // namelen * 4
  uint32_t offset = 0;      // in bytes
};

Result<Inode> ReadInode(Bytes img, size_t pos, Endian e) {
  auto w0 = ReadU32(img, pos, e);
  auto w1 = ReadU32(img, pos + 4, e);
  auto w2 = ReadU32(img, pos + 8, e);
  if (!w0 || !w1 || !w2) return Fail(ErrorCode::kTruncated, "cramfs inode beyond the image", pos);
  Inode i;
  if (e == Endian::kLittle) {
    i.mode = *w0 & 0xFFFF;
    i.uid = *w0 >> 16;
    i.size = *w1 & 0xFFFFFF;
    i.gid = *w1 >> 24;
    i.name_bytes = (*w2 & 0x3F) * 4;
    i.offset = (*w2 >> 6) * 4;
  } else {
    i.mode = *w0 >> 16;
    i.uid = *w0 & 0xFFFF;
    i.size = *w1 >> 8;
    i.gid = *w1 & 0xFF;
    i.name_bytes = (*w2 >> 26) * 4;
    i.offset = (*w2 & 0x3FFFFFF) * 4;
  }
  return i;
}

struct Super {
  Endian endian = Endian::kLittle;
  size_t super_offset = 0;  // 0, or 512 with the pad
  uint32_t size = 0;
  uint32_t flags = 0;
  uint32_t crc = 0, edition = 0, blocks = 0, files = 0;
  std::string name;
  Inode root;
  bool v2() const { return flags & kFlagFsidV2; }
};

bool AllZero(Bytes b) {
  return std::all_of(b.begin(), b.end(), [](std::byte c) { return c == std::byte{0}; });
}

// Finds and checks the superblock of an image starting at data[0].
Result<Super> ReadSuper(Bytes data, uint64_t base) {
  Super s;
  bool found = false;
  for (size_t off : {size_t{0}, kPad}) {
    for (Endian e : {Endian::kLittle, Endian::kBig}) {
      auto m = ReadU32(data, off, e);
      if (m && *m == kMagic) {
        s.endian = e;
        s.super_offset = off;
        found = true;
        break;
      }
    }
    if (found) break;
  }
  if (!found) return Fail(ErrorCode::kMalformed, "no cramfs magic", base);
  // Any 4 bytes 512 bytes into a candidate would otherwise claim the 512 before them; mkfs.cramfs
  // -p writes a zero pad, so only that is taken as one.
  if (s.super_offset == kPad && !AllZero(data.subspan(0, kPad)))
    return Fail(ErrorCode::kMalformed, "cramfs superblock after a non-zero pad", base);
  const Endian e = s.endian;
  const size_t o = s.super_offset;
  ByteReader r(data, base);
  if (!r.Seek(o + 4)) return Fail(ErrorCode::kTruncated, "cramfs superblock truncated", base);
  auto size = r.U32(e);
  auto flags = r.U32(e);
  auto future = r.U32(e);
  auto sig = r.Take(16);
  auto crc = r.U32(e);
  auto edition = r.U32(e);
  auto blocks = r.U32(e);
  auto files = r.U32(e);
  auto name = r.FixedString(16);
  if (!size || !flags || !future || !sig || !crc || !edition || !blocks || !files || !name)
    return Fail(ErrorCode::kTruncated, "cramfs superblock truncated", base + o);
  s.size = *size;
  s.flags = *flags;
  s.crc = *crc;
  s.edition = *edition;
  s.blocks = *blocks;
  s.files = *files;
  s.name = std::move(*name);
  if (!(s.flags & kFlagWrongSignature) && AsChars(*sig) != "Compressed ROMFS")
    return Fail(ErrorCode::kMalformed, "cramfs signature missing", base + o + 16);
  auto root = ReadInode(data, o + 64, e);
  if (!root) return std::unexpected(root.error());
  s.root = *root;
  if ((s.root.mode & 0170000) != 0040000)
    return Fail(ErrorCode::kMalformed, "cramfs root inode is not a directory", base + o + 64);
  // The kernel's sanity check, made exact: the root listing follows the superblock directly.
  // (The kernel also takes 76 behind a pad; that would point into the pad, and insisting on 588
  // keeps an unpadded image preceded by 512 zero bytes from being read 512 bytes off.)
  if (!(s.flags & kFlagShiftedRoot) && s.root.size != 0 && s.root.offset != o + kSuperSize)
    return Fail(ErrorCode::kMalformed, fmt::format("cramfs root offset {} is bad", s.root.offset),
                base + o + 64);
  if (s.v2()) {
    if (s.size < o + kSuperSize)
      return Fail(ErrorCode::kMalformed, fmt::format("cramfs size {} too small", s.size),
                  base + o + 4);
  } else if (s.size < o + kSuperSize || s.size > data.size()) {
    // v1 images predate a trustworthy size field; without one the chunk cannot be measured.
    return Fail(ErrorCode::kUnsupported, "cramfs v1 image without a usable size", base + o + 4);
  }
  if (s.root.size != 0 && (uint64_t{s.root.offset} + s.root.size > s.size))
    return Fail(ErrorCode::kMalformed, "cramfs root listing lies beyond the image", base + o + 64);
  return s;
}

// zlib's crc32 over the image with the crc field read as zero, as mkfs.cramfs computes it.
uint32_t ImageCrc(Bytes img, size_t crc_pos) {
  uLong crc = crc32(0L, Z_NULL, 0);
  auto feed = [&](Bytes b) {
    while (!b.empty()) {
      uInt n = static_cast<uInt>(std::min<size_t>(b.size(), 1U << 30));
      crc = crc32(crc, reinterpret_cast<const Bytef*>(b.data()), n);
      b = b.subspan(n);
    }
  };
  static constexpr std::byte kZero[4] = {};
  feed(img.subspan(0, crc_pos));
  feed(Bytes(kZero, 4));
  feed(img.subspan(crc_pos + 4));
  return static_cast<uint32_t>(crc);
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto s = ReadSuper(data, ctx.offset);
  if (!s) return std::unexpected(s.error());
  Parsed p;
  p.size = s->size;
  p.truncated = s->size > data.size();
  p.details = {{"endianness", s->endian == Endian::kLittle ? "little" : "big"},
               {"version", s->v2() ? "2" : "1"},
               {"flags", fmt::format("{:#x}", s->flags)},
               {"size", std::to_string(s->size)}};
  if (s->super_offset != 0) p.details.push_back({"pad", std::to_string(s->super_offset)});
  if (!s->name.empty()) p.details.push_back({"name", s->name});
  if (s->v2()) {
    p.details.push_back({"files", std::to_string(s->files)});
    p.details.push_back({"blocks", std::to_string(s->blocks)});
    p.details.push_back({"edition", std::to_string(s->edition)});
  }
  if (s->flags & kFlagExtBlockPointers) p.details.push_back({"ext_block_pointers", "yes"});
  if (s->flags & ~kKnownFlags)
    p.warnings.push_back(fmt::format("cramfs has unknown flags {:#x}", s->flags & ~kKnownFlags));
  if (s->v2() && !p.truncated) {
    // mkfs.cramfs checksums from the superblock on, pad excluded.
    Bytes img = data.subspan(s->super_offset, s->size - s->super_offset);
    uint32_t crc = ImageCrc(img, 32);
    p.details.push_back({"crc", crc == s->crc ? "ok" : "mismatch"});
    if (crc != s->crc)
      p.warnings.push_back(
          fmt::format("cramfs CRC mismatch: stored {:#010x}, computed {:#010x}", s->crc, crc));
  }
  return p;
}

// Reads file (and symlink) data block by block.
class DataReader {
 public:
  DataReader(Bytes img, const Super& s) : img_(img), s_(s) { ok_ = inflateInit(&zs_) == Z_OK; }
  ~DataReader() {
    if (ok_) inflateEnd(&zs_);
  }
  DataReader(const DataReader&) = delete;
  DataReader& operator=(const DataReader&) = delete;

  // Decodes block `i` of a file of `size` bytes whose pointer table starts at `table`; fills
  // out (its size is the block's expected length). Returns "" or why the block is unreadable.
  std::string Block(uint32_t table, uint32_t size, uint32_t i, std::vector<std::byte>& out) {
    const Endian e = s_.endian;
    const uint32_t nblocks = static_cast<uint32_t>((uint64_t{size} + kBlockSize - 1) / kBlockSize);
    const size_t want = std::min<uint64_t>(kBlockSize, uint64_t{size} - uint64_t{i} * kBlockSize);
    out.assign(want, std::byte{0});
    auto ptr = ReadU32(img_, size_t{table} + size_t{i} * 4, e);
    if (!ptr) return "block pointer beyond the image";
    const bool ext = s_.flags & kFlagExtBlockPointers;
    const bool uncompressed = ext && (*ptr & kBlkUncompressed);
    uint64_t start = 0, len = 0;
    if (ext && (*ptr & kBlkDirect)) {
      // An absolute start, in units of 4 bytes; a compressed block carries its length first.
      start = uint64_t{*ptr & ~kBlkFlags} << 2;
      if (uncompressed) {
        len = want;
      } else {
        auto n = ReadU16(img_, start, e);
        if (!n) return "block beyond the image";
        len = *n;
        start += 2;
      }
    } else {
      uint32_t end = ext ? (*ptr & ~kBlkFlags) : *ptr;
      start = uint64_t{table} + uint64_t{nblocks} * 4;
      if (i > 0) {
        auto prev = ReadU32(img_, size_t{table} + size_t{i - 1} * 4, e);
        if (!prev) return "block pointer beyond the image";
        start = *prev;
        if (ext && (*prev & kBlkDirect)) {
          // The previous block was placed directly: this one starts where that one ends.
          start = uint64_t{*prev & ~kBlkFlags} << 2;
          if (*prev & kBlkUncompressed) {
            start += kBlockSize;
          } else {
            auto n = ReadU16(img_, start, e);
            if (!n) return "block beyond the image";
            start += 2 + *n;
          }
        } else if (ext) {
          start &= ~kBlkFlags;
        }
      }
      if (end < start) return fmt::format("block {} ends before it starts", i);
      len = end - start;
    }
    if (len == 0) return "";  // a hole: zeros
    if (start + len > img_.size()) return fmt::format("block {} lies beyond the image", i);
    Bytes in = img_.subspan(start, len);
    if (uncompressed) {
      if (len < want) return fmt::format("uncompressed block {} is short", i);
      std::memcpy(out.data(), in.data(), want);
      return "";
    }
    if (!ok_) return "zlib unavailable";
    inflateReset(&zs_);
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out.data());
    zs_.avail_out = static_cast<uInt>(out.size());
    int ret = inflate(&zs_, Z_FINISH);
    if (ret != Z_STREAM_END || zs_.total_out != want)
      return fmt::format("block {} does not decompress to {} bytes", i, want);
    return "";
  }

 private:
  Bytes img_;
  const Super& s_;
  z_stream zs_{};
  bool ok_ = false;
};

class Walker {
 public:
  Walker(const ExtractContext& ctx, TreeSink& sink, const Super& s)
      : ctx_(ctx), img_(ctx.chunk), s_(s), sink_(sink), data_(ctx.chunk, s) {}

  Status Run() {
    inode_cap_ = img_.size() / kInodeSize + 1;
    struct Dir {
      std::string path;
      Inode inode;
      size_t depth;
    };
    std::vector<Dir> stack;
    // The root itself is the tree's top directory and has no name: only its children are entries.
    stack.push_back({"", s_.root, 0});
    while (!stack.empty()) {
      Dir d = std::move(stack.back());
      stack.pop_back();
      if (ctx_.budget.TimeUp())
        return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
      if (!visited_.insert({d.inode.offset, d.inode.size}).second) {
        Problem(fmt::format("directory \"{}\" repeats a listing already walked (a loop)", d.path));
        continue;
      }
      uint64_t pos = d.inode.offset;
      const uint64_t end = uint64_t{d.inode.offset} + d.inode.size;
      if (end > img_.size()) {
        Problem(fmt::format("directory \"{}\" lists entries beyond the image", d.path));
      }
      std::vector<Dir> children;
      while (pos + kInodeSize <= std::min<uint64_t>(end, img_.size())) {
        if (++inodes_ > inode_cap_) {
          Problem("more inodes than the image can hold; walk stopped");
          return Finish();
        }
        auto in = ReadInode(img_, pos, s_.endian);
        if (!in) break;
        auto name_bytes = ReadBytes(pos + kInodeSize, in->name_bytes);
        if (!name_bytes || in->name_bytes == 0) {
          Problem(fmt::format("entry at {:#x} in \"{}\" has no readable name", pos, d.path));
          break;
        }
        std::string name(AsChars(*name_bytes));
        while (!name.empty() && name.back() == '\0') name.pop_back();
        std::string path = d.path.empty() ? name : d.path + "/" + name;
        const size_t inode_pos = pos;
        pos += kInodeSize + in->name_bytes;
        if ((in->mode & 0170000) == 0040000) {
          FileEntry e = Base(path, *in, inode_pos);
          e.type = EntryType::kDir;
          if (auto s = sink_.Add(std::move(e)); !s) return s;
          if (d.depth + 1 >= kMaxDepth) {
            Problem(
                fmt::format("directory \"{}\" is nested deeper than {} levels", path, kMaxDepth));
          } else if (in->size != 0) {
            children.push_back({path, *in, d.depth + 1});
          }
          continue;
        }
        if (auto s = Emit(path, *in, inode_pos); !s) return s;
      }
      if (pos != std::min<uint64_t>(end, img_.size()) && pos < end)
        Problem(fmt::format("directory \"{}\" listing ends mid-entry", d.path));
      // Reversed so that the stack pops them in listing order.
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
    }
    return Finish();
  }

 private:
  Status Finish() {
    if (problems_ == 0) return {};
    return Fail(ErrorCode::kMalformed,
                problems_ == 1
                    ? first_problem_
                    : fmt::format("{} (and {} more problems)", first_problem_, problems_ - 1),
                ctx_.base_offset);
  }

  void Problem(std::string msg) {
    if (problems_++ == 0) first_problem_ = std::move(msg);
  }

  Result<Bytes> ReadBytes(uint64_t pos, uint64_t n) const {
    if (pos > img_.size() || n > img_.size() - pos)
      return Fail(ErrorCode::kTruncated, "beyond the image");
    return img_.subspan(pos, n);
  }

  FileEntry Base(const std::string& path, const Inode& in, size_t inode_pos) const {
    FileEntry e;
    e.raw_name = path;
    e.mode = in.mode & 07777;
    e.uid = in.uid;
    e.gid = in.gid;
    e.mtime = 0;  // cramfs keeps no timestamps
    e.origin.offset = inode_pos;
    return e;
  }

  // Decodes a file's data, handing each block to `put`. Returns "" or why the data is broken.
  template <typename Put>
  Result<std::string> ReadData(const Inode& in, Put&& put) {
    const uint32_t nblocks =
        static_cast<uint32_t>((uint64_t{in.size} + kBlockSize - 1) / kBlockSize);
    for (uint32_t i = 0; i < nblocks; ++i) {
      if ((i & 0xFF) == 0 && ctx_.budget.TimeUp())
        return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
      std::string why = data_.Block(in.offset, in.size, i, block_);
      if (!why.empty()) return why;
      if (auto s = put(Bytes(block_.data(), block_.size())); !s) return std::unexpected(s.error());
    }
    return std::string();
  }

  Status Emit(const std::string& path, const Inode& in, size_t inode_pos) {
    FileEntry e = Base(path, in, inode_pos);
    switch (in.mode & 0170000) {
      case 0100000: {
        e.type = EntryType::kFile;
        e.size = in.size;
        auto out = sink_.OpenFile(std::move(e));
        if (!out) return std::unexpected(out.error());
        if (*out == nullptr) return {};  // refused by the sink (already diagnosed)
        if (sink_.dry_run() || in.size == 0) return (*out)->Close();
        auto why = ReadData(in, [&](Bytes b) { return (*out)->Write(b); });
        if (!why) {
          (void)(*out)->Close(true);
          return std::unexpected(why.error());
        }
        if (!why->empty()) {
          Problem(fmt::format("\"{}\": {}", path, *why));
          return (*out)->Close(true);
        }
        return (*out)->Close();
      }
      case 0120000: {
        e.type = EntryType::kSymlink;
        e.size = in.size;
        if (in.size > kMaxSymlink) {
          Problem(fmt::format("\"{}\": symlink target of {} bytes", path, in.size));
        } else {
          std::string target;
          auto why = ReadData(in, [&](Bytes b) -> Status {
            target.append(AsChars(b));
            return {};
          });
          if (!why) return std::unexpected(why.error());
          if (!why->empty()) Problem(fmt::format("\"{}\": symlink target: {}", path, *why));
          e.link_target = std::move(target);
        }
        return sink_.Add(std::move(e));
      }
      case 0020000:
      case 0060000:
        e.type = (in.mode & 0170000) == 0020000 ? EntryType::kCharDev : EntryType::kBlockDev;
        // The kernel decodes this with old_decode_dev(): 8-bit major and minor.
        e.rdev_major = (in.size >> 8) & 0xFF;
        e.rdev_minor = in.size & 0xFF;
        return sink_.Add(std::move(e));
      case 0010000:
        e.type = EntryType::kFifo;
        return sink_.Add(std::move(e));
      case 0140000:
        e.type = EntryType::kSocket;
        return sink_.Add(std::move(e));
      default:
        Problem(fmt::format("\"{}\": unknown file type {:#o}", path, in.mode & 0170000));
        return {};
    }
  }

  const ExtractContext& ctx_;
  Bytes img_;
  const Super& s_;
  TreeSink& sink_;
  DataReader data_;
  std::vector<std::byte> block_;
  std::set<std::pair<uint32_t, uint32_t>> visited_;
  uint64_t inodes_ = 0;
  uint64_t inode_cap_ = 0;
  uint64_t problems_ = 0;
  std::string first_problem_;
};

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto s = ReadSuper(ctx.chunk, ctx.base_offset);
  if (!s) return std::unexpected(s.error());
  Walker w(ctx, sink, *s);
  return w.Run();
}

}  // namespace

extern const FormatHandler cramfs_handler{"cramfs",
                                          FormatKind::kFilesystem,
                                          "cramfs compressed ROM filesystem (v1/v2, either endian)",
                                          kMagics,
                                          Parse,
                                          Extract};

}  // namespace firmwarden::unpack
