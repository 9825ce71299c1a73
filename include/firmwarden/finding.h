// Findings: what a check reports, with the evidence that supports it and the provisions it breaks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace firmwarden {

// Ordered: a threshold compares with >=.
enum class Severity { kInfo, kLow, kMedium, kHigh, kCritical };

std::string_view SeverityName(Severity s);  // "info" … "critical"
std::optional<Severity> ParseSeverity(std::string_view name);

// How sure the check is that the finding is real on the device (not how bad it is).
enum class Confidence { kLow, kMedium, kHigh };

std::string_view ConfidenceName(Confidence c);

// The regulations a check maps to; empty when a regime has no matching provision.
struct Provisions {
  std::string_view etsi;     // ETSI EN 303 645 V2.1.1 provision ids, e.g. "5.1-1"
  std::string_view etsi_v3;  // EN 303 645 V3 ids where they differ from V2.1.1
  std::string_view cra;      // EU CRA Annex I, e.g. "I.2(b), I.2(d)"
  std::string_view psti;     // UK PSTI Schedule 1 paragraph, e.g. "§1"
  std::string_view nist;     // NISTIR 8259A capability, e.g. "LA"
  std::string_view en18031;  // EN 18031 mechanism, e.g. "AUM-5-1"
};

struct Finding {
  std::string check_id;  // "CRED-01"
  Severity severity = Severity::kInfo;
  Confidence confidence = Confidence::kHigh;
  // False when an image alone cannot decide: the finding is evidence for a reviewer.
  bool verdict = true;
  std::string message;   // what was found, specifically
  std::string path;      // evidence file in the device filesystem, "/etc/shadow" ("" if none)
  int line = 0;          // 1-based line in `path`, 0 when not line-based
  std::string evidence;  // the line or value that shows it
  // Set when a policy entry suppressed the finding; it is still reported, apart.
  std::optional<std::string> suppressed_by;
};

}  // namespace firmwarden
