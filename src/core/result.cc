#include "core/result.h"

#include <fmt/format.h>

namespace firmwarden {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTruncated:
      return "truncated";
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kLimit:
      return "limit";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kUnsafe:
      return "unsafe";
  }
  return "unknown";
}

std::string Error::ToString() const {
  if (offset) return fmt::format("{} at offset 0x{:x}: {}", ErrorCodeName(code), *offset, message);
  return fmt::format("{}: {}", ErrorCodeName(code), message);
}

}  // namespace firmwarden
