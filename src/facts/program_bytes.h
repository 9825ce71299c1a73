// Facts read from the bytes of programs and scripts during the one pass over file contents
// (BuildSecrets): which shared libraries another file names (a library loaded by name with
// dlopen() is linked by no one), and which programs carry the AES S-box (their own AES).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "facts/elf.h"

namespace firmwarden::facts {

// Programs are searched up to this size (larger ones are not read for these facts).
inline constexpr uint64_t kMaxProgramScanBytes = 32 << 20;
// Scripts and configuration files that may name a library, up to this size.
inline constexpr uint64_t kMaxNamingTextBytes = 1 << 20;

// Whether a file that is not a program may name a library: files under etc/, *.sh, *.conf,
// *.lua (tree path, no leading '/').
bool MayNameLibraries(std::string_view tree_path);

// The names a shared object is known by: its file-name stem up to and including the first ".so"
// ("libfoo.so" for libfoo.so.1.2) and its DT_SONAME. Built once from the ELF facts; Scan() finds
// every one of them in a buffer with a single sweep over the ".so" occurrences (names without
// ".so" are searched for directly).
class LibraryNames {
 public:
  // Shared objects: ET_DYN without PT_INTERP whose file name contains ".so".
  explicit LibraryNames(const std::map<std::string, ElfInfo>& elves);
  size_t size() const { return libraries_.size(); }

  // For each library (other than `path` itself) whose stem or soname occurs in `data`, records
  // named_by[library] = path unless the library is named already.
  void Scan(std::string_view data, const std::string& path,
            std::map<std::string, std::string>& named_by) const;

 private:
  void Add(std::string name, size_t library);

  std::vector<std::string> libraries_;  // device paths
  std::deque<std::string> names_;       // storage for the views below
  // (offset of the first ".so" in the name, name length) -> name -> libraries.
  std::map<std::pair<size_t, size_t>, std::unordered_map<std::string_view, std::vector<size_t>>>
      anchored_;
  std::vector<std::pair<std::string_view, size_t>> plain_;  // names without ".so"
};

// Offset of the first 16 bytes of the AES S-box (63 7c 77 7b …) in `data`, nullopt when absent.
std::optional<uint64_t> FindAesSbox(std::string_view data);

}  // namespace firmwarden::facts
