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
