// libFuzzer target for the SquashFS 1.x-3.x handler: the input as is and again with the vendor
// magic "shsq" planted at offset 0 (the byte order comes from the version field, so both orders
// are reached), unpacked in memory in info mode. Seed it with the fixtures that
// squashfs_legacy_test's writer makes (FIRMWARDEN_SQFS_LEGACY_SEEDS=<dir> writes them there)
// and with the first 64 KiB of the real legacy images.
//
// Info mode skips file data; with FIRMWARDEN_FUZZ_WRITE=1 in the environment each input is also
// extracted into a fresh temporary directory, which decodes every data block and fragment.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "firmwarden/unpack.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, "shsq");
  static const bool write = std::getenv("FIRMWARDEN_FUZZ_WRITE") != nullptr;
  if (!write) return 0;
  namespace fs = std::filesystem;
  static const fs::path dir =
      fs::temp_directory_path() / ("sqfs_legacy_fuzz." + std::to_string(getpid()));
  std::error_code ec;
  fs::remove_all(dir, ec);
  firmwarden::UnpackOptions o;
  o.limits.max_total_bytes = 32ULL << 20;
  o.limits.ratio_floor = 32ULL << 20;
  o.limits.max_files = 4096;
  o.limits.max_seconds = 5;
  o.limits.max_depth = 4;
  o.write_manifest = false;
  o.output_dir = dir.string();
  (void)firmwarden::UnpackMemory(std::string_view(reinterpret_cast<const char*>(data), size),
                                 "fuzz.bin", o);
  fs::remove_all(dir, ec);
  return 0;
}
