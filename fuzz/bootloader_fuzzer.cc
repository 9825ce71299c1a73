// The boot-loader facts (U-Boot banner, autoboot strings, environments with and without CRC) and
// the program-string secret rules on hostile bytes: they must neither crash nor read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "facts/bootloader.h"
#include "facts/secrets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  firmwarden::facts::BootLoaderFacts f;
  firmwarden::facts::ScanForBootLoader(bytes, "fuzz", f);
  (void)f.Effective();
  for (size_t i = 0; i < bytes.size() && i < 64; ++i)
    (void)firmwarden::facts::ParseUBootEnvAt(bytes, i);
  (void)firmwarden::facts::FindEmbeddedKernelConfig(bytes);
  std::vector<firmwarden::facts::Secret> secrets;
  firmwarden::facts::ScanProgramStrings(bytes, "/fuzz", secrets);
  return 0;
}
