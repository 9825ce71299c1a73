#include "unpack/emit_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace firmwarden::unpack {

void ProblemLog::Add(const std::string& msg) {
  if (count_++ < kShown) first_ += (first_.empty() ? "" : "; ") + msg;
}

Status ProblemLog::Finish(uint64_t offset) const {
  if (count_ == 0) return {};
  std::string msg = first_;
  if (count_ > kShown) msg += fmt::format(" (and {} more problems)", count_ - kShown);
  return Fail(ErrorCode::kMalformed, msg, offset);
}

Status WriteZeros(TreeSink::FileOut& out, uint64_t n, size_t chunk) {
  static const std::array<std::byte, kMaxZeroChunk> kZeros{};
  chunk = std::min(chunk, kMaxZeroChunk);
  while (n > 0) {
    const size_t len = std::min<uint64_t>(chunk, n);
    if (auto st = out.Write(Bytes(kZeros.data(), len)); !st) return st;
    n -= len;
  }
  return {};
}

}  // namespace firmwarden::unpack
