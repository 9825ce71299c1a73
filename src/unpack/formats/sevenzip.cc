// 7z. The signature header names where the next (final) header lies; the chunk ends after it.
//
// Extraction: libarchive is the primary extractor. Our own reader (sevenzip_reader.h) parses the
// header first, for details and to see which coders the folders use; when one of them is a chain
// Debian 12's libarchive 3.6 cannot decode (7-Zip >= 23's ARM64 branch filter, which it picks for
// arm64 executables, or a non-x86 branch filter over Copy/BZip2), the own reader extracts instead,
// with liblzma's raw decoder (which has the ARM64 filter since 5.4), zlib and libbz2.
#include <archive.h>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>

#include "unpack/formats/archive_common.h"
#include "unpack/formats/sevenzip_reader.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("7z\xBC\xAF\x27\x1C", 6), 0}};

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes d = ctx.data.subspan(ctx.offset);
  auto crc = ReadU32(d, 8, Endian::kLittle);
  auto off = ReadU64(d, 12, Endian::kLittle);
  auto size = ReadU64(d, 20, Endian::kLittle);
  if (!crc || !off || !size) return Fail(ErrorCode::kTruncated, "7z signature header", ctx.offset);
  uint32_t computed =
      static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(d.data() + 12), 20));
  if (computed != *crc) return Fail(ErrorCode::kMalformed, "7z start header CRC", ctx.offset);
  if (*off > (1ULL << 40) || *size > (1ULL << 32))
    return Fail(ErrorCode::kMalformed, "7z header offsets", ctx.offset);
  Parsed p;
  p.size = 32 + *off + *size;
  if (p.size > d.size()) p.truncated = true;
  p.details.push_back(
      {"version", fmt::format("{}.{}", static_cast<int>(d[6]), static_cast<int>(d[7]))});
  if (!p.truncated) {
    // The header is small (and an encoded one is capped), so describing the contents is cheap.
    // A header our reader refuses is left to libarchive at extraction.
    auto a =
        sevenzip::ReadArchive(d.first(p.size), ctx.offset,
                              std::min<uint64_t>(sevenzip::kMaxHeaderSize, ctx.budget.bytes_left));
    if (a) {
      p.details.push_back({"files", std::to_string(a->files.size())});
      p.details.push_back({"folders", std::to_string(a->folders.size())});
      if (!a->folders.empty()) p.details.push_back({"methods", sevenzip::Methods(*a)});
      p.details.push_back({"encoded_header", a->encoded_header ? "yes" : "no"});
    }
  }
  return p;
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  auto a = sevenzip::ReadArchive(ctx.chunk, ctx.base_offset);
  if (a && sevenzip::NeedsOwnDecoder(*a) && sevenzip::CanDecode(*a))
    return sevenzip::Extract(*a, ctx, sink);
  return ExtractWithLibarchive(ctx, sink, archive_read_support_format_7zip);
}

}  // namespace

extern const FormatHandler sevenzip_handler{
    "7z", FormatKind::kArchive, "7-Zip archive", kMagics, Parse, Extract};

}  // namespace firmwarden::unpack
