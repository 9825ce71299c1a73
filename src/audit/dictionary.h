// The password dictionary: user:password lists (*.txt, one "user:password" per line, the Mirai
// list's format) and vendor,user,password tables (*.csv, the DefaultCreds format; "<blank>" is
// the empty password) from a directory, ordered for one account.
#pragma once

#include <string>
#include <vector>

#include "firmwarden/result.h"

namespace firmwarden::audit {

struct Credential {
  std::string vendor;  // "" for lists without one
  std::string user;
  std::string password;
  std::string source;  // file name
};

// Reads every *.txt and *.csv in `dir` (not recursive). Errors only when `dir` is unreadable.
Result<std::vector<Credential>> LoadCredentials(const std::string& dir);

// Candidate passwords for `user`, most likely first, unique: the image's own vendor entries,
// entries for this user name, the Mirai-style lists, the account names and the image's own
// identity strings (hostname, model), then everything else. At most `limit`.
std::vector<std::string> CandidatesFor(const std::string& user,
                                       const std::vector<Credential>& creds,
                                       const std::vector<std::string>& account_names,
                                       const std::vector<std::string>& identity, size_t limit);

}  // namespace firmwarden::audit
