// Unpacking: from the bytes a vendor ships to a layout (every byte accounted for) and a FileTree.
//
// Unpack() never throws and never writes outside `output_dir`. A malformed, truncated or hostile
// image is not an error: it yields diagnostics and whatever could be read. Errors are returned only
// for usage and I/O problems (missing image, output directory not creatable).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "firmwarden/file_tree.h"
#include "firmwarden/result.h"

namespace firmwarden {

struct Env;

struct Limits {
  int max_depth = 16;                     // nesting of containers inside containers
  uint64_t max_total_bytes = 4ULL << 30;  // bytes decompressed or written, all layers
  double max_ratio = 200.0;               // total output bytes / input bytes …
  uint64_t ratio_floor = 256ULL << 20;    // … but always allow this many bytes
  uint64_t max_files = 1'000'000;         // entries in all trees
  double max_seconds = 600.0;             // wall time for the whole unpack
  uint64_t max_candidates = 1'000'000;    // signature hits considered per blob
};

struct KeyValue {
  std::string key;
  std::string value;
};

struct BlobLayout;

// One region of a blob: a recognised chunk, padding, or unknown bytes.
struct Region {
  enum class Kind { kChunk, kPadding, kUnknown };
  Kind kind = Kind::kUnknown;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string format;                // chunk: handler name; padding: "0x00" or "0xff"
  std::string description;           // chunk: human description of the format
  std::vector<KeyValue> details;     // chunk: format-specific facts (name, compression, inodes…)
  double entropy = 0.0;              // unknown: Shannon entropy in bits per byte
  bool truncated = false;            // chunk: the format says it is longer than the data
  std::string path;                  // layout path, e.g. "/0x40.squashfs"
  std::string disk_path;             // where its output is, relative to the output dir
  std::optional<size_t> tree;        // index into FileTree::trees() for archives and filesystems
  std::vector<BlobLayout> children;  // sub-blobs (payloads, partitions, decompressed streams)
};

// A blob: the image itself, or a payload or decompressed stream inside it.
struct BlobLayout {
  std::string name;
  std::string path;
  uint64_t size = 0;
  std::vector<Region> regions;  // sorted by offset, covering [0, size) exactly
  std::vector<KeyValue> notes;  // things recognised inside without a chunk (kernel banner)
  std::string disk_path;        // raw bytes written here when not fully understood
  // Where this blob lies in its parent blob, when it is a slice of it (payloads, partitions);
  // absent for the image itself and for decompressed data.
  std::optional<uint64_t> offset_in_parent;
};

struct Diagnostic {
  enum class Severity { kInfo, kWarning, kError };
  Severity severity = Severity::kWarning;
  std::string where;  // layout path
  std::optional<uint64_t> offset;
  std::string message;
};

std::string_view SeverityName(Diagnostic::Severity s);

struct UnpackStats {
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;  // decompressed + extracted
  uint64_t chunks = 0;
  uint64_t unknown_bytes = 0;  // top level and nested, outside any chunk or padding
  double seconds = 0.0;
};

struct Unpacked {
  BlobLayout layout;
  FileTree files;
  std::vector<Diagnostic> diagnostics;
  UnpackStats stats;
  // True when no diagnostic at warning or above was raised.
  bool Clean() const;
};

struct UnpackOptions {
  Limits limits;
  std::optional<std::string> output_dir;  // nothing is written when unset (info mode)
  bool write_manifest = true;             // manifest.json beside the extracted trees
  const Env* env = nullptr;               // clock; Env::Real() when null
};

// Unpacks the file at `image_path`. Errors: the image cannot be read, or the output directory
// cannot be created or is not empty.
Result<Unpacked> Unpack(const std::string& image_path, const UnpackOptions& options);

// Same, for bytes already in memory (`name` labels the top blob).
Result<Unpacked> UnpackMemory(std::string_view bytes, const std::string& name,
                              const UnpackOptions& options);

// Formats the unpacker knows, for --help and docs: (name, kind, description).
struct FormatInfo {
  std::string name;
  std::string kind;
  std::string description;
};
std::vector<FormatInfo> KnownFormats();

}  // namespace firmwarden
