// Result<T>: the error channel of every parser and I/O routine.
//
// Library code does not throw for expected failures (malformed input, I/O errors, limits); it
// returns an Error that names what went wrong and, where it applies, the byte offset in the input.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>

namespace firmwarden {

enum class ErrorCode {
  kTruncated,    // the input ends before a structure does
  kMalformed,    // a field holds a value the format forbids
  kUnsupported,  // valid, but a variant we do not read
  kLimit,        // an explicit resource limit was hit
  kIo,           // the operating system refused an operation
  kUsage,        // the caller passed something invalid
  kUnsafe,       // an entry tried to leave the output directory or similar
};

struct Error {
  ErrorCode code = ErrorCode::kMalformed;
  std::string message;
  std::optional<uint64_t> offset;  // offset in the input the error refers to, when known

  std::string ToString() const;
};

template <typename T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message,
                                   std::optional<uint64_t> offset = std::nullopt) {
  return std::unexpected<Error>(Error{code, std::move(message), offset});
}

const char* ErrorCodeName(ErrorCode code);

}  // namespace firmwarden
