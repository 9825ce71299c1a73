// libFuzzer target for the cramfs handler: the input as is and again with the little-endian magic
// planted at offset 0 (so the superblock checks are reached on every run), unpacked
// in memory in info mode. Seed it with small mkfs.cramfs images (both -N little and -N big).
//
// Info mode skips file data; with FIRMWARDEN_FUZZ_WRITE=1 in the environment each input is also
// extracted into a fresh temporary directory, which decodes every block pointer and zlib block.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, std::string_view("\x45\x3D\xCD\x28", 4));
  (void)firmwarden::fuzz::WriteUnpackIfAsked(firmwarden::fuzz::AsView(data, size), "cramfs_fuzz");
  return 0;
}
