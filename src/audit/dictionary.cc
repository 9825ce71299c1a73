#include "audit/dictionary.h"

#include <dirent.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "facts/text_util.h"

namespace firmwarden::audit {

using facts::Lower;
using facts::Trim;

Result<std::vector<Credential>> LoadCredentials(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr)
    return Fail(ErrorCode::kIo, fmt::format("cannot read credential directory {}", dir));
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.ends_with(".txt") || n.ends_with(".csv")) names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<Credential> out;
  for (const std::string& n : names) {
    std::ifstream f(dir + "/" + n);
    std::string line;
    bool csv = n.ends_with(".csv");
    bool first = true;
    while (std::getline(f, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      Credential c;
      c.source = n;
      if (csv) {
        if (first) {  // header row
          first = false;
          if (Lower(line).find("password") != std::string::npos) continue;
        }
        auto f1 = line.find(',');
        auto f2 = f1 == std::string::npos ? f1 : line.find(',', f1 + 1);
        if (f2 == std::string::npos) continue;
        c.vendor = line.substr(0, f1);
        c.user = line.substr(f1 + 1, f2 - f1 - 1);
        c.password = line.substr(f2 + 1);
      } else {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        c.user = line.substr(0, colon);
        c.password = line.substr(colon + 1);
      }
      for (std::string* s : {&c.user, &c.password})
        if (*s == "<blank>" || *s == "<BLANK>") s->clear();
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<std::string> CandidatesFor(const std::string& user,
                                       const std::vector<Credential>& creds,
                                       const std::vector<std::string>& account_names,
                                       const std::vector<std::string>& identity, size_t limit) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& p) {
    if (out.size() < limit && seen.insert(p).second) out.push_back(p);
  };
  std::vector<std::string> ids;
  for (const std::string& s : identity) ids.push_back(Lower(s));
  auto vendor_match = [&](const Credential& c) {
    if (c.vendor.empty()) return false;
    std::string v = Lower(c.vendor);
    for (const std::string& id : ids)
      if (id.size() >= 3 && (id.find(v) != std::string::npos || v.find(id) != std::string::npos))
        return true;
    return false;
  };
  std::string lu = Lower(user);
  for (const Credential& c : creds)
    if (vendor_match(c) && Lower(c.user) == lu) add(c.password);
  for (const Credential& c : creds)
    if (vendor_match(c)) add(c.password);
  for (const Credential& c : creds)
    if (c.vendor.empty() && Lower(c.user) == lu) add(c.password);
  for (const Credential& c : creds)
    if (c.vendor.empty()) add(c.password);
  add(user);
  for (const std::string& n : account_names) add(n);
  for (const std::string& s : identity) {
    add(s);
    add(Lower(s));
  }
  for (const Credential& c : creds)
    if (Lower(c.user) == lu) add(c.password);
  for (const Credential& c : creds) add(c.password);
  return out;
}

}  // namespace firmwarden::audit
