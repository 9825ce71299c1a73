// libFuzzer target for the elf handler: the whole engine in dry-run mode with small limits.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, "\177ELF");
  return 0;
}
