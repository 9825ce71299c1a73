// tar (ustar, GNU, pax). The chunk is measured by walking the 512-byte headers to the end-of-
// archive zero blocks; libarchive then extracts exactly those bytes.
#include <archive.h>
#include <fmt/format.h>

#include "unpack/formats/archive_common.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("ustar\0", 6), 257},
                             {std::string_view("ustar  \0", 8), 257}};

// Octal field (space/NUL terminated) or GNU base-256 (high bit of the first byte set).
std::optional<uint64_t> Number(Bytes f) {
  if (!f.empty() && (static_cast<uint8_t>(f[0]) & 0x80)) {
    uint64_t v = static_cast<uint8_t>(f[0]) & 0x7F;
    for (size_t i = 1; i < f.size(); ++i) {
      if (v >> 55) return std::nullopt;
      v = (v << 8) | static_cast<uint8_t>(f[i]);
    }
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < f.size() && f[i] == std::byte{' '}) ++i;
  bool any = false;
  for (; i < f.size(); ++i) {
    char c = static_cast<char>(f[i]);
    if (c == '\0' || c == ' ') break;
    if (c < '0' || c > '7') return std::nullopt;
    if (v >> 60) return std::nullopt;
    v = v * 8 + static_cast<uint64_t>(c - '0');
    any = true;
  }
  if (!any) return 0;
  return v;
}

bool ChecksumOk(Bytes h) {
  auto stored = Number(h.subspan(148, 8));
  if (!stored) return false;
  uint64_t sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? 0x20 : static_cast<uint8_t>(h[i]);
  return sum == *stored;
}

bool AllZero(Bytes b) {
  for (std::byte x : b)
    if (x != std::byte{0}) return false;
  return true;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  size_t pos = 0;
  uint64_t entries = 0;
  Parsed p;
  while (true) {
    if (data.size() - pos < 512) {
      if (entries == 0) return Fail(ErrorCode::kTruncated, "tar header", ctx.offset);
      p.truncated = true;
      break;
    }
    Bytes h = data.subspan(pos, 512);
    if (AllZero(h)) {
      pos += 512;
      // The end is two zero blocks; one is accepted when the data ends there.
      if (data.size() - pos >= 512 && AllZero(data.subspan(pos, 512))) pos += 512;
      break;
    }
    if (!ChecksumOk(h)) {
      if (entries == 0) return Fail(ErrorCode::kMalformed, "tar header checksum", ctx.offset);
      p.warnings.push_back(
          fmt::format("tar header checksum wrong at +0x{:x}; archive ends there", pos));
      break;
    }
    auto size = Number(h.subspan(124, 12));
    if (!size) return Fail(ErrorCode::kMalformed, "tar size field", ctx.offset + pos);
    char type = static_cast<char>(h[156]);
    uint64_t body = (type >= '1' && type <= '6') ? 0 : *size;
    uint64_t blocks = (body + 511) / 512;
    if (blocks > (data.size() - pos - 512) / 512) {
      p.truncated = true;
      pos = data.size();
      ++entries;
      break;
    }
    pos += 512 + blocks * 512;
    ++entries;
  }
  p.size = pos;
  p.details.push_back({"headers", std::to_string(entries)});
  return p;
}

Status Extract(const ExtractContext& ctx, TreeSink& sink) {
  return ExtractWithLibarchive(ctx, sink, archive_read_support_format_tar);
}

}  // namespace

extern const FormatHandler tar_handler{
    "tar", FormatKind::kArchive, "tar archive (ustar/GNU/pax)", kMagics, Parse, Extract};

}  // namespace firmwarden::unpack
