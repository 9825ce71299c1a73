// Shared by the libFuzzer targets: run the whole engine in dry-run (info) mode with small limits,
// so every input finishes quickly and nothing is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "firmwarden/unpack.h"

namespace firmwarden::fuzz {

inline void DryUnpack(std::string_view bytes) {
  UnpackOptions opts;  // no output_dir: info mode
  opts.limits.max_depth = 4;
  opts.limits.max_total_bytes = 16ULL << 20;
  opts.limits.ratio_floor = 16ULL << 20;
  opts.limits.max_ratio = 50.0;
  opts.limits.max_files = 1000;
  opts.limits.max_seconds = 5.0;
  opts.limits.max_candidates = 1000;
  (void)UnpackMemory(bytes, "fuzz", opts);
}

// The input as is, and again with `magic` written at `offset`, so the handler under test is
// reached on every run instead of only once the fuzzer has discovered its signature.
inline void DryUnpackWithMagic(const uint8_t* data, size_t size, std::string_view magic,
                               size_t offset = 0) {
  std::string in(reinterpret_cast<const char*>(data), size);
  DryUnpack(in);
  if (in.size() < offset + magic.size()) in.resize(offset + magic.size(), '\0');
  in.replace(offset, magic.size(), magic);
  DryUnpack(in);
}

}  // namespace firmwarden::fuzz
