// Reader for the lzop (.lzo) container: a header, then a list of LZO1X blocks each with its own
// lengths and optional checksums, closed by a zero-length block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/byte_reader.h"
#include "core/result.h"

namespace firmwarden::unpack {

struct LzopInfo {
  size_t consumed = 0;  // exact length of the .lzo stream in bytes, end-of-stream marker included
  std::string original_name;  // as stored; may be empty (stdin) and is not sanitised
  uint32_t mtime = 0;         // low 32 bits of the stored modification time
  uint64_t uncompressed_size = 0;
};

// lzop's own per-block limit; anything larger is corruption, not a real file.
inline constexpr uint32_t kLzopMaxBlockSize = 64u * 1024 * 1024;

// Validates the header (magic, versions, method, flags, header checksum, extra field) and walks
// the block list without decompressing, so a carver can learn where a stream embedded in a larger
// image ends. Checksums of compressed data are verified when the flags say they are present; the
// decompressed-data checksums can only be checked by LzopDecompress.
Result<LzopInfo> LzopMeasure(Bytes in);

// Decompresses every block into `*out` (replacing its contents) and verifies each block checksum
// the header announces. Fails with kLimit, before allocating, if the output would exceed
// `max_output` bytes. Trailing bytes after the stream are ignored; see LzopInfo::consumed.
Result<LzopInfo> LzopDecompress(Bytes in, std::string* out, uint64_t max_output);

}  // namespace firmwarden::unpack
