#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "cli/command.h"

namespace firmwarden::cli {

void AddLimitOptions(CLI::App& app, Limits& limits) {
  app.add_option("--max-depth", limits.max_depth, "Deepest nesting of containers to follow")
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-bytes", limits.max_total_bytes,
                 "Most bytes to decompress and write, all layers together")
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-ratio", limits.max_ratio,
                 "Most output bytes per input byte (bomb guard; at least 256 MiB is allowed)")
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-files", limits.max_files, "Most entries in all extracted trees")
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-seconds", limits.max_seconds, "Wall-time budget for unpacking")
      ->capture_default_str()
      ->group("Limits");
}

bool WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    fwrite(text.data(), 1, text.size(), stdout);
    return true;
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) {
    fmt::print(stderr, "firmwarden: cannot write {}: {}\n", path, strerror(errno));
    return false;
  }
  f << text;
  return static_cast<bool>(f);
}

std::string HumanSize(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace firmwarden::cli
