// Secrets written into the image: SEC-01 hard-coded credentials in scripts and configuration,
// SEC-02 cloud and API secrets anywhere (binaries included), SEC-03 credentials compiled into
// programs. The rules live in facts/secrets.cc.
#include <fmt/format.h>

#include "audit/check.h"

namespace firmwarden::audit {
namespace {

void Sec01(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  for (const facts::Secret& s : m.secrets) {
    if (s.cloud || s.in_program) continue;
    Finding& f =
        out.Add(fmt::format("hard-coded credential ({}) in {}", s.rule, s.path), s.path, s.excerpt);
    f.line = s.line;
    f.confidence = Confidence::kMedium;
  }
}

void Sec02(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  for (const facts::Secret& s : m.secrets) {
    if (!s.cloud) continue;
    Finding& f = out.Add(fmt::format("{} in {}{}", s.rule, s.path,
                                     s.line > 0 ? "" : fmt::format(" at offset {:#x}", s.offset)),
                         s.path, s.excerpt);
    f.line = s.line;
  }
}

void Sec03(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  for (const facts::Secret& s : m.secrets) {
    if (!s.in_program) continue;
    Finding& f = out.Add(fmt::format("credential ({}) compiled into the program {} at offset {:#x}",
                                     s.rule, s.path, s.offset),
                         s.path, s.excerpt);
    f.confidence = Confidence::kLow;  // a string in a program may be a template or a help text
  }
}

}  // namespace

extern const Check kSec01{
    "SEC-01",
    "Hard-coded credential in a script or configuration file",
    Severity::kHigh,
    "A password, token or key written into a script, a configuration file or a URL is the same "
    "on every unit and readable by anyone who downloads the firmware.",
    "Move credentials to per-device provisioning (generated at manufacture or first boot, stored "
    "outside the image); never put them on command lines or in URLs.",
    {"5.4-3", "", "I.2(d), I.2(e)", "", "DP", "SSM-3, CCK-1"},
    Sec01};

extern const Check kSec02{
    "SEC-02",
    "Cloud or API secret in the image",
    Severity::kCritical,
    "An AWS, Google, Azure, Slack, GitHub or payment API secret in firmware gives whoever extracts "
    "it the vendor's cloud access, often for the whole fleet.",
    "Revoke the key now; give each device its own short-lived credential from a provisioning "
    "service instead.",
    {"5.4-3, 5.4-4", "", "I.2(d), I.2(e)", "", "DP", "CCK-1, CCK-3"},
    Sec02};

extern const Check kSec03{
    "SEC-03",
    "Credential compiled into a program",
    Severity::kMedium,
    "A password or a credential-bearing URL in a program's strings ships identically in every "
    "unit; extracting it takes one `strings` run, and changing it takes a new firmware.",
    "Read credentials from per-device storage provisioned at manufacture or first boot; never "
    "compile them into programs. (Key constants passed to cipher set-up and comparisons against "
    "literal passwords need disassembly and are not looked for.)",
    {"5.4-3", "", "I.2(e)", "", "DP", "CCK-3"},
    Sec03};

}  // namespace firmwarden::audit
