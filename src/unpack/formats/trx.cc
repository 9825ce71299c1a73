// Broadcom TRX ("HDR0"), versions 1 and 2: a little-endian header followed by up to three (v1) or
// four (v2) partitions. Header: magic, total length, CRC32, flags (low 16 bits) and version (high
// 16 bits), then the partition offsets measured from the start of the header; zero means "no
// partition". A partition runs to the next non-zero offset, the last one to the total length.
//
// The CRC covers everything from the flags word to the total length. It is the plain CRC32
// register (start ~0) without the final inversion, i.e. the complement of zlib's crc32().
#include <fmt/format.h>
#include <zlib.h>

#include <array>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{"HDR0", 0}};

uint32_t TrxCrc(Bytes b) {
  uLong crc = crc32(0, nullptr, 0);
  while (!b.empty()) {
    size_t n = std::min<size_t>(b.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n));
    b = b.subspan(n);
  }
  return ~static_cast<uint32_t>(crc);
}

// Whether a partition starts like a root filesystem, to name it "rootfs" rather than "partN".
bool LooksLikeFilesystem(Bytes part) {
  if (part.size() < 4) return false;
  std::string_view s = AsChars(part.first(4));
  if (s == "hsqs" || s == "sqsh" || s == "shsq" || s == "qshs" || s == "hsqt" || s == "tqsh" ||
      s == "UBI#")
    return true;
  if (s == std::string_view("\x45\x3d\xcd\x28", 4) || s == std::string_view("\x28\xcd\x3d\x45", 4))
    return true;  // cramfs, either byte order
  std::string_view two = s.substr(0, 2);
  return two == std::string_view("\x85\x19", 2) || two == std::string_view("\x19\x85", 2);  // jffs2
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto len = ReadU32(data, 4, Endian::kLittle);
  auto crc = ReadU32(data, 8, Endian::kLittle);
  auto flag_version = ReadU32(data, 12, Endian::kLittle);
  if (!len || !crc || !flag_version)
    return Fail(ErrorCode::kTruncated, "TRX header cut short", ctx.offset);
  uint32_t version = *flag_version >> 16;
  uint32_t flags = *flag_version & 0xFFFF;
  if (version != 1 && version != 2)
    return Fail(ErrorCode::kUnsupported, fmt::format("TRX version {} unknown", version),
                ctx.offset);
  const size_t nparts = version == 1 ? 3 : 4;
  const size_t header_size = 16 + 4 * nparts;
  if (*len < header_size)
    return Fail(ErrorCode::kMalformed, "TRX length shorter than its header", ctx.offset);

  std::array<uint32_t, 4> offsets{};
  for (size_t i = 0; i < nparts; ++i) {
    auto v = ReadU32(data, 16 + 4 * i, Endian::kLittle);
    if (!v) return Fail(ErrorCode::kTruncated, "TRX header cut short", ctx.offset);
    offsets[i] = *v;
  }
  // Offsets must point inside the image, after the header, in increasing order. Anything else is
  // a chance "HDR0" or a broken header, and there is no safe way to split it.
  std::vector<std::pair<size_t, uint32_t>> parts;  // (slot, offset)
  for (size_t i = 0; i < nparts; ++i) {
    if (offsets[i] == 0) continue;
    if (offsets[i] < header_size || offsets[i] >= *len)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("TRX partition {} offset 0x{:x} outside the image", i, offsets[i]),
                  ctx.offset);
    if (!parts.empty() && offsets[i] <= parts.back().second)
      return Fail(ErrorCode::kMalformed, "TRX partition offsets are not increasing", ctx.offset);
    parts.push_back({i, offsets[i]});
  }
  if (parts.empty()) return Fail(ErrorCode::kMalformed, "TRX without partitions", ctx.offset);

  Parsed p;
  p.size = *len;
  p.truncated = *len > data.size();
  p.details = {{"version", std::to_string(version)},
               {"flags", fmt::format("0x{:04x}", flags)},
               {"length", std::to_string(*len)},
               {"crc32", fmt::format("0x{:08x}", *crc)}};
  if (p.truncated) {
    p.warnings.push_back("TRX image is truncated; CRC not checked");
  } else {
    uint32_t computed = TrxCrc(data.subspan(12, *len - 12));
    if (computed != *crc)
      p.warnings.push_back(
          fmt::format("TRX CRC mismatch: stored {:08x}, computed {:08x}", *crc, computed));
  }

  // Names: the first partition that starts like a filesystem is the rootfs; the one before it is
  // the kernel and the one before that the loader (the usual Broadcom layout). Without such a
  // marker we do not guess.
  std::vector<std::string> names;
  for (size_t i = 0; i < parts.size(); ++i) names.push_back(fmt::format("part{}", parts[i].first));
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!LooksLikeFilesystem(data.subspan(std::min<size_t>(parts[i].second, data.size()))))
      continue;
    names[i] = "rootfs";
    if (i >= 1) names[i - 1] = "kernel";
    if (i >= 2) names[i - 2] = "loader";
    break;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    uint64_t start = parts[i].second;
    uint64_t end = i + 1 < parts.size() ? parts[i + 1].second : *len;
    p.details.push_back({fmt::format("{}_offset", names[i]), fmt::format("0x{:x}", start)});
    p.details.push_back({fmt::format("{}_size", names[i]), std::to_string(end - start)});
    if (start >= data.size()) break;
    p.children.push_back({names[i], ctx.blob.Slice(ctx.offset + start, end - start)});
  }
  return p;
}

}  // namespace

extern const FormatHandler trx_handler{
    "trx", FormatKind::kContainer, "Broadcom TRX firmware image", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
