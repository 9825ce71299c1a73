// Arcadyan "PFS/0.9" web file system (the second section of Linksys WRT120N and other Arcadyan
// firmware, after LZMA), little-endian:
//
//   "PFS/0.9\0" | u32 reserved | u16 name field length N | u16 file count
//   count × { name[N] (DOS path, '\' separated, NUL-padded) | u32 attribute word |
//             u32 data offset | u32 size }
//   file data; offsets count from the end of the table
//
// Files of size zero are the firmware's virtual CGI handlers; they are kept as empty files.
#include <fmt/format.h>

#include <algorithm>

#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kHeaderSize = 16;
constexpr uint32_t kMaxFiles = 100000;
constexpr Magic kMagics[] = {{std::string_view("PFS/0.9\0", 8), 0}};

struct Entry {
  std::string name;
  uint32_t attr = 0, offset = 0, size = 0;
  uint64_t table_pos = 0;
};

struct Fs {
  uint16_t name_len = 0;
  uint64_t data_start = 0;
  uint64_t end = 0;
  std::vector<Entry> entries;
};

Result<Fs> ReadFs(Bytes data, uint64_t base) {
  if (data.size() < kHeaderSize) return Fail(ErrorCode::kTruncated, "PFS header cut short", base);
  Fs fs;
  fs.name_len = *ReadU16(data, 12, Endian::kLittle);
  uint16_t count = *ReadU16(data, 14, Endian::kLittle);
  if (fs.name_len < 8 || fs.name_len > 1024)
    return Fail(ErrorCode::kMalformed,
                fmt::format("PFS name length {} outside 8..1024", fs.name_len), base + 12);
  if (count == 0) return Fail(ErrorCode::kMalformed, "PFS without files", base + 14);
  const uint64_t entry_size = uint64_t{fs.name_len} + 12;
  fs.data_start = kHeaderSize + entry_size * count;
  if (fs.data_start > data.size())
    return Fail(ErrorCode::kTruncated,
                fmt::format("PFS table of {} files needs {} bytes, {} remain", count, fs.data_start,
                            data.size()),
                base);
  fs.end = fs.data_start;
  for (uint32_t i = 0; i < count && i < kMaxFiles; ++i) {
    uint64_t at = kHeaderSize + entry_size * i;
    Entry e;
    std::string_view name = AsChars(data.subspan(at, fs.name_len));
    e.name = std::string(name.substr(0, name.find('\0')));
    if (e.name.empty() ||
        !std::all_of(e.name.begin(), e.name.end(), [](char c) { return c >= 0x20 && c < 0x7F; }))
      return Fail(ErrorCode::kMalformed, fmt::format("PFS entry {} has no printable name", i),
                  base + at);
    std::replace(e.name.begin(), e.name.end(), '\\', '/');
    e.attr = *ReadU32(data, at + fs.name_len, Endian::kLittle);
    e.offset = *ReadU32(data, at + fs.name_len + 4, Endian::kLittle);
    e.size = *ReadU32(data, at + fs.name_len + 8, Endian::kLittle);
    e.table_pos = at;
    fs.end = std::max(fs.end, fs.data_start + e.offset + e.size);
    fs.entries.push_back(std::move(e));
  }
  return fs;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto fs = ReadFs(data, ctx.offset);
  if (!fs) return std::unexpected(fs.error());
  Parsed p;
  p.size = fs->end;
  p.truncated = fs->end > data.size();
  uint64_t bytes = 0;
  for (const Entry& e : fs->entries) bytes += e.size;
  p.details = {{"files", std::to_string(fs->entries.size())},
               {"name_length", std::to_string(fs->name_len)},
               {"data_offset", fmt::format("0x{:x}", fs->data_start)},
               {"data_bytes", std::to_string(bytes)}};
  return p;
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto fs = ReadFs(ctx.chunk, ctx.base_offset);
  if (!fs) return std::unexpected(fs.error());
  uint64_t missing = 0;
  std::string first;
  for (const Entry& e : fs->entries) {
    if (ctx.budget.TimeUp()) return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
    FileEntry fe;
    fe.raw_name = e.name;
    fe.type = EntryType::kFile;
    fe.mode = 0644;
    fe.size = e.size;
    fe.origin.offset = e.table_pos;
    const uint64_t at = fs->data_start + e.offset;
    const bool present = at <= ctx.chunk.size() && e.size <= ctx.chunk.size() - at;
    auto f = sink.OpenFile(std::move(fe));
    if (!f) return std::unexpected(f.error());
    if (*f == nullptr) continue;
    if (!present) {
      if (missing++ == 0) first = e.name;
      (void)(*f)->Close(true);
      continue;
    }
    if (!sink.dry_run())
      if (auto s = (*f)->Write(ctx.chunk.subspan(at, e.size)); !s) return s;
    if (auto s = (*f)->Close(); !s) return s;
  }
  if (missing == 0) return {};
  return Fail(ErrorCode::kTruncated,
              fmt::format("PFS \"{}\"{}: data lies past the end of the image", first,
                          missing > 1 ? fmt::format(" and {} more files", missing - 1) : ""),
              ctx.base_offset);
}

}  // namespace

extern const FormatHandler pfs_handler{
    "pfs", FormatKind::kFilesystem, "Arcadyan PFS/0.9 web file system", kMagics, Parse, Extract};

}  // namespace firmwarden::unpack
