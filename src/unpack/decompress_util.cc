#include "unpack/decompress_util.h"

#include <algorithm>

namespace firmwarden::unpack {

GrowingOutput::GrowingOutput(Budget& budget, uint64_t hint) : budget_(budget) {
  uint64_t start = std::min<uint64_t>(std::max<uint64_t>(hint, 64 * 1024), 64ULL << 20);
  start = std::min<uint64_t>(start, std::max<uint64_t>(budget_.bytes_left, 4096));
  buf_.resize(static_cast<size_t>(start));
}

bool GrowingOutput::Reserve(size_t min_free) {
  if (free_size() >= min_free) return true;
  uint64_t want = std::max<uint64_t>(buf_.size() * 2, used_ + min_free);
  if (want > budget_.bytes_left) want = budget_.bytes_left;
  if (want < used_ + min_free) {
    limit_hit_ = true;
    return false;
  }
  buf_.resize(static_cast<size_t>(want));
  return true;
}

Blob GrowingOutput::Finish() {
  buf_.resize(used_);
  buf_.shrink_to_fit();
  budget_.Take(std::min<uint64_t>(used_, budget_.bytes_left));
  return Blob::FromVector(std::move(buf_));
}

void AddSizeDetails(Parsed& p, uint64_t compressed, uint64_t decompressed) {
  p.details.push_back({"compressed_size", std::to_string(compressed)});
  p.details.push_back({"decompressed_size", std::to_string(decompressed)});
}

}  // namespace firmwarden::unpack
