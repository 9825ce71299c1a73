// Linksys/Cisco "BIN header" (the 32-byte "code pattern" of the WRT54G family) in front of a
// Broadcom TRX:
//
//   0x00 model magic[4] ("W54G", "W54S", "WR54", …)   0x0e id[4] ("U2ND")
//   0x04 reserved[4]                                   0x12 hardware version, unused byte
//   0x08 date[3]: year-2000, month, day                0x14 flags[2]
//   0x0b version[3]: major, minor, build               0x16 reserved[10]
//
// The model codes differ from product to product, so the signature is the TRX magic 32 bytes in;
// the header is then checked (printable upper-case magic and id, a calendar date) before it is
// taken. The chunk is the header plus the TRX, whose length the TRX states; the TRX is the child.
#include <fmt/format.h>

#include <algorithm>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kHeaderSize = 32;
constexpr Magic kMagics[] = {{"HDR0", kHeaderSize}};

bool CodeChar(std::byte b) {
  auto c = static_cast<char>(b);
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  if (data.size() < kHeaderSize + 8)
    return Fail(ErrorCode::kTruncated, "Linksys BIN header cut short", ctx.offset);
  ByteReader r(data.first(kHeaderSize), ctx.offset);
  Bytes magic = *r.Take(4);
  (void)*r.Take(4);
  uint8_t year = *r.U8(), month = *r.U8(), day = *r.U8();
  uint8_t major = *r.U8(), minor = *r.U8(), build = *r.U8();
  Bytes id = *r.Take(4);
  uint8_t hw_ver = *r.U8();
  (void)*r.U8();
  uint16_t flags = *r.U16le();
  if (!std::all_of(magic.begin(), magic.end(), CodeChar) ||
      !std::all_of(id.begin(), id.end(), CodeChar))
    return Fail(ErrorCode::kMalformed, "Linksys BIN magic or id not alphanumeric", ctx.offset);
  if (month < 1 || month > 12 || day < 1 || day > 31 || year > 99)
    return Fail(ErrorCode::kMalformed,
                fmt::format("Linksys BIN date {:02}-{:02}-{:02} is not a date", year, month, day),
                ctx.offset);
  auto trx_len = ReadU32(data, kHeaderSize + 4, Endian::kLittle);
  if (!trx_len || *trx_len < 28)
    return Fail(ErrorCode::kMalformed, "Linksys BIN: the TRX after it has no valid length",
                ctx.offset + kHeaderSize);

  Parsed p;
  p.size = kHeaderSize + uint64_t{*trx_len};
  p.truncated = p.size > data.size();
  p.details = {{"model", std::string(AsChars(magic))},
               {"id", std::string(AsChars(id))},
               {"date", fmt::format("{:04}-{:02}-{:02}", 2000 + year, month, day)},
               {"version", fmt::format("{}.{:02}.{}", major, minor, build)},
               {"hardware_version", std::to_string(hw_ver)},
               {"flags", fmt::format("0x{:04x}", flags)},
               {"trx_offset", fmt::format("0x{:x}", kHeaderSize)},
               {"trx_size", std::to_string(*trx_len)}};
  p.children.push_back({"trx", ctx.blob.Slice(ctx.offset + kHeaderSize, *trx_len)});
  return p;
}

}  // namespace

extern const FormatHandler linksys_bin_handler{"linksys_bin",
                                               FormatKind::kContainer,
                                               "Linksys/Cisco BIN header (W54G…) around a TRX",
                                               kMagics,
                                               Parse,
                                               nullptr};

}  // namespace firmwarden::unpack
