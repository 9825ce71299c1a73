// Arcadyan firmware (Linksys WRT120N, Belkin/Arcadyan N300 and relatives): a chain of sections,
// each a payload followed by 0xFF padding and a 12-byte little-endian trailer that ends on a
// 1 KiB boundary:
//
//   payload (length L) | 0xFF… | u32 L | u32 0x12345678 | u32 CRC32 (zlib) of the payload
//
// (binwalk's test vector has about 1 KiB of other bytes before its padding; they belong to the
// section all the same).
//
// The first section's payload is a 4-byte word (a build date in BCD on the images seen) and an
// LZMA-alone stream whose first bytes are obfuscated (the LZMA header is no longer where a
// signature scanner looks for it):
//   * the 32-byte blocks at 0x04 and 0x68 are exchanged, and
//   * in the block that then sits at 0x04 every byte has its nibbles swapped and every pair of
//     bytes is exchanged.
// The LZMA header "5D 00 00 80 00" therefore reads "00 D5 08 00" at 0x68, the signature here.
// De-obfuscating is undoing both steps; the clean LZMA stream is handed back as a child. Later
// sections are plain (the WRT120N's second holds the LZMA-packed "PFS/0.9" web file system).
// A short printable product tag ("BRNAP91880") may follow the last trailer.
#include <fmt/format.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr size_t kBlock = 32;
constexpr size_t kBlock1 = 0x04;
constexpr size_t kBlock2 = 0x68;
constexpr size_t kMinSize = kBlock2 + kBlock + 1;
constexpr uint32_t kTrailerMagic = 0x12345678;
constexpr size_t kTrailerSize = 12;
constexpr size_t kAlign = 0x400;
constexpr size_t kMaxSections = 16;
constexpr uint64_t kMaxSlack = 64 * 1024;
constexpr size_t kMaxTagSize = 64;

// The signature skips the leading 0x00 ("00 D5 08 00" at 0x68): Vectorscan's literal API takes
// a pattern that starts with NUL for an empty string. The parse checks the whole header.
constexpr Magic kMagics[] = {{std::string_view("\xD5\x08\x00", 3), kBlock2 + 1}};

uint32_t Crc32(Bytes b) {
  uLong crc = crc32(0, nullptr, 0);
  while (!b.empty()) {
    size_t n = std::min<size_t>(b.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n));
    b = b.subspan(n);
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace

// Undoes the obfuscation of the first kBlock2 + kBlock bytes of `data` in place. Exposed for the
// tests (which obfuscate with the inverse) and the fuzz target.
void ArcadyanDeobfuscate(std::span<std::byte> data) {
  if (data.size() < kBlock2 + kBlock) return;
  std::byte tmp[kBlock];
  std::memcpy(tmp, data.data() + kBlock1, kBlock);
  std::memcpy(data.data() + kBlock1, data.data() + kBlock2, kBlock);
  std::memcpy(data.data() + kBlock2, tmp, kBlock);
  for (size_t i = kBlock1; i < kBlock1 + kBlock; ++i) {
    auto b = static_cast<uint8_t>(data[i]);
    data[i] = static_cast<std::byte>(static_cast<uint8_t>((b << 4) | (b >> 4)));
  }
  for (size_t i = kBlock1; i + 1 < kBlock1 + kBlock; i += 2) std::swap(data[i], data[i + 1]);
}

namespace {

struct Section {
  uint64_t start = 0;   // from the chunk start
  uint64_t length = 0;  // payload length as the trailer states it
  uint64_t end = 0;     // just past the trailer
  uint32_t crc = 0;
};

// The trailer of the section starting at `start`: the first 1 KiB boundary whose last 12 bytes
// hold the magic and a payload length that ends shortly before them. `min_length` rules out
// a trailer inside the obfuscated header.
std::optional<Section> FindTrailer(Bytes data, uint64_t start, uint64_t min_length) {
  uint64_t k = start + min_length + kTrailerSize;
  k = (k + kAlign - 1) / kAlign * kAlign;
  for (; k <= data.size(); k += kAlign) {
    auto magic = ReadU32(data, k - 8, Endian::kLittle);
    if (!magic || *magic != kTrailerMagic) continue;
    auto len = ReadU32(data, k - 12, Endian::kLittle);
    auto crc = ReadU32(data, k - 4, Endian::kLittle);
    if (!len || !crc || *len < min_length || start + *len > k - kTrailerSize) continue;
    // Between payload and trailer lies padding (and on some images a little slack): never much,
    // or the "trailer" is a chance match far inside a later payload.
    if (k - kTrailerSize - (start + *len) > kMaxSlack) continue;
    return Section{start, *len, k, *crc};
  }
  return std::nullopt;
}

// Without a trailer, the LZMA stream's own end is the section's end: decode it (output discarded,
// bounded by the budget's bytes and deadline) and count the input it took. The stream comes in
// two pieces, the de-obfuscated head and the untouched rest, so nothing the size of the image is
// copied for a candidate that may be a chance match. `ran_out` is set when the input ended
// before the stream did.
Result<uint64_t> MeasureLzma(Bytes head, Bytes rest, const Budget& budget, uint64_t base,
                             bool* ran_out) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_decoder(&s, 512ULL << 20) != LZMA_OK)
    return Fail(ErrorCode::kIo, "lzma_alone_decoder failed");
  std::vector<uint8_t> out(1 << 16);
  s.next_in = reinterpret_cast<const uint8_t*>(head.data());
  s.avail_in = head.size();
  bool in_rest = false;
  uint64_t produced = 0;
  lzma_ret ret = LZMA_OK;
  while (ret == LZMA_OK) {
    if (s.avail_in == 0 && !in_rest) {
      in_rest = true;
      s.next_in = reinterpret_cast<const uint8_t*>(rest.data());
      s.avail_in = rest.size();
    }
    s.next_out = out.data();
    s.avail_out = out.size();
    ret = lzma_code(&s, in_rest ? LZMA_FINISH : LZMA_RUN);
    produced += out.size() - s.avail_out;
    if (produced > budget.bytes_left || budget.TimeUp()) {
      lzma_end(&s);
      return Fail(ErrorCode::kLimit, "Arcadyan LZMA stream exceeds the unpack budget", base);
    }
  }
  const uint64_t used =
      in_rest ? head.size() + (rest.size() - s.avail_in) : head.size() - s.avail_in;
  const bool exhausted = in_rest && s.avail_in == 0;
  lzma_end(&s);
  *ran_out = ret != LZMA_STREAM_END;
  if (ret == LZMA_STREAM_END || (ret == LZMA_BUF_ERROR && exhausted)) return used;
  return Fail(ErrorCode::kMalformed,
              fmt::format("Arcadyan LZMA stream is corrupt after {} bytes of output", produced),
              base);
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  if (data.size() < kMinSize)
    return Fail(ErrorCode::kTruncated, "Arcadyan image shorter than its obfuscated header",
                ctx.offset);
  std::vector<std::byte> head(data.begin(), data.begin() + kBlock2 + kBlock);
  ArcadyanDeobfuscate(head);
  // The de-obfuscated block must now be an LZMA-alone header: properties, a power-of-two
  // dictionary, a plausible size, and the range coder's zero first byte.
  ByteReader r(Bytes(head).subspan(kBlock1), ctx.offset + kBlock1);
  uint8_t props = *r.U8();
  uint32_t dict = *r.U32le();
  uint64_t usize = *r.U64le();
  uint8_t first = *r.U8();
  if (props >= 225 || dict < 4096 || (dict & (dict - 1)) != 0 || first != 0)
    return Fail(ErrorCode::kMalformed, "Arcadyan header does not de-obfuscate to an LZMA header",
                ctx.offset);
  if (usize != UINT64_MAX && (usize == 0 || usize > (1ULL << 32)))
    return Fail(ErrorCode::kMalformed, "Arcadyan LZMA size implausible", ctx.offset);

  Parsed p;
  p.details.push_back({"header_word", fmt::format("0x{:08x}", *ReadU32(data, 0, Endian::kLittle))});
  p.details.push_back({"lzma_dictionary", std::to_string(dict)});
  p.details.push_back(
      {"lzma_declared_size", usize == UINT64_MAX ? "unknown" : std::to_string(usize)});

  std::vector<Section> sections;
  if (auto first_section = FindTrailer(data, 0, kMinSize)) {
    sections.push_back(*first_section);
    while (sections.size() < kMaxSections) {
      uint64_t next = sections.back().end;
      if (data.size() - next < kMinSize) break;
      auto s = FindTrailer(data, next, 1);
      if (!s) break;
      sections.push_back(*s);
    }
  } else {
    // No trailer (a bare obfuscated stream, or one cut short): the stream ends the chunk.
    bool ran_out = false;
    auto used = MeasureLzma(Bytes(head).subspan(kBlock1), data.subspan(head.size()), ctx.budget,
                            ctx.offset + kBlock1, &ran_out);
    if (!used) return std::unexpected(used.error());
    sections.push_back(Section{0, kBlock1 + *used, kBlock1 + *used, 0});
    // A stream of unknown size may simply end with the data (kernels write no end marker); one
    // that declared its size and stopped short was cut.
    if (ran_out && usize != UINT64_MAX) p.truncated = true;
    p.warnings.push_back(ran_out ? "Arcadyan image without section trailer and its LZMA stream "
                                   "ends early: truncated"
                                 : "Arcadyan image without section trailer; CRC not checked");
  }

  const Section& s0 = sections.front();
  if (s0.length < kMinSize)
    return Fail(ErrorCode::kMalformed, "Arcadyan LZMA stream shorter than its header", ctx.offset);
  if (!ctx.budget.Take(s0.length))
    return Fail(ErrorCode::kLimit, "Arcadyan image exceeds the unpack budget", ctx.offset);
  std::vector<std::byte> whole(data.begin(), data.begin() + s0.length);
  ArcadyanDeobfuscate(whole);
  Blob clean = Blob::FromVector(std::move(whole)).Slice(kBlock1, s0.length - kBlock1);

  for (size_t i = 0; i < sections.size(); ++i) {
    const Section& s = sections[i];
    std::string key = fmt::format("section{}", i);
    p.details.push_back({key + "_offset", fmt::format("0x{:x}", s.start)});
    p.details.push_back({key + "_size", std::to_string(s.length)});
    if (s.end != s.start + s.length) {  // has a trailer
      p.details.push_back({key + "_crc32", fmt::format("0x{:08x}", s.crc)});
      uint32_t computed = Crc32(data.subspan(s.start, s.length));
      if (computed != s.crc)
        p.warnings.push_back(
            fmt::format("Arcadyan section {} CRC mismatch: stored {:08x}, "
                        "computed {:08x}",
                        i, s.crc, computed));
    }
    if (i == 0)
      p.children.push_back({"lzma", std::move(clean)});
    else
      p.children.push_back({key, ctx.blob.Slice(ctx.offset + s.start, s.length)});
  }
  uint64_t end = sections.back().end;
  // Another section that starts like one (an LZMA header) but has no trailer was cut short.
  if (Bytes next = data.subspan(end);
      next.size() >= 14 && static_cast<uint8_t>(next[0]) < 225 && next[13] == std::byte{0}) {
    uint32_t d = *ReadU32(next, 1, Endian::kLittle);
    if (d >= 4096 && (d & (d - 1)) == 0)
      p.warnings.push_back(fmt::format(
          "Arcadyan section {} at 0x{:x} has no trailer: the image is probably truncated",
          sections.size(), end));
  }
  // A product tag closes the image when it is short, printable and the last thing in the blob.
  Bytes rest = data.subspan(end);
  if (!rest.empty() && rest.size() <= kMaxTagSize &&
      std::all_of(rest.begin(), rest.end(), [](std::byte b) {
        return static_cast<uint8_t>(b) >= 0x20 && static_cast<uint8_t>(b) < 0x7F;
      })) {
    p.details.push_back({"product_tag", std::string(AsChars(rest))});
    end = data.size();
  }
  p.details.insert(p.details.begin(), {"sections", std::to_string(sections.size())});
  p.size = p.truncated ? data.size() : end;
  return p;
}

}  // namespace

extern const FormatHandler arcadyan_handler{"arcadyan",
                                            FormatKind::kContainer,
                                            "Arcadyan obfuscated firmware (Linksys WRT120N et al.)",
                                            kMagics,
                                            Parse,
                                            nullptr};

}  // namespace firmwarden::unpack
