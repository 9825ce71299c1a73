#include "audit/policy.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <toml++/toml.h>

#include "audit/check.h"

namespace firmwarden::audit {
namespace {

int64_t DaysFromCivil(int y, unsigned m, unsigned d) {  // days since 1970-01-01, proleptic
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

Result<Policy> LoadPolicy(const std::string& path) {
  Policy p;
  p.file = path;
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Fail(ErrorCode::kUsage,
                fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  for (auto&& [key, value] : doc)
    if (key.str() != "suppress")
      return Fail(ErrorCode::kUsage,
                  fmt::format("{}:{}: unknown key '{}' (expected [[suppress]] tables)", path,
                              value.source().begin.line, key.str()));
  const toml::array* list = doc["suppress"].as_array();
  if (doc.contains("suppress") && list == nullptr)
    return Fail(ErrorCode::kUsage, fmt::format("{}: 'suppress' must be an array of tables "
                                               "([[suppress]])",
                                               path));
  if (list == nullptr) return p;
  for (const toml::node& n : *list) {
    const toml::table* t = n.as_table();
    int line = static_cast<int>(n.source().begin.line);
    if (t == nullptr)
      return Fail(ErrorCode::kUsage,
                  fmt::format("{}:{}: [[suppress]] entry is not a table", path, line));
    for (auto&& [key, value] : *t) {
      std::string_view k = key.str();
      if (k != "check" && k != "path" && k != "reason" && k != "expires")
        return Fail(ErrorCode::kUsage, fmt::format("{}:{}: unknown key '{}' (check, path, reason, "
                                                   "expires)",
                                                   path, value.source().begin.line, k));
    }
    Suppression s;
    s.line = line;
    auto check = (*t)["check"].value<std::string>();
    if (!check)
      return Fail(ErrorCode::kUsage,
                  fmt::format("{}:{}: suppression without a check id", path, line));
    if (FindCheck(*check) == nullptr)
      return Fail(
          ErrorCode::kUsage,
          fmt::format("{}:{}: unknown check '{}' (see 'firmwarden checks')", path, line, *check));
    s.check = *check;
    auto reason = (*t)["reason"].value<std::string>();
    if (!reason || reason->find_first_not_of(" \t") == std::string::npos)
      return Fail(ErrorCode::kUsage,
                  fmt::format("{}:{}: suppression of {} has no reason: say why the finding is "
                              "accepted",
                              path, line, s.check));
    s.reason = *reason;
    if (t->contains("path")) {
      auto pth = (*t)["path"].value<std::string>();
      if (!pth)
        return Fail(ErrorCode::kUsage, fmt::format("{}:{}: path must be a string", path, line));
      s.path = *pth;
    }
    if (t->contains("expires")) {
      auto d = (*t)["expires"].value<toml::date>();
      if (!d)
        return Fail(ErrorCode::kUsage,
                    fmt::format("{}:{}: expires must be a TOML date like 2027-06-30", path, line));
      s.expires = (DaysFromCivil(d->year, d->month, d->day) + 1) * 86400 - 1;
    }
    p.entries.push_back(std::move(s));
  }
  return p;
}

void ApplyPolicy(const Policy& policy, int64_t now, std::vector<Finding>& findings,
                 std::vector<std::string>& notes) {
  for (const Suppression& s : policy.entries) {
    if (s.expires && *s.expires < now) {
      notes.push_back(
          fmt::format("{}:{}: the suppression of {}{} expired; its findings count again",
                      policy.file, s.line, s.check, s.path ? " at " + *s.path : ""));
      continue;
    }
    for (Finding& f : findings) {
      if (f.suppressed_by || f.check_id != s.check) continue;
      if (s.path && fnmatch(s.path->c_str(), f.path.c_str(), 0) != 0) continue;
      f.suppressed_by = fmt::format("{} ({}:{})", s.reason, policy.file, s.line);
    }
  }
}

}  // namespace firmwarden::audit
