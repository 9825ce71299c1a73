// LZMA "alone" (.lzma): a 13-byte header (properties, dictionary size, uncompressed size or -1)
// and a raw LZMA1 stream. No magic number exists, so the signatures are the common properties
// byte 0x5D with the dictionary sizes vendors use, and the header is validated before decoding.
// The "unknown size" form (-1, ended by an end marker, or by the data itself) is what kernels use.
#include <fmt/format.h>
#include <lzma.h>

#include "unpack/formats/lzma_common.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

// Properties 0x5D (lc=3, lp=0, pb=2: the default) and 0x6D (lc=1: OpenWrt's kernels), each with
// the power-of-two dictionary sizes from 64 KiB to 128 MiB.
#define LZMA_MAGIC(p, d) \
  { std::string_view(p d, 5), 0 }
#define LZMA_DICTS(p)                                                       \
  LZMA_MAGIC(p, "\x00\x00\x01\x00"), LZMA_MAGIC(p, "\x00\x00\x02\x00"),     \
      LZMA_MAGIC(p, "\x00\x00\x04\x00"), LZMA_MAGIC(p, "\x00\x00\x08\x00"), \
      LZMA_MAGIC(p, "\x00\x00\x10\x00"), LZMA_MAGIC(p, "\x00\x00\x20\x00"), \
      LZMA_MAGIC(p, "\x00\x00\x40\x00"), LZMA_MAGIC(p, "\x00\x00\x80\x00"), \
      LZMA_MAGIC(p, "\x00\x00\x00\x01"), LZMA_MAGIC(p, "\x00\x00\x00\x02"), \
      LZMA_MAGIC(p, "\x00\x00\x00\x04"), LZMA_MAGIC(p, "\x00\x00\x00\x08")
// 0x6E and 0x5A: TP-Link VxWorks kernels and MemFS files.
constexpr Magic kMagics[] = {LZMA_DICTS("\x5D"), LZMA_DICTS("\x6D"), LZMA_DICTS("\x6E"),
                             LZMA_DICTS("\x5A")};
#undef LZMA_DICTS
#undef LZMA_MAGIC

Result<Parsed> Parse(const ParseContext& ctx) {
  ByteReader r(ctx.data.subspan(ctx.offset), ctx.offset);
  auto props = r.U8();
  auto dict = r.U32le();
  auto usize = r.U64le();
  if (!props || !dict || !usize) return Fail(ErrorCode::kTruncated, "lzma header", ctx.offset);
  if (*props >= 225) return Fail(ErrorCode::kMalformed, "lzma properties byte", ctx.offset);
  bool unknown_size = *usize == UINT64_MAX;
  if (!unknown_size && (*usize == 0 || *usize > (1ULL << 32)))
    return Fail(ErrorCode::kMalformed, "implausible lzma uncompressed size", ctx.offset);
  // The range coder's first byte is always 0.
  auto first = r.U8();
  if (!first || *first != 0)
    return Fail(ErrorCode::kMalformed, "lzma range coder init", ctx.offset);

  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_decoder(&s, kLzmaMemLimit) != LZMA_OK)
    return Fail(ErrorCode::kIo, "lzma_alone_decoder failed");
  auto p = RunLzma(ctx, s, "lzma", 16, /*accept_eof=*/unknown_size);
  if (!p) return p;
  p->details.insert(p->details.begin(),
                    {{"dictionary", std::to_string(*dict)},
                     {"declared_size", unknown_size ? "unknown" : std::to_string(*usize)}});
  return p;
}

}  // namespace

extern const FormatHandler lzma_handler{
    "lzma", FormatKind::kCompression, "LZMA alone stream (.lzma, also kernels)", kMagics, Parse,
    nullptr};

}  // namespace firmwarden::unpack
