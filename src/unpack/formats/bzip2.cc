// bzip2, decoded with libbz2; BZ_STREAM_END gives the exact size.
#include <bzlib.h>
#include <fmt/format.h>

#include "unpack/decompress_util.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

// "BZh" + block size digit + the first block's magic (pi).
#define BZ_MAGIC(n) \
  { std::string_view("BZh" n "1AY&SY", 10), 0 }
constexpr Magic kMagics[] = {BZ_MAGIC("1"), BZ_MAGIC("2"), BZ_MAGIC("3"),
                             BZ_MAGIC("4"), BZ_MAGIC("5"), BZ_MAGIC("6"),
                             BZ_MAGIC("7"), BZ_MAGIC("8"), BZ_MAGIC("9")};
#undef BZ_MAGIC

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes in = ctx.data.subspan(ctx.offset);
  bz_stream s{};
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return Fail(ErrorCode::kIo, "bzip2 init failed");
  s.next_in = reinterpret_cast<char*>(const_cast<std::byte*>(in.data()));
  s.avail_in = static_cast<unsigned>(std::min<size_t>(in.size(), UINT32_MAX));
  GrowingOutput out(ctx.budget, in.size() * 4);
  int ret = BZ_OK;
  while (true) {
    if (!out.Reserve(16 * 1024)) break;
    s.next_out = reinterpret_cast<char*>(out.free_ptr());
    s.avail_out = static_cast<unsigned>(std::min<size_t>(out.free_size(), UINT32_MAX));
    char* before = s.next_out;
    ret = BZ2_bzDecompress(&s);
    out.Commit(static_cast<size_t>(s.next_out - before));
    if (ret != BZ_OK) break;
    if (s.avail_in == 0 && s.avail_out != 0) break;
  }
  uint64_t consumed = (static_cast<uint64_t>(s.total_in_hi32) << 32) | s.total_in_lo32;
  BZ2_bzDecompressEnd(&s);
  Parsed p;
  if (ret != BZ_STREAM_END) {
    bool ran_out = ret == BZ_OK && s.avail_in == 0;
    if (out.used() == 0 && !ran_out)
      return Fail(ErrorCode::kMalformed, "bzip2 data does not decode", ctx.offset);
    if (out.limit_hit())
      p.warnings.push_back(
          fmt::format("bzip2 decompression stopped at {} bytes: output limit", out.used()));
    else {
      p.truncated = ran_out;
      p.warnings.push_back(
          fmt::format("bzip2 stream broken after {} output bytes (code {})", out.used(), ret));
    }
  }
  p.size = consumed;
  AddSizeDetails(p, consumed, out.used());
  p.children.push_back({"decompressed", out.Finish()});
  return p;
}

}  // namespace

extern const FormatHandler bzip2_handler{
    "bzip2", FormatKind::kCompression, "bzip2 stream", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
