// Component: one piece of software the image ships (a package, the operating system, the kernel),
// identified by name and version, with its identity (CPE 2.3, purl) and the evidence for it.
//
// Components are produced by the identify module (src/identify) from several sources and merged so
// that there is one component per (product, version); the SBOM writers (src/sbom) only read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace firmwarden {

// CycloneDX 1.6 component types that identification produces (SPDX purposes map from these).
enum class ComponentType {
  kApplication,
  kLibrary,
  kFramework,
  kOperatingSystem,
  kDeviceDriver,
  kFirmware,
  kDevice,
  kFile
};

// "application", "library", "operating-system", … (the CycloneDX spelling).
std::string_view ComponentTypeName(ComponentType t);

// How sure a source is, 0..1 (CycloneDX evidence confidence). A package database says exactly what
// is installed; a release marker names the distribution; a banner is a string in a binary; a file
// name is a guess.
namespace confidence {
inline constexpr double kPackageDatabase = 1.0;
inline constexpr double kReleaseMarker = 0.9;
inline constexpr double kBanner = 0.8;
inline constexpr double kDirectoryName = 0.6;
inline constexpr double kImageHeaderName = 0.5;
inline constexpr double kFilename = 0.3;
}  // namespace confidence

// A file of the root file system that is evidence of a component, with its hashes (lower-case hex).
struct ComponentFile {
  std::string path;  // device path ("/bin/busybox")
  std::string sha1;
  std::string sha256;
  uint64_t size = 0;
};

// One observation that supports a component.
struct ComponentEvidence {
  std::string source;     // "dpkg-status", "opkg-status", "os-release", "kernel-banner", …
  std::string technique;  // CycloneDX technique: manifest-analysis, binary-analysis, filename, …
  std::string path;  // device path ("/var/lib/dpkg/status") or layout path ("/0x200.lzma") of blobs
  int line = 0;      // 1-based line of the record in a text file, 0 when not a text line
  std::optional<uint64_t> offset;  // byte offset in `path`, when known
  std::string text;                // what matched ("Package: busybox / Version: 1.19.4-6")
  double confidence = 0;
};

struct Component {
  std::string name;     // as the source names it: package name, "openwrt", "linux"
  std::string version;  // as the source spells it (epoch and revision kept: "1:2.36-9")
  ComponentType type = ComponentType::kApplication;
  std::string supplier;     // maintainer or distribution, "" when unknown
  std::string description;  // first line of the package description
  std::string arch;         // package architecture, "" when unknown
  std::string cpe_vendor;   // CPE vendor/product used in `cpe` ("busybox", "busybox")
  std::string cpe_product;
  std::string cpe;                    // CPE 2.3 formatted string, "" when none
  std::string purl;                   // package URL, "" when none
  std::vector<std::string> licenses;  // as the package database declares them (not normalised)
  std::string main_file;              // device path of the component's main file, when known
  std::string sha256;                 // SHA-256 (hex) of main_file
  // The regular files that are evidence of this component, hashed once each (filled by
  // identify::AttachFiles): its main file, the files its evidence names (signature matches,
  // package databases), then the files the package database says it owns. Sorted by path;
  // capped per component and per image (see identify.h).
  std::vector<ComponentFile> evidence_files;
  std::vector<std::string> files;  // device paths the package database says it owns
  // Names of the components this one depends on, as its source states them (package Depends);
  // resolved to bom_refs by the merge step. Later sources (ELF linkage) add here too.
  std::vector<std::string> depends_names;
  std::vector<std::string> depends_on;  // bom_refs, sorted, unique (filled by MergeComponents)
  std::vector<ComponentEvidence> evidence;
  double confidence = 0;  // the highest of its evidence
  std::string bom_ref;    // stable id within one SBOM (filled by MergeComponents)
};

}  // namespace firmwarden
