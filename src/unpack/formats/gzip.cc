// gzip (RFC 1952), one member per chunk. The header is parsed here (for the stored name); the
// deflate body is inflated with zlib, whose stream end gives the exact chunk size.
#include <fmt/format.h>
#include <zlib.h>

#include "unpack/decompress_util.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\x1f\x8b\x08", 3), 0}};

Result<Parsed> Parse(const ParseContext& ctx) {
  ByteReader r(ctx.data.subspan(ctx.offset), ctx.offset);
  auto hdr = r.Take(10);
  if (!hdr) return std::unexpected(hdr.error());
  uint8_t flags = static_cast<uint8_t>((*hdr)[3]);
  if (flags & 0xE0) return Fail(ErrorCode::kMalformed, "gzip reserved flag bits set", ctx.offset);
  Parsed p;
  std::string name;
  if (flags & 0x04) {  // FEXTRA
    auto xlen = r.U16le();
    if (!xlen) return std::unexpected(xlen.error());
    if (auto s = r.Skip(*xlen); !s) return std::unexpected(s.error());
  }
  auto read_cstring = [&](std::string* out) -> Status {
    for (size_t n = 0; n < 4096; ++n) {
      auto c = r.U8();
      if (!c) return std::unexpected(c.error());
      if (*c == 0) return {};
      if (out != nullptr) out->push_back(static_cast<char>(*c));
    }
    return Fail(ErrorCode::kMalformed, "gzip name or comment longer than 4096 bytes", r.abs_pos());
  };
  if (flags & 0x08)
    if (auto s = read_cstring(&name); !s) return std::unexpected(s.error());
  if (flags & 0x10)
    if (auto s = read_cstring(nullptr); !s) return std::unexpected(s.error());
  if (flags & 0x02)
    if (auto s = r.Skip(2); !s) return std::unexpected(s.error());
  size_t body = r.pos();

  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return Fail(ErrorCode::kIo, "inflateInit2 failed");
  Bytes in = r.data().subspan(body);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  GrowingOutput out(ctx.budget, in.size() * 4);
  uLong crc = crc32(0, nullptr, 0);
  int ret = Z_OK;
  while (true) {
    if (!out.Reserve(16 * 1024)) break;
    zs.next_out = reinterpret_cast<Bytef*>(out.free_ptr());
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.free_size(), UINT32_MAX));
    std::byte* before = out.free_ptr();
    ret = inflate(&zs, Z_NO_FLUSH);
    size_t produced = reinterpret_cast<std::byte*>(zs.next_out) - before;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(before), static_cast<uInt>(produced));
    out.Commit(produced);
    if (ret == Z_STREAM_END) break;
    if (ret != Z_OK) break;
    if (zs.avail_in == 0) break;
  }
  size_t consumed = zs.total_in;
  inflateEnd(&zs);
  bool ran_out = (ret == Z_OK || ret == Z_BUF_ERROR) && zs.avail_in == 0;
  if (out.used() == 0 && ret != Z_STREAM_END && !ran_out)
    return Fail(ErrorCode::kMalformed, "gzip deflate data does not decode", ctx.offset);
  if (ret == Z_STREAM_END) {
    auto stored_crc = ReadU32(in, consumed, Endian::kLittle);
    auto stored_len = ReadU32(in, consumed + 4, Endian::kLittle);
    if (!stored_crc || !stored_len) {
      p.truncated = true;
      p.size = body + consumed;
    } else {
      p.size = body + consumed + 8;
      if (*stored_crc != static_cast<uint32_t>(crc))
        p.warnings.push_back(fmt::format("gzip CRC mismatch: stored {:08x}, computed {:08x}",
                                         *stored_crc, static_cast<uint32_t>(crc)));
    }
  } else if (out.limit_hit()) {
    p.size = body + consumed;
    p.warnings.push_back(fmt::format(
        "decompression stopped at {} bytes: output limit (--max-bytes/--max-ratio)", out.used()));
  } else {
    p.size = body + consumed;
    p.truncated = ran_out;
    p.warnings.push_back(
        fmt::format("gzip stream broken after {} output bytes (zlib code {})", out.used(), ret));
  }
  if (!name.empty()) p.details.push_back({"name", name});
  AddSizeDetails(p, p.size, out.used());
  p.children.push_back({name.empty() ? "decompressed" : name, out.Finish()});
  return p;
}

}  // namespace

extern const FormatHandler gzip_handler{
    "gzip", FormatKind::kCompression, "gzip stream (RFC 1952)", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
