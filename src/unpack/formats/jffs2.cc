// JFFS2 (journalling flash filesystem v2), either byte order.
//
// A JFFS2 image is a log of nodes: every node starts with a 12-byte header (magic 0x1985,
// nodetype, totlen, header CRC) at a 4-byte aligned offset, with erased flash (0xFF) or zeros
// between them. There is no superblock, so parse() measures the chunk by walking node headers to
// the end of the last valid node; the 0xFF erase-block padding after it is left to the engine,
// which classifies such runs as padding anyway (the erase size cannot be read from the image).
//
// extract() replays the log the way the kernel does at mount time: for each (parent, name) the
// dirent with the highest version wins (ino 0 means deleted); an inode's metadata comes from its
// highest-version node, and its data nodes are applied in version order at their offsets.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unpack/handler.h"
#include "unpack/lzo1x.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr uint16_t kMagic = 0x1985;
constexpr uint16_t kDirent = 0xE001;
constexpr uint16_t kInode = 0xE002;
constexpr uint16_t kCleanmarker = 0x2003;
constexpr uint16_t kPadding = 0x2004;
constexpr uint16_t kSummary = 0x2006;
constexpr uint16_t kXattr = 0xE008;
constexpr uint16_t kXref = 0xE009;
// A node whose ACCURATE bit was cleared has been obsoleted in place by the kernel.
constexpr uint16_t kAccurate = 0x2000;
constexpr uint16_t kCompatMask = 0xC000;
constexpr uint16_t kIncompat = 0xC000;

constexpr size_t kHeaderSize = 12;
constexpr size_t kInodeSize = 68;
constexpr size_t kDirentSize = 40;
constexpr uint32_t kRootIno = 1;
// Caps against hostile images: a file larger than this is cut (and flagged truncated).
constexpr uint64_t kMaxFileSize = 256ULL << 20;
// The kernel never writes a data node larger than a page; mkfs.jffs2 allows up to 64 KiB pages.
constexpr uint32_t kMaxNodeData = 1U << 20;
constexpr size_t kMaxProblems = 8;

// Signatures: magic + nodetype of the three node types an image starts with.
constexpr Magic kMagics[] = {
    {std::string_view("\x85\x19\x01\xE0", 4), 0}, {std::string_view("\x85\x19\x02\xE0", 4), 0},
    {std::string_view("\x85\x19\x03\x20", 4), 0}, {std::string_view("\x19\x85\xE0\x01", 4), 0},
    {std::string_view("\x19\x85\xE0\x02", 4), 0}, {std::string_view("\x19\x85\x20\x03", 4), 0},
};

// JFFS2's CRC-32: the reflected 0xEDB88320 polynomial, seeded with 0 and without zlib's final
// inversion (the kernel calls crc32(0, ...)).
uint32_t Crc(Bytes b) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0;
  for (std::byte x : b) c = table[(c ^ static_cast<uint8_t>(x)) & 0xFF] ^ (c >> 8);
  return c;
}

size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

struct Header {
  uint16_t type = 0;
  uint32_t totlen = 0;
};

// A node header at `pos` with a correct CRC, or nullopt.
std::optional<Header> ReadHeader(Bytes data, size_t pos, Endian e) {
  auto magic = ReadU16(data, pos, e);
  if (!magic || *magic != kMagic) return std::nullopt;
  auto type = ReadU16(data, pos + 2, e);
  auto totlen = ReadU32(data, pos + 4, e);
  auto crc = ReadU32(data, pos + 8, e);
  if (!type || !totlen || !crc || *totlen < kHeaderSize) return std::nullopt;
  if (Crc(data.subspan(pos, 8)) != *crc) return std::nullopt;
  return Header{*type, *totlen};
}

bool IsFill(Bytes data, size_t pos) {
  auto v = ReadU32(data, pos, Endian::kLittle);
  return v && (*v == 0xFFFFFFFFU || *v == 0);
}

struct Walk {
  size_t end = 0;  // end of the last valid node
  uint64_t nodes = 0, dirents = 0, inodes = 0;
  bool truncated = false;
};

// Walks node headers from the start of `data`; `visit(pos, header)` sees each valid node that
// lies wholly inside the data.
template <typename Visit>
Walk WalkNodes(Bytes data, Endian e, Visit&& visit) {
  Walk w;
  size_t pos = 0;
  while (pos + kHeaderSize <= data.size()) {
    auto h = ReadHeader(data, pos, e);
    if (!h) {
      if (IsFill(data, pos)) {
        pos += 4;
        continue;
      }
      break;  // neither a node nor erased flash: the filesystem ends here
    }
    if (h->totlen > data.size() - pos) {
      w.truncated = true;
      w.end = data.size();
      break;
    }
    ++w.nodes;
    if (h->type == kDirent) ++w.dirents;
    if (h->type == kInode) ++w.inodes;
    visit(pos, *h);
    pos += Align4(h->totlen);
    w.end = std::min(pos, data.size());
  }
  return w;
}

Endian EndianOf(std::string_view match) {
  return (!match.empty() && match[0] == '\x85') ? Endian::kLittle : Endian::kBig;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  Endian e = EndianOf(ctx.match);
  if (!ReadHeader(data, 0, e))
    return Fail(ErrorCode::kMalformed, "jffs2 node header CRC", ctx.offset);
  Walk w = WalkNodes(data, e, [](size_t, const Header&) {});
  Parsed p;
  p.size = w.end;
  p.truncated = w.truncated;
  p.details.push_back({"endianness", e == Endian::kLittle ? "little" : "big"});
  p.details.push_back({"nodes", std::to_string(w.nodes)});
  p.details.push_back({"inodes", std::to_string(w.inodes)});
  p.details.push_back({"dirents", std::to_string(w.dirents)});
  return p;
}

// ---- extraction ----

struct Dirent {
  uint32_t pino = 0, version = 0, ino = 0;
  uint8_t type = 0;
  std::string name;
  size_t offset = 0;
};

struct InodeNode {
  uint32_t version = 0, mode = 0, uid = 0, gid = 0, isize = 0, mtime = 0;
  uint32_t offset = 0, csize = 0, dsize = 0;
  uint8_t compr = 0;
  Bytes data;
  size_t node_offset = 0;
};

class Problems {
 public:
  void Add(uint64_t offset, std::string what) {
    if (!first_) first_ = offset;
    if (list_.size() < kMaxProblems) list_.push_back(fmt::format("{} at 0x{:x}", what, offset));
    ++count_;
  }
  Status ToStatus() const {
    if (count_ == 0) return {};
    std::string msg = fmt::format("{}", fmt::join(list_, "; "));
    if (count_ > list_.size()) msg += fmt::format(" (and {} more)", count_ - list_.size());
    return Fail(ErrorCode::kMalformed, msg, first_);
  }

 private:
  std::vector<std::string> list_;
  size_t count_ = 0;
  std::optional<uint64_t> first_;
};

// rtime: each input pair is (literal byte, repeat count); the repeat copies from just after the
// previous occurrence of the same literal.
bool Rtime(Bytes in, std::span<std::byte> out) {
  std::array<size_t, 256> positions{};
  size_t ip = 0, op = 0;
  while (op < out.size()) {
    if (ip + 2 > in.size()) return false;
    auto value = static_cast<uint8_t>(in[ip]);
    auto repeat = static_cast<uint8_t>(in[ip + 1]);
    ip += 2;
    out[op++] = std::byte{value};
    size_t back = positions[value];
    positions[value] = op;
    for (; repeat > 0 && op < out.size(); --repeat) out[op++] = out[back++];
  }
  return true;
}

bool Inflate(Bytes in, std::span<std::byte> out) {
  z_stream zs{};
  // mkfs.jffs2 and the kernel write a zlib header; very old kernels wrote raw deflate.
  bool header = in.size() >= 2 && (static_cast<uint8_t>(in[0]) & 0x0F) == Z_DEFLATED &&
                ((static_cast<uint8_t>(in[0]) << 8) + static_cast<uint8_t>(in[1])) % 31 == 0;
  if (inflateInit2(&zs, header ? MAX_WBITS : -MAX_WBITS) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int ret = inflate(&zs, Z_FINISH);
  bool ok = (ret == Z_STREAM_END || (ret == Z_BUF_ERROR && zs.avail_out == 0)) && zs.avail_out == 0;
  inflateEnd(&zs);
  return ok;
}

// lzma (compressor 8, the OpenWrt/U-Boot patch set): raw LZMA1 with no header at all, always
// lc=0 lp=0 pb=0 and an 8 KiB dictionary; the node's dsize is the only size there is, so no end
// marker is needed (one is accepted). LZMA1EXT takes the known size, so liblzma itself stops at
// exactly dsize and reports data that ends before it.
std::optional<std::string> Unlzma(Bytes in, std::span<std::byte> out) {
  lzma_options_lzma opt{};
  opt.lc = 0;
  opt.lp = 0;
  opt.pb = 0;
  // A match never reaches further back than the node's own output, so a dictionary the size of
  // the output (at least the writer's 8 KiB) decodes anything the writer could have produced.
  opt.dict_size = static_cast<uint32_t>(std::max<size_t>(0x2000, out.size()));
  opt.ext_flags = LZMA_LZMA1EXT_ALLOW_EOPM;
  opt.ext_size_low = static_cast<uint32_t>(out.size());
  opt.ext_size_high = static_cast<uint32_t>(static_cast<uint64_t>(out.size()) >> 32);
  lzma_filter filters[] = {{LZMA_FILTER_LZMA1EXT, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_raw_decoder(&s, filters) != LZMA_OK) return "lzma decoder cannot be set up";
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  s.next_out = reinterpret_cast<uint8_t*>(out.data());
  s.avail_out = out.size();
  // The whole input and output are given at once, so one call either finishes or fails; the
  // loop only guards against a decoder that returns early without an error.
  lzma_ret ret = LZMA_OK;
  for (int i = 0; i < 4 && ret == LZMA_OK; ++i) ret = lzma_code(&s, LZMA_FINISH);
  const size_t produced = out.size() - s.avail_out;
  lzma_end(&s);
  if (ret == LZMA_STREAM_END && produced == out.size()) return std::nullopt;
  if (ret == LZMA_BUF_ERROR || ret == LZMA_OK)
    return fmt::format("lzma data ends after {} of {} bytes", produced, out.size());
  return fmt::format("lzma data does not decompress to dsize {} (liblzma code {} after {} bytes)",
                     out.size(), static_cast<int>(ret), produced);
}

// Decodes one data node into `out` (dsize bytes); an empty optional names the failure.
std::optional<std::string> Decode(const InodeNode& n, std::span<std::byte> out) {
  switch (n.compr) {
    case 0x00:  // none
      if (n.data.size() < out.size()) return "uncompressed data shorter than dsize";
      std::memcpy(out.data(), n.data.data(), out.size());
      return std::nullopt;
    case 0x01:  // zero: a hole
      std::fill(out.begin(), out.end(), std::byte{0});
      return std::nullopt;
    case 0x02:
      if (!Rtime(n.data, out)) return "rtime data ends early";
      return std::nullopt;
    case 0x06:
      if (!Inflate(n.data, out)) return "zlib data does not inflate to dsize";
      return std::nullopt;
    case 0x07: {
      auto r = Lzo1xDecompressPrefix(n.data, out, nullptr);
      if (!r || *r != out.size()) return "lzo data does not decompress to dsize";
      return std::nullopt;
    }
    case 0x03:
      return "unsupported compressor rubinmips";
    case 0x05:
      return "unsupported compressor dynrubin";
    case 0x08:
      return Unlzma(n.data, out);
    default:
      return fmt::format("unknown compressor {}", n.compr);
  }
}

// The whole replayed filesystem.
class Replay {
 public:
  Replay(const ExtractContext& ctx, TreeSink& sink, Endian e) : ctx_(ctx), sink_(sink), e_(e) {}

  Status Run() {
    Bytes data = ctx_.chunk;
    WalkNodes(data, e_, [&](size_t pos, const Header& h) { Collect(pos, h); });
    ResolveDirents();
    // Breadth-first from the root, children sorted by name: deterministic and loop-proof.
    std::vector<std::pair<uint32_t, std::string>> queue{{kRootIno, ""}};
    std::unordered_set<uint32_t> dirs_seen{kRootIno};
    for (size_t qi = 0; qi < queue.size(); ++qi) {
      auto [dir, prefix] = queue[qi];
      auto it = children_.find(dir);
      if (it == children_.end()) continue;
      for (const Dirent* d : it->second) {
        std::string path = prefix.empty() ? d->name : prefix + "/" + d->name;
        auto s = Emit(*d, path);
        if (!s) return std::unexpected(s.error());
        if (*s) {
          if (dirs_seen.insert(d->ino).second) {
            queue.push_back({d->ino, path});
          } else {
            problems_.Add(ctx_.base_offset + d->offset,
                          fmt::format("directory inode {} linked twice ({})", d->ino, path));
          }
        }
      }
    }
    return problems_.ToStatus();
  }

 private:
  void Collect(size_t pos, const Header& h) {
    uint64_t abs = ctx_.base_offset + pos;
    if (!(h.type & kAccurate)) return;  // obsoleted in place
    Bytes node = ctx_.chunk.subspan(pos, h.totlen);
    auto u32 = [&](size_t off) { return *ReadU32(node, off, e_); };
    if (h.type == kDirent) {
      if (node.size() < kDirentSize || Crc(node.subspan(0, 32)) != u32(32)) {
        problems_.Add(abs, "dirent node CRC");
        return;
      }
      Dirent d;
      d.pino = u32(12);
      d.version = u32(16);
      d.ino = u32(20);
      size_t nsize = static_cast<uint8_t>(node[28]);
      d.type = static_cast<uint8_t>(node[29]);
      d.offset = pos;
      if (kDirentSize + nsize > node.size()) {
        problems_.Add(abs, "dirent name outside its node");
        return;
      }
      Bytes name = node.subspan(kDirentSize, nsize);
      if (Crc(name) != u32(36)) {
        problems_.Add(abs, "dirent name CRC");
        return;
      }
      d.name = std::string(AsChars(name));
      dirents_.push_back(std::move(d));
    } else if (h.type == kInode) {
      if (node.size() < kInodeSize || Crc(node.subspan(0, 60)) != u32(64)) {
        problems_.Add(abs, "inode node CRC");
        return;
      }
      InodeNode n;
      uint32_t ino = u32(12);
      n.version = u32(16);
      n.mode = u32(20);
      n.uid = *ReadU16(node, 24, e_);
      n.gid = *ReadU16(node, 26, e_);
      n.isize = u32(28);
      n.mtime = u32(36);
      n.offset = u32(44);
      n.csize = u32(48);
      n.dsize = u32(52);
      n.compr = static_cast<uint8_t>(node[56]);
      n.node_offset = pos;
      if (n.csize > node.size() - kInodeSize) {
        problems_.Add(abs, "inode data outside its node");
        return;
      }
      n.data = node.subspan(kInodeSize, n.csize);
      if (n.csize > 0 && Crc(n.data) != u32(60)) {
        problems_.Add(abs, "inode data CRC");
        return;
      }
      inodes_[ino].push_back(n);
    } else if (h.type == kCleanmarker || h.type == kPadding || h.type == kSummary ||
               h.type == kXattr || h.type == kXref) {
      // Nothing to extract (xattrs are not read yet).
    } else if ((h.type & kCompatMask) == kIncompat) {
      // The kernel refuses to mount with such a node; the rest is still worth reading.
      problems_.Add(abs, fmt::format("unknown incompatible node type 0x{:04x}", h.type));
    }
    // Other unknown types are compatible by the COMPAT bits rules: skipped.
  }

  void ResolveDirents() {
    // Highest version per (parent, name); ino 0 there means the name was deleted.
    std::map<std::pair<uint32_t, std::string>, const Dirent*> latest;
    for (const Dirent& d : dirents_) {
      auto& slot = latest[{d.pino, d.name}];
      if (!slot || d.version >= slot->version) slot = &d;
    }
    for (auto& [key, d] : latest)
      if (d->ino != 0) children_[d->pino].push_back(d);  // map order: sorted by name
    for (auto& [ino, nodes] : inodes_)
      std::stable_sort(nodes.begin(), nodes.end(), [](const InodeNode& a, const InodeNode& b) {
        return a.version < b.version;
      });
  }

  // Adds one entry. Returns true when it is a directory to descend into.
  Result<bool> Emit(const Dirent& d, const std::string& path) {
    uint64_t abs = ctx_.base_offset + d.offset;
    if (d.name.empty() || d.name == "." || d.name == ".." ||
        d.name.find('/') != std::string::npos) {
      problems_.Add(abs, fmt::format("invalid name in directory inode {}", d.pino));
      return false;
    }
    auto it = inodes_.find(d.ino);
    if (it == inodes_.end() || it->second.empty()) {
      problems_.Add(abs, fmt::format("{}: inode {} has no inode node", path, d.ino));
      return false;
    }
    const std::vector<InodeNode>& nodes = it->second;
    const InodeNode& meta = nodes.back();
    FileEntry e;
    e.raw_name = path;
    e.mode = meta.mode & 07777;
    e.uid = meta.uid;
    e.gid = meta.gid;
    e.mtime = meta.mtime;
    e.origin.offset = meta.node_offset;
    uint32_t fmt_bits = meta.mode & 0170000;
    // A second name for a non-directory inode is a hardlink to the first.
    if (fmt_bits != 0040000) {
      auto [first, inserted] = first_path_.try_emplace(d.ino, path);
      if (!inserted) {
        e.type = EntryType::kHardlink;
        e.link_target = first->second;
        e.size = 0;
        auto s = sink_.Add(std::move(e));
        if (!s) return std::unexpected(s.error());
        return false;
      }
    }
    switch (fmt_bits) {
      case 0040000: {
        e.type = EntryType::kDir;
        auto s = sink_.Add(std::move(e));
        if (!s) return std::unexpected(s.error());
        return true;
      }
      case 0100000: {
        auto s = EmitFile(std::move(e), nodes, abs);
        if (!s) return std::unexpected(s.error());
        return false;
      }
      case 0120000: {
        e.type = EntryType::kSymlink;
        std::string target;
        if (!NodeBytes(meta, &target, abs)) return false;
        e.link_target = target;
        e.size = target.size();
        break;
      }
      case 0020000:
      case 0060000: {
        e.type = fmt_bits == 0020000 ? EntryType::kCharDev : EntryType::kBlockDev;
        std::string raw;
        if (!NodeBytes(meta, &raw, abs)) return false;
        Bytes b = AsBytes(raw);
        if (b.size() == 2) {  // old_encode_dev
          uint16_t v = *ReadU16(b, 0, e_);
          e.rdev_major = v >> 8;
          e.rdev_minor = v & 0xFF;
        } else if (b.size() == 4) {  // new_encode_dev
          uint32_t v = *ReadU32(b, 0, e_);
          e.rdev_major = (v & 0xFFF00) >> 8;
          e.rdev_minor = (v & 0xFF) | ((v >> 12) & 0xFFF00);
        } else {
          problems_.Add(abs, fmt::format("{}: device data of {} bytes", path, b.size()));
        }
        break;
      }
      case 0010000:
        e.type = EntryType::kFifo;
        break;
      case 0140000:
        e.type = EntryType::kSocket;
        break;
      default:
        problems_.Add(abs, fmt::format("{}: unknown file type in mode 0{:o}", path, meta.mode));
        return false;
    }
    auto s = sink_.Add(std::move(e));
    if (!s) return std::unexpected(s.error());
    return false;
  }

  // The decoded data of a single node (symlink target, device number).
  bool NodeBytes(const InodeNode& n, std::string* out, uint64_t abs) {
    if (n.dsize > 4096) {
      problems_.Add(abs, "oversized symlink/device node");
      return false;
    }
    out->assign(n.dsize, '\0');
    std::span<std::byte> span(reinterpret_cast<std::byte*>(out->data()), out->size());
    if (auto why = Decode(n, span)) {
      problems_.Add(ctx_.base_offset + n.node_offset, *why);
      return false;
    }
    return true;
  }

  Status EmitFile(FileEntry e, const std::vector<InodeNode>& nodes, uint64_t abs) {
    uint64_t isize = nodes.back().isize;
    bool truncated = false;
    if (isize > kMaxFileSize) {
      problems_.Add(
          abs, fmt::format("{}: size {} over the {} byte cap", e.raw_name, isize, kMaxFileSize));
      isize = kMaxFileSize;
      truncated = true;
    }
    e.type = EntryType::kFile;
    e.size = isize;
    std::string name = e.raw_name;
    if (sink_.dry_run()) {
      auto out = sink_.OpenFile(std::move(e));
      if (!out) return std::unexpected(out.error());
      return (*out)->Close();
    }
    if (isize > ctx_.budget.bytes_left) {
      // The sink reports the limit; do not allocate a buffer the budget cannot pay for.
      auto out = sink_.OpenFile(std::move(e));
      if (!out) return std::unexpected(out.error());
      return (*out)->Close(true);
    }
    std::vector<std::byte> buf(isize);
    std::vector<std::byte> tmp;
    for (const InodeNode& n : nodes) {
      if (n.dsize == 0) continue;
      if (n.dsize > kMaxNodeData) {
        problems_.Add(ctx_.base_offset + n.node_offset, "data node larger than 1 MiB");
        truncated = true;
        continue;
      }
      if (n.offset >= isize) continue;  // cut by a later truncation
      tmp.resize(n.dsize);
      if (auto why = Decode(n, tmp)) {
        problems_.Add(ctx_.base_offset + n.node_offset, fmt::format("{}: {}", name, *why));
        truncated = true;
        continue;
      }
      size_t len = std::min<uint64_t>(n.dsize, isize - n.offset);
      std::memcpy(buf.data() + n.offset, tmp.data(), len);
    }
    auto out = sink_.OpenFile(std::move(e));
    if (!out) return std::unexpected(out.error());
    if (auto s = (*out)->Write(buf); !s) return s;
    return (*out)->Close(truncated);
  }

  const ExtractContext& ctx_;
  TreeSink& sink_;
  Endian e_;
  Problems problems_;
  std::vector<Dirent> dirents_;
  std::unordered_map<uint32_t, std::vector<InodeNode>> inodes_;
  std::unordered_map<uint32_t, std::vector<const Dirent*>> children_;
  std::unordered_map<uint32_t, std::string> first_path_;
};

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  Endian e =
      ReadU16(ctx.chunk, 0, Endian::kLittle).value_or(0) == kMagic ? Endian::kLittle : Endian::kBig;
  Replay replay(ctx, sink, e);
  return replay.Run();
}

}  // namespace

extern const FormatHandler jffs2_handler{"jffs2",
                                         FormatKind::kFilesystem,
                                         "JFFS2 flash filesystem (little or big endian)",
                                         kMagics,
                                         Parse,
                                         Extract};

}  // namespace firmwarden::unpack
