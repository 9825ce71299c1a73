#include "audit/crack.h"

#include <crypt.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

namespace firmwarden::audit {
namespace {

bool Matches(const std::string& hash, const std::string& candidate, crypt_data& data) {
  char* out = crypt_rn(candidate.c_str(), hash.c_str(), &data, sizeof data);
  return out != nullptr && out[0] != '*' && hash == out;
}

}  // namespace

CrackResult Crack(const std::string& hash, const std::vector<std::string>& candidates,
                  unsigned threads, double seconds_cap) {
  CrackResult r;
  {
    auto probe = std::make_unique<crypt_data>();
    char* out = crypt_rn("", hash.c_str(), probe.get(), sizeof *probe);
    if (out == nullptr || out[0] == '*') {
      r.unsupported = true;
      return r;
    }
  }
  if (threads == 0) threads = 1;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(seconds_cap));
  std::atomic<size_t> next{0};
  std::atomic<bool> found{false};
  std::atomic<bool> capped{false};
  std::atomic<size_t> tried{0};
  std::mutex mu;
  size_t best_index = SIZE_MAX;
  auto work = [&]() {
    auto data = std::make_unique<crypt_data>();
    while (!found.load()) {
      size_t i = next.fetch_add(1);
      if (i >= candidates.size()) return;
      if (std::chrono::steady_clock::now() > deadline) {
        capped = true;
        return;
      }
      tried.fetch_add(1);
      if (Matches(hash, candidates[i], *data)) {
        std::lock_guard<std::mutex> l(mu);
        if (i < best_index) best_index = i;
        found = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  r.tried = tried.load();
  r.capped = capped.load() && !found.load();
  if (found) {
    r.cracked = true;
    r.password = candidates[best_index];
    r.position = best_index + 1;
  }
  return r;
}

}  // namespace firmwarden::audit
