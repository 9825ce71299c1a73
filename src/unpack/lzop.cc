#include "unpack/lzop.h"

#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <cstring>
#include <span>
#include <utility>

#include "unpack/lzo1x.h"

// Declares `var` from a Result-returning expression, or returns its error from the enclosing
// function. Local to this file; the header parse would otherwise be mostly error plumbing.
#define LZOP_TRY(var, expr)                                \
  auto var##_or = (expr);                                  \
  if (!var##_or) return std::unexpected(var##_or.error()); \
  auto var = *std::move(var##_or)

namespace firmwarden::unpack {
namespace {

constexpr std::array<uint8_t, 9> kMagic = {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a};

// Header flag bits, as lzop defines them.
constexpr uint32_t kFAdler32D = 0x00000001;
constexpr uint32_t kFAdler32C = 0x00000002;
constexpr uint32_t kFExtraField = 0x00000040;
constexpr uint32_t kFCrc32D = 0x00000100;
constexpr uint32_t kFCrc32C = 0x00000200;
constexpr uint32_t kFMultipart = 0x00000400;
constexpr uint32_t kFFilter = 0x00000800;
constexpr uint32_t kFHeaderCrc32 = 0x00001000;
constexpr uint32_t kFKnownMask = 0x00003fff;
constexpr uint32_t kFOsMask = 0xff000000;
constexpr uint32_t kFCharsetMask = 0x00f00000;
constexpr uint32_t kFReserved = ~(kFKnownMask | kFOsMask | kFCharsetMask);

// lzop versions: headers older than 0x0900 predate the format we read; from 0x0940 on the header
// carries version_needed_to_extract, level and mtime_high. 0x1040 is lzop 1.04, the newest
// release, and lzop itself refuses files that claim to need a newer reader.
constexpr uint16_t kMinVersion = 0x0900;
constexpr uint16_t kNewHeaderVersion = 0x0940;
constexpr uint16_t kMaxNeededVersion = 0x1040;

// Methods 1..3 (LZO1X-1, LZO1X-1(15), LZO1X-999) share one bitstream.
constexpr uint8_t kMethodLzo1x1 = 1;
constexpr uint8_t kMethodLzo1x999 = 3;

// A dst_len of all ones marks a multi-part ("split") file, which lzop never implemented.
constexpr uint32_t kSplitMarker = 0xffffffff;

struct Header {
  size_t size = 0;  // bytes up to the first block
  uint32_t flags = 0;
  uint32_t filter = 0;
  uint32_t mtime = 0;
  std::string name;
};

const uint8_t* U8Ptr(Bytes b) { return reinterpret_cast<const uint8_t*>(b.data()); }

uint32_t Adler32(Bytes b) { return static_cast<uint32_t>(adler32_z(1, U8Ptr(b), b.size())); }
uint32_t Crc32(Bytes b) { return static_cast<uint32_t>(crc32_z(0, U8Ptr(b), b.size())); }

// lzop checksums its header with Adler-32 unless F_H_CRC32 asks for CRC-32.
uint32_t HeaderChecksum(uint32_t flags, Bytes b) {
  return (flags & kFHeaderCrc32) != 0 ? Crc32(b) : Adler32(b);
}

Result<Header> ParseHeader(Bytes in) {
  ByteReader r(in);
  LZOP_TRY(magic, r.Take(kMagic.size()));
  if (std::memcmp(magic.data(), kMagic.data(), kMagic.size()) != 0)
    return Fail(ErrorCode::kMalformed, "not an lzop stream (bad magic)", 0);

  const size_t version_at = r.pos();
  LZOP_TRY(version, r.U16be());
  if (version < kMinVersion)
    return Fail(ErrorCode::kUnsupported, fmt::format("lzop version 0x{:04x} too old", version),
                version_at);
  LZOP_TRY(lib_version, r.U16be());
  (void)lib_version;  // informational only
  if (version >= kNewHeaderVersion) {
    const size_t at = r.pos();
    LZOP_TRY(needed, r.U16be());
    if (needed < kMinVersion)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("lzop version_needed_to_extract 0x{:04x} is invalid", needed), at);
    if (needed > kMaxNeededVersion)
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("lzop stream needs reader version 0x{:04x}", needed), at);
  }
  const size_t method_at = r.pos();
  LZOP_TRY(method, r.U8());
  if (version >= kNewHeaderVersion) {
    LZOP_TRY(level, r.U8());
    (void)level;  // a compressor setting; the decoder does not depend on it
  }
  const size_t flags_at = r.pos();
  LZOP_TRY(flags, r.U32be());
  Header h;
  h.flags = flags;
  if (flags & kFFilter) {
    LZOP_TRY(filter, r.U32be());
    h.filter = filter;
  }
  LZOP_TRY(mode, r.U32be());
  (void)mode;
  LZOP_TRY(mtime_low, r.U32be());
  h.mtime = mtime_low;
  if (version >= kNewHeaderVersion) {
    LZOP_TRY(mtime_high, r.U32be());
    (void)mtime_high;
  }
  LZOP_TRY(name_len, r.U8());
  LZOP_TRY(name, r.Take(name_len));
  h.name.assign(AsChars(name));

  // The checksum covers everything between the magic and itself. Check it before judging the
  // fields, so random bytes after a magic are reported as corruption first.
  const size_t checksum_at = r.pos();
  LZOP_TRY(stored, r.U32be());
  const uint32_t computed =
      HeaderChecksum(flags, in.subspan(kMagic.size(), checksum_at - kMagic.size()));
  if (stored != computed)
    return Fail(ErrorCode::kMalformed,
                fmt::format("lzop header checksum 0x{:08x} != computed 0x{:08x}", stored, computed),
                checksum_at);

  if (method < kMethodLzo1x1 || method > kMethodLzo1x999)
    return Fail(ErrorCode::kUnsupported, fmt::format("lzop method {} is not LZO1X", method),
                method_at);
  if (flags & kFReserved)
    return Fail(ErrorCode::kMalformed, fmt::format("lzop reserved flags set: 0x{:08x}", flags),
                flags_at);
  if (flags & kFMultipart)
    return Fail(ErrorCode::kUnsupported, "multi-part lzop streams are not supported", flags_at);

  if (flags & kFExtraField) {
    // Length, data, then a checksum (of the same kind as the header's) over length and data.
    const size_t extra_at = r.pos();
    LZOP_TRY(extra_len, r.U32be());
    LZOP_TRY(extra, r.Take(extra_len));
    (void)extra;
    const size_t extra_end = r.pos();
    LZOP_TRY(extra_stored, r.U32be());
    const uint32_t extra_computed =
        HeaderChecksum(flags, in.subspan(extra_at, extra_end - extra_at));
    if (extra_stored != extra_computed)
      return Fail(ErrorCode::kMalformed, "lzop extra field checksum mismatch", extra_end);
  }
  h.size = r.pos();
  return h;
}

Status CheckSum(const char* what, uint32_t stored, uint32_t computed, size_t block_at) {
  if (stored == computed) return {};
  return Fail(ErrorCode::kMalformed,
              fmt::format("lzop block {} 0x{:08x} != computed 0x{:08x}", what, stored, computed),
              block_at);
}

// Fills `dst` (exactly the announced block size) from one block's data and verifies the
// decompressed-data checksums the flags announce.
Status DecodeBlock(Bytes data, std::span<std::byte> dst, bool compressed, uint32_t flags,
                   uint32_t d_adler, uint32_t d_crc, size_t block_at, size_t data_at) {
  if (compressed) {
    auto n = Lzo1xDecompress(data, dst);
    if (!n) {
      Error e = std::move(n.error());
      // Report where in the whole stream the damage is, not where in the block.
      e.offset = data_at + e.offset.value_or(0);
      e.message = fmt::format("lzop block at {}: {}", block_at, e.message);
      return std::unexpected(std::move(e));
    }
    if (*n != dst.size())
      return Fail(
          ErrorCode::kMalformed,
          fmt::format("lzop block decompressed to {} bytes, header says {}", *n, dst.size()),
          block_at);
  } else {
    std::memcpy(dst.data(), data.data(), dst.size());
  }
  const Bytes produced(dst.data(), dst.size());
  if (flags & kFAdler32D) {
    if (auto s = CheckSum("adler32", d_adler, Adler32(produced), block_at); !s) return s;
  }
  if (flags & kFCrc32D) {
    if (auto s = CheckSum("crc32", d_crc, Crc32(produced), block_at); !s) return s;
  }
  return {};
}

// Shared by LzopMeasure (out == nullptr) and LzopDecompress, so both accept exactly the same
// streams and agree on where they end.
Result<LzopInfo> Walk(Bytes in, std::string* out, uint64_t max_output) {
  LZOP_TRY(h, ParseHeader(in));
  if (out != nullptr && (h.flags & kFFilter) && h.filter != 0)
    return Fail(ErrorCode::kUnsupported, fmt::format("lzop filter {} not supported", h.filter), 0);
  if (out != nullptr) out->clear();

  LzopInfo info;
  info.original_name = std::move(h.name);
  info.mtime = h.mtime;

  ByteReader r(in);
  if (auto s = r.Seek(h.size); !s) return std::unexpected(s.error());
  for (;;) {
    const size_t block_at = r.pos();
    LZOP_TRY(dst_len, r.U32be());
    if (dst_len == 0) break;
    if (dst_len == kSplitMarker)
      return Fail(ErrorCode::kUnsupported, "split lzop streams are not supported", block_at);
    if (dst_len > kLzopMaxBlockSize)
      return Fail(ErrorCode::kMalformed,
                  fmt::format("lzop block of {} bytes exceeds the 64 MiB limit", dst_len),
                  block_at);
    LZOP_TRY(src_len, r.U32be());
    if (src_len == 0 || src_len > dst_len)
      return Fail(
          ErrorCode::kMalformed,
          fmt::format("lzop block compressed length {} invalid for {} bytes", src_len, dst_len),
          block_at + 4);
    // A block that did not shrink is stored raw, and lzop then omits the compressed-data
    // checksums because they would equal the decompressed-data ones.
    const bool compressed = src_len < dst_len;
    uint32_t d_adler = 0, d_crc = 0, c_adler = 0, c_crc = 0;
    if (h.flags & kFAdler32D) {
      LZOP_TRY(v, r.U32be());
      d_adler = v;
    }
    if (h.flags & kFCrc32D) {
      LZOP_TRY(v, r.U32be());
      d_crc = v;
    }
    if (compressed && (h.flags & kFAdler32C)) {
      LZOP_TRY(v, r.U32be());
      c_adler = v;
    }
    if (compressed && (h.flags & kFCrc32C)) {
      LZOP_TRY(v, r.U32be());
      c_crc = v;
    }
    const size_t data_at = r.pos();
    LZOP_TRY(data, r.Take(src_len));

    if (compressed && (h.flags & kFAdler32C)) {
      if (auto s = CheckSum("compressed adler32", c_adler, Adler32(data), block_at); !s)
        return std::unexpected(s.error());
    }
    if (compressed && (h.flags & kFCrc32C)) {
      if (auto s = CheckSum("compressed crc32", c_crc, Crc32(data), block_at); !s)
        return std::unexpected(s.error());
    }

    if (out != nullptr) {
      if (dst_len > max_output || info.uncompressed_size > max_output - dst_len)
        return Fail(ErrorCode::kLimit,
                    fmt::format("lzop output exceeds the {}-byte limit", max_output), block_at);
      const size_t old_size = out->size();
      // Plain resize (zero-fill) on purpose: libstdc++ 12's resize_and_overwrite misbehaves
      // (bad_alloc) when called repeatedly to grow a string, and the fill is cheap next to the
      // checksum anyway.
      out->resize(old_size + dst_len);
      std::span<std::byte> dst(reinterpret_cast<std::byte*>(out->data()) + old_size, dst_len);
      Status block = DecodeBlock(data, dst, compressed, h.flags, d_adler, d_crc, block_at, data_at);
      if (!block) return std::unexpected(block.error());
    }
    info.uncompressed_size += dst_len;
  }
  info.consumed = r.pos();
  return info;
}

}  // namespace

Result<LzopInfo> LzopMeasure(Bytes in) { return Walk(in, nullptr, 0); }

Result<LzopInfo> LzopDecompress(Bytes in, std::string* out, uint64_t max_output) {
  if (out == nullptr) return Fail(ErrorCode::kUsage, "LzopDecompress needs an output string");
  return Walk(in, out, max_output);
}

}  // namespace firmwarden::unpack

#undef LZOP_TRY
