// libFuzzer target for the tplink handler: the whole engine in dry-run mode with small limits.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, std::string_view("\x01\x00\x00\x00TP-LINK", 11));
  return 0;
}
