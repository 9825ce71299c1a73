// libFuzzer target for the squashfs handler: the whole input is unpacked in memory (info mode, so
// the TreeSink only records entries), which runs the signature scan, parse() and extract() with
// small limits. Seed it with small mksquashfs images of every compressor; most mutations then
// land in the superblock, the metadata tables or the compressed blocks.
//
// With FIRMWARDEN_FUZZ_WRITE=1 in the environment each input is also extracted into a fresh
// temporary directory (slower; exercises the on-disk path of the sink).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "firmwarden/unpack.h"

namespace {

firmwarden::UnpackOptions Options() {
  firmwarden::UnpackOptions o;
  o.limits.max_total_bytes = 32ULL << 20;
  o.limits.ratio_floor = 32ULL << 20;
  o.limits.max_files = 4096;
  o.limits.max_seconds = 5;
  o.limits.max_depth = 4;
  o.write_manifest = false;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const bool write = std::getenv("FIRMWARDEN_FUZZ_WRITE") != nullptr;
  firmwarden::UnpackOptions o = Options();
  if (!write) {
    (void)firmwarden::UnpackMemory(bytes, "fuzz.bin", o);
    return 0;
  }
  namespace fs = std::filesystem;
  static const fs::path dir =
      fs::temp_directory_path() / ("squashfs_fuzz." + std::to_string(getpid()));
  std::error_code ec;
  fs::remove_all(dir, ec);
  o.output_dir = dir.string();
  (void)firmwarden::UnpackMemory(bytes, "fuzz.bin", o);
  fs::remove_all(dir, ec);
  return 0;
}
