// Support periods of Linux kernel branches (KERN-03), exposed for tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace firmwarden::audit {

struct KernelSupport {
  std::string branch;      // "4.9"
  bool long_term = false;  // a kernel.org long-term branch
  bool ended = false;      // kernel.org support has ended at `now`
  std::string end;         // "2023-01" for long-term branches
  int64_t days_left = 0;   // days until support ends (negative once ended), long-term only
};

// Days from 1970-01-01 to the date (y >= 1970, m 1..12, d 1..31); the support tables' dates are
// compared with the scan date through it.
int64_t DaysSinceEpoch(int y, int m, int d);

// The kernel.org support of the branch of `release` ("4.9.87", "2.6.31-…") at `now` (unix
// seconds); nullopt when the release does not parse or its branch is newer than the table.
std::optional<KernelSupport> KernelSupportOf(std::string_view release, int64_t now);

}  // namespace firmwarden::audit
