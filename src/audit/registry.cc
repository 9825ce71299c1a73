#include <algorithm>
#include <chrono>

#include "audit/check.h"

namespace firmwarden::audit {

#define CHECK(var) extern const Check var;
#include "audit/checks/checks.def"
#undef CHECK

namespace {
const Check* const kChecks[] = {
#define CHECK(var) &var,
#include "audit/checks/checks.def"
#undef CHECK
};
std::vector<Check> Flatten() {
  std::vector<Check> out;
  for (const Check* c : kChecks) out.push_back(*c);
  return out;
}
}  // namespace

std::span<const Check> Checks() {
  static const std::vector<Check> all = Flatten();
  return all;
}

const Check* FindCheck(std::string_view id) {
  for (const Check& c : Checks())
    if (c.id == id) return &c;
  return nullptr;
}

Finding& Findings::Add(std::string message, const facts::SourceRef& where) {
  return Add(std::move(message), where.path, where.text).line = where.line, out_.back();
}

Finding& Findings::Add(std::string message, std::string path, std::string evidence) {
  Finding f;
  f.check_id = std::string(id_);
  f.severity = severity_;
  f.message = std::move(message);
  f.path = std::move(path);
  f.evidence = std::move(evidence);
  out_.push_back(std::move(f));
  return out_.back();
}

std::vector<Finding> RunChecks(const facts::DeviceModel& model, const AuditContext& ctx,
                               double* credential_seconds) {
  std::vector<Finding> out;
  for (const Check& c : Checks()) {
    auto start = std::chrono::steady_clock::now();
    Findings f(c.id, c.severity, out);
    c.run(model, ctx, f);
    if (c.id == "CRED-02" && credential_seconds != nullptr)
      *credential_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.check_id != b.check_id) return a.check_id < b.check_id;
    if (a.path != b.path) return a.path < b.path;
    return a.line < b.line;
  });
  return out;
}

}  // namespace firmwarden::audit
