// ISO 9660 (with Rock Ridge and Joliet through libarchive). The primary volume descriptor at
// sector 16 gives the volume size.
#include <archive.h>
#include <fmt/format.h>

#include "unpack/formats/archive_common.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\x01"
                                               "CD001\x01",
                                               7),
                              0x8000}};

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes d = ctx.data.subspan(ctx.offset);
  auto le = ReadU32(d, 0x8000 + 80, Endian::kLittle);
  auto be = ReadU32(d, 0x8000 + 84, Endian::kBig);
  auto bs_le = ReadU16(d, 0x8000 + 128, Endian::kLittle);
  auto bs_be = ReadU16(d, 0x8000 + 130, Endian::kBig);
  if (!le || !be || !bs_le || !bs_be) return Fail(ErrorCode::kTruncated, "ISO PVD", ctx.offset);
  if (*le != *be || *bs_le != *bs_be || *le == 0 ||
      (*bs_le != 512 && *bs_le != 1024 && *bs_le != 2048))
    return Fail(ErrorCode::kMalformed, "ISO PVD fields disagree", ctx.offset);
  Parsed p;
  p.size = static_cast<uint64_t>(*le) * *bs_le;
  if (p.size > d.size()) p.truncated = true;
  ByteReader r(d);
  (void)r.Seek(0x8000 + 40);
  auto label = r.FixedString(32);
  if (label) {
    std::string l = *label;
    while (!l.empty() && l.back() == ' ') l.pop_back();
    if (!l.empty()) p.details.push_back({"volume", l});
  }
  p.details.push_back({"blocks", std::to_string(*le)});
  return p;
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  return ExtractWithLibarchive(ctx, sink, archive_read_support_format_iso9660);
}

}  // namespace

extern const FormatHandler iso9660_handler{
    "iso9660", FormatKind::kFilesystem, "ISO 9660 image (Rock Ridge, Joliet)", kMagics, Parse,
    Extract};

}  // namespace firmwarden::unpack
