// Huawei HG-series upgrade packet (HG532e and kin, TrendChip/Ralink SoCs) and the TrendChip
// "tclinux" image inside it. The packet, as the HG532e V100R001C01B020 ships it:
//
//   0x00000  128-byte header: opaque (high entropy, most likely a signature); not interpreted
//   0x00080  bootloader, padded with 0xFF up to 0x11080 (it carries its own LZMA second stage)
//   0x11080  tclinux image: a 256-byte "2RDH" header, then kernel, rootfs and romfile back to back
//   …        a 4-byte trailer (an unidentified checksum; reported, not verified)
//
// The tclinux header (big-endian): magic "2RDH", header length, total length (header included),
// CRC32, version[32], customer version[32], kernel length, rootfs length, romfile length,
// model[32], kernel decompression address. The CRC is the TRX one (CRC32 register without the
// final inversion) over everything after the header. A bare tclinux image (no packet around it)
// is parsed the same way from its own header.
#include <fmt/format.h>
#include <zlib.h>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr uint32_t kPacketHeaderSize = 0x80;
constexpr uint32_t kTclinuxAt = 0x11080;
constexpr uint32_t kTrailerSize = 4;
constexpr uint32_t kMinTcHeader = 0x80;
constexpr uint32_t kMaxTcHeader = 0x1000;

constexpr Magic kMagics[] = {{"2RDH", kTclinuxAt}, {"2RDH", 0}};

uint32_t TcCrc(Bytes b) {
  uLong crc = crc32(0, nullptr, 0);
  while (!b.empty()) {
    size_t n = std::min<size_t>(b.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n));
    b = b.subspan(n);
  }
  return ~static_cast<uint32_t>(crc);
}

std::string Text(Bytes b) {
  std::string_view s = AsChars(b);
  s = s.substr(0, s.find('\0'));
  for (char c : s)
    if (c < 0x20 || c >= 0x7F) return "";
  return std::string(s);
}

struct TcHeader {
  uint32_t header_len = 0, total_len = 0, crc = 0;
  std::string version, customer_version, model;
  uint32_t kernel_len = 0, rootfs_len = 0, romfile_len = 0, decomp_addr = 0;
};

Result<TcHeader> ReadTcHeader(Bytes data, uint64_t base) {
  if (data.size() < kMinTcHeader)
    return Fail(ErrorCode::kTruncated, "tclinux header cut short", base);
  ByteReader r(data.first(kMinTcHeader), base);
  TcHeader h;
  Bytes magic = *r.Take(4);
  if (AsChars(magic) != "2RDH") return Fail(ErrorCode::kMalformed, "not a tclinux header", base);
  h.header_len = *r.U32be();
  h.total_len = *r.U32be();
  h.crc = *r.U32be();
  h.version = Text(*r.Take(32));
  h.customer_version = Text(*r.Take(32));
  h.kernel_len = *r.U32be();
  h.rootfs_len = *r.U32be();
  h.romfile_len = *r.U32be();
  h.model = Text(*r.Take(32));
  h.decomp_addr = *r.U32be();
  if (h.header_len < kMinTcHeader || h.header_len > kMaxTcHeader)
    return Fail(ErrorCode::kMalformed,
                fmt::format("tclinux header length 0x{:x} outside 0x{:x}..0x{:x}", h.header_len,
                            kMinTcHeader, kMaxTcHeader),
                base);
  uint64_t parts = uint64_t{h.header_len} + h.kernel_len + h.rootfs_len + h.romfile_len;
  if (h.kernel_len == 0 || parts > h.total_len)
    return Fail(ErrorCode::kMalformed,
                fmt::format("tclinux parts ({} bytes with the header) exceed the total length {}",
                            parts, h.total_len),
                base);
  return h;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  const bool packet = AsChars(data.first(std::min<size_t>(4, data.size()))) != "2RDH";
  const uint64_t tc_at = packet ? kTclinuxAt : 0;
  if (data.size() < tc_at)
    return Fail(ErrorCode::kTruncated, "Huawei packet cut short", ctx.offset);
  auto hdr = ReadTcHeader(data.subspan(tc_at), ctx.offset + tc_at);
  if (!hdr) return std::unexpected(hdr.error());
  const TcHeader& h = *hdr;
  if (packet && static_cast<uint8_t>(data[tc_at - 1]) != 0xFF)
    return Fail(ErrorCode::kMalformed,
                "Huawei packet: the bootloader area does not end in 0xFF padding", ctx.offset);

  Parsed p;
  uint64_t end = tc_at + h.total_len;
  p.details.push_back({"layout", packet ? "Huawei upgrade packet" : "bare tclinux image"});
  auto item = [&](std::string name, uint64_t ofs, uint64_t len, bool child) {
    p.details.push_back({name + "_offset", fmt::format("0x{:x}", ofs)});
    p.details.push_back({name + "_size", std::to_string(len)});
    if (child && len != 0 && ofs < data.size())
      p.children.push_back({std::move(name), ctx.blob.Slice(ctx.offset + ofs, len)});
  };
  if (packet) {
    item("packet_header", 0, kPacketHeaderSize, false);
    item("bootloader", kPacketHeaderSize, kTclinuxAt - kPacketHeaderSize, true);
  }
  item("tclinux_header", tc_at, h.header_len, false);
  if (!h.version.empty()) p.details.push_back({"version", h.version});
  if (!h.customer_version.empty()) p.details.push_back({"customer_version", h.customer_version});
  if (!h.model.empty()) p.details.push_back({"model", h.model});
  p.details.push_back({"decompress_address", fmt::format("0x{:08x}", h.decomp_addr)});
  p.details.push_back({"tclinux_length", std::to_string(h.total_len)});
  p.details.push_back({"crc32", fmt::format("0x{:08x}", h.crc)});
  uint64_t at = tc_at + h.header_len;
  item("kernel", at, h.kernel_len, true);
  at += h.kernel_len;
  item("rootfs", at, h.rootfs_len, true);
  at += h.rootfs_len;
  if (h.romfile_len != 0) item("romfile", at, h.romfile_len, true);
  at += h.romfile_len;
  if (at < end) item("padding", at, end - at, false);

  if (end > data.size()) {
    p.truncated = true;
    p.warnings.push_back("tclinux image is truncated; CRC not checked");
  } else {
    uint32_t computed = TcCrc(data.subspan(tc_at + h.header_len, h.total_len - h.header_len));
    if (computed != h.crc)
      p.warnings.push_back(
          fmt::format("tclinux CRC mismatch: stored {:08x}, computed {:08x}", h.crc, computed));
    else
      p.details.push_back({"crc32_verified", "yes"});
    // The packet's trailer: exactly four bytes left after the image.
    if (packet && data.size() - end == kTrailerSize) {
      p.details.push_back({"trailer", fmt::format("0x{:08x}", *ReadU32(data, end, Endian::kBig))});
      end += kTrailerSize;
    }
  }
  p.size = end;
  return p;
}

}  // namespace

extern const FormatHandler huawei_handler{
    "huawei",
    FormatKind::kContainer,
    "Huawei HG upgrade packet / TrendChip tclinux image (\"2RDH\")",
    kMagics,
    Parse,
    nullptr};

}  // namespace firmwarden::unpack
