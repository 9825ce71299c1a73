// YAFFS2 (Yet Another Flash File System 2) NAND images, in either byte order, with the spare
// (OOB) area interleaved after every page or without it.
//
// There is no superblock: the flash is a sequence of chunks (pages of 512, 1024, 2048, 4096,
// 8192 or 16384 bytes), each optionally followed by its spare area. A chunk is either an object
// header (chunk id 0) or data chunk n (n >= 1) of a file. With the spare area, the packed tags
// (sequence number of the block, object id, chunk id, byte count; at spare offset 0, or 2 when
// the first two bytes hold the bad-block marker) say which; the newest copy of each (object,
// chunk) is the one with the highest block sequence number, later in the block breaking ties.
// Without the spare area only the headers identify themselves, and the image must be in the
// order mkyaffs2image-style writers use (each header followed by its file's data chunks, object
// ids handed out in order); the handler then infers the ids.
//
// Object header (512 bytes in the writer's byte order): type (1 file, 2 symlink, 3 directory,
// 4 hardlink, 5 special), parent id, a 16-bit unused checksum, name[256], mode, uid, gid, atime,
// mtime, ctime, file size, equivalent (hardlink) id, alias[160] (symlink target), rdev, …, the
// high 32 bits of the file size at 496. Root is object 1; objects whose parent is 3 (unlinked)
// or 4 (deleted) are gone.
#include <fmt/format.h>

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
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kHeaderSize = 512;
constexpr uint32_t kRoot = 1;
constexpr uint32_t kUnlinked = 3;
constexpr uint32_t kDeleted = 4;
constexpr uint32_t kExtraHeaderInfo = 0x80000000;
constexpr uint32_t kExtraFlags = 0xF0000000;
constexpr uint32_t kMaxObjectId = 0x3FFFF;  // 18 bits in the kernel's packed tags
constexpr size_t kMaxDepth = 256;
constexpr uint64_t kMaxFileSize = 1ULL << 34;
constexpr size_t kProbeChunks = 8;

enum ObjType : uint32_t { kFile = 1, kSymlink = 2, kDir = 3, kHardlink = 4, kSpecial = 5 };

// The first object header: type 1-5, parent 1 (the root), and the unused name checksum left at
// 0xFFFF by mkyaffs2image and the kernel, in either byte order. (Big-endian signatures start at
// the type's low byte: Vectorscan's literal API refuses a literal that starts with NUL.)
#define YAFFS2_LE(t) std::string_view(t "\0\0\0\x01\0\0\0\xFF\xFF", 10)
#define YAFFS2_BE(t) std::string_view(t "\0\0\0\x01\xFF\xFF", 7)
constexpr Magic kMagics[] = {
    {YAFFS2_LE("\x01"), 0}, {YAFFS2_LE("\x02"), 0}, {YAFFS2_LE("\x03"), 0}, {YAFFS2_LE("\x04"), 0},
    {YAFFS2_LE("\x05"), 0}, {YAFFS2_BE("\x01"), 3}, {YAFFS2_BE("\x02"), 3}, {YAFFS2_BE("\x03"), 3},
    {YAFFS2_BE("\x04"), 3}, {YAFFS2_BE("\x05"), 3},
};
#undef YAFFS2_LE
#undef YAFFS2_BE

constexpr size_t kPages[] = {16384, 8192, 4096, 2048, 1024, 512};

// Spare sizes seen on real NAND for each page size (unyaffs probes 64..512 for 2K and up).
std::vector<size_t> SparesFor(size_t page) {
  switch (page) {
    case 512:
      return {16};
    case 1024:
      return {32};
    case 2048:
      return {64, 112, 128};
    case 4096:
      return {128, 218, 224, 256};
    case 8192:
      return {256, 368, 436, 448, 512};
    default:
      return {512};
  }
}

struct Layout {
  Endian endian = Endian::kLittle;
  size_t page = 0;
  size_t spare = 0;  // 0: no spare area
  size_t tags_at = 0;
  size_t stride() const { return page + spare; }
};

struct Header {
  uint32_t type = 0;
  uint32_t parent = 0;
  std::string name;
  uint32_t mode = 0, uid = 0, gid = 0, mtime = 0;
  uint64_t size = 0;
  uint32_t equiv = 0;
  std::string alias;
  uint32_t rdev = 0;
};

std::string CString(Bytes b) {
  std::string_view s = AsChars(b);
  return std::string(s.substr(0, s.find('\0')));
}

// An object header at the start of `c` (a chunk's data), if it looks like one.
std::optional<Header> ReadHeader(Bytes c, Endian e) {
  if (c.size() < kHeaderSize) return std::nullopt;
  Header h;
  h.type = *ReadU32(c, 0, e);
  h.parent = *ReadU32(c, 4, e);
  if (h.type < kFile || h.type > kSpecial || h.parent == 0 || h.parent > kMaxObjectId)
    return std::nullopt;
  h.name = CString(c.subspan(10, 256));
  h.mode = *ReadU32(c, 268, e);
  h.uid = *ReadU32(c, 272, e);
  h.gid = *ReadU32(c, 276, e);
  h.mtime = *ReadU32(c, 284, e);
  h.size = *ReadU32(c, 292, e);
  uint32_t high = *ReadU32(c, 496, e);
  if (high != 0xFFFFFFFF && high < 16) h.size |= uint64_t{high} << 32;
  h.equiv = *ReadU32(c, 296, e);
  h.alias = CString(c.subspan(300, 160));
  h.rdev = *ReadU32(c, 460, e);
  return h;
}

struct Tags {
  uint32_t seq = 0, obj = 0, chunk = 0, bytes = 0;
  bool erased = false;
};

Tags ReadTags(Bytes spare, size_t at, Endian e) {
  Tags t;
  if (at > spare.size() || spare.size() - at < 16) return t;  // no room: implausible tags
  Bytes b = spare.subspan(at, 16);
  t.erased = std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0xFF}; });
  t.seq = *ReadU32(b, 0, e);
  t.obj = *ReadU32(b, 4, e);
  t.chunk = *ReadU32(b, 8, e);
  t.bytes = *ReadU32(b, 12, e);
  if (t.chunk & kExtraHeaderInfo) {  // a header whose tags carry its parent and type too
    t.obj &= 0x0FFFFFFF;
    t.chunk = 0;
  }
  return t;
}

// Plausible tags for a used chunk whose data is `data`.
bool PlausibleTags(const Tags& t, Bytes data, const Layout& l) {
  if (t.seq == 0 || t.seq == 0xFFFFFFFF || t.obj == 0 || t.obj > kMaxObjectId) return false;
  if (t.chunk == 0) return ReadHeader(data, l.endian).has_value();
  return (t.chunk & kExtraFlags) == 0 && t.bytes <= l.page;
}

bool AllFF(Bytes b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0xFF}; });
}

// Without tags to vouch for it, a header must also look like what a writer stores: a usable name
// and a mode whose file-type bits agree with the object type.
bool SaneHeader(const Header& h) {
  if (h.name.empty() || h.name == "." || h.name == ".." || h.name.find('/') != std::string::npos)
    return false;
  for (unsigned char ch : h.name)
    if (ch < 0x20 || ch == 0x7f) return false;
  const uint32_t fmt = h.mode & 0170000;
  switch (h.type) {
    case kFile:
      return fmt == 0100000;
    case kDir:
      return fmt == 0040000;
    case kSymlink:
      return fmt == 0120000 && !h.alias.empty();
    case kHardlink:
      return true;
    case kSpecial:
      return fmt == 0020000 || fmt == 0060000 || fmt == 0010000 || fmt == 0140000;
    default:
      return false;
  }
}

// Finds the page/spare layout by checking the first chunks' tags (or, without spare, the chain
// of headers and data chunks).
std::optional<Layout> DetectLayout(Bytes d, Endian e) {
  for (size_t page : kPages) {
    for (size_t spare : SparesFor(page)) {
      for (size_t tags_at : {size_t{0}, size_t{2}}) {
        if (tags_at + 16 > spare) continue;
        Layout l{e, page, spare, tags_at};
        size_t used = 0, checked = 0;
        bool ok = true;
        for (size_t i = 0; i < kProbeChunks && (i + 1) * l.stride() <= d.size(); ++i) {
          Bytes c = d.subspan(i * l.stride(), page);
          Bytes s = d.subspan(i * l.stride() + page, spare);
          Tags t = ReadTags(s, tags_at, e);
          ++checked;
          if (t.erased && AllFF(c)) continue;
          if (!PlausibleTags(t, c, l) || (i == 0 && t.chunk != 0)) {
            ok = false;
            break;
          }
          ++used;
        }
        if (ok && checked > 0 && used >= std::min<size_t>(2, checked)) return l;
      }
    }
  }
  // No spare: a header, its file's data chunks, the next header… Smallest page first: a larger
  // image read with smaller pages meets the erased tail of its first header chunk.
  for (auto it = std::rbegin(kPages); it != std::rend(kPages); ++it) {
    const size_t page = *it;
    size_t pos = 0, headers = 0;
    bool ok = true;
    while (headers < 16 && pos + page <= d.size()) {
      auto h = ReadHeader(d.subspan(pos, page), e);
      if (h && !SaneHeader(*h)) h.reset();
      if (!h) {
        ok = headers > 0 && AllFF(d.subspan(pos, page));
        break;
      }
      ++headers;
      pos += page;
      if (h->type == kFile) pos += (h->size + page - 1) / page * page;
    }
    if (ok && headers > 0 && (headers >= 2 || pos >= d.size())) return Layout{e, page, 0, 0};
  }
  return std::nullopt;
}

struct Chunk {
  Tags tags;
  size_t index = 0;  // position in the image, in chunks
};

struct Object {
  uint32_t id = 0;
  Header h;
  size_t header_chunk = 0;
  std::map<uint32_t, Chunk> data;  // chunk id -> newest copy
};

struct Image {
  Layout layout;
  uint64_t size = 0;  // bytes of the chunk
  size_t chunks = 0;  // in use
  std::map<uint32_t, Object> objects;
  std::vector<std::string> problems;
};

// Reads every chunk: with tags the newest copy of each (object, chunk) wins; without, ids are
// inferred from the order.
Image Scan(Bytes d, const Layout& l) {
  Image img;
  img.layout = l;
  const size_t n = d.size() / l.stride();
  size_t last_used = 0;
  bool any = false;
  if (l.spare > 0) {
    std::map<std::pair<uint32_t, uint32_t>, Chunk> newest;
    for (size_t i = 0; i < n; ++i) {
      Bytes c = d.subspan(i * l.stride(), l.page);
      Tags t = ReadTags(d.subspan(i * l.stride() + l.page, l.spare), l.tags_at, l.endian);
      if (t.erased || t.seq == 0xFFFFFFFF) {
        if (AllFF(c)) continue;
      }
      if (!PlausibleTags(t, c, l)) {
        if (t.erased) continue;  // data without tags: a chunk whose write was interrupted
        break;                   // the end of the YAFFS2 area
      }
      any = true;
      last_used = i;
      ++img.chunks;
      auto& slot = newest[{t.obj, t.chunk}];
      if (slot.tags.seq == 0 || t.seq >= slot.tags.seq) slot = Chunk{t, i};
    }
    for (auto& [key, c] : newest) {
      Object& o = img.objects[key.first];
      o.id = key.first;
      if (key.second == 0) {
        o.header_chunk = c.index;
        o.h = *ReadHeader(d.subspan(c.index * l.stride(), l.page), l.endian);
      } else {
        o.data[key.second] = c;
      }
    }
  } else {
    // Headers in order; ids inferred: the first parent other than the root names an earlier
    // directory, which fixes the first id; ids then count up.
    struct Seen {
      Header h;
      size_t index;
    };
    std::vector<Seen> seen;
    size_t i = 0;
    while (i < n) {
      auto h = ReadHeader(d.subspan(i * l.page, l.page), l.endian);
      if (!h) {
        if (AllFF(d.subspan(i * l.page, l.page))) {
          ++i;
          continue;
        }
        break;
      }
      size_t data_chunks = h->type == kFile ? (h->size + l.page - 1) / l.page : 0;
      if (data_chunks > n - i - 1) {
        img.problems.push_back(fmt::format("\"{}\": data runs past the image", h->name));
        data_chunks = n - i - 1;
      }
      seen.push_back({*h, i});
      any = true;
      last_used = i + data_chunks;
      img.chunks += 1 + data_chunks;
      i += 1 + data_chunks;
    }
    uint32_t base = 257;  // mkyaffs2image's first id
    for (size_t k = 0; k < seen.size(); ++k) {
      uint32_t p = seen[k].h.parent;
      if (p == kRoot) continue;
      size_t tries = 0;
      for (size_t j = k; j-- > 0 && tries < 64;)
        if (seen[j].h.type == kDir && p >= j) {
          ++tries;
          // Take the latest directory that gives a consistent base.
          uint32_t b = p - static_cast<uint32_t>(j);
          bool all = true;
          for (size_t q = 0; q < seen.size() && all; ++q) {
            uint32_t pq = seen[q].h.parent;
            if (pq == kRoot || pq == kUnlinked || pq == kDeleted) continue;
            all = pq >= b && pq - b < q && seen[pq - b].h.type == kDir;
          }
          if (all) {
            base = b;
            break;
          }
        }
      break;
    }
    for (size_t k = 0; k < seen.size(); ++k) {
      Object& o = img.objects[base + static_cast<uint32_t>(k)];
      o.id = base + static_cast<uint32_t>(k);
      o.h = seen[k].h;
      o.header_chunk = seen[k].index;
      uint64_t left = o.h.type == kFile ? o.h.size : 0;
      for (uint32_t c = 1; left > 0 && seen[k].index + c < n; ++c) {
        Tags t;
        t.bytes = static_cast<uint32_t>(std::min<uint64_t>(left, l.page));
        t.chunk = c;
        o.data[c] = Chunk{t, seen[k].index + c};
        left -= t.bytes;
      }
    }
  }
  img.size = any ? (last_used + 1) * l.stride() : 0;
  return img;
}

Endian DetectEndian(Bytes d) {
  auto le = ReadU32(d, 0, Endian::kLittle);
  return le && *le >= kFile && *le <= kSpecial ? Endian::kLittle : Endian::kBig;
}

Result<Image> Open(Bytes d, uint64_t base) {
  Endian e = DetectEndian(d);
  if (!ReadHeader(d.subspan(0, std::min(d.size(), kHeaderSize)), e))
    return Fail(ErrorCode::kMalformed, "no YAFFS2 object header", base);
  auto l = DetectLayout(d, e);
  if (!l) return Fail(ErrorCode::kMalformed, "YAFFS2: no page/spare layout fits", base);
  Image img = Scan(d, *l);
  if (img.size == 0 || img.objects.empty())
    return Fail(ErrorCode::kMalformed, "YAFFS2: no objects", base);
  return img;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes d = ctx.data.subspan(ctx.offset);
  auto img = Open(d, ctx.offset);
  if (!img) return std::unexpected(img.error());
  Parsed p;
  p.size = img->size;
  const Layout& l = img->layout;
  p.details = {{"endianness", l.endian == Endian::kLittle ? "little" : "big"},
               {"page_size", std::to_string(l.page)},
               {"spare_size", std::to_string(l.spare)},
               {"chunks", std::to_string(img->chunks)},
               {"objects", std::to_string(img->objects.size())}};
  if (l.spare > 0) p.details.push_back({"tags_offset", std::to_string(l.tags_at)});
  for (const std::string& w : img->problems) p.warnings.push_back(w);
  return p;
}

class Builder {
 public:
  Builder(const ExtractContext& ctx, TreeSink& sink, Image& img)
      : ctx_(ctx), d_(ctx.chunk), sink_(sink), img_(img) {}

  Status Run() {
    // Children by parent; gone objects (unlinked, deleted, or under a gone directory) skipped.
    std::map<uint32_t, std::vector<const Object*>> children;
    for (const auto& [id, o] : img_.objects) {
      if (o.h.type == 0) continue;  // data chunks without a header
      // The root and the unlinked/deleted pseudo-directories are no entries themselves.
      if (id == kRoot || id == kUnlinked || id == kDeleted) continue;
      if (o.h.parent == kUnlinked || o.h.parent == kDeleted) continue;
      children[o.h.parent].push_back(&o);
    }
    using Descend = std::optional<uint32_t>;  // the directory object to walk into
    std::unordered_set<uint32_t> dirs{kRoot};
    std::vector<std::pair<const Object*, std::string>> links;
    auto walked = WalkDirs(
        ctx_.budget, kRoot, kMaxDepth,
        [&](uint32_t id) -> std::vector<const Object*>* {
          auto it = children.find(id);
          return it == children.end() ? nullptr : &it->second;
        },
        [](const Object* o) -> const std::string& { return o->h.name; },
        [&](const Object* o) { Problem(fmt::format("object {} has an invalid name", o->id)); },
        [&](const Object* o, const std::string& path) -> Result<Descend> {
          path_[o->id] = path;
          if (o->h.type == kDir) {
            if (!dirs.insert(o->id).second) return Descend();
            if (auto st = sink_.Add(Base(*o, path, EntryType::kDir)); !st)
              return std::unexpected(st.error());
            return Descend(o->id);
          }
          if (o->h.type == kHardlink) {
            links.emplace_back(o, path);
            return Descend();
          }
          if (auto st = Emit(*o, path); !st) return std::unexpected(st.error());
          return Descend();
        },
        [&](const std::string& path) {
          Problem(fmt::format("\"{}\" nested deeper than {} levels", path, kMaxDepth));
        });
    if (!walked) return walked;
    for (const auto& [o, path] : links) {
      auto target = path_.find(o->h.equiv);
      auto obj = img_.objects.find(o->h.equiv);
      if (target == path_.end() || obj == img_.objects.end() || obj->second.h.type != kFile) {
        Problem(fmt::format("\"{}\": hardlink to object {}, which is no file of the tree", path,
                            o->h.equiv));
        continue;
      }
      FileEntry e = Base(obj->second, path, EntryType::kHardlink);
      e.link_target = target->second;
      if (auto st = sink_.Add(std::move(e)); !st) return st;
    }
    for (const std::string& p : img_.problems) Problem(p);
    return Finish();
  }

 private:
  FileEntry Base(const Object& o, const std::string& path, EntryType type) const {
    FileEntry e;
    e.raw_name = path;
    e.type = type;
    e.mode = o.h.mode & 07777;
    e.uid = o.h.uid;
    e.gid = o.h.gid;
    e.mtime = o.h.mtime;
    e.origin.offset = o.header_chunk * img_.layout.stride();
    return e;
  }

  Status Emit(const Object& o, const std::string& path) {
    switch (o.h.type) {
      case kFile:
        return EmitFile(o, path);
      case kSymlink: {
        FileEntry e = Base(o, path, EntryType::kSymlink);
        e.link_target = o.h.alias;
        e.size = o.h.alias.size();
        return sink_.Add(std::move(e));
      }
      case kSpecial: {
        EntryType t;
        switch (o.h.mode & 0170000) {
          case 0020000:
            t = EntryType::kCharDev;
            break;
          case 0060000:
            t = EntryType::kBlockDev;
            break;
          case 0010000:
            t = EntryType::kFifo;
            break;
          case 0140000:
            t = EntryType::kSocket;
            break;
          default:
            Problem(fmt::format("\"{}\": special object with mode 0{:o}", path, o.h.mode));
            return {};
        }
        FileEntry e = Base(o, path, t);
        // The Linux dev_t encoding (old and new agree below major and minor 256).
        e.rdev_major = (o.h.rdev >> 8) & 0xFFF;
        e.rdev_minor = (o.h.rdev & 0xFF) | ((o.h.rdev >> 12) & 0xFFF00);
        return sink_.Add(std::move(e));
      }
      default:
        return {};
    }
  }

  Status EmitFile(const Object& o, const std::string& path) {
    FileEntry e = Base(o, path, EntryType::kFile);
    uint64_t size = o.h.size;
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
    const Layout& l = img_.layout;
    uint64_t written = 0;
    for (const auto& [id, c] : o.data) {
      uint64_t at = uint64_t{id - 1} * l.page;
      if (at >= size) break;
      if (written < at) {  // a missing chunk reads as zeros
        if (!truncated)
          Problem(fmt::format("\"{}\": chunk {} is missing", path, written / l.page + 1));
        truncated = true;
        if (auto st = WriteZeros(**out, at - written, l.page); !st) return st;
        written = at;
      }
      size_t n = std::min<uint64_t>({c.tags.bytes, l.page, size - at});
      if (auto st = (*out)->Write(d_.subspan(c.index * l.stride(), n)); !st) return st;
      written = at + n;
    }
    if (written < size) {
      Problem(fmt::format("\"{}\": {} of {} bytes present", path, written, size));
      truncated = true;
      if (auto st = WriteZeros(**out, size - written, l.page); !st) return st;
    }
    return (*out)->Close(truncated);
  }

  Status Finish() { return problems_.Finish(ctx_.base_offset); }
  void Problem(const std::string& msg) { problems_.Add(msg); }

  const ExtractContext& ctx_;
  Bytes d_;
  TreeSink& sink_;
  Image& img_;
  std::unordered_map<uint32_t, std::string> path_;
  ProblemLog problems_;
};

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto img = Open(ctx.chunk, ctx.base_offset);
  if (!img) return std::unexpected(img.error());
  Builder b(ctx, sink, *img);
  return b.Run();
}

}  // namespace

extern const FormatHandler yaffs2_handler{"yaffs2",
                                          FormatKind::kFilesystem,
                                          "YAFFS2 NAND flash filesystem (with or without spare "
                                          "area, either endian)",
                                          kMagics,
                                          Parse,
                                          Extract};

}  // namespace firmwarden::unpack
