// Shared driver for liblzma-based handlers (xz, lzma-alone).
#pragma once

#include <lzma.h>

#include <string_view>

#include "unpack/handler.h"

namespace firmwarden::unpack {

// Decoder memory cap: generous for real dictionaries (kernels use 8–64 MiB), bounded for bombs.
inline constexpr uint64_t kLzmaMemLimit = 512ULL << 20;

// Runs an initialised decoder over ctx.data from ctx.offset (+ skip) to the stream end. Takes
// ownership of `s` (ends it). `accept_eof` treats running out of input after real output as the end
// of a stream with no end marker (kernels write those). `strong_magic`: the signature alone is
// convincing, so a stream cut short before any output is still a (truncated) chunk.
Result<Parsed> RunLzma(const ParseContext& ctx, lzma_stream& s, std::string_view what,
                       size_t min_output = 1, bool accept_eof = false, bool strong_magic = false);

}  // namespace firmwarden::unpack

namespace firmwarden::unpack {

// How a squashfs block's LZMA data is framed. Vendor forks of mksquashfs (Broadcom, OpenWrt's
// sqlzma, Linksys, Huawei...) each picked one; nothing in the superblock says which.
enum class LzmaFraming {
  kAlone,       // 13-byte LZMA-alone header: properties, dictionary size, 64-bit output size
  kProps,       // the 5 property bytes only, no size
  kHeaderless,  // no header at all: lc=3 lp=0 pb=2, dictionary as large as the block
};
std::string_view LzmaFramingName(LzmaFraming f);

// Decodes one squashfs block (metadata or data) whose framing is not known in advance, into
// `out` (its size is the most the block may expand to). Framings are tried in an order where a
// wrong guess cannot succeed by accident: each requires the byte at which its range coder
// starts to be zero, LZMA-alone also a declared size that fits, and every attempt must end
// within a few bytes of the input's end. `*hint` (updated on success) is tried first.
// `exact`, when non-zero, is the size the block must decode to. Returns the decoded size, or
// an error saying why no framing fits.
Result<size_t> DecodeLzmaBlock(Bytes in, std::span<std::byte> out, size_t exact, LzmaFraming* hint);

}  // namespace firmwarden::unpack
