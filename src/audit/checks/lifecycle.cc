// The product's life: KERN-03 a kernel whose branch kernel.org no longer maintains, UPD-05 no
// automatic update or update check.
#include "audit/checks/lifecycle.h"

#include <fmt/format.h>

#include <charconv>
#include <set>

#include "audit/check.h"
#include "facts/text_util.h"

namespace firmwarden::audit {

namespace {

// kernel.org's long-term branches and the month their support ended or is planned to end
// (kernel.org "Releases" page). Every other branch older than the newest one listed got about
// three months of stable updates and is long out of support.
struct Branch {
  int major, minor;
  int eol_year, eol_month;
};
constexpr Branch kLongTerm[] = {
    {2, 6, 2016, 3},  // 2.6.32, the last 2.6 long-term branch
    {3, 2, 2018, 5},  {3, 4, 2016, 10},  {3, 10, 2017, 11}, {3, 12, 2017, 5},  {3, 14, 2016, 9},
    {3, 16, 2020, 6}, {3, 18, 2017, 1},  {4, 1, 2018, 5},   {4, 4, 2022, 2},   {4, 9, 2023, 1},
    {4, 14, 2024, 1}, {4, 19, 2024, 12}, {5, 4, 2025, 12},  {5, 10, 2026, 12}, {5, 15, 2026, 12},
    {6, 1, 2027, 12}, {6, 6, 2026, 12},  {6, 12, 2026, 12},
};

}  // namespace

int64_t DaysSinceEpoch(int y, int m, int d) {
  auto leap = [](int x) { return (x % 4 == 0 && x % 100 != 0) || x % 400 == 0; };
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t days = 0;
  for (int x = 1970; x < y; ++x) days += leap(x) ? 366 : 365;
  for (int k = 1; k < m && k <= 12; ++k) days += kDays[k - 1] + (k == 2 && leap(y) ? 1 : 0);
  return days + d - 1;
}

std::optional<KernelSupport> KernelSupportOf(std::string_view release, int64_t now) {
  int major = 0, minor = 0;
  const char* p = release.data();
  const char* end = release.data() + release.size();
  auto r1 = std::from_chars(p, end, major);
  if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != '.') return std::nullopt;
  auto r2 = std::from_chars(r1.ptr + 1, end, minor);
  if (r2.ec != std::errc()) return std::nullopt;
  KernelSupport s;
  s.branch = fmt::format("{}.{}", major, minor);
  const Branch& newest = kLongTerm[std::size(kLongTerm) - 1];
  auto older = [](int a, int b, int c, int d) { return a < c || (a == c && b < d); };
  if (older(newest.major, newest.minor, major, minor)) return std::nullopt;  // newer than the table
  // Of the 2.6 series only 2.6.32 is in the table; the others were short-lived.
  if (major == 2) {
    int patch = -1;
    if (r2.ptr != end && *r2.ptr == '.') std::from_chars(r2.ptr + 1, end, patch);
    if (minor != 6 || patch != 32) {
      s.long_term = false;
      s.ended = true;
      return s;
    }
  }
  int64_t today = now / 86400;
  for (const Branch& b : kLongTerm) {
    bool match = b.major == major && b.minor == minor;
    if (!match) continue;
    s.long_term = true;
    s.end = fmt::format("{:04}-{:02}", b.eol_year, b.eol_month);
    // Support ends at the end of the month named.
    int64_t after = DaysSinceEpoch(b.eol_month == 12 ? b.eol_year + 1 : b.eol_year,
                                   b.eol_month == 12 ? 1 : b.eol_month + 1, 1);
    s.ended = today >= after;
    s.days_left = after - today;
    return s;
  }
  s.long_term = false;
  s.ended = true;
  return s;
}

namespace {

void Kern03(const facts::DeviceModel&, const AuditContext& ctx, Findings& out) {
  if (ctx.components == nullptr) return;
  std::set<std::string> seen;
  for (const Component& c : *ctx.components) {
    if (c.name != "linux" || c.type != ComponentType::kOperatingSystem) continue;
    auto s = KernelSupportOf(c.version, ctx.now);
    if (!s || !seen.insert(s->branch).second) continue;
    std::string where = c.evidence.empty() ? "" : c.evidence.front().path;
    std::string text = c.evidence.empty() ? c.version : c.evidence.front().text;
    if (s->ended) {
      Finding& f = out.Add(
          s->long_term
              ? fmt::format("Linux {} belongs to the {} long-term branch, whose kernel.org "
                            "support ended in {}: fixes published since then are not in it unless "
                            "the vendor backports them",
                            c.version, s->branch, s->end)
              : fmt::format("Linux {} belongs to the {} branch, which is not one of "
                            "kernel.org's long-term branches (or not the long-term release of "
                            "it) and has had no kernel.org fixes for years",
                            c.version, s->branch),
          where, text);
      f.confidence = Confidence::kMedium;  // a vendor or CIP may still maintain it
    } else if (s->days_left <= 366) {
      Finding& f = out.Add(fmt::format("Linux {}: kernel.org support for the {} branch ends in {} "
                                       "({} days); plan the move to a newer long-term branch",
                                       c.version, s->branch, s->end, s->days_left),
                           where, text);
      f.severity = Severity::kLow;
      f.confidence = Confidence::kMedium;
    }
  }
}

// ---- UPD-05 ----

void Upd05(const facts::DeviceModel& m, const AuditContext&, Findings& out) {
  if (m.fs.empty() || m.fs.Resolve("/etc") == nullptr) return;
  static const std::set<std::string, std::less<>> kUpdaters = {"swupdate",
                                                               "rauc",
                                                               "mender",
                                                               "mender-update",
                                                               "hawkbit",
                                                               "unattended-upgrade",
                                                               "unattended-upgrades",
                                                               "auto-update",
                                                               "autoupdate",
                                                               "fwupd",
                                                               "ota-update",
                                                               "ota_update",
                                                               "otad",
                                                               "auc",
                                                               "attendedsysupgrade",
                                                               "owut",
                                                               "update-engine",
                                                               "update_engine",
                                                               "aktualizr",
                                                               "apt-daily"};
  for (const facts::Started& s : m.started) {
    std::string base = facts::Basename(s.program);
    if (kUpdaters.count(base) != 0) return;
    // "opkg upgrade" / "apt-get upgrade" from cron is automatic updating too.
    if (s.via == "cron" && s.argv.size() > 1 &&
        (base == "opkg" || base == "apt-get" || base == "apt" || base == "apk") &&
        (s.argv[1] == "upgrade" || s.argv[1] == "dist-upgrade"))
      return;
  }
  for (const char* p :
       {"/lib/systemd/system/apt-daily-upgrade.timer",
        "/usr/lib/systemd/system/apt-daily-upgrade.timer", "/lib/systemd/system/swupdate.service",
        "/lib/systemd/system/rauc.service", "/lib/systemd/system/mender-client.service",
        "/etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer"})
    if (m.fs.Resolve(p) != nullptr) return;
  Finding& f = out.Add(
      "no automatic update or update check was found (no updater daemon, no update job in cron "
      "or a systemd timer): units in the field stay on this release unless someone updates them "
      "by hand",
      "/");
  f.verdict = false;
  f.confidence = Confidence::kMedium;
}

}  // namespace

extern const Check kKern03{
    "KERN-03",
    "Kernel branch out of support",
    Severity::kHigh,
    "A kernel whose branch kernel.org no longer maintains collects every vulnerability fixed "
    "since; firmware built on it stays exploitable for as long as it is on sale.",
    "Move to a maintained long-term kernel (or a vendor/CIP kernel with a published support "
    "period) and state that period to customers.",
    {"5.3-8", "", "I.2(a)", "", "SU", "GEC-1"},
    Kern03};

extern const Check kUpd05{
    "UPD-05",
    "No automatic update",
    Severity::kLow,
    "ETSI EN 303 645 asks for updates that are applied, or at least checked for, automatically; a "
    "device with no such mechanism keeps its vulnerabilities in the field.",
    "Ship an update client (swupdate, RAUC, Mender, OpenWrt's attended sysupgrade, apt timers) "
    "that checks periodically and is on by default.",
    {"5.3-4, 5.3-5, 5.3-6", "", "I.2(c), II.7", "", "SU", "SUM-3"},
    Upd05};

}  // namespace firmwarden::audit
