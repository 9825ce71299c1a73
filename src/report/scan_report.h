// Reports of a finished scan: text for people (grouped by severity, optional colour) and JSON
// for machines (schema documented in the README, "scan --format json").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "firmwarden/scan.h"

namespace firmwarden::report {

inline constexpr int kScanJsonSchemaVersion = 1;

std::string ScanText(const ScanResult& r, bool colour, bool verbose);
nlohmann::ordered_json ScanJson(const ScanResult& r);

}  // namespace firmwarden::report
