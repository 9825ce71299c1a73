// Netgear CHK header ("*#$^"), all fields big-endian.
// Layout: magic, header length, reserved[8] (region, then the seven numbers of the version
// "V a.b.c.d_e.f.g"), kernel checksum, rootfs checksum, kernel length, rootfs length, image
// checksum, header checksum, then the board id (text, up to the header length). The kernel and the
// rootfs follow the header back to back. The checksums are Netgear's: two running 32-bit sums
// (of the bytes, and of those sums) each folded to 16 bits, the second in the high half. The
// header checksum is taken over the header with its own field zero.
#include <fmt/format.h>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kFixedSize = 40;
constexpr size_t kMaxHeaderSize = 4096;
constexpr Magic kMagics[] = {{"*#$^", 0}};

}  // namespace

// Exposed for the tests and the fixtures they build.
uint32_t NetgearChecksum(Bytes data) {
  uint32_t c0 = 0, c1 = 0;
  for (std::byte b : data) {
    c0 += static_cast<uint8_t>(b);
    c1 += c0;
  }
  auto fold = [](uint32_t v) {
    uint32_t b = (v & 0xFFFF) + (v >> 16);
    return ((b >> 16) + b) & 0xFFFF;
  };
  return (fold(c1) << 16) | fold(c0);
}

namespace {

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  if (data.size() < kFixedSize)
    return Fail(ErrorCode::kTruncated, "Netgear CHK header cut short", ctx.offset);
  ByteReader r(data.first(kFixedSize), ctx.offset);
  (void)*r.U32be();
  uint32_t header_len = *r.U32be();
  uint8_t region = *r.U8();
  Bytes version = *r.Take(7);
  uint32_t kernel_sum = *r.U32be();
  uint32_t rootfs_sum = *r.U32be();
  uint32_t kernel_len = *r.U32be();
  uint32_t rootfs_len = *r.U32be();
  uint32_t image_sum = *r.U32be();
  uint32_t header_sum = *r.U32be();
  if (header_len < kFixedSize || header_len > kMaxHeaderSize)
    return Fail(ErrorCode::kMalformed,
                fmt::format("Netgear CHK header length {} outside {}..{}", header_len, kFixedSize,
                            kMaxHeaderSize),
                ctx.offset);
  if (kernel_len == 0)
    return Fail(ErrorCode::kMalformed, "Netgear CHK without a kernel", ctx.offset);
  if (data.size() < header_len)
    return Fail(
        ErrorCode::kTruncated,
        fmt::format("Netgear CHK header claims {} bytes, {} remain", header_len, data.size()),
        ctx.offset);
  // The board id: text up to the first NUL or the end of the header.
  std::string_view board = AsChars(data.subspan(kFixedSize, header_len - kFixedSize));
  board = board.substr(0, board.find('\0'));
  for (char c : board)
    if (c < 0x20 || c >= 0x7F)
      return Fail(ErrorCode::kMalformed, "Netgear CHK board id is not text",
                  ctx.offset + kFixedSize);

  Parsed p;
  p.size = uint64_t{header_len} + kernel_len + rootfs_len;
  p.truncated = p.size > data.size();
  auto v = [&](size_t i) { return static_cast<unsigned>(static_cast<uint8_t>(version[i])); };
  p.details = {
      {"header_length", std::to_string(header_len)},
      {"board_id", std::string(board)},
      {"region", std::to_string(region)},
      {"version", fmt::format("V{}.{}.{}.{}_{}.{}.{}", v(0), v(1), v(2), v(3), v(4), v(5), v(6))},
      {"kernel_offset", fmt::format("0x{:x}", header_len)},
      {"kernel_size", std::to_string(kernel_len)},
      {"kernel_checksum", fmt::format("0x{:08x}", kernel_sum)},
      {"rootfs_offset", fmt::format("0x{:x}", uint64_t{header_len} + kernel_len)},
      {"rootfs_size", std::to_string(rootfs_len)},
      {"rootfs_checksum", fmt::format("0x{:08x}", rootfs_sum)},
      {"image_checksum", fmt::format("0x{:08x}", image_sum)},
      {"header_checksum", fmt::format("0x{:08x}", header_sum)}};

  auto check = [&](std::string_view what, uint32_t stored, uint32_t computed) {
    if (stored != computed)
      p.warnings.push_back(
          fmt::format("Netgear CHK {} checksum mismatch: stored {:08x}, "
                      "computed {:08x}",
                      what, stored, computed));
  };
  std::vector<std::byte> header(data.begin(), data.begin() + header_len);
  for (size_t i = 0x24; i < 0x28; ++i) header[i] = std::byte{0};
  check("header", header_sum, NetgearChecksum(header));
  if (p.truncated) {
    p.warnings.push_back("Netgear CHK image is truncated; kernel and rootfs checksums not checked");
  } else {
    Bytes kernel = data.subspan(header_len, kernel_len);
    Bytes rootfs = data.subspan(header_len + uint64_t{kernel_len}, rootfs_len);
    check("kernel", kernel_sum, NetgearChecksum(kernel));
    check("rootfs", rootfs_sum, NetgearChecksum(rootfs));
    check("image", image_sum,
          NetgearChecksum(data.subspan(header_len, kernel_len + uint64_t{rootfs_len})));
  }
  p.children.push_back({"kernel", ctx.blob.Slice(ctx.offset + header_len, kernel_len)});
  uint64_t rootfs_at = uint64_t{header_len} + kernel_len;
  if (rootfs_len != 0 && rootfs_at < data.size())
    p.children.push_back({"rootfs", ctx.blob.Slice(ctx.offset + rootfs_at, rootfs_len)});
  return p;
}

}  // namespace

extern const FormatHandler netgear_chk_handler{"netgear_chk",
                                               FormatKind::kContainer,
                                               "Netgear CHK firmware header (checksummed)",
                                               kMagics,
                                               Parse,
                                               nullptr};

}  // namespace firmwarden::unpack
