// The reference for the signature pass's throughput (issue 5: "the limit is the memory bandwidth
// of one scan"): one thread maps each file named on stdin (one path per line) and reads every
// byte once, as the signature pass does, summing 64-bit words so that nothing is skipped. Best of
// 3 runs over page-cache-warm files; prints "BYTES SECONDS MB_PER_S".
//   c++ -O2 -o read_bandwidth bench/read_bandwidth.cc && find DIR -type f | ./read_bandwidth
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

int main() {
  std::vector<std::string> paths;
  for (std::string line; std::getline(std::cin, line);)
    if (!line.empty()) paths.push_back(line);
  double best = 1e9;
  uint64_t bytes = 0, sink = 0;
  for (int run = 0; run < 3; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    bytes = 0;
    for (const std::string& p : paths) {
      int fd = open(p.c_str(), O_RDONLY);
      if (fd < 0) continue;
      struct stat st {};
      if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        close(fd);
        continue;
      }
      size_t n = static_cast<size_t>(st.st_size);
      void* m = mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
      close(fd);
      if (m == MAP_FAILED) continue;
      const auto* b = static_cast<const unsigned char*>(m);
      uint64_t s = 0;
      size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, b + i, 8);
        s += w;
      }
      for (; i < n; ++i) s += b[i];
      sink += s;
      bytes += n;
      munmap(m, n);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (secs < best) best = secs;
  }
  std::printf("%llu %.6f %.0f\n", static_cast<unsigned long long>(bytes), best,
              best > 0 ? bytes / 1e6 / best : 0.0);
  return sink == 42 ? 1 : 0;  // keeps the sum alive
}
