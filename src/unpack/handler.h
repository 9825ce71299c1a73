// The shape of a format handler: plain data plus two functions, named once in formats.def.
//
// parse():   given a blob and a candidate offset (where the signature said the chunk starts),
//            validate the format, measure the chunk's exact size, describe it, and return any
//            sub-blobs (payloads, partitions, decompressed data) for the engine to scan again.
//            Must not write anything. Must not read outside ctx.data.
// extract(): for archives and filesystems only: walk the entries of the chunk and hand each to
//            the TreeSink, which writes it safely (or only records it, in info mode).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/blob.h"
#include "core/byte_reader.h"
#include "core/result.h"
#include "firmwarden/unpack.h"

namespace firmwarden::unpack {

class TreeSink;

enum class FormatKind { kContainer, kCompression, kArchive, kFilesystem, kRecognizer };
std::string_view FormatKindName(FormatKind k);

// A signature: `bytes` found at `offset` bytes after the start of the chunk.
struct Magic {
  std::string_view bytes;
  uint32_t offset = 0;
};

// Shared budget for everything one Unpack() call produces.
struct Budget {
  uint64_t bytes_left = 0;
  uint64_t files_left = 0;
  std::chrono::steady_clock::time_point deadline;
  bool TimeUp() const { return std::chrono::steady_clock::now() > deadline; }
  // Reserves n output bytes; false (and nothing reserved) when that would exceed the budget.
  bool Take(uint64_t n) {
    if (n > bytes_left) return false;
    bytes_left -= n;
    return true;
  }
};

struct ParseContext {
  const Blob& blob;        // the whole blob being scanned (sub-views of it are zero-copy)
  Bytes data;              // == blob.bytes()
  size_t offset;           // candidate chunk start
  Budget& budget;          // decompressed bytes count against budget.bytes_left
  std::string_view match;  // which magic matched (the bytes)
};

struct SubBlob {
  std::string name;  // "kernel", "rootfs", "payload", a stored file name…
  Blob blob;
};

struct Parsed {
  uint64_t size = 0;  // exact chunk size, from ctx.offset
  std::vector<KeyValue> details;
  std::vector<SubBlob> children;
  bool truncated = false;             // the header claims more bytes than the blob holds
  std::vector<std::string> warnings;  // problems inside a chunk that was still accepted
};

struct ExtractContext {
  Bytes chunk;           // exactly the chunk's bytes
  uint64_t base_offset;  // offset of chunk[0] in its blob, for diagnostics
  Budget& budget;
  std::string chunk_path;  // layout path of the chunk
};

struct FormatHandler {
  std::string_view name;
  FormatKind kind;
  std::string_view description;
  std::span<const Magic> magics;
  Result<Parsed> (*parse)(const ParseContext& ctx);
  Status (*extract)(const ExtractContext& ctx, TreeSink& sink);  // null unless archive/fs
};

// The registry, in formats.def order (earlier wins when two candidates start at one offset).
std::span<const FormatHandler> Handlers();

// Shannon entropy of bytes, in bits per byte (0..8).
double Entropy(Bytes data);

}  // namespace firmwarden::unpack
