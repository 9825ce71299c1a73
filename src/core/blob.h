// Blob: an immutable byte buffer, either a read-only memory map of a file or bytes owned in memory
// (a decompressed stream). Cheap to move; views into it stay valid while the Blob lives.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "core/result.h"

namespace firmwarden {

class Blob {
 public:
  Blob() = default;
  // Maps `path` read-only. Empty files give an empty Blob.
  static Result<Blob> MapFile(const std::string& path);
  static Blob FromVector(std::vector<std::byte> bytes);
  static Blob FromString(std::string_view s);
  // Takes ownership of a buffer from malloc/realloc (freed with free()).
  static Blob FromMalloc(std::byte* data, size_t size);

  Bytes bytes() const { return {data_, size_}; }
  size_t size() const { return size_; }
  // A view of [offset, offset+size) sharing this blob's storage; clamped to the blob's end.
  Blob Slice(size_t offset, size_t size) const;

 private:
  struct Storage;
  std::shared_ptr<Storage> storage_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace firmwarden
