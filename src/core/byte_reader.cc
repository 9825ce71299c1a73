#include "core/byte_reader.h"

#include <fmt/format.h>

namespace firmwarden {
namespace {

uint64_t Load(Bytes b, Endian e) {
  uint64_t v = 0;
  if (e == Endian::kLittle) {
    for (size_t i = b.size(); i-- > 0;) v = (v << 8) | static_cast<uint8_t>(b[i]);
  } else {
    for (size_t i = 0; i < b.size(); ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  }
  return v;
}

}  // namespace

Status ByteReader::Seek(size_t pos) {
  if (pos > data_.size())
    return Fail(ErrorCode::kTruncated,
                fmt::format("seek to {} past end of {}-byte region", pos, data_.size()),
                base_ + pos);
  pos_ = pos;
  return {};
}

Status ByteReader::Skip(size_t n) {
  if (n > remaining())
    return Fail(ErrorCode::kTruncated,
                fmt::format("skip of {} bytes with only {} left", n, remaining()), abs_pos());
  pos_ += n;
  return {};
}

Result<Bytes> ByteReader::Take(size_t n) {
  if (n > remaining())
    return Fail(ErrorCode::kTruncated, fmt::format("need {} bytes, only {} left", n, remaining()),
                abs_pos());
  Bytes out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Result<Bytes> ByteReader::At(size_t pos, size_t n) const {
  if (pos > data_.size() || n > data_.size() - pos)
    return Fail(ErrorCode::kTruncated,
                fmt::format("{} bytes at {} exceed {}-byte region", n, pos, data_.size()),
                base_ + pos);
  return data_.subspan(pos, n);
}

Result<uint8_t> ByteReader::U8() {
  auto b = Take(1);
  if (!b) return std::unexpected(b.error());
  return static_cast<uint8_t>((*b)[0]);
}
Result<uint16_t> ByteReader::U16(Endian e) {
  auto b = Take(2);
  if (!b) return std::unexpected(b.error());
  return static_cast<uint16_t>(Load(*b, e));
}
Result<uint32_t> ByteReader::U32(Endian e) {
  auto b = Take(4);
  if (!b) return std::unexpected(b.error());
  return static_cast<uint32_t>(Load(*b, e));
}
Result<uint64_t> ByteReader::U64(Endian e) {
  auto b = Take(8);
  if (!b) return std::unexpected(b.error());
  return Load(*b, e);
}

Result<std::string> ByteReader::FixedString(size_t n) {
  auto b = Take(n);
  if (!b) return std::unexpected(b.error());
  std::string_view s = AsChars(*b);
  auto nul = s.find('\0');
  return std::string(s.substr(0, nul));
}

Result<uint32_t> ReadU32(Bytes data, size_t pos, Endian e) {
  ByteReader r(data);
  if (auto s = r.Seek(pos); !s) return std::unexpected(s.error());
  return r.U32(e);
}
Result<uint16_t> ReadU16(Bytes data, size_t pos, Endian e) {
  ByteReader r(data);
  if (auto s = r.Seek(pos); !s) return std::unexpected(s.error());
  return r.U16(e);
}
Result<uint64_t> ReadU64(Bytes data, size_t pos, Endian e) {
  ByteReader r(data);
  if (auto s = r.Seek(pos); !s) return std::unexpected(s.error());
  return r.U64(e);
}

}  // namespace firmwarden
