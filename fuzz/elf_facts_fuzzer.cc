// libFuzzer target for the ELF fact reader (facts/elf.h): ParseElf on the raw input, and again
// with a valid ELF identification written over its first bytes (class and byte order taken from
// the input) so that the header and table parsing is reached on every run. The capture sniffer
// (facts/device_model.h) reads the same first bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "facts/device_model.h"
#include "facts/elf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  (void)firmwarden::facts::SniffCapture(std::string_view(in).substr(0, 16));
  (void)firmwarden::facts::ParseElf(in);
  if (size >= 6) {
    in.replace(0, 4,
               "\x7f"
               "ELF");
    in[4] = static_cast<char>(1 + (data[4] & 1));
    in[5] = static_cast<char>(1 + (data[5] & 1));
    if (auto e = firmwarden::facts::ParseElf(in)) {
      // Touch the queries the checks use.
      (void)e->IsExecutable();
      (void)e->HasSymbolPrefix("__asan_");
      (void)e->Imports("strcpy");
    }
  }
  return 0;
}
