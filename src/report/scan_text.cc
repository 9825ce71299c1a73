#include <fmt/format.h>

#include <map>

#include "audit/check.h"
#include "report/scan_report.h"

namespace firmwarden::report {
namespace {

std::string_view Colour(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return "\x1b[1;31m";
    case Severity::kHigh:
      return "\x1b[31m";
    case Severity::kMedium:
      return "\x1b[33m";
    case Severity::kLow:
      return "\x1b[36m";
    case Severity::kInfo:
      return "\x1b[2m";
  }
  return "";
}

std::string Upper(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

}  // namespace

std::string ScanText(const ScanResult& r, bool colour, bool verbose) {
  std::string out;
  const char* reset = colour ? "\x1b[0m" : "";
  out += fmt::format("firmwarden scan: {}\n", r.image);
  const DeviceSummary& d = r.device;
  if (d.root_tree.empty()) {
    out += "  no file system was found in the image: only the layout could be checked\n";
  } else {
    out += fmt::format(
        "  root file system: {} ({} entries), {} accounts, {} programs started at "
        "boot, {} BusyBox applets, {} components\n",
        d.root_tree, d.files, d.accounts, d.started, d.busybox_applets, r.components.size());
  }
  if (verbose) {
    for (const std::string& p : d.started_programs) out += "    starts: " + p + "\n";
    for (const std::string& n : d.boot_notes) out += "    boot note: " + n + "\n";
  }
  std::map<Severity, int> counts;
  int suppressed = 0;
  for (const Finding& f : r.findings) {
    if (f.suppressed_by) {
      ++suppressed;
      continue;
    }
    counts[f.severity]++;
  }
  Severity current = Severity::kCritical;
  bool first = true;
  for (const Finding& f : r.findings) {
    if (f.suppressed_by) continue;
    if (first || f.severity != current) {
      current = f.severity;
      first = false;
      out += fmt::format("\n{}{}{} ({})\n", colour ? Colour(current) : "",
                         Upper(SeverityName(current)), reset, counts[current]);
    }
    const audit::Check* c = audit::FindCheck(f.check_id);
    out += fmt::format("  [{}] {}{}\n", f.check_id, c ? c->title : "",
                       f.verdict ? "" : " (evidence for review)");
    out += fmt::format("      {}\n", f.message);
    if (!f.path.empty())
      out += fmt::format("      at {}{}{}\n", f.path, f.line > 0 ? fmt::format(":{}", f.line) : "",
                         f.evidence.empty() ? "" : "  " + f.evidence);
    if (c != nullptr) {
      std::string prov = fmt::format("ETSI EN 303 645 {}", c->provisions.etsi);
      if (!c->provisions.cra.empty()) prov += fmt::format("; CRA Annex {}", c->provisions.cra);
      if (!c->provisions.psti.empty()) prov += fmt::format("; PSTI Sch.1 {}", c->provisions.psti);
      out += "      violates " + prov + "\n";
    }
  }
  if (r.findings.empty() || suppressed == static_cast<int>(r.findings.size()))
    out += "\nno findings\n";
  if (suppressed > 0) {
    out += fmt::format("\nSUPPRESSED BY POLICY ({})\n", suppressed);
    for (const Finding& f : r.findings)
      if (f.suppressed_by)
        out += fmt::format("  [{}] {}{}\n      accepted: {}\n", f.check_id, f.path,
                           f.line > 0 ? fmt::format(":{}", f.line) : "", *f.suppressed_by);
  }
  for (const std::string& n : r.notes) out += "note: " + n + "\n";
  out += fmt::format("\n{} findings: {} critical, {} high, {} medium, {} low, {} info",
                     r.findings.size() - static_cast<size_t>(suppressed),
                     counts[Severity::kCritical], counts[Severity::kHigh],
                     counts[Severity::kMedium], counts[Severity::kLow], counts[Severity::kInfo]);
  if (suppressed > 0) out += fmt::format(" ({} suppressed by policy)", suppressed);
  out += fmt::format(
      "\ntime: {:.2f} s (unpack {:.2f}, facts {:.2f}, identify {:.2f}, checks {:.2f} of which "
      "credentials {:.2f}); dictionary: {} entries\n",
      r.times.unpack + r.times.facts + r.times.identify + r.times.checks, r.times.unpack,
      r.times.facts, r.times.identify, r.times.checks, r.times.credentials, d.dictionary_words);
  return out;
}

nlohmann::ordered_json ScanJson(const ScanResult& r) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["schema"] = "firmwarden-scan";
  j["schema_version"] = kScanJsonSchemaVersion;
  j["image"] = r.image;
  j["scanned_at"] = r.scanned_at;
  ordered_json dev;
  dev["root_tree"] = r.device.root_tree;
  dev["files"] = r.device.files;
  dev["accounts"] = r.device.accounts;
  dev["started"] = r.device.started_programs;
  dev["boot_notes"] = r.device.boot_notes;
  dev["busybox_applets"] = r.device.busybox_applets;
  j["device"] = dev;
  ordered_json fs = ordered_json::array();
  for (const Finding& f : r.findings) {
    ordered_json o;
    o["check"] = f.check_id;
    const audit::Check* c = audit::FindCheck(f.check_id);
    o["title"] = c ? std::string(c->title) : "";
    o["severity"] = SeverityName(f.severity);
    o["confidence"] = ConfidenceName(f.confidence);
    o["verdict"] = f.verdict;
    o["message"] = f.message;
    o["path"] = f.path;
    o["line"] = f.line;
    o["evidence"] = f.evidence;
    if (c != nullptr)
      o["provisions"] = {
          {"etsi_en_303_645", c->provisions.etsi},
          {"etsi_en_303_645_v3",
           c->provisions.etsi_v3.empty() ? c->provisions.etsi : c->provisions.etsi_v3},
          {"cra_annex_i", c->provisions.cra},
          {"uk_psti", c->provisions.psti},
          {"nistir_8259a", c->provisions.nist},
          {"en_18031", c->provisions.en18031}};
    if (f.suppressed_by) o["suppressed_by"] = *f.suppressed_by;
    fs.push_back(o);
  }
  j["findings"] = fs;
  j["times"] = {{"unpack", r.times.unpack},
                {"facts", r.times.facts},
                {"identify", r.times.identify},
                {"checks", r.times.checks},
                {"credentials", r.times.credentials}};
  ordered_json diags = ordered_json::array();
  for (const Diagnostic& d : r.unpacked.diagnostics)
    diags.push_back(
        {{"severity", SeverityName(d.severity)}, {"where", d.where}, {"message", d.message}});
  j["unpack_diagnostics"] = diags;
  j["notes"] = r.notes;
  return j;
}

}  // namespace firmwarden::report
