// libFuzzer target for the ext2/3/4 handler: the whole engine in dry-run mode (nothing written),
// with the small limits of fuzz_util.h. Built by fuzz/CMakeLists.txt (preset `fuzz`).
// Seeds: tiny images, e.g. mke2fs -t ext2 -b 1024 -N 32 -d DIR seed.img 64k (also ext4 with
// ^has_journal,metadata_csum,inline_data, and genext2fs -b 64 -d DIR).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpack(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
