// Helpers shared by the compression handlers: a growable output that charges the unpack budget.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "unpack/handler.h"

namespace firmwarden::unpack {

// Output buffer for a decompressor. Grows in steps; refuses to grow past the budget.
class GrowingOutput {
 public:
  explicit GrowingOutput(Budget& budget, uint64_t hint = 0);
  ~GrowingOutput();
  GrowingOutput(const GrowingOutput&) = delete;
  GrowingOutput& operator=(const GrowingOutput&) = delete;
  // Makes at least `min_free` bytes writable at free_ptr(); false when the budget is exhausted.
  bool Reserve(size_t min_free);
  std::byte* free_ptr() { return buf_ + used_; }
  size_t free_size() const { return capacity_ - used_; }
  void Commit(size_t n) { used_ += n; }
  size_t used() const { return used_; }
  bool limit_hit() const { return limit_hit_; }
  // Hands over the bytes, charging them to the budget.
  Blob Finish();

 private:
  Budget& budget_;
  // malloc/realloc, not std::vector: growing must not zero-fill (thousands of candidate streams
  // are tried on a flash dump, most of them small).
  std::byte* buf_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
  bool limit_hit_ = false;
};

// Details shared by the compression handlers.
void AddSizeDetails(Parsed& p, uint64_t compressed, uint64_t decompressed);

}  // namespace firmwarden::unpack
