// 7z. The signature header names where the next (final) header lies; the chunk ends after it.
#include <archive.h>
#include <fmt/format.h>
#include <zlib.h>

#include "unpack/formats/archive_common.h"
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
  return p;
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  return ExtractWithLibarchive(ctx, sink, archive_read_support_format_7zip);
}

}  // namespace

extern const FormatHandler sevenzip_handler{
    "7z", FormatKind::kArchive, "7-Zip archive", kMagics, Parse, Extract};

}  // namespace firmwarden::unpack
