// firmwarden scan IMAGE: unpack, build the facts, run the baseline checks, report.
#include "firmwarden/scan.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/command.h"
#include "report/scan_report.h"
#include "sbom/sbom.h"

namespace firmwarden::cli {

Runner Setup_scan(CLI::App& app) {
  struct Opts {
    std::string image;
    std::string format = "text";
    std::string out;
    std::string fail_on;
    std::vector<std::string> credentials;
    std::vector<std::string> known_keys;
    std::string keep;
    std::string policy;
    std::string sbom;
    std::string sbom_format = "cyclonedx";
    bool verbose = false;
    bool no_colour = false;
    unsigned threads = 2;
    double hash_seconds = 0.5;
    Limits limits;
  };
  auto o = std::make_shared<Opts>();
  app.description(
      "Audit IMAGE against the IoT security baseline. firmwarden unpacks it, works out what the\n"
      "device actually starts at boot (inittab, rcS, init.d and rc.d links, OpenWrt rc.common\n"
      "and procd, inetd), reads its accounts and configurations, and runs every check. Each\n"
      "finding names its evidence (file and line) and the provisions it violates (ETSI EN 303\n"
      "645, EU CRA Annex I, UK PSTI, NISTIR 8259A, EN 18031). 'firmwarden checks' lists them.");
  app.add_option("IMAGE", o->image, "Firmware image to scan")->required()->check(CLI::ExistingFile);
  app.add_option("--format", o->format, "Report format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("-o,--output", o->out, "Write the report to FILE instead of stdout");
  app.add_option("--fail-on", o->fail_on,
                 "Exit 1 when a finding at or above this severity remains "
                 "(critical, high, medium, low, info)")
      ->check(CLI::IsMember({"critical", "high", "medium", "low", "info"}));
  app.add_option("--credentials", o->credentials,
                 "Directory of password lists: *.txt as user:password lines (the Mirai list's\n"
                 "format), *.csv as vendor,user,password (DefaultCreds format). Repeatable.\n"
                 "Default: $FIRMWARDEN_CREDENTIALS when set");
  app.add_option("--policy", o->policy,
                 "TOML file of accepted findings: [[suppress]] check, path (glob), reason\n"
                 "(required), expires (date). Suppressed findings are reported apart and do not\n"
                 "count for --fail-on")
      ->check(CLI::ExistingFile);
  app.add_option("--known-keys", o->known_keys,
                 "Directory of known-compromised private keys (*.key in PEM, with an optional\n"
                 "NAME.json note beside each): keys and certificates in the image whose public\n"
                 "key matches one are reported (KEY-02). Repeatable.\n"
                 "Default: $FIRMWARDEN_KNOWN_KEYS when set");
  app.add_option("--sbom", o->sbom,
                 "Also write the software bill of materials to FILE (see 'firmwarden sbom')");
  app.add_option("--sbom-format", o->sbom_format, "SBOM format: cyclonedx or spdx")
      ->check(CLI::IsMember({"cyclonedx", "spdx"}))
      ->capture_default_str();
  app.add_option("--keep", o->keep, "Unpack into DIR and keep it (default: a temporary directory)");
  app.add_flag("-v,--verbose", o->verbose, "Also list what starts at boot and the boot notes");
  app.add_flag("--no-color", o->no_colour, "No colour (also when NO_COLOR is set)");
  app.add_option("--threads", o->threads, "Threads for password verification")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_option("--hash-seconds", o->hash_seconds,
                 "Time cap per password hash (slow schemes stop there and say so)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  AddLimitOptions(app, o->limits);
  app.footer(
      "Exit codes: 0 no finding at or above --fail-on (or no --fail-on), 1 findings at or above\n"
      "            it, 2 usage or I/O error.\n"
      "Examples:   firmwarden scan router.bin\n"
      "            firmwarden scan router.bin --format json -o report.json --fail-on high\n"
      "            firmwarden scan router.bin --credentials ../shared/data/credentials -v\n"
      "            firmwarden scan router.bin --sbom router.spdx.json --sbom-format spdx");
  return [o]() -> int {
    ScanOptions so;
    so.limits = o->limits;
    so.threads = o->threads;
    so.seconds_per_slow_hash = o->hash_seconds;
    so.credential_dirs = o->credentials;
    if (so.credential_dirs.empty())
      if (const char* env = std::getenv("FIRMWARDEN_CREDENTIALS"); env && *env)
        so.credential_dirs.push_back(env);
    so.known_key_dirs = o->known_keys;
    if (so.known_key_dirs.empty())
      if (const char* env = std::getenv("FIRMWARDEN_KNOWN_KEYS"); env && *env)
        so.known_key_dirs.push_back(env);
    if (!o->keep.empty()) so.work_dir = o->keep;
    if (!o->policy.empty()) so.policy_file = o->policy;
    bool tty = isatty(STDERR_FILENO) != 0;
    if (tty) fmt::print(stderr, "scanning {} …\n", o->image);
    auto r = Scan(o->image, so);
    if (!r) {
      fmt::print(stderr, "firmwarden: {}\n", r.error().message);
      return kExitError;
    }
    std::string text;
    if (o->format == "json") {
      text =
          report::ScanJson(*r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
      bool colour = o->out.empty() && isatty(STDOUT_FILENO) != 0 && !o->no_colour &&
                    std::getenv("NO_COLOR") == nullptr;
      text = report::ScanText(*r, colour, o->verbose);
    }
    if (!WriteOutput(o->out, text)) return kExitError;
    if (!o->sbom.empty()) {
      if (!WriteOutput(o->sbom, sbom::Write(*r, *sbom::ParseFormat(o->sbom_format))))
        return kExitError;
      fmt::print(stderr, "SBOM ({}, {} components) written to {}\n", o->sbom_format,
                 r->components.size(), o->sbom);
    }
    if (!o->out.empty() && o->format == "text")
      fmt::print(stderr, "report written to {}\n", o->out);
    if (!o->fail_on.empty()) {
      Severity threshold = *ParseSeverity(o->fail_on);
      for (const Finding& f : r->findings)
        if (!f.suppressed_by && f.severity >= threshold) return kExitPartial;
    }
    return kExitOk;
  };
}

}  // namespace firmwarden::cli
