// LZ4: the frame format (magic 0x184D2204, via LZ4F) and the legacy format that Linux kernels and
// `lz4 -l` write (magic 0x184C2102, then blocks of u32 size + data, each at most 8 MiB decoded).
#include <fmt/format.h>
#include <lz4.h>
#include <lz4frame.h>

#include "unpack/decompress_util.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kFrameMagics[] = {{std::string_view("\x04\x22\x4D\x18", 4), 0}};
constexpr Magic kLegacyMagics[] = {{std::string_view("\x02\x21\x4C\x18", 4), 0}};

Result<Parsed> ParseFrame(const ParseContext& ctx) {
  Bytes in = ctx.data.subspan(ctx.offset);
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
    return Fail(ErrorCode::kIo, "LZ4F context");
  GrowingOutput out(ctx.budget, in.size() * 3);
  size_t pos = 0;
  size_t ret = 1;
  bool error = false;
  while (pos < in.size()) {
    if (!out.Reserve(16 * 1024)) break;
    size_t src = in.size() - pos;
    size_t dst = out.free_size();
    ret = LZ4F_decompress(dctx, out.free_ptr(), &dst, in.data() + pos, &src, nullptr);
    pos += src;
    out.Commit(dst);
    if (LZ4F_isError(ret)) {
      error = true;
      break;
    }
    if (ret == 0) break;  // frame complete
    if (src == 0 && dst == 0) break;
  }
  LZ4F_freeDecompressionContext(dctx);
  Parsed p;
  if (ret != 0) {
    // A sound frame whose input ran out is a truncated chunk; a decode error before any output
    // means this was not an LZ4 frame.
    if (out.used() == 0 && (error || pos == 0))
      return Fail(ErrorCode::kMalformed, "lz4 frame does not decode", ctx.offset);
    if (out.limit_hit())
      p.warnings.push_back(
          fmt::format("lz4 decompression stopped at {} bytes: output limit", out.used()));
    else {
      p.truncated = !error;
      p.warnings.push_back(fmt::format("lz4 frame broken after {} output bytes", out.used()));
    }
  }
  p.size = pos;
  AddSizeDetails(p, pos, out.used());
  p.children.push_back({"decompressed", out.Finish()});
  return p;
}

Result<Parsed> ParseLegacy(const ParseContext& ctx) {
  constexpr size_t kBlock = 8 << 20;
  Bytes in = ctx.data.subspan(ctx.offset);
  size_t pos = 4;
  GrowingOutput out(ctx.budget, in.size() * 3);
  Parsed p;
  size_t blocks = 0;
  while (pos + 4 <= in.size()) {
    auto len = ReadU32(in, pos, Endian::kLittle);
    if (!len) break;
    // The stream simply ends; the next word is another magic, padding, or the kernel's size.
    if (*len == 0x184C2102 || *len == 0 ||
        *len > static_cast<uint32_t>(LZ4_compressBound(static_cast<int>(kBlock))))
      break;
    if (*len > in.size() - pos - 4) {
      p.truncated = true;
      break;
    }
    if (!out.Reserve(kBlock)) {
      p.warnings.push_back("lz4 decompression stopped: output limit");
      break;
    }
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos + 4),
                                reinterpret_cast<char*>(out.free_ptr()), static_cast<int>(*len),
                                static_cast<int>(std::min(out.free_size(), kBlock)));
    if (n < 0) {
      if (blocks == 0) return Fail(ErrorCode::kMalformed, "lz4 legacy block", ctx.offset + pos);
      break;  // not a block: the stream ended before
    }
    out.Commit(static_cast<size_t>(n));
    pos += 4 + *len;
    ++blocks;
    // A short block is the last one.
    if (static_cast<size_t>(n) < kBlock) break;
  }
  if (blocks == 0)
    return Fail(ErrorCode::kMalformed, "lz4 legacy stream without blocks", ctx.offset);
  p.size = pos;
  p.details.push_back({"blocks", std::to_string(blocks)});
  AddSizeDetails(p, pos, out.used());
  p.children.push_back({"decompressed", out.Finish()});
  return p;
}

}  // namespace

extern const FormatHandler lz4_handler{
    "lz4", FormatKind::kCompression, "LZ4 frame", kFrameMagics, ParseFrame, nullptr};
extern const FormatHandler lz4_legacy_handler{"lz4-legacy",
                                              FormatKind::kCompression,
                                              "LZ4 legacy stream (kernels, lz4 -l)",
                                              kLegacyMagics,
                                              ParseLegacy,
                                              nullptr};

}  // namespace firmwarden::unpack
