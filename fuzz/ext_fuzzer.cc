// libFuzzer target for the ext2/3/4 handler: the whole engine in dry-run mode (nothing written),
// with small limits so a hostile image cannot stall a run.
//
// clang 14's <expected> support is incomplete (non-trivial destructors); use clang++-16:
//   clang++-16 -std=c++2b -Wno-builtin-macro-redefined -U__cpp_concepts -D__cpp_concepts=202002L
//     -fsanitize=fuzzer,address -Isrc -Iinclude -I/usr/include/hs -I/usr/include/ext2fs
//     fuzz/ext_fuzzer.cc src/core/*.cc src/unpack/*.cc src/unpack/formats/*.cc src/report/*.cc
//     (minus *_test.cc) $(pkg-config --libs libhs libsquashfs1 ext2fs com_err libarchive libzstd
//     liblz4 liblzma zlib) -lbz2 -lfmt -lcrypto
// Seeds: tiny images, e.g. mke2fs -t ext2 -b 1024 -N 32 -d DIR seed.img 64k (also ext4 with
// ^has_journal,metadata_csum,inline_data, and genext2fs -b 64 -d DIR).
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
