// Binary version signatures: data files (data/signatures/<product>.toml), one per product, that say
// how the product names its version inside its own binaries ("BusyBox v1.19.4", "dnsmasq-2.66").
//
// Every rule has a `match` expression that Vectorscan finds fast (a literal, or a simple regex) and
// a PCRE2 `version` regex whose first capture group (or the group named "version") is the version.
// All match expressions of all products are compiled into ONE Vectorscan block-mode database, so
// each file is scanned once however many products there are; PCRE2 then runs only on a bounded
// window around each hit. A rule may instead (or also) carry a `filename` regex over the device
// path
// ("/lib/libuClibc-0.9.33.2.so"), which gives the version at filename confidence.
//
// The TOML files are embedded into the binary at build time (CMake generates the table); the
// environment variable FIRMWARDEN_SIGNATURES may name a directory of *.toml files to use instead.
//
// Errors: Load() validates every file (required keys, regexes compile, every test string matches
// with its stated version, no negative string matches) and names file:line on the first problem.
// Threading: a Database is immutable after Load(); a Scanner (scratch space) belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "firmwarden/component.h"
#include "firmwarden/result.h"

namespace firmwarden::identify::signatures {

struct TestCase {
  std::string text;     // a string as the binary carries it
  std::string version;  // the version the rule must capture from it
  int line = 0;
};

struct Rule {
  std::string id;  // "<product>/<name>", unique over all files
  // A literal Vectorscan finds fast ("BusyBox v"; \xNN escapes a byte), "" for filename rules and
  // for whole-file rules (a version regex without a literal runs over each file that `files`
  // names, which must then be given).
  std::string match;                  // the first of `match` as written
  std::vector<std::string> literals;  // every `match` literal, escapes resolved
  std::string version;                // PCRE2 regex capturing the version (content rules)
  std::string filename;  // PCRE2 regex over the device path capturing the version ("" none)
  // When true the version is every capture group that matched, joined by '.' ("This is perl 5,
  // version 36, subversion 0" -> 5.36.0); otherwise group "version", else group 1.
  bool join = false;
  // When true only the highest version this rule finds in one file counts (symbol-version names).
  bool highest = false;
  std::vector<std::string> files;  // fnmatch globs over the basename; when set, only these files
  // Whole-file rules: literals the file must contain for the regex to run over it ("musl libc (",
  // so a libc.so of another C library is not searched for musl's bare version string).
  std::vector<std::string> requires_literals;
  // Rules with a match literal: bytes searched either side of each hit (0 = kWindowBefore and
  // kWindowAfter), for versions kept a few hundred bytes from the text that finds them.
  size_t window = 0;
  // Filename rules without a version: the path names the product (OpenWrt's /sbin/procd, whose
  // binaries carry no version), found with version "".
  bool versionless = false;
  std::vector<TestCase> tests;
  std::vector<std::string> negatives;  // strings that must not yield a version
  int line = 0;
};

struct Signature {
  std::string file;  // "busybox.toml"
  std::string product;
  std::string description;
  std::string cpe_vendor;
  std::string cpe_product;
  char cpe_part = 'a';
  std::string purl_type = "generic";
  std::string purl_namespace;
  std::string purl_name;
  ComponentType type = ComponentType::kApplication;
  // Package names (dpkg, opkg, apk) that ship this product: a binary finding of the package's
  // upstream version joins the package's component instead of adding a second one.
  std::vector<std::string> packages;
  // Soname prefixes of the product's own shared libraries ("libcrypto.so"): a content hit inside an
  // ELF file whose DT_NEEDED names one of them is the version of the headers that program was
  // built with (OpenSSL's version text baked into hostapd), not a copy it ships, and is dropped.
  std::vector<std::string> libraries;
  std::vector<Rule> rules;
};

// One finding in one buffer: rule `rule` of signature `sig` captured `version` at `offset`.
struct Hit {
  uint32_t sig = 0;
  uint32_t rule = 0;
  std::string version;
  uint64_t offset = 0;
  std::string text;  // what the version regex matched (printable, at most 160 characters)
};

class Scanner;

class Database {
 public:
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  // Parses, validates and compiles signature files given as (file name, TOML text).
  static Result<Database> Load(const std::vector<std::pair<std::string, std::string>>& files);
  // The signatures built into the binary (or FIRMWARDEN_SIGNATURES' directory), loaded once.
  // nullptr when they fail to load; `error` (optional) then receives why.
  static const Database* Builtin(std::string* error = nullptr);
  // The embedded files, as CMake generated them.
  static std::vector<std::pair<std::string, std::string>> EmbeddedFiles();

  const std::vector<Signature>& signatures() const { return sigs_; }

  // The version rule `rule` of `sig` captures from `text` (content or filename regex), nullopt
  // when none. Used by validation and tests.
  std::optional<std::string> Capture(uint32_t sig, uint32_t rule, std::string_view text,
                                     bool filename) const;

 private:
  friend class Scanner;
  struct Impl;
  Database();
  std::vector<Signature> sigs_;
  std::unique_ptr<Impl> impl_;
};

// Scratch space for scanning with one Database on one thread.
class Scanner {
 public:
  explicit Scanner(const Database& db);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  const Database& database() const { return db_; }

  // Every (rule, version) found in `data`, once each, at its first offset. `basename` selects the
  // rules with `files` hints ("" = every rule, as for the tests). Bounded: at most
  // kMaxTriesPerRule windows per rule per buffer; whole-file rules only on buffers up to
  // kMaxWholeFileBytes, at most kMaxWholeFileMatches matches.
  std::vector<Hit> Scan(std::span<const std::byte> data, std::string_view basename);
  // The filename rules that match `device_path`.
  std::vector<Hit> ScanPath(std::string_view device_path);

  static constexpr int kMaxTriesPerRule = 32;
  static constexpr size_t kWindowBefore = 192;
  static constexpr size_t kWindowAfter = 192;
  static constexpr size_t kMaxWholeFileBytes = 16 << 20;
  static constexpr int kMaxWholeFileMatches = 64;

  struct State;  // scratch space and per-scan hit lists (signatures.cc)

 private:
  const Database& db_;
  std::unique_ptr<State> st_;
};

// Runs every rule's `tests` through the whole scan path (Vectorscan match, window, PCRE2 capture;
// filename rules through ScanPath) and its `negatives`; returns one "file:line: problem" per
// failure, empty when all pass. The data files' own unit test.
std::vector<std::string> CheckTests(const Database& db);

// The largest `window` a rule may ask for.
inline constexpr size_t kMaxWindow = 4096;

// Files larger than this are not scanned (firmware binaries are far smaller).
inline constexpr uint64_t kMaxScanFileBytes = 64ULL << 20;

}  // namespace firmwarden::identify::signatures
