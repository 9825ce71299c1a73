// Bare zlib streams (RFC 1950). The two header bytes are a weak signature, so a candidate must
// pass the header check, decode to the end, and match its Adler-32 trailer.
#include <fmt/format.h>
#include <zlib.h>

#include "unpack/decompress_util.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\x78\x01", 2), 0},
                             {std::string_view("\x78\x5E", 2), 0},
                             {std::string_view("\x78\x9C", 2), 0},
                             {std::string_view("\x78\xDA", 2), 0}};

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes in = ctx.data.subspan(ctx.offset);
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Fail(ErrorCode::kIo, "inflateInit failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  GrowingOutput out(ctx.budget, in.size() * 4);
  int ret = Z_OK;
  while (true) {
    if (!out.Reserve(16 * 1024)) break;
    zs.next_out = reinterpret_cast<Bytef*>(out.free_ptr());
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.free_size(), UINT32_MAX));
    std::byte* before = out.free_ptr();
    ret = inflate(&zs, Z_NO_FLUSH);
    out.Commit(reinterpret_cast<std::byte*>(zs.next_out) - before);
    if (ret != Z_OK || zs.avail_in == 0) break;
  }
  size_t consumed = zs.total_in;
  inflateEnd(&zs);
  Parsed p;
  if (ret != Z_STREAM_END) {
    // Only a stream that verified its checksum is trusted as zlib; a bomb that hits the limit
    // after real output is kept (the limit is the finding).
    if (!out.limit_hit() || out.used() < 4096)
      return Fail(ErrorCode::kMalformed, "not a complete zlib stream", ctx.offset);
    p.warnings.push_back(
        fmt::format("zlib decompression stopped at {} bytes: output limit", out.used()));
  } else if (out.used() < 16) {
    return Fail(ErrorCode::kMalformed, "zlib stream too small to be meaningful", ctx.offset);
  }
  p.size = consumed;
  AddSizeDetails(p, consumed, out.used());
  p.children.push_back({"decompressed", out.Finish()});
  return p;
}

}  // namespace

extern const FormatHandler zlib_handler{
    "zlib", FormatKind::kCompression, "zlib stream (RFC 1950)", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
