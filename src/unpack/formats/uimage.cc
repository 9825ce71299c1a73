// Legacy U-Boot image ("uImage"): a 64-byte big-endian header followed by the data.
//
// Header: magic, header CRC32 (computed with the field itself zeroed), timestamp, data size, load
// address, entry point, data CRC32, then one byte each for OS, CPU architecture, image type and
// compression, and a 32-byte NUL-padded name. A multi-file image (type 4) starts its data with a
// table of big-endian u32 sizes ended by a zero; each image follows, padded to 4 bytes.
//
// The header CRC is what makes a candidate real: 27 05 19 56 alone occurs by chance, a matching
// CRC over 64 bytes does not. A wrong data CRC is reported but the image is still unpacked, since
// a damaged payload is still worth looking at.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <ctime>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kHeaderSize = 64;
constexpr uint8_t kTypeMulti = 4;
// A multi-file image with more parts than this is not something a bootloader would load.
constexpr size_t kMaxMultiParts = 1024;

constexpr Magic kMagics[] = {{std::string_view("\x27\x05\x19\x56", 4), 0}};

std::string OsName(uint8_t v) {
  // clang-format off
  static constexpr std::array<std::string_view, 29> kNames = {
      "invalid", "openbsd", "netbsd", "freebsd", "4.4bsd", "linux", "svr4", "esix", "solaris",
      "irix", "sco", "dell", "ncr", "lynxos", "vxworks", "psos", "qnx", "u-boot", "rtems",
      "artos", "unity", "integrity", "ose", "plan9", "openrtos", "arm-trusted-firmware", "tee",
      "opensbi", "efi"};
  // clang-format on
  return v < kNames.size() ? std::string(kNames[v]) : fmt::format("unknown ({})", v);
}

std::string ArchName(uint8_t v) {
  static constexpr std::array<std::string_view, 27> kNames = {
      "invalid",    "alpha", "arm",      "x86",    "ia64",    "mips",    "mips64",
      "powerpc",    "s390",  "sh",       "sparc",  "sparc64", "m68k",    "nios",
      "microblaze", "nios2", "blackfin", "avr32",  "st200",   "sandbox", "nds32",
      "openrisc",   "arm64", "arc",      "x86_64", "xtensa",  "riscv"};
  return v < kNames.size() ? std::string(kNames[v]) : fmt::format("unknown ({})", v);
}

std::string TypeName(uint8_t v) {
  static constexpr std::array<std::string_view, 15> kNames = {
      "invalid",  "standalone", "kernel",     "ramdisk",  "multi",
      "firmware", "script",     "filesystem", "flat_dt",  "kwbimage",
      "imximage", "ublimage",   "omapimage",  "aisimage", "kernel_noload"};
  return v < kNames.size() ? std::string(kNames[v]) : fmt::format("unknown ({})", v);
}

std::string CompressionName(uint8_t v) {
  static constexpr std::array<std::string_view, 7> kNames = {"none", "gzip", "bzip2", "lzma",
                                                             "lzo",  "lz4",  "zstd"};
  return v < kNames.size() ? std::string(kNames[v]) : fmt::format("unknown ({})", v);
}

uint32_t Crc32(Bytes b) {
  uLong crc = crc32(0, nullptr, 0);
  // zlib takes uInt lengths; feed large inputs in pieces.
  while (!b.empty()) {
    size_t n = std::min<size_t>(b.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n));
    b = b.subspan(n);
  }
  return static_cast<uint32_t>(crc);
}

std::string Timestamp(uint32_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", tm);
}

// Printable name, bytes outside ASCII shown as '?', so a report never carries control bytes.
std::string CleanName(Bytes raw) {
  std::string out;
  for (std::byte b : raw) {
    char c = static_cast<char>(b);
    if (c == '\0') break;
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  return out;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  if (data.size() < kHeaderSize)
    return Fail(ErrorCode::kTruncated, "uImage header cut short", ctx.offset);
  ByteReader r(data.first(kHeaderSize), ctx.offset);
  uint32_t magic = *r.U32be();
  uint32_t hcrc = *r.U32be();
  uint32_t time = *r.U32be();
  uint32_t size = *r.U32be();
  uint32_t load = *r.U32be();
  uint32_t entry = *r.U32be();
  uint32_t dcrc = *r.U32be();
  uint8_t os = *r.U8();
  uint8_t arch = *r.U8();
  uint8_t type = *r.U8();
  uint8_t comp = *r.U8();
  Bytes name_raw = *r.Take(32);
  if (magic != 0x27051956) return Fail(ErrorCode::kMalformed, "not a uImage", ctx.offset);

  std::array<std::byte, kHeaderSize> copy;
  std::copy(data.begin(), data.begin() + kHeaderSize, copy.begin());
  for (size_t i = 4; i < 8; ++i) copy[i] = std::byte{0};
  uint32_t computed_hcrc = Crc32(copy);
  if (computed_hcrc != hcrc)
    return Fail(ErrorCode::kMalformed,
                fmt::format("uImage header CRC mismatch: stored {:08x}, computed {:08x}", hcrc,
                            computed_hcrc),
                ctx.offset);

  Parsed p;
  p.size = kHeaderSize + static_cast<uint64_t>(size);
  size_t avail = data.size() - kHeaderSize;
  size_t have = std::min<size_t>(size, avail);
  p.truncated = size > avail;
  p.details = {{"name", CleanName(name_raw)},
               {"os", OsName(os)},
               {"arch", ArchName(arch)},
               {"type", TypeName(type)},
               {"compression", CompressionName(comp)},
               {"load_address", fmt::format("0x{:08x}", load)},
               {"entry_point", fmt::format("0x{:08x}", entry)},
               {"timestamp", Timestamp(time)},
               {"data_size", std::to_string(size)}};

  Bytes payload = data.subspan(kHeaderSize, have);
  if (p.truncated) {
    p.warnings.push_back("uImage data is truncated; data CRC not checked");
  } else {
    uint32_t computed = Crc32(payload);
    if (computed != dcrc)
      p.warnings.push_back(
          fmt::format("uImage data CRC mismatch: stored {:08x}, computed {:08x}", dcrc, computed));
  }

  const size_t payload_abs = ctx.offset + kHeaderSize;
  if (type != kTypeMulti) {
    if (have > 0) p.children.push_back({"payload", ctx.blob.Slice(payload_abs, have)});
    return p;
  }

  // Multi-file image: the size table, then the parts.
  std::vector<uint32_t> sizes;
  size_t pos = 0;
  bool terminated = false;
  while (sizes.size() <= kMaxMultiParts) {
    auto v = ReadU32(payload, pos, Endian::kBig);
    if (!v) break;
    pos += 4;
    if (*v == 0) {
      terminated = true;
      break;
    }
    sizes.push_back(*v);
  }
  if (!terminated) {
    p.warnings.push_back("uImage multi-file size table is not terminated; parts not extracted");
    return p;
  }
  p.details.push_back({"parts", std::to_string(sizes.size())});
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (pos >= payload.size() || sizes[i] > payload.size() - pos) {
      p.warnings.push_back(fmt::format(
          "uImage multi-file part {} ({} bytes at {}) runs past the data", i, sizes[i], pos));
      if (pos < payload.size())
        p.children.push_back(
            {fmt::format("image{}", i), ctx.blob.Slice(payload_abs + pos, payload.size() - pos)});
      break;
    }
    p.children.push_back({fmt::format("image{}", i), ctx.blob.Slice(payload_abs + pos, sizes[i])});
    pos += (static_cast<size_t>(sizes[i]) + 3) & ~size_t{3};
  }
  return p;
}

}  // namespace

extern const FormatHandler uimage_handler{
    "uimage", FormatKind::kContainer, "U-Boot legacy image (uImage)", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
