#include "core/env.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>

namespace firmwarden {

Env Env::Real() {
  Env env;
  env.now = [] { return std::chrono::system_clock::now(); };
  env.monotonic = [] { return std::chrono::steady_clock::now(); };
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  env.new_id = [rng] {
    uint64_t a = (*rng)(), b = (*rng)();
    a = (a & ~0xF000ULL) | 0x4000ULL;                         // version 4
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xFFFF,
                       a & 0xFFFF, b >> 48, b & 0xFFFFFFFFFFFFULL);
  };
  const char* tmp = std::getenv("TMPDIR");
  env.temp_root = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  return env;
}

Env Env::Fixed(int64_t epoch_seconds) {
  Env env = Real();
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(epoch_seconds));
  env.now = [t] { return t; };
  auto counter = std::make_shared<std::atomic<uint64_t>>(0);
  env.new_id = [counter] { return fmt::format("00000000-0000-4000-8000-{:012x}", ++*counter); };
  return env;
}

std::string FormatUtc(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace firmwarden
