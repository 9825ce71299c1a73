// UBIFS: the flash filesystem that runs on an UBI volume. The handler reads a volume's bytes (the
// UBI handler hands each volume over as a child blob, LEB after LEB; mkfs.ubifs writes the same
// layout to a file).
//
// Every node starts with a 24-byte common header (little-endian): magic 0x06101831, CRC-32 of the
// node from byte 8 on, sequence number, length, node type. LEB 0 holds the superblock node (LEB
// size and count, default compressor, flags), LEBs 1 and 2 the master node (written again and
// again; the valid one with the highest sequence number is current), which points at the root of
// the index: a B+-tree of index nodes whose branches (LEB, offset, length, key) lead at level 0 to
// the leaf nodes, keyed (inode number, type, hash or block):
//   inode node:   size, times, nlink, uid, gid, mode, and inline data (symlink target, device)
//   dent node:    a directory entry: parent inode (in the key), target inode, type, name
//   xent node:    an extended attribute name, whose value is the data of its own inode
//   data node:    one 4096-byte block of a file, compressed (none, LZO, zlib raw deflate, zstd)
// An image made by mkfs.ubifs, or a device's file system after a clean unmount, is wholly in the
// index; nodes written to the journal since the last commit are not replayed (said in a detail).
//
// Nothing is trusted: every node is bounds- and CRC-checked, the index walk keeps a visited set
// and a depth cap, directory walks a visited set, and decompression writes into fixed 4 KiB
// blocks. LZO uses the project's own decoder (liblzo2 is GPL).
#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unpack/emit_util.h"
#include "unpack/handler.h"
#include "unpack/lzo1x.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr uint32_t kNodeMagic = 0x06101831;
constexpr size_t kCommonSize = 24;
constexpr size_t kBlockSize = 4096;
constexpr uint64_t kRootIno = 1;

enum NodeType : uint8_t {
  kIno = 0,
  kData = 1,
  kDent = 2,
  kXent = 3,
  kTrun = 4,
  kPad = 5,
  kSb = 6,
  kMst = 7,
  kRef = 8,
  kIdx = 9,
  kCs = 10,
  kOrph = 11,
};
enum Compr : uint16_t { kNone = 0, kLzo = 1, kZlib = 2, kZstd = 3 };

constexpr size_t kSbSize = 4096;
constexpr size_t kMstSize = 512;
constexpr size_t kInoSize = 160;
constexpr size_t kDentSize = 56;
constexpr size_t kDataSize = 48;
constexpr size_t kIdxSize = 28;
constexpr size_t kBranchSize = 20;  // lnum, offs, len and an 8-byte key
constexpr uint32_t kMinLeb = 15 * 1024;
constexpr uint32_t kMaxLeb = 16U << 20;
constexpr uint32_t kFlagEncryption = 0x8;
constexpr uint32_t kFlagAuthentication = 0x10;
constexpr size_t kMaxIndexLevel = 64;
constexpr size_t kMaxDepth = 256;
constexpr size_t kMaxSymlink = 4096;
constexpr uint64_t kMaxFileSize = 1ULL << 34;

// "\x31\x18\x10\x06": the magic of every node; parse() insists on a superblock node.
constexpr Magic kMagics[] = {{std::string_view("\x31\x18\x10\x06", 4), 0}};

uint32_t NodeCrc(Bytes b) {
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size()));
  return ~static_cast<uint32_t>(c);
}

uint32_t U32(Bytes b, size_t at) { return *ReadU32(b, at, Endian::kLittle); }
uint64_t U64(Bytes b, size_t at) { return *ReadU64(b, at, Endian::kLittle); }
uint16_t U16(Bytes b, size_t at) { return *ReadU16(b, at, Endian::kLittle); }

// A whole node at `pos` of `img` (magic, length within the image, CRC). `why` says what failed.
std::optional<Bytes> NodeAt(Bytes img, uint64_t pos, std::string* why) {
  if (pos > img.size() || img.size() - pos < kCommonSize) {
    *why = "node beyond the image";
    return std::nullopt;
  }
  Bytes h = img.subspan(pos, kCommonSize);
  if (U32(h, 0) != kNodeMagic) {
    *why = "no node magic";
    return std::nullopt;
  }
  uint32_t len = U32(h, 16);
  if (len < kCommonSize || len > img.size() - pos) {
    *why = fmt::format("node length {} out of range", len);
    return std::nullopt;
  }
  Bytes node = img.subspan(pos, len);
  if (NodeCrc(node.subspan(8)) != U32(h, 4)) {
    *why = "node CRC mismatch";
    return std::nullopt;
  }
  return node;
}

uint8_t NodeTypeOf(Bytes node) { return static_cast<uint8_t>(node[20]); }
uint64_t SqnumOf(Bytes node) { return U64(node, 8); }

struct Super {
  uint32_t leb_size = 0;
  uint32_t leb_cnt = 0;
  uint32_t min_io = 0;
  uint32_t flags = 0;
  uint32_t fmt_version = 0;
  uint16_t default_compr = 0;
  uint32_t log_lebs = 0;
  uint8_t key_fmt = 0;
  // Master node.
  uint64_t master_sqnum = 0;
  uint32_t root_lnum = 0, root_offs = 0, root_len = 0;
  uint64_t highest_inum = 0;
  uint64_t cmt_no = 0;
};

std::string_view ComprName(uint16_t c) {
  switch (c) {
    case kNone:
      return "none";
    case kLzo:
      return "lzo";
    case kZlib:
      return "zlib";
    case kZstd:
      return "zstd";
    default:
      return "unknown";
  }
}

Result<Super> ReadSuper(Bytes img, uint64_t base) {
  std::string why;
  auto sb = NodeAt(img, 0, &why);
  if (!sb) return Fail(ErrorCode::kMalformed, "UBIFS superblock: " + why, base);
  if (NodeTypeOf(*sb) != kSb || sb->size() < kSbSize - 3774)
    return Fail(ErrorCode::kMalformed, "not an UBIFS superblock node", base);
  Super s;
  s.key_fmt = static_cast<uint8_t>((*sb)[27]);
  s.flags = U32(*sb, 28);
  s.min_io = U32(*sb, 32);
  s.leb_size = U32(*sb, 36);
  s.leb_cnt = U32(*sb, 40);
  s.log_lebs = U32(*sb, 56);
  s.fmt_version = U32(*sb, 80);
  s.default_compr = U16(*sb, 84);
  if (s.leb_size < kMinLeb || s.leb_size > kMaxLeb || s.leb_size % 8 != 0)
    return Fail(ErrorCode::kMalformed, fmt::format("UBIFS LEB size {} out of range", s.leb_size),
                base + 36);
  if (s.leb_cnt < 3) return Fail(ErrorCode::kMalformed, "UBIFS LEB count below 3", base + 40);
  if (s.key_fmt != 0)
    return Fail(ErrorCode::kUnsupported, fmt::format("UBIFS key format {}", s.key_fmt), base + 27);
  // The master node: LEBs 1 and 2 each hold a run of copies; the valid one with the highest
  // sequence number is current.
  bool found = false;
  for (uint64_t lnum : {1, 2}) {
    uint64_t start = lnum * s.leb_size;
    if (start >= img.size()) continue;
    uint64_t end = std::min<uint64_t>(img.size(), start + s.leb_size);
    for (uint64_t pos = start; pos + kMstSize <= end; pos += 8) {
      if (U32(img.subspan(pos, 4), 0) != kNodeMagic) continue;
      auto m = NodeAt(img.subspan(0, end), pos, &why);
      if (!m || NodeTypeOf(*m) != kMst || m->size() < kMstSize) continue;
      if (found && SqnumOf(*m) <= s.master_sqnum) continue;
      found = true;
      s.master_sqnum = SqnumOf(*m);
      s.highest_inum = U64(*m, 24);
      s.cmt_no = U64(*m, 32);
      s.root_lnum = U32(*m, 48);
      s.root_offs = U32(*m, 52);
      s.root_len = U32(*m, 56);
      pos += ((m->size() + 7) & ~size_t{7}) - 8;  // past this node (the loop adds 8)
    }
  }
  if (!found) return Fail(ErrorCode::kMalformed, "UBIFS: no valid master node", base);
  return s;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto s = ReadSuper(data, ctx.offset);
  if (!s) return std::unexpected(s.error());
  Parsed p;
  // mkfs.ubifs writes only the LEBs in use, and a volume is whole LEBs: the chunk ends at the
  // image's end or at the last LEB, rounded up to a whole LEB (an image cut inside one is
  // truncated).
  const uint64_t whole = uint64_t{s->leb_size} * s->leb_cnt;
  p.size = std::min<uint64_t>(whole, data.size());
  if (p.size % s->leb_size != 0) {
    p.size = std::min<uint64_t>(whole, (p.size / s->leb_size + 1) * s->leb_size);
    p.truncated = true;
  }
  p.details = {{"leb_size", std::to_string(s->leb_size)},
               {"leb_count", std::to_string(s->leb_cnt)},
               {"min_io_size", std::to_string(s->min_io)},
               {"format_version", std::to_string(s->fmt_version)},
               {"compression", std::string(ComprName(s->default_compr))},
               {"commit", std::to_string(s->cmt_no)},
               {"highest_inode", std::to_string(s->highest_inum)},
               {"journal", "not replayed"}};
  if (s->flags & kFlagEncryption) {
    p.details.push_back({"encryption", "yes"});
    p.warnings.push_back("UBIFS with encryption: names and data cannot be read");
  }
  if (s->flags & kFlagAuthentication)
    p.warnings.push_back("UBIFS with authentication: not supported");
  return p;
}

struct Inode {
  uint64_t size = 0;
  int64_t mtime = 0;
  uint32_t nlink = 0;
  uint32_t uid = 0, gid = 0, mode = 0;
  Bytes data;  // inline data (symlink target, device number, xattr value)
  uint64_t offset = 0;
  uint64_t sqnum = 0;
};

struct Dent {
  std::string name;
  uint64_t inum = 0;
  uint8_t type = 0;
  uint64_t offset = 0;
};

struct DataNode {
  uint32_t block = 0;
  Bytes node;
  uint64_t offset = 0;
};

class Reader {
 public:
  Reader(const ExtractContext& ctx, TreeSink& sink, const Super& s)
      : ctx_(ctx), img_(ctx.chunk), sink_(sink), s_(s) {}
  ~Reader() {
    if (zs_ok_) inflateEnd(&zs_);
    if (zstd_ != nullptr) ZSTD_freeDCtx(zstd_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  Status Run() {
    if (s_.flags & (kFlagEncryption | kFlagAuthentication))
      return Fail(ErrorCode::kUnsupported, "UBIFS encryption or authentication", ctx_.base_offset);
    if (auto st = WalkIndex(); !st) return st;
    if (auto st = WalkTree(); !st) return st;
    return Finish();
  }

 private:
  uint64_t Pos(uint32_t lnum, uint32_t offs) const { return uint64_t{lnum} * s_.leb_size + offs; }

  Status WalkIndex() {
    struct Ref {
      uint32_t lnum, offs, len;
      size_t depth;
    };
    std::vector<Ref> stack{{s_.root_lnum, s_.root_offs, s_.root_len, 0}};
    std::unordered_set<uint64_t> seen;
    while (!stack.empty()) {
      Ref r = stack.back();
      stack.pop_back();
      if (ctx_.budget.TimeUp())
        return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
      if (r.offs >= s_.leb_size || r.lnum >= s_.leb_cnt) {
        Problem(
            fmt::format("index branch to LEB {} offset {} is outside the volume", r.lnum, r.offs));
        continue;
      }
      const uint64_t pos = Pos(r.lnum, r.offs);
      if (!seen.insert(pos).second) {
        Problem(fmt::format("index node at LEB {}:{} is reached twice", r.lnum, r.offs));
        continue;
      }
      std::string why;
      auto node = NodeAt(img_, pos, &why);
      if (!node) {
        Problem(fmt::format("index node at LEB {}:{}: {}", r.lnum, r.offs, why));
        continue;
      }
      if (node->size() != r.len)
        Problem(fmt::format("node at LEB {}:{} is {} bytes, its branch says {}", r.lnum, r.offs,
                            node->size(), r.len));
      if (NodeTypeOf(*node) != kIdx) {
        if (r.depth == 0) {
          Problem("the index root is not an index node");
          continue;
        }
        Leaf(*node, pos);
        continue;
      }
      if (node->size() < kIdxSize) {
        Problem(fmt::format("index node at LEB {}:{} is too short", r.lnum, r.offs));
        continue;
      }
      uint16_t count = U16(*node, 24);
      uint16_t level = U16(*node, 26);
      if (r.depth >= kMaxIndexLevel) {
        Problem("index deeper than 64 levels");
        continue;
      }
      if (kIdxSize + uint64_t{count} * kBranchSize > node->size()) {
        Problem(
            fmt::format("index node at LEB {}:{}: {} branches do not fit", r.lnum, r.offs, count));
        continue;
      }
      for (uint16_t i = count; i-- > 0;) {
        Bytes b = node->subspan(kIdxSize + size_t{i} * kBranchSize, kBranchSize);
        Ref child{U32(b, 0), U32(b, 4), U32(b, 8), r.depth + 1};
        if (level == 0) {
          // Leaves: read right away.
          if (child.offs >= s_.leb_size || child.lnum >= s_.leb_cnt) {
            Problem(fmt::format("leaf branch to LEB {} offset {} is outside the volume", child.lnum,
                                child.offs));
            continue;
          }
          uint64_t lpos = Pos(child.lnum, child.offs);
          auto leaf = NodeAt(img_, lpos, &why);
          if (!leaf) {
            Problem(fmt::format("leaf node at LEB {}:{}: {}", child.lnum, child.offs, why));
            continue;
          }
          Leaf(*leaf, lpos);
        } else {
          stack.push_back(child);
        }
      }
    }
    return {};
  }

  void Leaf(Bytes node, uint64_t pos) {
    uint8_t type = NodeTypeOf(node);
    if (node.size() < kCommonSize + 16) {
      Problem(fmt::format("leaf node at {:#x} too short", pos));
      return;
    }
    uint64_t inum = U32(node, 24);
    uint32_t key_type = U32(node, 28) >> 29;
    switch (type) {
      case kIno: {
        if (node.size() < kInoSize || key_type != 0) {
          Problem(fmt::format("inode node at {:#x} malformed", pos));
          return;
        }
        Inode in;
        in.sqnum = SqnumOf(node);
        in.size = U64(node, 48);
        in.mtime = static_cast<int64_t>(U64(node, 72));
        in.nlink = U32(node, 92);
        in.uid = U32(node, 96);
        in.gid = U32(node, 100);
        in.mode = U32(node, 104);
        uint32_t data_len = U32(node, 112);
        if (data_len > node.size() - kInoSize) {
          Problem(fmt::format("inode {} at {:#x}: inline data outside the node", inum, pos));
          data_len = 0;
        }
        in.data = node.subspan(kInoSize, data_len);
        in.offset = pos;
        auto [it, fresh] = inodes_.try_emplace(inum, in);
        if (!fresh && in.sqnum > it->second.sqnum) it->second = in;
        return;
      }
      case kDent:
      case kXent: {
        if (node.size() < kDentSize || key_type != (type == kDent ? 2u : 3u)) {
          Problem(fmt::format("entry node at {:#x} malformed", pos));
          return;
        }
        Dent d;
        d.inum = U64(node, 40);
        d.type = static_cast<uint8_t>(node[49]);
        uint16_t nlen = U16(node, 50);
        if (nlen > node.size() - kDentSize) {
          Problem(fmt::format("entry node at {:#x}: name outside the node", pos));
          return;
        }
        d.name = std::string(AsChars(node.subspan(kDentSize, nlen)));
        d.offset = pos;
        (type == kDent ? dents_ : xents_)[inum].push_back(std::move(d));
        return;
      }
      case kData: {
        if (node.size() < kDataSize || key_type != 1) {
          Problem(fmt::format("data node at {:#x} malformed", pos));
          return;
        }
        data_[inum].push_back({U32(node, 28) & 0x1FFFFFFF, node, pos});
        return;
      }
      default:
        Problem(fmt::format("unexpected node type {} in the index at {:#x}", type, pos));
    }
  }

  Status WalkTree() {
    if (inodes_.find(kRootIno) == inodes_.end()) Problem("the root inode is missing");
    using Descend = std::optional<uint64_t>;  // the directory inode to walk into
    std::unordered_set<uint64_t> dirs_seen{kRootIno};
    return WalkDirs(
        ctx_.budget, kRootIno, kMaxDepth,
        [&](uint64_t inum) -> std::vector<Dent>* {
          auto it = dents_.find(inum);
          return it == dents_.end() ? nullptr : &it->second;
        },
        [](const Dent& e) -> const std::string& { return e.name; },
        [&](const Dent& e) {
          Problem(fmt::format("entry at {:#x} has an invalid name", e.offset));
        },
        [&](const Dent& e, const std::string& path) -> Result<Descend> {
          auto in = inodes_.find(e.inum);
          if (in == inodes_.end()) {
            Problem(fmt::format("\"{}\": inode {} is missing", path, e.inum));
            return Descend();
          }
          if ((in->second.mode & 0170000) == 0040000) {
            if (!dirs_seen.insert(e.inum).second) {
              Problem(
                  fmt::format("\"{}\": directory inode {} is linked twice (a loop)", path, e.inum));
              return Descend();
            }
            if (auto st = sink_.Add(Base(path, e.inum, in->second, EntryType::kDir)); !st)
              return std::unexpected(st.error());
            return Descend(e.inum);
          }
          if (auto st = Emit(path, e.inum, in->second); !st) return std::unexpected(st.error());
          return Descend();
        },
        [&](const std::string& path) {
          Problem(fmt::format("\"{}\" is nested deeper than {} levels", path, kMaxDepth));
        });
  }

  FileEntry Base(const std::string& path, uint64_t inum, const Inode& in, EntryType type) {
    FileEntry e;
    e.raw_name = path;
    e.type = type;
    e.mode = in.mode & 07777;
    e.uid = in.uid;
    e.gid = in.gid;
    e.mtime = in.mtime;
    e.origin.offset = in.offset;
    // Extended attributes: each is an entry node keyed by its host, naming an inode whose inline
    // data is the value.
    if (auto x = xents_.find(inum); x != xents_.end()) {
      for (const Dent& d : x->second) {
        auto v = inodes_.find(d.inum);
        if (v == inodes_.end()) continue;
        e.xattrs.emplace_back(d.name, std::string(AsChars(v->second.data)));
      }
      std::sort(e.xattrs.begin(), e.xattrs.end());
    }
    return e;
  }

  Status Emit(const std::string& path, uint64_t inum, const Inode& in) {
    auto [first, fresh] = first_path_.try_emplace(inum, path);
    if (!fresh) {
      FileEntry e = Base(path, inum, in, EntryType::kHardlink);
      e.link_target = first->second;
      return sink_.Add(std::move(e));
    }
    switch (in.mode & 0170000) {
      case 0100000:
        return EmitFile(path, inum, in);
      case 0120000: {
        FileEntry e = Base(path, inum, in, EntryType::kSymlink);
        if (in.data.size() > kMaxSymlink) {
          Problem(fmt::format("\"{}\": symlink target of {} bytes", path, in.data.size()));
          return {};
        }
        e.link_target = std::string(AsChars(in.data));
        e.size = e.link_target.size();
        return sink_.Add(std::move(e));
      }
      case 0020000:
      case 0060000: {
        FileEntry e =
            Base(path, inum, in,
                 (in.mode & 0170000) == 0020000 ? EntryType::kCharDev : EntryType::kBlockDev);
        // new_encode_dev() in 4 bytes, or the full 8-byte dev_t ("huge").
        uint64_t v = 0;
        if (in.data.size() == 4)
          v = U32(in.data, 0);
        else if (in.data.size() == 8)
          v = U64(in.data, 0);
        else
          Problem(fmt::format("\"{}\": device data of {} bytes", path, in.data.size()));
        if (in.data.size() == 8) {
          e.rdev_major = static_cast<uint32_t>(((v >> 32) & 0xFFFFF000) | ((v >> 8) & 0xFFF));
          e.rdev_minor = static_cast<uint32_t>(((v >> 12) & 0xFFFFFF00) | (v & 0xFF));
        } else {
          e.rdev_major = static_cast<uint32_t>((v & 0xFFF00) >> 8);
          e.rdev_minor = static_cast<uint32_t>((v & 0xFF) | ((v >> 12) & 0xFFF00));
        }
        return sink_.Add(std::move(e));
      }
      case 0010000:
        return sink_.Add(Base(path, inum, in, EntryType::kFifo));
      case 0140000:
        return sink_.Add(Base(path, inum, in, EntryType::kSocket));
      default:
        Problem(fmt::format("\"{}\": unknown file type in mode 0{:o}", path, in.mode));
        return {};
    }
  }

  // Decodes one data node into out (4096 bytes); returns its length or "" on failure via why.
  std::optional<size_t> Block(const DataNode& dn, std::array<std::byte, kBlockSize>& out,
                              std::string* why) {
    uint32_t size = U32(dn.node, 40);
    uint16_t compr = U16(dn.node, 44);
    Bytes in = dn.node.subspan(kDataSize);
    if (size > kBlockSize) {
      *why = fmt::format("block of {} bytes", size);
      return std::nullopt;
    }
    switch (compr) {
      case kNone:
        if (in.size() < size) {
          *why = "short uncompressed block";
          return std::nullopt;
        }
        std::memcpy(out.data(), in.data(), size);
        return size;
      case kLzo: {
        auto n = Lzo1xDecompress(in, std::span<std::byte>(out.data(), out.size()));
        if (!n || *n != size) {
          *why = n ? fmt::format("LZO block gave {} bytes, not {}", *n, size)
                   : "LZO: " + n.error().message;
          return std::nullopt;
        }
        return size;
      }
      case kZlib: {
        if (!zs_ok_) {
          zs_ok_ = inflateInit2(&zs_, -MAX_WBITS) == Z_OK;
          if (!zs_ok_) {
            *why = "zlib unavailable";
            return std::nullopt;
          }
        } else {
          inflateReset(&zs_);
        }
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
        zs_.avail_in = static_cast<uInt>(in.size());
        zs_.next_out = reinterpret_cast<Bytef*>(out.data());
        zs_.avail_out = static_cast<uInt>(out.size());
        int ret = inflate(&zs_, Z_FINISH);
        if (ret != Z_STREAM_END || zs_.total_out != size) {
          *why = "zlib block does not inflate to its size";
          return std::nullopt;
        }
        return size;
      }
      case kZstd: {
        if (zstd_ == nullptr) zstd_ = ZSTD_createDCtx();
        if (zstd_ == nullptr) {
          *why = "zstd unavailable";
          return std::nullopt;
        }
        size_t n = ZSTD_decompressDCtx(zstd_, out.data(), out.size(), in.data(), in.size());
        if (ZSTD_isError(n) || n != size) {
          *why = "zstd block does not decompress to its size";
          return std::nullopt;
        }
        return size;
      }
      default:
        *why = fmt::format("unknown compressor {}", compr);
        return std::nullopt;
    }
  }

  Status EmitFile(const std::string& path, uint64_t inum, const Inode& in) {
    FileEntry e = Base(path, inum, in, EntryType::kFile);
    uint64_t size = in.size;
    bool truncated = false;
    if (size > kMaxFileSize) {
      Problem(fmt::format("\"{}\": size {} over the cap", path, size));
      size = kMaxFileSize;
      truncated = true;
    }
    e.size = size;
    auto out = sink_.OpenFile(std::move(e));
    if (!out) return std::unexpected(out.error());
    if (*out == nullptr) return {};
    if (sink_.dry_run() || size == 0) return (*out)->Close();
    std::vector<DataNode> nodes;
    if (auto it = data_.find(inum); it != data_.end()) nodes = it->second;
    std::stable_sort(nodes.begin(), nodes.end(), [](const DataNode& a, const DataNode& b) {
      return a.block < b.block || (a.block == b.block && SqnumOf(a.node) > SqnumOf(b.node));
    });
    uint64_t written = 0;
    uint32_t prev = UINT32_MAX;
    for (const DataNode& dn : nodes) {
      if (dn.block == prev) continue;  // an older copy of the same block
      prev = dn.block;
      uint64_t at = uint64_t{dn.block} * kBlockSize;
      if (at >= size) break;
      if ((dn.block & 0xFF) == 0 && ctx_.budget.TimeUp()) {
        (void)(*out)->Close(true);
        return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
      }
      if (written < at) {  // a hole
        if (auto st = WriteZeros(**out, at - written, kBlockSize); !st) return st;
        written = at;
      }
      std::string why;
      auto n = Block(dn, block_, &why);
      if (!n) {
        Problem(fmt::format("\"{}\": block {} at {:#x}: {}", path, dn.block, dn.offset, why));
        truncated = true;
      }
      // A short block is followed by zeros up to the next one (or the end of the file).
      const size_t got = n.value_or(0);
      size_t len = std::min<uint64_t>(kBlockSize, size - at);
      if (got < len) std::memset(block_.data() + got, 0, len - got);
      if (auto st = (*out)->Write(Bytes(block_.data(), len)); !st) return st;
      written = at + len;
    }
    if (auto st = WriteZeros(**out, size - written, kBlockSize); !st) return st;
    return (*out)->Close(truncated);
  }

  Status Finish() { return problems_.Finish(ctx_.base_offset); }
  void Problem(const std::string& msg) { problems_.Add(msg); }

  const ExtractContext& ctx_;
  Bytes img_;
  TreeSink& sink_;
  const Super& s_;
  std::unordered_map<uint64_t, Inode> inodes_;
  std::unordered_map<uint64_t, std::vector<Dent>> dents_;
  std::unordered_map<uint64_t, std::vector<Dent>> xents_;
  std::unordered_map<uint64_t, std::vector<DataNode>> data_;
  std::unordered_map<uint64_t, std::string> first_path_;
  std::array<std::byte, kBlockSize> block_{};
  z_stream zs_{};
  bool zs_ok_ = false;
  ZSTD_DCtx* zstd_ = nullptr;
  ProblemLog problems_;
};

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto s = ReadSuper(ctx.chunk, ctx.base_offset);
  if (!s) return std::unexpected(s.error());
  Reader r(ctx, sink, *s);
  return r.Run();
}

}  // namespace

extern const FormatHandler ubifs_handler{"ubifs",
                                         FormatKind::kFilesystem,
                                         "UBIFS flash filesystem (an UBI volume's contents)",
                                         kMagics,
                                         Parse,
                                         Extract};

}  // namespace firmwarden::unpack
