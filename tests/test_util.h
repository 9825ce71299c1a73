// Helpers for tests: temporary directories, running real tools, reading files, hashing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace firmwarden::testing {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Runs a shell command; returns its exit status (or -1). Output goes to `out` when given.
int Run(const std::string& command, std::string* out = nullptr);
// Quotes a string for /bin/sh.
std::string Sh(std::string_view s);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, std::string_view data);
std::string Sha256Hex(std::string_view data);
bool Exists(const std::string& path);

// ../shared beside the checkout (or $FIRMWARDEN_SHARED_DIR).
std::string SharedDir();
// A corpus directory built by tests/corpus/build (or $FIRMWARDEN_CORPUS_DIR), empty if none.
std::string CorpusDir();

// Deterministic pseudo-random bytes.
std::string RandomBytes(size_t n, uint64_t seed);

// Packs a root-file-system spec (tests/checks/pack.py's format) into the tarball `tar`; the
// spec's `gen` blocks see FIRMWARDEN_SHARED_DIR. Returns pack.py's exit code (0 on success).
int PackSpec(const std::string& spec_path, const std::string& tar);

// Spec lines (PackSpec's format) of four small files for the packet-capture facts and FS-07:
// /srv/trace.bin a pcapng section header (28 bytes), /srv/be.cap a big-endian pcap 2.4 header
// (24 bytes), /srv/old.pcap a pcap magic with version 1 (not a capture), /srv/short.pcap a pcap
// magic in a file too short for the header (not a capture).
inline constexpr const char* kCaptureSamplesSpec = R"(=== b64 srv/trace.bin
Cg0NChwAAABNPCsaAQAAAP//////////HAAAAA==
=== b64 srv/be.cap
obI8TQACAAQAAAAAAAAAAAAA//8AAAAB
=== b64 srv/old.pcap
1MOyoQEAAAAAAAAAAAAAAP//AAABAAAA
=== b64 srv/short.pcap
1MOyoQIABAAAAAAAAAAAAP//AAA=
)";

// Validates the JSON `doc` with tests/sbom/validate.py against `schema`, a file of the shared
// schemas (bom-1.6.schema.json, spdx-2.3.schema.json); skips the test when the schema or
// python3-jsonschema is missing. `d` holds the document while it is checked.
void ExpectSchemaValid(const std::string& doc, const std::string& schema, const TempDir& d);

// Every path below `root` (relative, sorted), for "nothing outside was touched" checks.
std::vector<std::string> ListTree(const std::string& root);

}  // namespace firmwarden::testing
