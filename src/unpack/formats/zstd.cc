// Zstandard, one frame per chunk. The frame size comes from ZSTD_findFrameCompressedSize, which
// walks the block headers without decoding.
#include <fmt/format.h>
#include <zstd.h>

#include "unpack/decompress_util.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\x28\xB5\x2F\xFD", 4), 0}};

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes in = ctx.data.subspan(ctx.offset);
  size_t frame = ZSTD_findFrameCompressedSize(in.data(), in.size());
  Parsed p;
  if (ZSTD_isError(frame)) {
    // Truncated or corrupt: decode what is there if the header is sound.
    if (ZSTD_getFrameContentSize(in.data(), in.size()) == ZSTD_CONTENTSIZE_ERROR)
      return Fail(ErrorCode::kMalformed, "zstd frame header", ctx.offset);
    frame = in.size();
    p.truncated = true;
  }
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 27);  // 128 MiB window at most
  ZSTD_inBuffer ib{in.data(), frame, 0};
  GrowingOutput out(ctx.budget, frame * 4);
  size_t ret = 0;
  bool done = false;
  while (true) {
    if (!out.Reserve(16 * 1024)) break;
    ZSTD_outBuffer ob{out.free_ptr(), out.free_size(), 0};
    ret = ZSTD_decompressStream(dctx, &ob, &ib);
    out.Commit(ob.pos);
    if (ZSTD_isError(ret)) break;
    if (ret == 0) {
      done = true;
      break;
    }
    if (ib.pos == ib.size && ob.pos < ob.size) break;
  }
  ZSTD_freeDCtx(dctx);
  if (!done) {
    if (out.used() == 0)
      return Fail(ErrorCode::kMalformed, "zstd data does not decode", ctx.offset);
    if (out.limit_hit())
      p.warnings.push_back(
          fmt::format("zstd decompression stopped at {} bytes: output limit", out.used()));
    else
      p.warnings.push_back(fmt::format("zstd frame broken after {} output bytes: {}", out.used(),
                                       ZSTD_isError(ret) ? ZSTD_getErrorName(ret) : "truncated"));
  }
  p.size = frame;
  AddSizeDetails(p, frame, out.used());
  p.children.push_back({"decompressed", out.Finish()});
  return p;
}

}  // namespace

extern const FormatHandler zstd_handler{
    "zstd", FormatKind::kCompression, "Zstandard frame", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
