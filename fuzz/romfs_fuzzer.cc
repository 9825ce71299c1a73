// libFuzzer target for the romfs handler: the input as is and again with "-rom1fs-" planted at
// offset 0, unpacked in memory in info mode (which walks every header, name and chain). Seed it
// with small genromfs images.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, "-rom1fs-");
  return 0;
}
