// Shared by the libFuzzer targets: run the whole engine in dry-run (info) mode with small limits,
// so every input finishes quickly and nothing is written; and, on request, extract to disk.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
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

// The limits of the filesystem targets' full runs: small enough for every input to finish
// quickly, large enough for a seed image's tree; no manifest.
inline UnpackOptions FilesystemOptions() {
  UnpackOptions o;
  o.limits.max_total_bytes = 32ULL << 20;
  o.limits.ratio_floor = 32ULL << 20;
  o.limits.max_files = 4096;
  o.limits.max_seconds = 5;
  o.limits.max_depth = 4;
  o.write_manifest = false;
  return o;
}

// With FIRMWARDEN_FUZZ_WRITE=1 in the environment, extracts `bytes` into a fresh temporary
// directory "<tag>.<pid>" with FilesystemOptions() (slower: decodes every data block and runs the
// sink's on-disk path), then removes it, and returns true; otherwise does nothing and returns
// false. A target passes one tag: the directory is named at the first call.
inline bool WriteUnpackIfAsked(std::string_view bytes, std::string_view tag) {
  static const bool write = std::getenv("FIRMWARDEN_FUZZ_WRITE") != nullptr;
  if (!write) return false;
  namespace fs = std::filesystem;
  static const fs::path dir =
      fs::temp_directory_path() / (std::string(tag) + "." + std::to_string(getpid()));
  std::error_code ec;
  fs::remove_all(dir, ec);
  UnpackOptions o = FilesystemOptions();
  o.output_dir = dir.string();
  (void)UnpackMemory(bytes, "fuzz.bin", o);
  fs::remove_all(dir, ec);
  return true;
}

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace firmwarden::fuzz
