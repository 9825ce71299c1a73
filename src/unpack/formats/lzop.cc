// lzop (.lzo) files: the container is walked by unpack/lzop.cc and the LZO1X blocks are decoded by
// our own decompressor (liblzo2 is GPL, so it is not linked).
#include "unpack/lzop.h"

#include <fmt/format.h>

#include <cstring>

#include "unpack/decompress_util.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\x89LZO\x00\x0D\x0A\x1A\x0A", 9), 0}};

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes in = ctx.data.subspan(ctx.offset);
  auto measured = LzopMeasure(in);
  if (!measured) return std::unexpected(measured.error());
  std::string out;
  auto info = LzopDecompress(in.subspan(0, measured->consumed), &out, ctx.budget.bytes_left);
  Parsed p;
  p.size = measured->consumed;
  if (!info) {
    p.warnings.push_back(fmt::format("lzop: {}", info.error().ToString()));
    if (out.empty()) return p;  // measured but not decodable: keep the chunk, no child
  }
  if (!measured->original_name.empty()) p.details.push_back({"name", measured->original_name});
  AddSizeDetails(p, p.size, out.size());
  ctx.budget.Take(std::min<uint64_t>(out.size(), ctx.budget.bytes_left));
  std::string name = measured->original_name.empty() ? "decompressed" : measured->original_name;
  p.children.push_back({name, Blob::FromString(out)});
  return p;
}

}  // namespace

extern const FormatHandler lzop_handler{
    "lzop", FormatKind::kCompression, "lzop file (LZO1X)", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
