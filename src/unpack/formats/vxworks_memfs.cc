// Wind River MemFS as TP-Link's VxWorks firmware packs its web pages, big-endian:
//
//   magic "owowowow…" (32 bytes) | u32 version (1) | u32 file count | u32 flags word
//   count × { name[40] (NUL-padded) | u32 stored size | u32 offset from the magic }
//   file data, each stored object 4-byte aligned
//
// Files are flat (no directories). Each stored object is usually an LZMA-alone stream (properties
// 0x5A); anything else is stored as is. The chunk ends at the end of the last object. The
// header has no total size, so every entry is checked against the data before the chunk is taken.
#include <fmt/format.h>
#include <lzma.h>

#include <algorithm>

#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kMagicSize = 32;
constexpr size_t kHeaderSize = kMagicSize + 12;
constexpr size_t kEntrySize = 48;
constexpr size_t kNameSize = 40;
constexpr uint32_t kMaxFiles = 100000;
constexpr uint64_t kMaxFileSize = 64ULL << 20;

constexpr Magic kMagics[] = {{"owowowowowowowowowowowowowowowow", 0}};

struct Entry {
  std::string name;
  uint32_t size = 0;
  uint32_t offset = 0;
  uint64_t table_pos = 0;
};

struct Fs {
  uint32_t version = 0, count = 0, flags = 0;
  std::vector<Entry> entries;
  uint64_t end = 0;  // end of the last object, from the magic
};

Result<Fs> ReadFs(Bytes data, uint64_t base) {
  if (data.size() < kHeaderSize) return Fail(ErrorCode::kTruncated, "MemFS header cut short", base);
  ByteReader r(data.subspan(kMagicSize, 12), base + kMagicSize);
  Fs fs;
  fs.version = *r.U32be();
  fs.count = *r.U32be();
  fs.flags = *r.U32be();
  if (fs.version != 1)
    return Fail(ErrorCode::kUnsupported, fmt::format("MemFS version {} unknown", fs.version),
                base + kMagicSize);
  if (fs.count == 0 || fs.count > kMaxFiles)
    return Fail(ErrorCode::kMalformed,
                fmt::format("MemFS file count {} outside 1..{}", fs.count, kMaxFiles),
                base + kMagicSize + 4);
  const uint64_t table_end = kHeaderSize + uint64_t{fs.count} * kEntrySize;
  if (table_end > data.size())
    return Fail(ErrorCode::kTruncated,
                fmt::format("MemFS table of {} files needs {} bytes, {} remain", fs.count,
                            table_end, data.size()),
                base);
  fs.end = table_end;
  for (uint32_t i = 0; i < fs.count; ++i) {
    uint64_t at = kHeaderSize + uint64_t{i} * kEntrySize;
    Entry e;
    std::string_view name = AsChars(data.subspan(at, kNameSize));
    e.name = std::string(name.substr(0, name.find('\0')));
    e.size = *ReadU32(data, at + kNameSize, Endian::kBig);
    e.offset = *ReadU32(data, at + kNameSize + 4, Endian::kBig);
    e.table_pos = at;
    if (e.name.empty() ||
        !std::all_of(e.name.begin(), e.name.end(), [](char c) { return c >= 0x20 && c < 0x7F; }))
      return Fail(ErrorCode::kMalformed, fmt::format("MemFS entry {} has no printable name", i),
                  base + at);
    if (e.offset < table_end)
      return Fail(
          ErrorCode::kMalformed,
          fmt::format("MemFS \"{}\" at 0x{:x} lies inside the file table", e.name, e.offset),
          base + at);
    fs.end = std::max<uint64_t>(fs.end, uint64_t{e.offset} + e.size);
    fs.entries.push_back(std::move(e));
  }
  return fs;
}

bool IsLzma(Bytes b) {
  if (b.size() < 14 || static_cast<uint8_t>(b[0]) >= 225 || b[13] != std::byte{0}) return false;
  uint32_t dict = *ReadU32(b, 1, Endian::kLittle);
  return dict >= 4096 && (dict & (dict - 1)) == 0;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto fs = ReadFs(data, ctx.offset);
  if (!fs) return std::unexpected(fs.error());
  Parsed p;
  p.size = fs->end;
  p.truncated = fs->end > data.size();
  size_t lzma = 0;
  for (const Entry& e : fs->entries)
    if (uint64_t{e.offset} + e.size <= data.size() && IsLzma(data.subspan(e.offset, e.size)))
      ++lzma;
  p.details = {{"version", std::to_string(fs->version)},
               {"files", std::to_string(fs->count)},
               {"flags_word", fmt::format("0x{:08x}", fs->flags)},
               {"lzma_files", std::to_string(lzma)}};
  return p;
}

// Decodes one LZMA-alone object of at most `limit` output bytes. Returns why it failed, or "".
std::string DecodeLzma(Bytes in, uint64_t limit, std::vector<std::byte>& out) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_decoder(&s, 256ULL << 20) != LZMA_OK) return "lzma_alone_decoder failed";
  out.clear();
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  lzma_ret ret = LZMA_OK;
  std::vector<std::byte> buf(1 << 16);
  while (ret == LZMA_OK) {
    s.next_out = reinterpret_cast<uint8_t*>(buf.data());
    s.avail_out = buf.size();
    ret = lzma_code(&s, LZMA_FINISH);
    size_t n = buf.size() - s.avail_out;
    if (out.size() + n > limit) {
      lzma_end(&s);
      return fmt::format("decodes to more than {} bytes", limit);
    }
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
    if (ret == LZMA_OK && n == 0 && s.avail_in == 0) break;
  }
  lzma_end(&s);
  if (ret != LZMA_STREAM_END)
    return fmt::format("LZMA data is corrupt (liblzma code {})", static_cast<int>(ret));
  return "";
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto fs = ReadFs(ctx.chunk, ctx.base_offset);
  if (!fs) return std::unexpected(fs.error());
  std::vector<std::byte> out;
  uint64_t problems = 0;
  std::string first_problem;
  for (const Entry& e : fs->entries) {
    if (ctx.budget.TimeUp()) return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
    FileEntry fe;
    fe.raw_name = e.name;
    fe.type = EntryType::kFile;
    fe.mode = 0644;
    fe.origin.offset = e.table_pos;
    const bool present = uint64_t{e.offset} + e.size <= ctx.chunk.size();
    Bytes stored = present ? ctx.chunk.subspan(e.offset, e.size) : Bytes();
    const bool lzma = IsLzma(stored);
    uint64_t declared = lzma ? *ReadU64(stored, 5, Endian::kLittle) : e.size;
    fe.size = lzma && declared != UINT64_MAX ? declared : e.size;
    std::string why;
    Bytes content = stored;
    if (!present) {
      why = "data lies past the end of the image";
    } else if (lzma && !sink.dry_run()) {
      uint64_t limit = std::min<uint64_t>(
          {kMaxFileSize, ctx.budget.bytes_left, declared == UINT64_MAX ? kMaxFileSize : declared});
      why = DecodeLzma(stored, limit, out);
      content = Bytes(out);
      fe.size = out.size();
    }
    auto f = sink.OpenFile(std::move(fe));
    if (!f) return std::unexpected(f.error());
    if (*f == nullptr) continue;
    if (!sink.dry_run())
      if (auto s = (*f)->Write(content); !s) return s;
    if (!why.empty()) {
      if (problems++ == 0) first_problem = fmt::format("MemFS \"{}\": {}", e.name, why);
      (void)(*f)->Close(true);
      continue;
    }
    if (auto s = (*f)->Close(); !s) return s;
  }
  if (problems == 0) return {};
  return Fail(ErrorCode::kMalformed,
              problems == 1 ? first_problem
                            : fmt::format("{} (and {} more problems)", first_problem, problems - 1),
              ctx.base_offset);
}

}  // namespace

extern const FormatHandler vxworks_memfs_handler{"vxworks_memfs",
                                                 FormatKind::kFilesystem,
                                                 "Wind River MemFS (TP-Link VxWorks web pages)",
                                                 kMagics,
                                                 Parse,
                                                 Extract};

}  // namespace firmwarden::unpack
