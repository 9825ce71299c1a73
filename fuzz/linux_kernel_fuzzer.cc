// libFuzzer target for the linux_kernel recogniser: the whole engine in dry-run mode with small
// limits. The first input byte picks which of the three header signatures is planted.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  switch (data[0] % 3) {
    case 0:
      firmwarden::fuzz::DryUnpackWithMagic(data + 1, size - 1, "\x18\x28\x6f\x01", 0x24);
      break;
    case 1:
      firmwarden::fuzz::DryUnpackWithMagic(data + 1, size - 1, "ARM\x64", 0x38);
      break;
    default:
      firmwarden::fuzz::DryUnpackWithMagic(data + 1, size - 1, "HdrS", 0x202);
      break;
  }
  return 0;
}
