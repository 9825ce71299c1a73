// SBOM writers: a finished ScanResult as CycloneDX 1.6 JSON or SPDX 2.3 JSON.
//
// Output is a pure function of the ScanResult: components are already sorted and carry stable
// bom-refs, the timestamp is ScanResult::scanned_at (from Env), and the CycloneDX serial number and
// the SPDX document namespace are derived from the image's SHA-256 and that timestamp, never drawn
// at random. Two runs with the same Env give byte-identical documents.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "firmwarden/scan.h"

namespace firmwarden::sbom {

inline constexpr char kToolName[] = "firmwarden";
inline constexpr char kToolVersion[] = "0.1.0";

enum class Format { kCycloneDx, kSpdx };

std::optional<Format> ParseFormat(std::string_view name);  // "cyclonedx" | "spdx"

std::string CycloneDx(const ScanResult& r);  // CycloneDX 1.6 JSON text, ending in '\n'
std::string Spdx(const ScanResult& r);       // SPDX 2.3 JSON text, ending in '\n'
std::string Write(const ScanResult& r, Format f);

// Hex SHA-256 of `s` (for derived ids).
std::string Sha256Hex(std::string_view s);

}  // namespace firmwarden::sbom
