// The facts read from raw program and blob bytes: the boot-loader facts (U-Boot banner, autoboot
// strings, environments with and without CRC, IKCONFIG), the program-string secret rules, library
// names and the AES S-box search. They must neither crash nor read out of bounds.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "facts/bootloader.h"
#include "facts/program_bytes.h"
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
  // The one-pass program facts: library names (two known libraries) and the AES S-box.
  static const std::map<std::string, firmwarden::facts::ElfInfo> elves = [] {
    std::map<std::string, firmwarden::facts::ElfInfo> e;
    firmwarden::facts::ElfInfo lib;
    lib.type = firmwarden::facts::ElfType::kDyn;
    lib.soname = "libfoo.so.1";
    e["/usr/lib/libfoo.so.1.2"] = lib;
    lib.soname = "libbar";
    e["/lib/libbar.so"] = lib;
    return e;
  }();
  static const firmwarden::facts::LibraryNames names(elves);
  std::map<std::string, std::string> named_by;
  names.Scan(bytes, "/fuzz", named_by);
  (void)firmwarden::facts::FindAesSbox(bytes);
  return 0;
}
