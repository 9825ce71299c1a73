// romfs: the Linux read-only "ROM file system", as written by genromfs. Big-endian throughout.
//
// Layout (offsets from the start of the image; everything 16-byte aligned):
//   superblock: "-rom1fs-", u32 full size, u32 checksum, volume name (NUL-terminated, padded to
//               16 bytes). The checksum makes the big-endian u32 sum of the first min(512, size)
//               bytes zero.
//   file header: u32 next (offset of the next header in the same directory, low 4 bits: type in
//                bits 0-2, executable in bit 3), u32 spec, u32 size, u32 checksum (the sum of
//                the header and its padded name is zero), then the NUL-terminated name padded to
//                16 bytes, then the data (size bytes).
//   types: 0 hardlink (spec = header linked to), 1 directory (spec = first header inside),
//          2 file, 3 symlink (data = target), 4 block device, 5 char device (spec = major << 16 |
//          minor), 6 socket, 7 fifo.
// romfs stores no owner, times or permission bits: like the kernel, entries are owned by root,
// with 0644 (0600 for devices, 0777 for symlinks) plus 0111 when the executable bit is set.
//
// Nothing is trusted: a visited set cuts loops in the next/spec chains, directories nest at most
// kMaxDepth deep and the number of headers is capped by what the image can hold (16 bytes each).
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unpack/emit_util.h"
#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr std::string_view kSignature = "-rom1fs-";
constexpr size_t kHeaderSize = 16;
constexpr size_t kSuperChecksummed = 512;
constexpr size_t kMaxName = 4096;  // the kernel's romfs refuses names longer than a page
constexpr size_t kMaxDepth = 256;
constexpr size_t kMaxSymlink = 65536;

constexpr uint32_t kTypeMask = 7;
constexpr uint32_t kExec = 8;
enum Type : uint32_t {
  kHardlink = 0,
  kDir = 1,
  kFile = 2,
  kSymlink = 3,
  kBlockDev = 4,
  kCharDev = 5,
  kSocket = 6,
  kFifo = 7
};

constexpr Magic kMagics[] = {{kSignature, 0}};

uint64_t Align16(uint64_t v) { return (v + 15) & ~uint64_t{15}; }

// The big-endian u32 sum of `b` (its length rounded down to 4 bytes).
uint32_t Sum(Bytes b) {
  uint32_t s = 0;
  for (size_t i = 0; i + 4 <= b.size(); i += 4) s += *ReadU32(b, i, Endian::kBig);
  return s;
}

// A NUL-terminated name at `pos`; the padded length (name + NUL, rounded up to 16) in *padded.
Result<std::string> ReadName(Bytes img, uint64_t pos, uint64_t* padded) {
  if (pos >= img.size()) return Fail(ErrorCode::kTruncated, "name beyond the image", pos);
  std::string_view rest = AsChars(img.subspan(pos, std::min<uint64_t>(img.size() - pos, kMaxName)));
  size_t nul = rest.find('\0');
  if (nul == std::string_view::npos)
    return Fail(ErrorCode::kMalformed, "name not terminated within the image or 4096 bytes", pos);
  *padded = Align16(nul + 1);
  return std::string(rest.substr(0, nul));
}

struct Super {
  uint32_t size = 0;
  uint32_t checksum = 0;
  std::string volume;
  uint64_t first = 0;  // offset of the first file header (the root directory's listing)
};

Result<Super> ReadSuper(Bytes data, uint64_t base) {
  ByteReader r(data, base);
  auto sig = r.Take(8);
  auto size = r.U32be();
  auto sum = r.U32be();
  if (!sig || !size || !sum) return Fail(ErrorCode::kTruncated, "romfs superblock truncated", base);
  if (AsChars(*sig) != kSignature) return Fail(ErrorCode::kMalformed, "no romfs signature", base);
  Super s;
  s.size = *size;
  s.checksum = *sum;
  uint64_t padded = 0;
  auto name = ReadName(data, 16, &padded);
  if (!name) return std::unexpected(name.error());
  s.volume = std::move(*name);
  s.first = 16 + padded;
  if (s.size < s.first)
    return Fail(ErrorCode::kMalformed,
                fmt::format("romfs size {} is smaller than its superblock ({})", s.size, s.first),
                base + 8);
  return s;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto s = ReadSuper(data, ctx.offset);
  if (!s) return std::unexpected(s.error());
  Parsed p;
  p.size = s->size;
  p.truncated = s->size > data.size();
  p.details = {{"size", std::to_string(s->size)}};
  if (!s->volume.empty()) p.details.push_back({"volume", s->volume});
  const size_t summed = std::min<size_t>({kSuperChecksummed, s->size, data.size()});
  if (summed == std::min<size_t>(kSuperChecksummed, s->size)) {
    uint32_t sum = Sum(data.subspan(0, summed));
    p.details.push_back({"checksum", sum == 0 ? "ok" : "mismatch"});
    if (sum != 0)
      p.warnings.push_back(fmt::format(
          "romfs superblock checksum mismatch: stored {:#010x}, the first {} bytes sum to {:#010x}",
          s->checksum, summed, sum));
  }
  return p;
}

struct Node {
  uint64_t header = 0;  // offset of the file header
  uint32_t next = 0;    // raw next word (type and exec bits included)
  uint32_t spec = 0;
  uint32_t size = 0;
  uint64_t data = 0;  // offset of the data
  std::string path;
  uint32_t type() const { return next & kTypeMask; }
};

class Walker {
 public:
  Walker(const ExtractContext& ctx, TreeSink& sink) : ctx_(ctx), img_(ctx.chunk), sink_(sink) {}

  Status Run(const Super& s) {
    // Headers occupy 16 distinct aligned bytes each: a real image cannot hold more than this.
    const uint64_t cap = img_.size() / kHeaderSize + 1;
    struct Dir {
      uint64_t first;
      std::string path;
      size_t depth;
    };
    std::vector<Dir> stack{{s.first, "", 0}};
    std::vector<Node> hardlinks;
    while (!stack.empty()) {
      Dir d = std::move(stack.back());
      stack.pop_back();
      if (ctx_.budget.TimeUp())
        return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
      std::vector<Dir> children;
      for (uint64_t pos = d.first; pos != 0;) {
        if (!seen_.insert(pos).second) {
          Problem(fmt::format("header at {:#x} in \"{}\" is reached twice (a loop)", pos, d.path));
          break;
        }
        if (seen_.size() > cap) {
          Problem("more headers than the image can hold; walk stopped");
          return Finish();
        }
        auto n = ReadNode(pos, d.path);
        if (!n) {
          Problem(n.error().message);
          break;
        }
        pos = n->next & ~uint32_t{15};
        std::string name = n->path;
        if (name.empty()) {
          Problem(fmt::format("header at {:#x} in \"{}\" has an empty name", n->header, d.path));
          continue;
        }
        if (name == "." || name == "..") continue;  // genromfs writes them as hardlinks
        n->path = d.path.empty() ? name : d.path + "/" + name;
        by_header_[n->header] = n->path;
        if (n->type() == kHardlink) {
          hardlinks.push_back(std::move(*n));
          continue;
        }
        if (n->type() == kDir) {
          if (auto st = sink_.Add(Base(*n, EntryType::kDir)); !st) return st;
          if (d.depth + 1 >= kMaxDepth) {
            Problem(fmt::format("directory \"{}\" is nested deeper than {} levels", n->path,
                                kMaxDepth));
          } else if (n->spec != 0) {
            children.push_back({n->spec, n->path, d.depth + 1});
          }
          continue;
        }
        if (auto st = Emit(*n); !st) return st;
      }
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
    }
    // Hardlinks last, so that what they point at is already in the tree.
    for (const Node& n : hardlinks) {
      uint64_t target = n.spec & ~uint32_t{15};
      auto it = by_header_.find(target);
      auto kind = types_.find(target);
      if (it == by_header_.end() || kind == types_.end()) {
        Problem(fmt::format("\"{}\": hardlink to {:#x}, which is no entry of the tree", n.path,
                            n.spec));
        continue;
      }
      const uint32_t type = kind->second & kTypeMask;
      if (type == kHardlink || type == kDir) {
        Problem(fmt::format("\"{}\": hardlink to a {}", n.path,
                            type == kDir ? "directory" : "hardlink"));
        continue;
      }
      Node shown = n;
      shown.next = kind->second;  // a hardlink has its target's type and mode
      FileEntry e = Base(shown, EntryType::kHardlink);
      e.link_target = it->second;
      if (auto st = sink_.Add(std::move(e)); !st) return st;
    }
    return Finish();
  }

 private:
  Result<Node> ReadNode(uint64_t pos, const std::string& dir) {
    if (pos % 16 != 0)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("header at {:#x} in \"{}\" is not 16-byte aligned", pos, dir));
    if (pos + kHeaderSize > img_.size())
      return Fail(ErrorCode::kTruncated,
                  fmt::format("header at {:#x} in \"{}\" lies beyond the image", pos, dir));
    Node n;
    n.header = pos;
    n.next = *ReadU32(img_, pos, Endian::kBig);
    n.spec = *ReadU32(img_, pos + 4, Endian::kBig);
    n.size = *ReadU32(img_, pos + 8, Endian::kBig);
    uint64_t padded = 0;
    auto name = ReadName(img_, pos + kHeaderSize, &padded);
    if (!name)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("header at {:#x} in \"{}\": {}", pos, dir, name.error().message));
    n.path = std::move(*name);
    n.data = pos + kHeaderSize + padded;
    types_[pos] = n.next;
    // genromfs checksums the header and its padded name; the kernel does not check it.
    uint64_t meta = std::min<uint64_t>(kHeaderSize + padded, img_.size() - pos);
    if (Sum(img_.subspan(pos, meta)) != 0)
      Problem(
          fmt::format("header at {:#x} (\"{}\" in \"{}\"): checksum mismatch", pos, n.path, dir));
    return n;
  }

  FileEntry Base(const Node& n, EntryType type) const {
    static constexpr uint32_t kModes[8] = {0644, 0644, 0644, 0777, 0600, 0600, 0644, 0644};
    FileEntry e;
    e.raw_name = n.path;
    e.type = type;
    e.mode = kModes[n.type()] | ((n.next & kExec) ? 0111 : 0);
    e.uid = 0;
    e.gid = 0;
    e.mtime = 0;
    e.origin.offset = n.header;
    return e;
  }

  Status Emit(const Node& n) {
    switch (n.type()) {
      case kFile: {
        FileEntry e = Base(n, EntryType::kFile);
        e.size = n.size;
        auto out = sink_.OpenFile(std::move(e));
        if (!out) return std::unexpected(out.error());
        if (*out == nullptr) return {};
        if (sink_.dry_run() || n.size == 0) return (*out)->Close();
        bool truncated = false;
        uint64_t len = n.size;
        if (n.data > img_.size() || len > img_.size() - n.data) {
          Problem(fmt::format("\"{}\": {} bytes of data at {:#x} run past the image", n.path,
                              n.size, n.data));
          len = n.data > img_.size() ? 0 : img_.size() - n.data;
          truncated = true;
        }
        if (len > 0)
          if (auto st = (*out)->Write(img_.subspan(n.data, len)); !st) return st;
        return (*out)->Close(truncated);
      }
      case kSymlink: {
        FileEntry e = Base(n, EntryType::kSymlink);
        if (n.size > kMaxSymlink || n.data > img_.size() || n.size > img_.size() - n.data) {
          Problem(fmt::format("\"{}\": symlink target of {} bytes at {:#x} is unreadable", n.path,
                              n.size, n.data));
          return {};
        }
        e.link_target = std::string(AsChars(img_.subspan(n.data, n.size)));
        e.size = n.size;
        return sink_.Add(std::move(e));
      }
      case kBlockDev:
      case kCharDev: {
        FileEntry e = Base(n, n.type() == kBlockDev ? EntryType::kBlockDev : EntryType::kCharDev);
        e.rdev_major = n.spec >> 16;
        e.rdev_minor = n.spec & 0xFFFF;
        return sink_.Add(std::move(e));
      }
      case kSocket:
        return sink_.Add(Base(n, EntryType::kSocket));
      case kFifo:
        return sink_.Add(Base(n, EntryType::kFifo));
      default:
        return {};  // directories and hardlinks are handled by the walk
    }
  }

  Status Finish() { return problems_.Finish(ctx_.base_offset); }
  void Problem(const std::string& msg) { problems_.Add(msg); }

  const ExtractContext& ctx_;
  Bytes img_;
  TreeSink& sink_;
  std::unordered_set<uint64_t> seen_;
  std::unordered_map<uint64_t, std::string> by_header_;
  std::unordered_map<uint64_t, uint32_t> types_;  // header -> raw next word
  ProblemLog problems_;
};

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto s = ReadSuper(ctx.chunk, ctx.base_offset);
  if (!s) return std::unexpected(s.error());
  Walker w(ctx, sink);
  return w.Run(*s);
}

}  // namespace

extern const FormatHandler romfs_handler{
    "romfs", FormatKind::kFilesystem, "romfs read-only filesystem (genromfs)", kMagics, Parse,
    Extract};

}  // namespace firmwarden::unpack
