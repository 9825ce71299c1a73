// libFuzzer target for the fit and dtb handlers (one device-tree parser): the whole engine in
// dry-run mode with small limits.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, std::string_view("\xd0\x0d\xfe\xed", 4));
  return 0;
}
