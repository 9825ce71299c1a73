// ELF: our own reader for the facts the hardening checks and component identification need.
//
// Written here rather than taken from a library because the Debian candidates (libelf, libbfd)
// either abort or read out of bounds on hostile input, or want a file descriptor per file; we
// parse thousands of untrusted files per image from memory. Every read goes through ByteReader;
// 32- and 64-bit, both byte orders, any machine.
//
// ParseElf() fails only when the ELF header, the program header table, the section header table
// or the dynamic table lie outside the input (or are malformed beyond use); the error names the
// offset. A bad individual reference (a string offset, a symbol table address) is skipped and
// counted in `ElfInfo::problems` so one poisoned entry does not hide the rest. Counts are capped
// (kMaxElfSymbols symbols, kMaxElfStringBytes per string). Thread-safe: no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.h"
#include "core/result.h"

namespace firmwarden::facts {

inline constexpr size_t kMaxElfSymbols = 1 << 20;
inline constexpr size_t kMaxElfStringBytes = 4096;
inline constexpr size_t kMaxElfDynamic = 1 << 16;
inline constexpr size_t kMaxElfHeaders = 1 << 16;  // program or section headers

enum class ElfType { kNone, kRel, kExec, kDyn, kCore, kOther };
std::string_view ElfTypeName(ElfType t);  // "REL", "EXEC", "DYN", "CORE", "NONE", "OTHER"

// Segment types and flags we name.
inline constexpr uint32_t kPtLoad = 1;
inline constexpr uint32_t kPtDynamic = 2;
inline constexpr uint32_t kPtInterp = 3;
inline constexpr uint32_t kPtGnuStack = 0x6474e551;
inline constexpr uint32_t kPtGnuRelro = 0x6474e552;
inline constexpr uint32_t kPfX = 1;
inline constexpr uint32_t kPfW = 2;
inline constexpr uint32_t kPfR = 4;

struct ElfSegment {
  uint32_t type = 0;
  uint32_t flags = 0;  // PF_R | PF_W | PF_X
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
};

struct ElfInfo {
  int bits = 32;  // 32 or 64
  Endian endian = Endian::kLittle;
  uint16_t machine_id = 0;
  std::string machine;  // "mips", "arm", "aarch64", "x86_64", "x86", …; "em-<n>" when unknown
  ElfType type = ElfType::kNone;
  uint64_t entry = 0;
  std::string interpreter;  // PT_INTERP ("" when none)
  std::vector<ElfSegment> segments;

  // Program-header summary.
  bool has_gnu_stack = false;
  bool exec_stack = false;   // PT_GNU_STACK with PF_X
  bool has_relro = false;    // PT_GNU_RELRO
  bool wx_load = false;      // some PT_LOAD is both writable and executable
  bool has_dynamic = false;  // PT_DYNAMIC (dynamically linked or a shared object)

  // Dynamic section.
  std::vector<std::string> needed;  // DT_NEEDED, in order
  std::string soname;               // DT_SONAME
  std::string rpath;                // DT_RPATH as stored ("" when none)
  std::string runpath;              // DT_RUNPATH
  bool has_rpath = false;           // DT_RPATH present (it may be the empty string)
  bool has_runpath = false;
  uint64_t dt_flags = 0;    // DT_FLAGS
  uint64_t dt_flags_1 = 0;  // DT_FLAGS_1
  bool bind_now = false;    // DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW
  bool pie_flag = false;    // DF_1_PIE

  // Dynamic symbols, names only, sorted and unique. Imports: undefined; exports: defined, global
  // or weak. From .dynsym when section headers exist, else from DT_SYMTAB with the count taken
  // from DT_HASH, DT_GNU_HASH or DT_MIPS_SYMTABNO.
  std::vector<std::string> imports;
  std::vector<std::string> exports;
  bool has_dynsym = false;  // a dynamic symbol table was found and read

  // Section-header facts.
  bool has_sections = false;          // a usable section header table
  bool has_symtab = false;            // .symtab (SHT_SYMTAB): not stripped
  bool has_debug = false;             // .debug_* / .zdebug_* sections
  std::vector<std::string> symtab;    // .symtab names (sorted, unique), for static binaries
  std::vector<std::string> comments;  // .comment strings ("GCC: (GNU) 12.2.0"), unique, in order

  // References that pointed outside the file and were skipped.
  std::vector<std::string> problems;

  bool IsExecutable() const;  // ET_EXEC, or ET_DYN with PT_INTERP or DF_1_PIE
  bool IsLibrary() const;     // ET_DYN that is not an executable
  bool IsPie() const { return type == ElfType::kDyn && IsExecutable(); }
  bool Imports(std::string_view name) const;
  bool Exports(std::string_view name) const;
  // In dynsym (either way) or .symtab.
  bool HasSymbol(std::string_view name) const;
  // Any symbol (imports, exports, symtab) starting with `prefix`.
  bool HasSymbolPrefix(std::string_view prefix) const;
};

std::string MachineName(uint16_t machine);

Result<ElfInfo> ParseElf(std::string_view bytes);

}  // namespace firmwarden::facts
