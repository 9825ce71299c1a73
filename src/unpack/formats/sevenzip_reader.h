// Our own 7z reader: header parsing and folder decoding, written from the format description
// (7-Zip's DOC/7zFormat.txt).
//
// Why our own code: 7-Zip >= 23 puts its ARM64 branch-converter filter (method id 0x0A) in front of
// LZMA2 for arm64 executables, and Debian 12's libarchive 3.6 has no decoder for it ("Unexpected
// codec ID: a"). liblzma 5.4 (also Debian 12) does implement the filter in its raw decoder, so this
// reader drives liblzma (and zlib / libbz2) itself. libarchive stays the primary 7z extractor; the
// handler (sevenzip.cc) reads the header with this code first and only extracts with it when a
// folder uses a coder chain libarchive 3.6 cannot decode (see NeedsOwnDecoder).
//
// Everything here treats the archive as hostile: every read goes through a bounds-checked cursor,
// every count is checked against what the remaining header bytes can describe, the decoded header
// is capped, and decoders stream through fixed-size buffers (output is charged to the TreeSink's
// budget as it is written), so no allocation follows an untrusted size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack::sevenzip {

// Limits on what one header may describe.
inline constexpr uint64_t kMaxHeaderSize = 64ULL << 20;  // decoded (kEncodedHeader) header bytes
inline constexpr uint64_t kMaxFiles = 1ULL << 20;
inline constexpr uint64_t kMaxCodersPerFolder = 8;
inline constexpr uint64_t kMaxSymlinkTarget = 4096;

struct Coder {
  uint64_t id = 0;  // the method id bytes, big-endian (LZMA = 0x030101)
  uint64_t num_in = 1;
  uint64_t num_out = 1;
  std::string props;
};

struct Folder {
  std::vector<Coder> coders;
  std::vector<std::pair<uint64_t, uint64_t>> bind_pairs;  // (in index, out index)
  std::vector<uint64_t> packed_streams;                   // in indices fed by pack streams
  std::vector<uint64_t> unpack_sizes;                     // one per coder out stream
  std::optional<uint32_t> crc;                            // of the folder's final output
  uint64_t first_pack_stream = 0;                         // index into Archive::pack_sizes
  uint64_t num_substreams = 1;
  uint64_t UnpackSize() const;  // the size of the out stream no bind pair consumes
};

struct File {
  std::string name;  // UTF-8
  bool has_stream = true;
  bool is_dir = false;
  bool is_anti = false;
  std::optional<int64_t> mtime;  // unix seconds
  std::optional<uint32_t> attrib;
  uint64_t size = 0;
  std::optional<uint32_t> crc;
  uint64_t folder = 0;  // for files with data: the folder holding it
};

struct Archive {
  uint64_t header_offset = 0;  // of the (final) header, from the chunk start
  uint64_t pack_pos = 0;       // of the first pack stream, from the chunk start
  std::vector<uint64_t> pack_sizes;
  std::vector<uint64_t> pack_offsets;  // from the chunk start, parallel to pack_sizes
  std::vector<Folder> folders;
  std::vector<File> files;
  bool encoded_header = false;
};

// Parses the signature header and the (possibly encoded) header of the 7z archive that starts at
// chunk[0]. `base_offset` is chunk[0]'s offset in its blob, for diagnostics. Decoding an encoded
// header needs at most min(kMaxHeaderSize, max_header) bytes.
Result<Archive> ReadArchive(Bytes chunk, uint64_t base_offset,
                            uint64_t max_header = kMaxHeaderSize);

// The display name of a method id ("LZMA2", "ARM64", "03030103").
std::string MethodName(uint64_t id);
// Every distinct method the folders use, in first-use order, comma-separated.
std::string Methods(const Archive& a);
// Whether every folder's coder chain is one this reader decodes.
bool CanDecode(const Archive& a);
// Whether some folder uses a coder (or coder combination) Debian 12's libarchive 3.6 cannot decode.
bool NeedsOwnDecoder(const Archive& a);

// Emits every entry of `a` (read from ctx.chunk) through `sink`, decoding each folder once.
Status Extract(const Archive& a, const ExtractContext& ctx, TreeSink& sink);

}  // namespace firmwarden::unpack::sevenzip
