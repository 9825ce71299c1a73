#include <vector>

#include "unpack/handler.h"

namespace firmwarden::unpack {

#define FORMAT(id) extern const FormatHandler id##_handler;
#include "unpack/formats/formats.def"
#undef FORMAT

std::span<const FormatHandler> Handlers() {
  static const std::vector<FormatHandler> handlers = {
#define FORMAT(id) id##_handler,
#include "unpack/formats/formats.def"
#undef FORMAT
  };
  return handlers;
}

}  // namespace firmwarden::unpack
