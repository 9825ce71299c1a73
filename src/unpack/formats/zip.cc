// zip. The chunk runs from the first local header to the end of the End Of Central Directory
// record whose central-directory offset and size agree with its own position.
#include <archive.h>
#include <fmt/format.h>

#include <cstring>

#include "unpack/formats/archive_common.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("PK\x03\x04", 4), 0}};

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes d = ctx.data.subspan(ctx.offset);
  std::string_view text = AsChars(d);
  size_t at = 0;
  size_t checked = 0;
  while ((at = text.find(std::string_view("PK\x05\x06", 4), at)) != std::string_view::npos) {
    if (++checked > 4096) break;
    auto entries = ReadU16(d, at + 10, Endian::kLittle);
    auto cd_size = ReadU32(d, at + 12, Endian::kLittle);
    auto cd_off = ReadU32(d, at + 16, Endian::kLittle);
    auto comment = ReadU16(d, at + 20, Endian::kLittle);
    if (entries && cd_size && cd_off && comment &&
        static_cast<uint64_t>(*cd_off) + *cd_size == at) {
      Parsed p;
      p.size = at + 22 + *comment;
      if (p.size > d.size()) {
        p.truncated = true;
        p.size = d.size();
      }
      p.details.push_back({"entries", std::to_string(*entries)});
      return p;
    }
    ++at;
  }
  return Fail(ErrorCode::kMalformed, "zip without a matching end-of-central-directory record",
              ctx.offset);
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  return ExtractWithLibarchive(ctx, sink, archive_read_support_format_zip_seekable);
}

}  // namespace

extern const FormatHandler zip_handler{"zip",  FormatKind::kArchive, "zip archive", kMagics, Parse,
                                       Extract};

}  // namespace firmwarden::unpack
