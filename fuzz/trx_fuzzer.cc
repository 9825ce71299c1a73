// libFuzzer target for the trx handler: the whole engine in dry-run mode with small limits.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, "HDR0");
  return 0;
}
