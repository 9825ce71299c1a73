// TP-Link router firmware header, versions 1 and 2 (same 512-byte layout, big-endian fields):
//
//   0x00 version (01 00 00 00 or 02 00 00 00)   0x74 kernel load address
//   0x04 vendor[24]                             0x78 kernel entry point
//   0x1c firmware version[36]                   0x7c firmware length (header included)
//   0x40 hardware id                            0x80 kernel offset   0x84 kernel length
//   0x44 hardware revision                      0x88 rootfs offset   0x8c rootfs length
//   0x48 region                                 0x90 boot offset     0x94 boot length
//   0x4c md5 #1 (salted image checksum)         0x98 version hi/mid/lo (3 x u16)
//   0x60 md5 #2 (kernel checksum)
//
// Two layouts need care:
//  * "up_boot" images carry a bootloader: header, bootloader (boot length bytes, padded to a
//    flash block), then a complete standard image with its own header. The outer header's kernel
//    and rootfs offsets describe that inner image, so they are taken relative to it.
//  * OpenWrt's "combined" factory images keep the nominal flash offset of the rootfs in the header
//    but place the rootfs right after the kernel. When the nominal offset does not hold a
//    filesystem and the end of the kernel does, the rootfs is taken from there.
//
// There is no magic number beyond the version word, so the signatures include the vendor names
// seen in the wild; the parse then checks the header thoroughly.
#include <fmt/format.h>

#include <array>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kHeaderSize = 0x200;

constexpr Magic kMagics[] = {
    {std::string_view("\x01\x00\x00\x00TP-LINK", 11), 0},
    {std::string_view("\x01\x00\x00\x00OpenWrt\0", 12), 0},
    {std::string_view("\x01\x00\x00\x00LEDE\0", 9), 0},
    {std::string_view("\x01\x00\x00\x00MERCURY", 11), 0},
    {std::string_view("\x02\x00\x00\x00TP-LINK", 11), 0},
    {std::string_view("\x02\x00\x00\x00OpenWrt\0", 12), 0},
};

struct Header {
  uint32_t version = 0;
  std::string vendor;
  std::string fw_version;
  uint32_t hw_id = 0, hw_rev = 0, region = 0;
  Bytes md5_1, md5_2;
  uint32_t kernel_la = 0, kernel_ep = 0, fw_length = 0;
  uint32_t kernel_ofs = 0, kernel_len = 0, rootfs_ofs = 0, rootfs_len = 0;
  uint32_t boot_ofs = 0, boot_len = 0;
  uint16_t ver_hi = 0, ver_mid = 0, ver_lo = 0;
};

bool Printable(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c >= 0x7F) return false;
  return true;
}

std::string Hex(Bytes b) {
  std::string out;
  for (std::byte x : b) out += fmt::format("{:02x}", static_cast<uint8_t>(x));
  return out;
}

// Reads and validates a header at the start of `data`. Offsets and lengths are checked against
// the header's own firmware length, not against the data (which may be truncated).
Result<Header> ReadHeader(Bytes data, uint64_t base) {
  if (data.size() < kHeaderSize)
    return Fail(ErrorCode::kTruncated, "TP-Link header cut short", base);
  ByteReader r(data.first(kHeaderSize), base);
  Header h;
  uint32_t raw_version = *r.U32be();
  if (raw_version != 0x01000000 && raw_version != 0x02000000)
    return Fail(ErrorCode::kMalformed, "not a TP-Link header", base);
  h.version = raw_version >> 24;
  h.vendor = *r.FixedString(24);
  h.fw_version = *r.FixedString(36);
  if (h.vendor.empty() || !Printable(h.vendor) || !Printable(h.fw_version))
    return Fail(ErrorCode::kMalformed, "TP-Link vendor or version string not printable", base);
  h.hw_id = *r.U32be();
  h.hw_rev = *r.U32be();
  h.region = *r.U32be();
  h.md5_1 = *r.Take(16);
  (void)*r.U32be();
  h.md5_2 = *r.Take(16);
  (void)*r.U32be();
  h.kernel_la = *r.U32be();
  h.kernel_ep = *r.U32be();
  h.fw_length = *r.U32be();
  h.kernel_ofs = *r.U32be();
  h.kernel_len = *r.U32be();
  h.rootfs_ofs = *r.U32be();
  h.rootfs_len = *r.U32be();
  h.boot_ofs = *r.U32be();
  h.boot_len = *r.U32be();
  h.ver_hi = *r.U16be();
  h.ver_mid = *r.U16be();
  h.ver_lo = *r.U16be();

  auto within = [&](uint64_t ofs, uint64_t len) {
    return ofs <= h.fw_length && len <= h.fw_length - ofs;
  };
  if (h.fw_length < kHeaderSize)
    return Fail(ErrorCode::kMalformed, "TP-Link firmware length shorter than the header", base);
  if (h.kernel_len == 0 || h.kernel_ofs < kHeaderSize || !within(h.kernel_ofs, h.kernel_len))
    return Fail(ErrorCode::kMalformed, "TP-Link kernel outside the firmware", base);
  if (h.rootfs_len != 0 && !within(h.rootfs_ofs, h.rootfs_len))
    return Fail(ErrorCode::kMalformed, "TP-Link rootfs outside the firmware", base);
  if (h.boot_len != 0 && !within(kHeaderSize + uint64_t{h.boot_ofs}, h.boot_len))
    return Fail(ErrorCode::kMalformed, "TP-Link bootloader outside the firmware", base);
  return h;
}

bool StartsWithFilesystem(Bytes data, uint64_t ofs) {
  if (ofs > data.size() || data.size() - ofs < 4) return false;
  std::string_view s = AsChars(data.subspan(ofs, 4));
  if (s == "hsqs" || s == "sqsh" || s == "shsq" || s == "qshs" || s == "UBI#") return true;
  if (s == std::string_view("\x45\x3d\xcd\x28", 4) || s == std::string_view("\x28\xcd\x3d\x45", 4))
    return true;
  std::string_view two = s.substr(0, 2);
  return two == std::string_view("\x85\x19", 2) || two == std::string_view("\x19\x85", 2);
}

void AddHeaderDetails(Parsed& p, const Header& h, std::string_view prefix) {
  auto key = [&](std::string_view k) { return fmt::format("{}{}", prefix, k); };
  p.details.push_back({key("header_version"), std::to_string(h.version)});
  p.details.push_back({key("vendor"), h.vendor});
  p.details.push_back({key("firmware_version"), h.fw_version});
  p.details.push_back({key("hardware_id"), fmt::format("0x{:08x}", h.hw_id)});
  p.details.push_back({key("hardware_revision"), std::to_string(h.hw_rev)});
  if (h.region != 0) p.details.push_back({key("region"), std::to_string(h.region)});
  if (h.ver_hi != 0 || h.ver_mid != 0 || h.ver_lo != 0)
    p.details.push_back({key("version"), fmt::format("{}.{}.{}", h.ver_hi, h.ver_mid, h.ver_lo)});
  p.details.push_back({key("kernel_load_address"), fmt::format("0x{:08x}", h.kernel_la)});
  p.details.push_back({key("kernel_entry_point"), fmt::format("0x{:08x}", h.kernel_ep)});
  p.details.push_back({key("firmware_length"), std::to_string(h.fw_length)});
  p.details.push_back({key("md5_1"), Hex(h.md5_1)});
  p.details.push_back({key("md5_2"), Hex(h.md5_2)});
}

// The inner standard image of an "up_boot" file: after the header and the bootloader, which is
// padded to a flash block. Block sizes differ between devices, so try each 64 KiB boundary past
// the bootloader; the inner header must describe the same hardware.
std::optional<size_t> FindInnerHeader(Bytes data, const Header& outer) {
  const uint64_t first = kHeaderSize + uint64_t{outer.boot_ofs} + outer.boot_len;
  for (uint64_t pad = 0x10000; pad <= 0x100000; pad += 0x10000) {
    uint64_t at = kHeaderSize + uint64_t{outer.boot_ofs} + pad;
    if (at < first) continue;
    if (at + kHeaderSize > outer.fw_length || at + kHeaderSize > data.size()) break;
    auto inner = ReadHeader(data.subspan(at), 0);
    if (inner && inner->hw_id == outer.hw_id && inner->boot_len == 0 &&
        at + inner->fw_length <= outer.fw_length)
      return at;
  }
  return std::nullopt;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto hdr = ReadHeader(data, ctx.offset);
  if (!hdr) return std::unexpected(hdr.error());
  const Header& h = *hdr;
  // The second half of the header is padding in every known variant; a chance match of the
  // signature would not have zeros there.
  if (*ReadU32(data, 0x100, Endian::kBig) != 0)
    return Fail(ErrorCode::kMalformed, "TP-Link header padding not zero", ctx.offset);

  Parsed p;
  p.size = h.fw_length;
  p.truncated = h.fw_length > data.size();
  AddHeaderDetails(p, h, "");

  auto add = [&](std::string name, uint64_t ofs, uint64_t len) {
    p.details.push_back({name + "_offset", fmt::format("0x{:x}", ofs)});
    p.details.push_back({name + "_size", std::to_string(len)});
    if (ofs >= data.size()) {
      p.warnings.push_back(
          fmt::format("TP-Link {} at 0x{:x} lies past the end of the data", name, ofs));
      return;
    }
    p.children.push_back({std::move(name), ctx.blob.Slice(ctx.offset + ofs, len)});
  };

  // Where the kernel and rootfs offsets count from, and which header describes them.
  uint64_t base = 0;
  Header layout = h;
  if (h.boot_len != 0) {
    add("bootloader", kHeaderSize + uint64_t{h.boot_ofs}, h.boot_len);
    if (auto inner = FindInnerHeader(data, h)) {
      base = *inner;
      layout = *ReadHeader(data.subspan(base), ctx.offset + base);
      p.details.push_back({"inner_header_offset", fmt::format("0x{:x}", base)});
      p.details.push_back({"inner_firmware_length", std::to_string(layout.fw_length)});
      if (layout.fw_version != h.fw_version)
        p.details.push_back({"inner_firmware_version", layout.fw_version});
    } else {
      p.warnings.push_back(
          "TP-Link image has a bootloader but no inner firmware header; offsets taken as is");
    }
  }

  uint64_t kernel_ofs = base + layout.kernel_ofs;
  add("kernel", kernel_ofs, layout.kernel_len);
  if (layout.rootfs_len != 0) {
    uint64_t rootfs_ofs = base + layout.rootfs_ofs;
    uint64_t rootfs_len = layout.rootfs_len;
    uint64_t kernel_end = kernel_ofs + layout.kernel_len;
    if (!StartsWithFilesystem(data, rootfs_ofs) && StartsWithFilesystem(data, kernel_end)) {
      rootfs_ofs = kernel_end;
      p.details.push_back({"layout", "combined (rootfs follows the kernel)"});
    }
    // Never let the rootfs reach past the firmware described by the outer header.
    rootfs_len =
        std::min<uint64_t>(rootfs_len, h.fw_length - std::min<uint64_t>(rootfs_ofs, h.fw_length));
    add("rootfs", rootfs_ofs, rootfs_len);
  }
  return p;
}

}  // namespace

extern const FormatHandler tplink_handler{
    "tplink", FormatKind::kContainer, "TP-Link firmware image (header v1/v2)", kMagics, Parse,
    nullptr};

}  // namespace firmwarden::unpack
