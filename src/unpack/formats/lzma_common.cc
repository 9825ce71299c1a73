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

namespace firmwarden::unpack {

std::string_view LzmaFramingName(LzmaFraming f) {
  switch (f) {
    case LzmaFraming::kAlone:
      return "lzma-alone";
    case LzmaFraming::kProps:
      return "lzma-props";
    case LzmaFraming::kHeaderless:
      return "lzma-headerless";
  }
  return "lzma";
}

namespace {

// The range coder flushes 5 bytes after the last symbol; a decoder that stops at the declared
// size (or at a full buffer) need not have read all of them.
constexpr size_t kLzmaTailSlack = 8;

// Raw LZMA1 over `in` with the given properties byte and dictionary. Returns the decoded size.
Result<size_t> RawLzma(Bytes in, std::span<std::byte> out, uint8_t props, uint32_t dict,
                       size_t exact) {
  if (props >= 9 * 5 * 5) return Fail(ErrorCode::kMalformed, "bad LZMA properties byte");
  lzma_options_lzma opt{};
  opt.pb = props / 45;
  opt.lp = (props % 45) / 9;
  opt.lc = props % 9;
  if (opt.lc + opt.lp > LZMA_LCLP_MAX)
    return Fail(ErrorCode::kUnsupported, "LZMA lc+lp above 4 is not supported");
  // No match reaches further back than the block itself, so a dictionary the size of the
  // output decodes the same data; this keeps a crafted 4 GiB dictionary from being allocated.
  uint64_t d = std::min<uint64_t>(dict == 0 ? out.size() : dict, out.size());
  opt.dict_size = static_cast<uint32_t>(std::max<uint64_t>(d, LZMA_DICT_SIZE_MIN));
  lzma_filter filters[] = {{LZMA_FILTER_LZMA1, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_raw_decoder(&s, filters) != LZMA_OK)
    return Fail(ErrorCode::kMalformed, "LZMA decoder rejects the properties");
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  s.next_out = reinterpret_cast<uint8_t*>(out.data());
  s.avail_out = out.size();
  lzma_ret ret = LZMA_OK;
  // Each call makes progress or reports an error; the bound is only a guard.
  for (int i = 0; i < 64 && ret == LZMA_OK; ++i) {
    ret = lzma_code(&s, LZMA_FINISH);
    if (s.avail_out == 0 || s.avail_in == 0) {
      if (ret == LZMA_OK) ret = lzma_code(&s, LZMA_FINISH);
      break;
    }
  }
  const size_t produced = out.size() - s.avail_out;
  const size_t left = s.avail_in;
  lzma_end(&s);
  if (ret != LZMA_OK && ret != LZMA_STREAM_END && ret != LZMA_BUF_ERROR)
    return Fail(ErrorCode::kMalformed,
                fmt::format("LZMA data error (liblzma code {})", static_cast<int>(ret)));
  if (produced == 0) return Fail(ErrorCode::kMalformed, "LZMA block decodes to nothing");
  if (left > kLzmaTailSlack)
    return Fail(ErrorCode::kMalformed,
                fmt::format("LZMA block stops {} bytes before its end", left));
  if (exact != 0 && produced != exact)
    return Fail(ErrorCode::kMalformed,
                fmt::format("LZMA block decodes to {} bytes, expected {}", produced, exact));
  return produced;
}

uint32_t Le32(Bytes b, size_t at) {
  return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8 |
         static_cast<uint32_t>(b[at + 2]) << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

Result<size_t> TryFraming(LzmaFraming f, Bytes in, std::span<std::byte> out, size_t exact) {
  switch (f) {
    case LzmaFraming::kAlone: {
      if (in.size() < 14 || in[13] != std::byte{0})
        return Fail(ErrorCode::kMalformed, "no LZMA-alone header");
      uint64_t size = uint64_t{Le32(in, 5)} | uint64_t{Le32(in, 9)} << 32;
      if (size == ~uint64_t{0}) {
        if (exact != 0) size = exact;
      } else if (size == 0 || size > out.size() || (exact != 0 && size != exact)) {
        return Fail(ErrorCode::kMalformed, "LZMA-alone size does not fit the block");
      }
      auto n = RawLzma(in.subspan(13), out.first(size == ~uint64_t{0} ? out.size() : size),
                       static_cast<uint8_t>(in[0]), Le32(in, 1), size == ~uint64_t{0} ? 0 : size);
      return n;
    }
    case LzmaFraming::kProps:
      if (in.size() < 6 || in[5] != std::byte{0})
        return Fail(ErrorCode::kMalformed, "no LZMA properties header");
      return RawLzma(in.subspan(5), out, static_cast<uint8_t>(in[0]), Le32(in, 1), exact);
    case LzmaFraming::kHeaderless:
      if (in.empty() || in[0] != std::byte{0})
        return Fail(ErrorCode::kMalformed, "not a headerless LZMA stream");
      return RawLzma(in, out, 0x5D, 0, exact);  // 0x5D: lc=3 lp=0 pb=2
  }
  return Fail(ErrorCode::kMalformed, "unknown LZMA framing");
}

}  // namespace

Result<size_t> DecodeLzmaBlock(Bytes in, std::span<std::byte> out, size_t exact,
                               LzmaFraming* hint) {
  if (exact > out.size()) return Fail(ErrorCode::kMalformed, "block larger than its buffer");
  // Without an end marker the decoder would go on turning the range coder's flush bytes into
  // a stray byte or two; a known size stops it where the data ends.
  if (exact != 0) out = out.first(exact);
  constexpr LzmaFraming kOrder[] = {LzmaFraming::kAlone, LzmaFraming::kProps,
                                    LzmaFraming::kHeaderless};
  std::string why;
  for (int i = -1; i < 3; ++i) {
    LzmaFraming f = i < 0 ? *hint : kOrder[i];
    if (i >= 0 && f == *hint) continue;
    auto n = TryFraming(f, in, out, exact);
    if (n) {
      *hint = f;
      return n;
    }
    if (i < 0 || why.empty()) why = fmt::format("{}: {}", LzmaFramingName(f), n.error().message);
  }
  return Fail(ErrorCode::kMalformed, "no LZMA framing decodes this block (" + why + ")");
}

}  // namespace firmwarden::unpack
