// libFuzzer target for the uimage handler: the whole engine in dry-run mode with small limits.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, std::string_view("\x27\x05\x19\x56", 4));
  return 0;
}
