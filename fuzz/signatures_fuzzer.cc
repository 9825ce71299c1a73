// libFuzzer target for the binary signature engine (src/identify/signatures): the embedded
// database scans arbitrary bytes (every literal hit runs its PCRE2 capture in a bounded window;
// whole-file rules run over the buffer), the file-name rules read an arbitrary path, and the same
// bytes are loaded as a signature file (TOML parsing and validation, regex compilation).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "identify/signatures.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace sg = firmwarden::identify::signatures;
  static const sg::Database* db = sg::Database::Builtin();
  if (db == nullptr) __builtin_trap();  // the embedded data must always load
  static sg::Scanner scanner(*db);
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  (void)scanner.Scan(bytes, "");
  (void)scanner.Scan(bytes, "busybox");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)scanner.ScanPath(text.substr(0, 512));
  if (size < 8192) {
    auto loaded = sg::Database::Load({{"fuzz.toml", std::string(text)}});
    if (loaded) (void)sg::CheckTests(*loaded);
  }
  return 0;
}
