// LZO1X decompression (the bitstream written by lzo1x_1_compress, lzo1x_1_15 and lzo1x_999).
//
// Written from the format description rather than liblzo, which is GPL. The decoder treats its
// input as hostile: every read, write and back-reference is checked, so a corrupt block yields an
// Error and never touches memory outside `in` or `out`.
#pragma once

#include <cstddef>
#include <span>

#include "core/byte_reader.h"
#include "core/result.h"

namespace firmwarden::unpack {

// Decompresses one complete LZO1X block into `out` and returns the number of bytes written. The
// block must end with the end-of-stream marker exactly at the end of `in`; trailing bytes are
// kMalformed (squashfs and lzop both store exact block lengths, so slack means corruption).
// Errors: kTruncated if `in` ends inside an instruction or before the end marker, kLimit if the
// data does not fit in `out`, kMalformed for a back-reference before the start of the output.
// All of `out` is scratch: for speed, short copies may write up to 16 bytes past the returned
// length (never past out.end()), and a failed call leaves partial output behind.
Result<size_t> Lzo1xDecompress(Bytes in, std::span<std::byte> out);

// Like Lzo1xDecompress, but stops at the end-of-stream marker and tolerates trailing input; the
// number of input bytes up to and including the marker is stored in `*consumed` (may be null).
Result<size_t> Lzo1xDecompressPrefix(Bytes in, std::span<std::byte> out, size_t* consumed);

}  // namespace firmwarden::unpack
