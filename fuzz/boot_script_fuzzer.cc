// The boot graph's shell reader (tokeniser, expansion, conditions, functions, loops) on hostile
// script text, with an empty file system: it must neither crash nor hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "facts/device_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::facts::DeviceModel m;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  firmwarden::facts::InterpretShellText(m, text, "/etc/init.d/rcS", {"S", "boot"});
  return 0;
}
