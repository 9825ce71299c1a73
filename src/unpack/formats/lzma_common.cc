#include "unpack/formats/lzma_common.h"

#include <fmt/format.h>

#include "unpack/decompress_util.h"

namespace firmwarden::unpack {

Result<Parsed> RunLzma(const ParseContext& ctx, lzma_stream& s, std::string_view what,
                       size_t min_output, bool accept_eof, bool strong_magic) {
  Bytes in = ctx.data.subspan(ctx.offset);
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  GrowingOutput out(ctx.budget, in.size() * 3);
  lzma_ret ret = LZMA_OK;
  while (true) {
    if (!out.Reserve(16 * 1024)) break;
    s.next_out = reinterpret_cast<uint8_t*>(out.free_ptr());
    s.avail_out = out.free_size();
    std::byte* before = out.free_ptr();
    ret = lzma_code(&s, LZMA_FINISH);
    out.Commit(reinterpret_cast<std::byte*>(s.next_out) - before);
    if (ret != LZMA_OK) break;
  }
  size_t consumed = s.total_in;
  lzma_end(&s);
  Parsed p;
  if (ret == LZMA_STREAM_END) {
    if (out.used() < min_output)
      return Fail(ErrorCode::kMalformed, fmt::format("{} stream decodes to nothing", what),
                  ctx.offset);
  } else if (out.limit_hit()) {
    p.warnings.push_back(
        fmt::format("{} decompression stopped at {} bytes: output limit (--max-bytes/--max-ratio)",
                    what, out.used()));
  } else if (accept_eof && ret == LZMA_BUF_ERROR && out.used() >= 4096) {
    // Input ended mid-stream without an end marker; what was decoded is still real data.
    p.warnings.push_back(
        fmt::format("{} stream has no end marker; decoded {} bytes to the end of "
                    "the data",
                    what, out.used()));
  } else {
    // Corrupt or not this format at all. A candidate that decodes to almost nothing is rejected;
    // one that decoded a lot before breaking is kept and flagged.
    if (out.used() < 4096 && !(strong_magic && ret == LZMA_BUF_ERROR))
      return Fail(
          ErrorCode::kMalformed,
          fmt::format("{} data does not decode (liblzma code {})", what, static_cast<int>(ret)),
          ctx.offset);
    p.truncated = ret == LZMA_BUF_ERROR;
    p.warnings.push_back(fmt::format("{} stream broken after {} output bytes (liblzma code {})",
                                     what, out.used(), static_cast<int>(ret)));
  }
  p.size = consumed;
  AddSizeDetails(p, consumed, out.used());
  p.children.push_back({"decompressed", out.Finish()});
  return p;
}

}  // namespace firmwarden::unpack
