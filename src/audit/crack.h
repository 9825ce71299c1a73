// Password hash verification against a dictionary, through libxcrypt's crypt_rn (thread-safe).
#pragma once

#include <string>
#include <vector>

namespace firmwarden::audit {

struct CrackResult {
  bool cracked = false;
  std::string password;
  size_t tried = 0;          // words tried (varies with thread timing)
  size_t position = 0;       // 1-based place of the password among the candidates (deterministic)
  bool capped = false;       // the time cap stopped the search before the dictionary ended
  bool unsupported = false;  // crypt(3) does not know the scheme
};

// Tries `candidates` in order against `hash` on `threads` threads. Slow schemes stop after
// `seconds_cap` of work (measured, not guessed) and say so.
CrackResult Crack(const std::string& hash, const std::vector<std::string>& candidates,
                  unsigned threads, double seconds_cap);

}  // namespace firmwarden::audit
