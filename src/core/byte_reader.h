// ByteReader: a cursor over untrusted bytes. Every read is bounds-checked and returns a Result;
// nothing here ever reads outside the span it was given. Not thread-safe (one cursor per parser).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace firmwarden {

using Bytes = std::span<const std::byte>;

inline Bytes AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view AsChars(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

enum class Endian { kLittle, kBig };

class ByteReader {
 public:
  // `base` is the absolute offset of data[0] in the original input, so errors name real offsets.
  explicit ByteReader(Bytes data, uint64_t base = 0) : data_(data), base_(base) {}

  size_t pos() const { return pos_; }
  size_t size() const { return data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  uint64_t abs_pos() const { return base_ + pos_; }
  Bytes data() const { return data_; }

  Status Seek(size_t pos);
  Status Skip(size_t n);

  Result<uint8_t> U8();
  Result<uint16_t> U16(Endian e);
  Result<uint32_t> U32(Endian e);
  Result<uint64_t> U64(Endian e);
  Result<uint16_t> U16le() { return U16(Endian::kLittle); }
  Result<uint32_t> U32le() { return U32(Endian::kLittle); }
  Result<uint64_t> U64le() { return U64(Endian::kLittle); }
  Result<uint16_t> U16be() { return U16(Endian::kBig); }
  Result<uint32_t> U32be() { return U32(Endian::kBig); }
  Result<uint64_t> U64be() { return U64(Endian::kBig); }

  // A view of the next n bytes; advances.
  Result<Bytes> Take(size_t n);
  // Fixed-width string field, cut at the first NUL.
  Result<std::string> FixedString(size_t n);
  // A view of n bytes at an absolute position within this reader (does not move the cursor).
  Result<Bytes> At(size_t pos, size_t n) const;

 private:
  Bytes data_;
  uint64_t base_;
  size_t pos_ = 0;
};

// Checked helpers for the common "read a field at a fixed position" case.
Result<uint32_t> ReadU32(Bytes data, size_t pos, Endian e);
Result<uint16_t> ReadU16(Bytes data, size_t pos, Endian e);
Result<uint64_t> ReadU64(Bytes data, size_t pos, Endian e);

}  // namespace firmwarden
