// libFuzzer target for the UBI and UBIFS handlers: the input as is, with "UBI#" planted at offset
// 0, and with an UBIFS node magic planted at 0, unpacked in memory in info mode (UBI volumes are
// handed to the engine, which reads UBIFS inside; UBIFS's index walk reads every leaf node). Seed
// it with small ubinize and mkfs.ubifs images (a small LEB size keeps them short).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, "UBI#");
  firmwarden::fuzz::DryUnpackWithMagic(data, size, std::string_view("\x31\x18\x10\x06", 4));
  return 0;
}
