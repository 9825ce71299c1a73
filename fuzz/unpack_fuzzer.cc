// The whole engine on arbitrary bytes: every handler's parse(), and extract() in dry-run mode,
// with small limits so a single input cannot run long.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "firmwarden/unpack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::UnpackOptions o;
  o.limits.max_total_bytes = 64ULL << 20;
  o.limits.ratio_floor = 16ULL << 20;
  o.limits.max_files = 10000;
  o.limits.max_seconds = 5;
  o.limits.max_depth = 6;
  auto r = firmwarden::UnpackMemory(std::string_view(reinterpret_cast<const char*>(data), size),
                                    "fuzz", o);
  // Every byte is accounted for: the regions tile the blob.
  if (r) {
    uint64_t pos = 0;
    for (const auto& region : r->layout.regions) {
      if (region.offset != pos) __builtin_trap();
      pos += region.size;
    }
    if (pos != size) __builtin_trap();
  }
  return 0;
}
