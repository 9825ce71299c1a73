// libFuzzer target for the JFFS2 handler: the whole engine in dry-run mode (nothing written), with
// small limits so a hostile image cannot stall a run.
//
// Build as fuzz/ext_fuzzer.cc describes (or through fuzz/CMakeLists.txt, which globs this file).
// Seeds: tiny images from mkfs.jffs2 -r DIR -o seed.img -e 0x10000 -n, with -l and -b, and with
// -X lzo -x zlib or -x zlib -x rtime for the other compressors.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "firmwarden/unpack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::UnpackOptions options;
  options.write_manifest = false;
  options.limits.max_depth = 4;
  options.limits.max_total_bytes = 32ULL << 20;
  options.limits.ratio_floor = 16ULL << 20;
  options.limits.max_files = 4096;
  options.limits.max_seconds = 5.0;
  options.limits.max_candidates = 10000;
  auto result = firmwarden::UnpackMemory(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", options);
  (void)result;
  return 0;
}
