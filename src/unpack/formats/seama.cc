// D-Link SEAMA ("SEAttle iMAge", Alpha Networks), all fields big-endian:
//
//   u32 magic 0x5EA3A417 | u16 reserved | u16 meta size | u32 image size
//   [16-byte MD5 of the image, only when the image size is not zero]
//   meta data (meta size bytes: NUL-separated "key=value" strings)
//   image (image size bytes)
//
// An image size of zero is a "seal": the header and meta data alone, with further SEAMA images
// after it. The MD5 is verified; a mismatch is a warning and the image is still handed on.
#include <fmt/format.h>
#include <openssl/evp.h>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kDigestSize = 16;
constexpr size_t kMaxMetaItems = 64;
constexpr Magic kMagics[] = {{std::string_view("\x5E\xA3\xA4\x17", 4), 0}};

std::string Hex(Bytes b) {
  std::string out;
  for (std::byte x : b) out += fmt::format("{:02x}", static_cast<uint8_t>(x));
  return out;
}

bool Printable(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c >= 0x7F) return false;
  return true;
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  ByteReader r(data, ctx.offset);
  auto magic = r.U32be();
  auto reserved = r.U16be();
  auto meta_size = r.U16be();
  auto image_size = r.U32be();
  if (!magic || !reserved || !meta_size || !image_size)
    return Fail(ErrorCode::kTruncated, "SEAMA header cut short", ctx.offset);
  if (*reserved != 0)
    return Fail(ErrorCode::kMalformed,
                fmt::format("SEAMA reserved field is 0x{:04x}, expected 0", *reserved), ctx.offset);
  const bool has_digest = *image_size != 0;
  const uint64_t meta_at = kHeaderSize + (has_digest ? kDigestSize : 0);
  const uint64_t image_at = meta_at + *meta_size;

  Parsed p;
  p.size = image_at + *image_size;
  p.truncated = p.size > data.size();
  p.details = {{"meta_size", std::to_string(*meta_size)},
               {"image_size", std::to_string(*image_size)}};
  if (!has_digest) p.details.push_back({"kind", "seal (no image)"});

  // Meta data: NUL-separated strings. Anything unprintable means this is no SEAMA header.
  if (meta_at + *meta_size <= data.size()) {
    std::string_view meta = AsChars(data.subspan(meta_at, *meta_size));
    size_t items = 0;
    while (!meta.empty()) {
      size_t nul = meta.find('\0');
      std::string_view item = meta.substr(0, nul);
      meta = nul == std::string_view::npos ? std::string_view() : meta.substr(nul + 1);
      if (item.empty()) continue;
      if (!Printable(item))
        return Fail(ErrorCode::kMalformed, "SEAMA meta data is not text", ctx.offset + meta_at);
      if (++items > kMaxMetaItems) continue;
      size_t eq = item.find('=');
      if (eq == std::string_view::npos || eq == 0)
        p.details.push_back({"meta", std::string(item)});
      else
        p.details.push_back(
            {"meta_" + std::string(item.substr(0, eq)), std::string(item.substr(eq + 1))});
    }
  }

  if (has_digest) {
    if (data.size() < meta_at) {
      p.warnings.push_back("SEAMA MD5 digest cut short; not checked");
      return p;
    }
    Bytes stored = data.subspan(kHeaderSize, kDigestSize);
    p.details.push_back({"md5", Hex(stored)});
    if (p.truncated) {
      p.warnings.push_back("SEAMA image is truncated; MD5 not checked");
    } else {
      Bytes image = data.subspan(image_at, *image_size);
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int md_len = 0;
      if (EVP_Digest(image.data(), image.size(), md, &md_len, EVP_md5(), nullptr) != 1 ||
          md_len != kDigestSize)
        return Fail(ErrorCode::kIo, "MD5 computation failed", ctx.offset);
      std::string computed = Hex(Bytes(reinterpret_cast<const std::byte*>(md), md_len));
      if (computed != Hex(stored))
        p.warnings.push_back(
            fmt::format("SEAMA MD5 mismatch: stored {}, computed {}", Hex(stored), computed));
      else
        p.details.push_back({"md5_verified", "yes"});
    }
    if (image_at < data.size())
      p.children.push_back({"image", ctx.blob.Slice(ctx.offset + image_at, *image_size)});
  }
  return p;
}

}  // namespace

extern const FormatHandler seama_handler{
    "seama", FormatKind::kContainer, "D-Link SEAMA firmware header (MD5-checked)", kMagics, Parse,
    nullptr};

}  // namespace firmwarden::unpack
