// Identification: which software components the image ships, from its package databases, release
// markers and kernel, merged into one component per (product, version) with all their evidence.
//
// Sources are plain functions, one file each under sources/, named once in sources.def. A source
// only reads the device through DeviceModel::fs (and the layout, for blobs such as the kernel);
// every byte it reads is hostile, so parsing is bounded and never trusts a length or a count.
// Later sources (binary signatures, ELF linkage) produce a std::vector<Component> of their own and
// feed it to MergeComponents() together with these; nothing else needs to change.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "facts/device_model.h"
#include "firmwarden/component.h"
#include "firmwarden/unpack.h"

namespace firmwarden::identify {

// What every source may read, computed once before the sources run.
struct Context {
  const facts::DeviceModel& model;
  const Unpacked& unpacked;
  // Key/values of the first of /etc/os-release, /usr/lib/os-release (quotes removed), and of
  // /etc/openwrt_release; empty when absent.
  std::map<std::string, std::string> os_release;
  std::map<std::string, std::string> openwrt_release;
  // Lower-case distribution id ("debian", "openwrt", "alpine", "buildroot", "poky"), "" unknown,
  // and its version ("12", "12.09"). Used for purl namespaces and the distro qualifier.
  std::string distro;
  std::string distro_version;
};

using SourceFn = void (*)(const Context& ctx, std::vector<Component>& out);

struct SourceInfo {
  const char* id;           // "dpkg"
  const char* description;  // for docs
  SourceFn run;
};

#define IDENTIFY_SOURCE(id, description) \
  void Source_##id(const Context& ctx, std::vector<Component>& out);
#include "identify/sources/sources.def"
#undef IDENTIFY_SOURCE

const std::vector<SourceInfo>& Sources();

// Runs every source over the model and merges what they found.
std::vector<Component> Identify(const facts::DeviceModel& model, const Unpacked& unpacked);

// The merge step every source feeds: one component per (product, version). Components with the same
// lower-cased name and version become one, keeping all evidence, the highest confidence and the
// fields of the most confident source. A less confident component whose version is the upstream
// version of a more confident one of the same product ("1.19.4" vs the package's "1.19.4-6") joins
// it. Fills confidence, cpe (when empty and a vendor is known), bom_ref and depends_on; sorts by
// name, version. Deterministic: the result depends only on the multiset of inputs.
std::vector<Component> MergeComponents(std::vector<Component> in);

// ELF linkage (DT_NEEDED between files the components own) added to the merged components'
// depends_on (bom_refs, sorted, unique). Run after MergeComponents; deterministic.
void AddLinkageDependencies(const facts::DeviceModel& model, std::vector<Component>& components);

// Caps on the files AttachFiles hashes: a package database can list thousands of files per
// package, and an SBOM that lists every one of them is neither readable nor cheap.
inline constexpr size_t kMaxEvidenceFilesPerComponent = 256;
inline constexpr size_t kMaxEvidenceFiles = 4096;                // distinct files per image
inline constexpr uint64_t kMaxEvidenceFileBytes = 256ULL << 20;  // larger files are not hashed

// Fills each component's evidence_files (see firmwarden/component.h) and its sha256 (of
// main_file) from one SHA-1 + SHA-256 pass per distinct file: a file shared by several components
// is read and hashed once. Only regular files (and hardlinks to them) of the root file system are
// taken; symlinks, directories and layout paths of blobs are not files of the device, and the
// shared package databases (dpkg and opkg status, apk installed) belong to no package. Components
// are visited in order and each one's files in priority order (main file, evidence paths, owned
// files), so the caps cut deterministically. Run after MergeComponents.
void AttachFiles(const facts::DeviceModel& model, std::vector<Component>& components);

// ---- helpers for sources ----

// OpenWrt's release: DISTRIB_RELEASE when it is a version ("12.09.2"); Chaos Calmer writes its
// codename there ("Chaos Calmer"), so then /etc/openwrt_version's line, then the first version-like
// word of DISTRIB_DESCRIPTION ("OpenWrt Chaos Calmer 15.05.1"); "" when none.
std::string OpenWrtVersion(const std::map<std::string, std::string>& release,
                           std::string_view version_line);
// "openwrt" for OpenWrt and its derivatives' DISTRIB_ID ("OpenWrt_backports"), else lower-cased.
std::string OpenWrtId(std::string_view distrib_id);
// Starts with a digit and contains a '.' or only digits: "12.09.2", "15", not "r42647".
bool LooksLikeVersion(std::string_view v);

// "1:2.36-9" -> "2.36"; "1.19.4-6" -> "1.19.4"; "2.79rc1-1" -> "2.79rc1"; "3.3.8" unchanged.
std::string UpstreamVersion(std::string_view version);
// CPE 2.3 formatted string "cpe:2.3:PART:VENDOR:PRODUCT:VERSION:*:*:*:*:*:*:*", each value
// lower-cased and escaped per NISTIR 7695 (backslash before every character that is not a letter,
// digit, '_', '-' or '.'); an empty value becomes '*'.
std::string FormatCpe(char part, std::string_view vendor, std::string_view product,
                      std::string_view version);
// Percent-encodes a purl segment (name, version, qualifier value): keeps A-Za-z0-9 . - _ ~.
std::string PurlEncode(std::string_view s);
// "pkg:TYPE/NAMESPACE/NAME@VERSION?k=v&…" with qualifiers sorted by key, empty values left out.
std::string MakePurl(std::string_view type, std::string_view ns, std::string_view name,
                     std::string_view version,
                     std::vector<std::pair<std::string, std::string>> qualifiers);
// The CPE vendor and product of well-known software by package or product name ("dropbear" ->
// {"dropbear_ssh_project", "dropbear_ssh"}); {} when not known.
std::pair<std::string, std::string> KnownCpe(std::string_view name);
// "library" for lib*, "device-driver" for kmod-*, else application.
ComponentType GuessPackageType(std::string_view name);

// A control-file style record (dpkg status, opkg status/control): "Key: value" with continuation
// lines. `line` is the 1-based line of its first field.
struct Record {
  int line = 0;
  std::vector<std::pair<std::string, std::string>> fields;  // continuation lines joined by '\n'
  std::string Get(std::string_view key) const;              // case-insensitive, "" when absent
};
// Splits `text` into records at blank lines. At most `max_records` are returned.
std::vector<Record> ParseControlRecords(std::string_view text, size_t max_records = 200000);
// Key=value lines (os-release, openwrt_release): quotes (' or ") removed, comments skipped.
std::map<std::string, std::string> ParseKeyValues(std::string_view text);
// Names in a Depends field: "libc6 (>= 2.34), libfoo | libbar, x:any" -> {"libc6", "libfoo", "x"}.
std::vector<std::string> DependsNames(std::string_view field);
// SHA-256 hex of a device file (nullopt when unreadable), read through the model.
std::string FileSha256(const facts::RootFs& fs, std::string_view path);
// The package's main program: the first of /usr/sbin/N, /usr/bin/N, /sbin/N, /bin/N among `files`
// (or present in the file system when `files` is empty); "" when none.
std::string MainFile(const facts::RootFs& fs, std::string_view name,
                     const std::vector<std::string>& files);

}  // namespace firmwarden::identify
