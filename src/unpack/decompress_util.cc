#include "unpack/decompress_util.h"

#include <algorithm>
#include <cstdlib>

namespace firmwarden::unpack {

GrowingOutput::GrowingOutput(Budget& budget, uint64_t hint) : budget_(budget) {
  uint64_t start = std::min<uint64_t>(std::max<uint64_t>(hint, 16 * 1024), 64ULL << 20);
  start = std::min<uint64_t>(start, std::max<uint64_t>(budget_.bytes_left, 4096));
  buf_ = static_cast<std::byte*>(std::malloc(static_cast<size_t>(start)));
  if (buf_ != nullptr) capacity_ = static_cast<size_t>(start);
}

GrowingOutput::~GrowingOutput() { std::free(buf_); }

bool GrowingOutput::Reserve(size_t min_free) {
  if (free_size() >= min_free) return true;
  uint64_t want = std::max<uint64_t>(static_cast<uint64_t>(capacity_) * 2, used_ + min_free);
  if (want > budget_.bytes_left) want = budget_.bytes_left;
  if (want < used_ + min_free) {
    limit_hit_ = true;
    return false;
  }
  auto* grown = static_cast<std::byte*>(std::realloc(buf_, static_cast<size_t>(want)));
  if (grown == nullptr) {
    limit_hit_ = true;
    return false;
  }
  buf_ = grown;
  capacity_ = static_cast<size_t>(want);
  return true;
}

Blob GrowingOutput::Finish() {
  budget_.Take(std::min<uint64_t>(used_, budget_.bytes_left));
  std::byte* data = buf_;
  if (used_ > 0 && used_ < capacity_) {
    if (auto* shrunk = static_cast<std::byte*>(std::realloc(buf_, used_))) data = shrunk;
  }
  buf_ = nullptr;
  size_t n = used_;
  capacity_ = used_ = 0;
  return Blob::FromMalloc(data, n);
}

void AddSizeDetails(Parsed& p, uint64_t compressed, uint64_t decompressed) {
  p.details.push_back({"compressed_size", std::to_string(compressed)});
  p.details.push_back({"decompressed_size", std::to_string(decompressed)});
}

}  // namespace firmwarden::unpack
