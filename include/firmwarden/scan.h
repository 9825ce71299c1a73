// Scan: unpack an image, build the facts about the device, run the baseline checks.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "firmwarden/component.h"
#include "firmwarden/finding.h"
#include "firmwarden/result.h"
#include "firmwarden/unpack.h"

namespace firmwarden {

struct ScanOptions {
  Limits limits;
  // Where to unpack. When unset, a temporary directory under env->temp_root is used and removed.
  std::optional<std::string> work_dir;
  // Directories of *.txt (user:password) and *.csv (vendor,user,password) credential lists.
  std::vector<std::string> credential_dirs;
  // A TOML policy of accepted findings (see src/audit/policy.h and the README).
  std::optional<std::string> policy_file;
  // Directories of known-compromised private keys (*.key, with optional NAME.json notes).
  std::vector<std::string> known_key_dirs;
  // When false, only unpack, facts and identification run (what `sbom` needs): no findings.
  bool run_checks = true;
  unsigned threads = 2;
  double seconds_per_slow_hash = 0.5;
  const Env* env = nullptr;  // clock and temp dirs; Env::Real() when null
};

struct StageTimes {
  double unpack = 0, facts = 0, identify = 0, checks = 0,
         credentials = 0;  // seconds; credentials ⊂ checks
};

// What the facts say about the device, summarised for reports.
struct DeviceSummary {
  std::string root_tree;  // layout path of the chunk picked as the root file system
  size_t files = 0;
  size_t accounts = 0;
  size_t started = 0;
  std::vector<std::string> started_programs;  // "telnetd (inittab, conditional)" …
  std::vector<std::string> boot_notes;
  size_t busybox_applets = 0;
  size_t dictionary_words = 0;
};

struct ScanResult {
  std::string image;         // file name
  std::string image_sha256;  // hex SHA-256 of the whole image file
  uint64_t image_size = 0;
  Unpacked unpacked;
  DeviceSummary device;
  // Software components (packages, operating system, kernel), one per (product, version), sorted
  // by name and version, with identity and evidence (see firmwarden/component.h).
  std::vector<Component> components;
  std::vector<Finding> findings;  // sorted: severity (highest first), check id, path, line
  StageTimes times;
  std::string scanned_at;          // RFC 3339, from Env
  std::vector<std::string> notes;  // e.g. expired policy entries
};

Result<ScanResult> Scan(const std::string& image_path, const ScanOptions& options);

}  // namespace firmwarden
