// cpio in all four encodings: newc ("070701"), newc with checksums ("070702"), portable ASCII /
// odc ("070707") and the old binary format (0x71C7 in either byte order). The chunk is measured by
// walking the headers to "TRAILER!!!"; libarchive extracts.
#include <archive.h>
#include <fmt/format.h>

#include "unpack/formats/archive_common.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("070701", 6), 0},
                             {std::string_view("070702", 6), 0},
                             {std::string_view("070707", 6), 0},
                             {std::string_view("\xC7\x71", 2), 0},
                             {std::string_view("\x71\xC7", 2), 0}};

constexpr std::string_view kTrailer = "TRAILER!!!";
constexpr uint64_t kMaxEntries = 10'000'000;

std::optional<uint64_t> Digits(Bytes f, int base) {
  uint64_t v = 0;
  for (std::byte b : f) {
    char c = static_cast<char>(b);
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return std::nullopt;
    if (d >= base) return std::nullopt;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  return v;
}

size_t Align(size_t v, size_t a) { return (v + a - 1) / a * a; }

struct Walk {
  std::string variant;
  size_t end = 0;
  uint64_t entries = 0;
  bool truncated = false;
  bool trailer = false;
};

// One header at `pos`; returns (name, header+name length before data, data length, alignment).
Result<Walk> WalkAll(Bytes d, std::string_view magic) {
  Walk w;
  size_t pos = 0;
  bool binary = magic.size() == 2;
  Endian e = magic == std::string_view("\xC7\x71", 2) ? Endian::kLittle : Endian::kBig;
  w.variant = binary              ? (e == Endian::kLittle ? "binary-le" : "binary-be")
              : magic == "070701" ? "newc"
              : magic == "070702" ? "crc"
                                  : "odc";
  while (w.entries < kMaxEntries) {
    uint64_t namesize, filesize;
    size_t hdr, align;
    if (binary) {
      hdr = 26;
      align = 2;
      if (d.size() - pos < hdr) break;
      auto m = ReadU16(d, pos, e);
      if (!m || *m != 0x71C7) break;
      auto ns = ReadU16(d, pos + 20, e);
      auto hi = ReadU16(d, pos + 22, e);
      auto lo = ReadU16(d, pos + 24, e);
      if (!ns || !hi || !lo) break;
      namesize = *ns;
      filesize = (static_cast<uint64_t>(*hi) << 16) | *lo;
    } else if (w.variant == "odc") {
      hdr = 76;
      align = 1;
      if (d.size() - pos < hdr) break;
      if (AsChars(d.subspan(pos, 6)) != "070707") break;
      auto ns = Digits(d.subspan(pos + 59, 6), 8);
      auto fs = Digits(d.subspan(pos + 65, 11), 8);
      if (!ns || !fs) break;
      namesize = *ns;
      filesize = *fs;
    } else {
      hdr = 110;
      align = 4;
      if (d.size() - pos < hdr) break;
      if (AsChars(d.subspan(pos, 6)) != magic) break;
      auto ns = Digits(d.subspan(pos + 94, 8), 16);
      auto fs = Digits(d.subspan(pos + 54, 8), 16);
      if (!ns || !fs) break;
      namesize = *ns;
      filesize = *fs;
    }
    if (namesize == 0 || namesize > 4096) break;
    size_t name_end = pos + hdr + namesize;
    if (name_end > d.size()) {
      w.truncated = true;
      break;
    }
    std::string_view name = AsChars(d.subspan(pos + hdr, namesize - 1));
    size_t data_start = Align(name_end, align);
    if (binary) data_start = pos + hdr + Align(namesize, 2);
    if (filesize > d.size() || data_start + filesize > d.size()) {
      w.truncated = true;
      w.end = d.size();
      ++w.entries;
      break;
    }
    size_t next = Align(data_start + filesize, align);
    ++w.entries;
    if (next > d.size()) next = d.size();
    pos = next;
    if (name == kTrailer) {
      w.trailer = true;
      break;
    }
  }
  w.end = std::max(w.end, pos);
  return w;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes d = ctx.data.subspan(ctx.offset);
  auto w = WalkAll(d, ctx.match);
  if (!w) return std::unexpected(w.error());
  // A binary magic is two bytes: demand a real structure behind it.
  if (w->entries == 0 || (ctx.match.size() == 2 && w->entries < 2 && !w->trailer))
    return Fail(ErrorCode::kMalformed, "no cpio entries", ctx.offset);
  Parsed p;
  p.size = w->end;
  p.truncated = w->truncated;
  if (!w->trailer && !w->truncated)
    p.warnings.push_back("cpio archive ends without a TRAILER!!! entry");
  p.details.push_back({"variant", w->variant});
  p.details.push_back({"headers", std::to_string(w->entries)});
  return p;
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  return ExtractWithLibarchive(ctx, sink, archive_read_support_format_cpio);
}

}  // namespace

extern const FormatHandler cpio_handler{
    "cpio", FormatKind::kArchive, "cpio archive (newc, crc, odc, old binary)", kMagics, Parse,
    Extract};

}  // namespace firmwarden::unpack
