// A check: a small rule over the facts, carrying its own documentation. Each family lives in
// checks/<area>.cc and each check is named once in checks.def; docs/checks.md is generated from
// this registry (`firmwarden checks --markdown`).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/dictionary.h"
#include "facts/device_model.h"
#include "firmwarden/component.h"
#include "firmwarden/finding.h"

namespace firmwarden::audit {

// What a check may need beyond the model: the password dictionary and its limits.
struct AuditContext {
  std::vector<Credential> credentials;  // the dictionary; empty when none was given
  unsigned threads = 2;
  double seconds_per_slow_hash = 0.5;  // cap for bcrypt/yescrypt/SHA-crypt with many rounds
  // The audit date (unix seconds) that certificate validity is judged against; from Env.
  int64_t now = 0;
  // Directories of known-compromised private keys (*.key, PEM; an optional NAME.json beside
  // NAME.key describes it): KEY-02 matches the image's keys and certificates against them.
  std::vector<std::string> known_key_dirs;
  // What identification found (the kernel release, packages); null when it did not run.
  const std::vector<Component>* components = nullptr;
};

class Findings {
 public:
  explicit Findings(std::string_view check_id, Severity severity, std::vector<Finding>& out)
      : id_(check_id), severity_(severity), out_(out) {}
  // Adds a finding at the check's default severity (or `severity` when given).
  Finding& Add(std::string message, const facts::SourceRef& where);
  Finding& Add(std::string message, std::string path, std::string evidence = "");
  Severity default_severity() const { return severity_; }

 private:
  std::string_view id_;
  Severity severity_;
  std::vector<Finding>& out_;
};

struct Check {
  std::string_view id;     // "CRED-01"
  std::string_view title;  // one line
  Severity severity;       // default
  std::string_view rationale;
  std::string_view remediation;
  Provisions provisions;
  void (*run)(const facts::DeviceModel& model, const AuditContext& ctx, Findings& out);
};

std::span<const Check> Checks();
const Check* FindCheck(std::string_view id);

// Runs every check; findings sorted by severity (highest first), then check id, path, line.
// `credential_seconds`, when given, receives the time spent verifying password hashes.
std::vector<Finding> RunChecks(const facts::DeviceModel& model, const AuditContext& ctx,
                               double* credential_seconds = nullptr);

}  // namespace firmwarden::audit
