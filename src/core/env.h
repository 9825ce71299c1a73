// Env: the seam for everything that would make output non-deterministic (clock, ids, temp dirs).
// Tests install a fixed Env; production uses the real one. Thread-safe for reads after setup.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace firmwarden {

struct Env {
  std::function<std::chrono::system_clock::time_point()> now;
  std::function<std::chrono::steady_clock::time_point()> monotonic;
  std::function<std::string()> new_id;  // a fresh unique id (UUID v4 text in production)
  std::string temp_root;                // where temporary directories are made

  static Env Real();
  // Fixed clock at `epoch_seconds`, sequential ids "00000000-0000-4000-8000-000000000001"…
  static Env Fixed(int64_t epoch_seconds);
};

// RFC 3339 UTC text of a time point, e.g. "2023-11-14T22:13:20Z".
std::string FormatUtc(std::chrono::system_clock::time_point t);

}  // namespace firmwarden
