// Policy files: accepted findings, suppressed by check id and path with a mandatory reason and an
// optional expiry date. TOML:
//
//   [[suppress]]
//   check = "SVC-06"            # required: a registered check id
//   path = "/usr/bin/nc"        # optional: exact path, or a glob ("/usr/bin/*"); all paths if
//   absent reason = "factory test tool, removed in 2.1 (TICKET-123)"   # required, not empty
//   expires = 2027-06-30        # optional TOML date; after it the entry no longer applies
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "firmwarden/finding.h"
#include "firmwarden/result.h"

namespace firmwarden::audit {

struct Suppression {
  std::string check;
  std::optional<std::string> path;
  std::string reason;
  std::optional<int64_t> expires;  // unix seconds at the end of the expiry day (UTC)
  int line = 0;                    // where it is in the policy file
};

struct Policy {
  std::string file;
  std::vector<Suppression> entries;
};

// Reads and validates a policy. Errors (kUsage) name the file and line: TOML syntax, a missing or
// empty reason, an unknown check id, a malformed date.
Result<Policy> LoadPolicy(const std::string& path);

// Marks matching findings suppressed (Finding::suppressed_by). Expired entries do not apply;
// a note for each is appended to `notes`.
void ApplyPolicy(const Policy& policy, int64_t now, std::vector<Finding>& findings,
                 std::vector<std::string>& notes);

}  // namespace firmwarden::audit
