// xz (.xz container, one stream per chunk), decoded with liblzma; the stream end gives the size.
#include <fmt/format.h>
#include <lzma.h>

#include "unpack/decompress_util.h"
#include "unpack/formats/lzma_common.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\xFD"
                                               "7zXZ\x00",
                                               6),
                              0}};

Result<Parsed> Parse(const ParseContext& ctx) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, kLzmaMemLimit, 0) != LZMA_OK)
    return Fail(ErrorCode::kIo, "lzma_stream_decoder failed");
  return RunLzma(ctx, s, "xz", 1, false, /*strong_magic=*/true);
}

}  // namespace

extern const FormatHandler xz_handler{
    "xz", FormatKind::kCompression, "xz stream (LZMA2)", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
