// Linux kernel boot images, recognised and measured from their own headers:
//   ARM zImage:  magic 0x016f2818 at 0x24 (either byte order), then the image's start and end
//                addresses; size = end - start.
//   ARM64 Image: "ARM\x64" at 0x38. The header's image_size includes BSS, so it overstates the
//                file; when the EFI stub's PE header is present its section table gives the real
//                file extent, otherwise image_size (clamped to the data) is the best the header
//                allows.
//   x86 bzImage: "HdrS" at 0x202 (boot protocol 2.x); size = (setup_sects + 1) * 512 plus
//                syssize paragraphs of 16 bytes.
// The compressed payloads inside are found by the normal scan of the gaps (gzip, lzma, ...).
#include <fmt/format.h>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {
    {std::string_view("\x18\x28\x6f\x01", 4), 0x24},
    {std::string_view("\x01\x6f\x28\x18", 4), 0x24},
    {std::string_view("ARM\x64", 4), 0x38},
    {std::string_view("HdrS", 4), 0x202},
};

// Larger kernels exist nowhere; a header claiming more is a chance match.
constexpr uint64_t kMaxKernelSize = 256ULL << 20;
// Even a minimal zImage (decompressor plus a compressed kernel) is far larger than this.
constexpr uint64_t kMinZImageSize = 0x1000;

Result<Parsed> ParseArmZImage(const ParseContext& ctx, Bytes data) {
  auto le = ReadU32(data, 0x24, Endian::kLittle);
  if (!le) return std::unexpected(le.error());
  const Endian e = *le == 0x016F2818 ? Endian::kLittle : Endian::kBig;
  auto start = ReadU32(data, 0x28, e);
  auto end = ReadU32(data, 0x2C, e);
  if (!start || !end) return Fail(ErrorCode::kTruncated, "zImage header cut short", ctx.offset);
  if (*end <= *start || *end - *start < kMinZImageSize || *end - *start > kMaxKernelSize)
    return Fail(ErrorCode::kMalformed, "zImage start/end addresses implausible", ctx.offset);
  // Kernels since 3.x store an endianness flag after the addresses. Without it, two words of
  // arbitrary data pass the checks above too easily, so an older-style header must at least
  // describe an image that fits in the data.
  auto flag = ReadU32(data, 0x30, e);
  bool has_flag = flag && *flag == 0x04030201;
  Parsed p;
  p.size = *end - *start;
  p.truncated = p.size > data.size();
  if (p.truncated && !has_flag)
    return Fail(ErrorCode::kMalformed, "zImage without endianness flag runs past the data",
                ctx.offset);
  p.details = {{"type", "ARM zImage"},
               {"endianness", e == Endian::kLittle ? "little" : "big"},
               {"load_start", fmt::format("0x{:08x}", *start)},
               {"load_end", fmt::format("0x{:08x}", *end)}};
  if (!has_flag) p.details.push_back({"endian_flag", "absent"});
  return p;
}

// End of the last section's raw data in the EFI stub's PE image, if the stub is there.
std::optional<uint64_t> PeFileExtent(Bytes data) {
  if (data.size() < 0x40 || AsChars(data.first(2)) != "MZ") return std::nullopt;
  auto pe = ReadU32(data, 0x3C, Endian::kLittle);
  if (!pe || *pe >= data.size() || data.size() - *pe < 24) return std::nullopt;
  if (AsChars(data.subspan(*pe, 4)) != std::string_view("PE\0\0", 4)) return std::nullopt;
  uint16_t nsec = *ReadU16(data, *pe + 6, Endian::kLittle);
  uint16_t opt_size = *ReadU16(data, *pe + 20, Endian::kLittle);
  uint64_t table = uint64_t{*pe} + 24 + opt_size;
  if (nsec == 0 || nsec > 96) return std::nullopt;
  uint64_t extent = 0;
  for (uint32_t i = 0; i < nsec; ++i) {
    uint64_t at = table + uint64_t{i} * 40;
    auto raw_size = ReadU32(data, at + 16, Endian::kLittle);
    auto raw_ptr = ReadU32(data, at + 20, Endian::kLittle);
    if (!raw_size || !raw_ptr) return std::nullopt;
    extent = std::max<uint64_t>(extent, uint64_t{*raw_ptr} + *raw_size);
  }
  return extent > 0 ? std::optional<uint64_t>(extent) : std::nullopt;
}

Result<Parsed> ParseArm64(const ParseContext& ctx, Bytes data) {
  auto text_offset = ReadU64(data, 0x08, Endian::kLittle);
  auto image_size = ReadU64(data, 0x10, Endian::kLittle);
  auto flags = ReadU64(data, 0x18, Endian::kLittle);
  if (!text_offset || !image_size || !flags)
    return Fail(ErrorCode::kTruncated, "ARM64 Image header cut short", ctx.offset);
  // res2..res4 are zero in every kernel so far; flags use only the low bits.
  for (size_t off : {0x20, 0x28, 0x30})
    if (*ReadU64(data, off, Endian::kLittle) != 0)
      return Fail(ErrorCode::kMalformed, "ARM64 Image reserved fields not zero", ctx.offset);
  if (*flags >> 16 != 0 || *image_size > kMaxKernelSize || *text_offset > kMaxKernelSize)
    return Fail(ErrorCode::kMalformed, "ARM64 Image header fields implausible", ctx.offset);
  Parsed p;
  p.details = {{"type", "ARM64 Image"},
               {"endianness", (*flags & 1) ? "big" : "little"},
               {"text_offset", fmt::format("0x{:x}", *text_offset)},
               {"image_size", std::to_string(*image_size)}};
  if (auto extent = PeFileExtent(data); extent && *extent >= 0x40 && *extent <= kMaxKernelSize) {
    p.size = *extent;
    p.truncated = *extent > data.size();
    p.details.push_back({"size_from", "EFI stub PE sections"});
  } else if (*image_size >= 0x40) {
    // image_size counts BSS too, which is not in the file: never report truncation from it.
    p.size = std::min<uint64_t>(*image_size, data.size());
    p.details.push_back({"size_from", "image_size (includes BSS, upper bound)"});
  } else {
    return Fail(ErrorCode::kMalformed, "ARM64 Image without a size", ctx.offset);
  }
  return p;
}

Result<Parsed> ParseX86(const ParseContext& ctx, Bytes data) {
  if (data.size() < 0x230)
    return Fail(ErrorCode::kTruncated, "bzImage header cut short", ctx.offset);
  uint16_t boot_flag = *ReadU16(data, 0x1FE, Endian::kLittle);
  uint8_t setup_sects = static_cast<uint8_t>(data[0x1F1]);
  uint32_t syssize = *ReadU32(data, 0x1F4, Endian::kLittle);
  uint16_t version = *ReadU16(data, 0x206, Endian::kLittle);
  uint16_t kver_ptr = *ReadU16(data, 0x20E, Endian::kLittle);
  uint8_t loadflags = static_cast<uint8_t>(data[0x211]);
  if (boot_flag != 0xAA55) return Fail(ErrorCode::kMalformed, "bzImage boot flag", ctx.offset);
  // syssize is only defined from protocol 2.04 on.
  if (version < 0x0204 || version >= 0x0300)
    return Fail(ErrorCode::kUnsupported, "x86 boot protocol not 2.04..2.xx", ctx.offset);
  if (setup_sects == 0) setup_sects = 4;
  if (setup_sects > 128 || syssize == 0)
    return Fail(ErrorCode::kMalformed, "bzImage sizes implausible", ctx.offset);
  uint64_t size = (uint64_t{setup_sects} + 1) * 512 + uint64_t{syssize} * 16;
  if (size > kMaxKernelSize) return Fail(ErrorCode::kMalformed, "bzImage too large", ctx.offset);
  Parsed p;
  p.size = size;
  p.truncated = size > data.size();
  p.details = {{"type", (loadflags & 1) ? "x86 bzImage" : "x86 zImage"},
               {"boot_protocol", fmt::format("{}.{:02}", version >> 8, version & 0xFF)},
               {"setup_sectors", std::to_string(setup_sects)}};
  // The version string sits in the setup code, at kernel_version + 0x200.
  if (kver_ptr != 0 && uint64_t{kver_ptr} + 0x200 < data.size()) {
    std::string_view s = AsChars(data.subspan(kver_ptr + 0x200));
    s = s.substr(0, std::min<size_t>(s.find('\0'), 256));
    bool ok = !s.empty();
    for (char c : s) ok = ok && c >= 0x20 && c < 0x7F;
    if (ok) p.details.push_back({"version", std::string(s)});
  }
  return p;
}

constexpr std::string_view kDescription = "Linux kernel image (zImage, Image, bzImage)";

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  if (ctx.match == "HdrS") return ParseX86(ctx, data);
  if (ctx.match == std::string_view("ARM\x64", 4)) return ParseArm64(ctx, data);
  return ParseArmZImage(ctx, data);
}

}  // namespace

extern const FormatHandler linux_kernel_handler{
    "linux_kernel", FormatKind::kRecognizer, kDescription, kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
