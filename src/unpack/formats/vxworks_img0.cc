// TP-Link VxWorks firmware "IMG0" header (WR-series routers running VxWorks 5.5.x), big-endian:
//
//   0x00 "IMG0"   0x04 image size (from "IMG0" to the end of the image)
//   0x08..0x3f    build and board words (reported raw, not interpreted)
//   0x40          up to eight (offset, length) pairs, offsets from "IMG0"; a zero length ends
//                 the table. The first part starts right after the 0x80-byte header.
//
// A flash image nests two: the outer IMG0 wraps the boot ROM and everything after it, and the
// inner IMG0 (at the boot ROM's end) lists the LZMA-packed VxWorks kernel, the Wind River MemFS
// with the web pages, and a small trailing part. Each part is a child. The VxWorks version and
// build date are read from the "VxWorks" strings of the (uncompressed) boot ROM when present.
#include <fmt/format.h>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr uint32_t kHeaderSize = 0x80;
constexpr uint32_t kTableAt = 0x40;
constexpr uint32_t kMaxParts = 8;
constexpr size_t kVersionSearch = 1 << 20;

constexpr Magic kMagics[] = {{"IMG0", 0}};

bool LooksLikeLzma(Bytes b) {
  if (b.size() < 14 || static_cast<uint8_t>(b[0]) >= 225 || b[13] != std::byte{0}) return false;
  uint32_t dict = *ReadU32(b, 1, Endian::kLittle);
  return dict >= 4096 && (dict & (dict - 1)) == 0;
}

bool IsDigitOrDot(char c) { return (c >= '0' && c <= '9') || c == '.'; }

// "VxWorks5.5.1\0\0\0\0Aug 24 2011, 18:58:12": the version right after the name, the build date
// as the next string.
void FindVxWorksVersion(Bytes part, Parsed& p) {
  std::string_view s = AsChars(part.first(std::min(part.size(), kVersionSearch)));
  for (size_t at = s.find("VxWorks"); at != std::string_view::npos;
       at = s.find("VxWorks", at + 1)) {
    size_t v = at + 7;
    size_t e = v;
    while (e < s.size() && IsDigitOrDot(s[e])) ++e;
    if (e == v || e >= s.size() || s[e] != '\0' || s[v] == '.') continue;
    p.details.push_back({"vxworks_version", std::string(s.substr(v, e - v))});
    size_t d = e;
    while (d < s.size() && s[d] == '\0' && d - e < 16) ++d;
    size_t de = d;
    while (de < s.size() && s[de] >= 0x20 && s[de] < 0x7F && de - d < 64) ++de;
    if (de > d && de < s.size() && s[de] == '\0')
      p.details.push_back({"vxworks_build_date", std::string(s.substr(d, de - d))});
    p.details.push_back({"vxworks_version_offset", fmt::format("0x{:x}", at)});
    return;
  }
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  if (data.size() < kHeaderSize)
    return Fail(ErrorCode::kTruncated, "IMG0 header cut short", ctx.offset);
  ByteReader r(data.first(kHeaderSize), ctx.offset);
  (void)*r.Take(4);
  uint32_t size = *r.U32be();
  uint32_t build = *r.U32be();
  uint32_t board = *r.U32be();
  if (size < kHeaderSize)
    return Fail(ErrorCode::kMalformed, fmt::format("IMG0 size {} shorter than its header", size),
                ctx.offset);
  struct Part {
    uint32_t offset, length;
  };
  std::vector<Part> parts;
  uint64_t prev_end = kHeaderSize;
  for (uint32_t i = 0; i < kMaxParts; ++i) {
    uint32_t ofs = *ReadU32(data, kTableAt + 8 * i, Endian::kBig);
    uint32_t len = *ReadU32(data, kTableAt + 8 * i + 4, Endian::kBig);
    if (len == 0) break;
    if (ofs < prev_end || ofs > size || len > size - ofs)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("IMG0 part {} (0x{:x}, {} bytes) outside the image or overlapping", i,
                              ofs, len),
                  ctx.offset + kTableAt + 8 * i);
    parts.push_back({ofs, len});
    prev_end = uint64_t{ofs} + len;
  }
  if (parts.empty()) return Fail(ErrorCode::kMalformed, "IMG0 without parts", ctx.offset);
  if (parts.front().offset != kHeaderSize)
    return Fail(ErrorCode::kMalformed, "IMG0 first part does not follow the header", ctx.offset);

  Parsed p;
  p.size = size;
  p.truncated = size > data.size();
  p.details = {{"size", std::to_string(size)},
               {"build_word", fmt::format("0x{:08x}", build)},
               {"board_word", fmt::format("0x{:08x}", board)},
               {"parts", std::to_string(parts.size())}};
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& pt = parts[i];
    Bytes body = pt.offset < data.size() ? data.subspan(pt.offset) : Bytes();
    body = body.first(std::min<size_t>(body.size(), pt.length));
    // Names from what the part starts with: the MemFS magic, an LZMA header, else code.
    std::string name = fmt::format("part{}", i);
    if (body.size() >= 8 && AsChars(body.first(8)) == "owowowow")
      name = "memfs";
    else if (i == 0 && LooksLikeLzma(body))
      name = "kernel_lzma";
    p.details.push_back({name + "_offset", fmt::format("0x{:x}", pt.offset)});
    p.details.push_back({name + "_size", std::to_string(pt.length)});
    if (i == 0) FindVxWorksVersion(body, p);
    if (body.empty()) {
      p.warnings.push_back(fmt::format("IMG0 {} lies past the end of the data", name));
      continue;
    }
    p.children.push_back({name, ctx.blob.Slice(ctx.offset + pt.offset, pt.length)});
  }
  return p;
}

}  // namespace

extern const FormatHandler vxworks_img0_handler{"vxworks_img0",
                                                FormatKind::kContainer,
                                                "TP-Link VxWorks firmware image (\"IMG0\" header)",
                                                kMagics,
                                                Parse,
                                                nullptr};

}  // namespace firmwarden::unpack
