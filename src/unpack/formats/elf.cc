// ELF executables, libraries and objects (32/64-bit, either byte order), recognised and measured.
// An ELF file has no length field; its extent is the furthest byte any header points at: the end
// of the section header table, of every segment's file image and of every section's contents.
// Trailing data that nothing references (appended payloads) is left for the scanner.
#include <fmt/format.h>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{"\177ELF", 0}};
// Tables bigger than this are not produced by any toolchain and would only cost time.
constexpr uint32_t kMaxTableEntries = 65536;

std::string MachineName(uint16_t m) {
  static constexpr std::pair<uint16_t, std::string_view> kNames[] = {
      {2, "SPARC"},
      {3, "x86"},
      {4, "m68k"},
      {8, "MIPS"},
      {10, "MIPS (RS3000 LE)"},
      {18, "SPARC v8+"},
      {20, "PowerPC"},
      {21, "PowerPC64"},
      {22, "S/390"},
      {40, "ARM"},
      {42, "SuperH"},
      {43, "SPARC v9"},
      {50, "IA-64"},
      {62, "x86-64"},
      {83, "AVR"},
      {87, "V850"},
      {88, "M32R"},
      {92, "OpenRISC"},
      {93, "ARC"},
      {94, "Xtensa"},
      {106, "Blackfin"},
      {113, "Altera Nios II"},
      {164, "Hexagon"},
      {183, "AArch64"},
      {189, "MicroBlaze"},
      {195, "ARC v2"},
      {243, "RISC-V"},
      {258, "LoongArch"},
  };
  for (const auto& [id, name] : kNames)
    if (id == m) return std::string(name);
  return fmt::format("unknown ({})", m);
}

std::string TypeName(uint16_t t) {
  static constexpr std::string_view kNames[] = {"none", "relocatable", "executable",
                                                "shared object", "core"};
  return t < std::size(kNames) ? std::string(kNames[t]) : fmt::format("0x{:x}", t);
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto fail = [&](std::string msg) {
    return Fail(ErrorCode::kMalformed, "ELF: " + msg, ctx.offset);
  };
  if (data.size() < 52) return Fail(ErrorCode::kTruncated, "ELF header cut short", ctx.offset);
  uint8_t cls = static_cast<uint8_t>(data[4]);
  uint8_t enc = static_cast<uint8_t>(data[5]);
  uint8_t ident_version = static_cast<uint8_t>(data[6]);
  if (cls != 1 && cls != 2) return fail("bad class");
  if (enc != 1 && enc != 2) return fail("bad data encoding");
  if (ident_version != 1) return fail("bad ident version");
  const bool is64 = cls == 2;
  const Endian e = enc == 1 ? Endian::kLittle : Endian::kBig;
  const size_t ehsize_expected = is64 ? 64 : 52;
  if (data.size() < ehsize_expected)
    return Fail(ErrorCode::kTruncated, "ELF header cut short", ctx.offset);

  ByteReader r(data.first(ehsize_expected), ctx.offset);
  (void)r.Skip(16);
  uint16_t type = *r.U16(e);
  uint16_t machine = *r.U16(e);
  uint32_t version = *r.U32(e);
  uint64_t entry = is64 ? *r.U64(e) : *r.U32(e);
  uint64_t phoff = is64 ? *r.U64(e) : *r.U32(e);
  uint64_t shoff = is64 ? *r.U64(e) : *r.U32(e);
  (void)*r.U32(e);  // flags
  uint16_t ehsize = *r.U16(e);
  uint16_t phentsize = *r.U16(e);
  uint16_t phnum = *r.U16(e);
  uint16_t shentsize = *r.U16(e);
  uint16_t shnum = *r.U16(e);
  uint16_t shstrndx = *r.U16(e);
  if (version != 1) return fail("bad version");
  if (type > 4 && type < 0xFE00) return fail("bad type");
  if (ehsize < ehsize_expected) return fail("header size too small");
  const size_t ph_min = is64 ? 56 : 32;
  const size_t sh_min = is64 ? 64 : 40;
  if (phnum != 0 && phentsize < ph_min) return fail("program header entry too small");
  if (shnum != 0 && shentsize < sh_min) return fail("section header entry too small");
  if (phnum == 0 && shnum == 0) return fail("neither program nor section headers");
  (void)shstrndx;

  uint64_t end = ehsize;
  bool truncated = false;
  bool table_read = false;  // at least one header table lies inside the data
  std::string interpreter;
  auto extend = [&](uint64_t off, uint64_t len) -> bool {
    if (off > UINT64_MAX - len) return false;
    end = std::max(end, off + len);
    return true;
  };

  // Program headers.
  if (phnum != 0) {
    uint64_t table = uint64_t{phnum} * phentsize;
    if (!extend(phoff, table)) return fail("bad phoff");
    if (phoff > data.size() || table > data.size() - phoff) {
      truncated = true;
    } else {
      table_read = true;
      for (uint32_t i = 0; i < phnum && i < kMaxTableEntries; ++i) {
        Bytes ph = data.subspan(phoff + uint64_t{i} * phentsize, phentsize);
        uint32_t p_type = *ReadU32(ph, 0, e);
        uint64_t p_offset = is64 ? *ReadU64(ph, 8, e) : *ReadU32(ph, 4, e);
        uint64_t p_filesz = is64 ? *ReadU64(ph, 32, e) : *ReadU32(ph, 16, e);
        if (!extend(p_offset, p_filesz)) return fail("segment size overflows");
        if (p_type == 3 && interpreter.empty() && p_filesz > 0 && p_filesz < 4096 &&
            p_offset < data.size() && p_filesz <= data.size() - p_offset) {  // PT_INTERP
          std::string_view s = AsChars(data.subspan(p_offset, p_filesz));
          s = s.substr(0, s.find('\0'));
          bool ok = !s.empty();
          for (char c : s) ok = ok && c > 0x20 && c < 0x7F;
          if (ok) interpreter = std::string(s);
        }
      }
    }
  }

  // Section headers (type NOBITS occupies no file space). The table is only believed when it
  // looks like one: entry 0 null and the section-name table a string table. Files stored in
  // pieces (execute-in-place filesystems, carved fragments) often have the header and program
  // headers intact but something else where the section table should be, and trusting that
  // garbage would stretch the chunk over unrelated data.
  bool sections_ignored = false;
  if (shnum != 0) {
    uint64_t table = uint64_t{shnum} * shentsize;
    if (shoff > UINT64_MAX - table) return fail("bad shoff");
    if (shoff > data.size() || table > data.size() - shoff) {
      extend(shoff, table);
      truncated = true;
    } else {
      auto entry = [&](uint32_t i) {
        return data.subspan(shoff + uint64_t{i} * shentsize, shentsize);
      };
      auto field = [&](Bytes sh, size_t off32, size_t off64, bool wide) -> uint64_t {
        if (!is64) return *ReadU32(sh, off32, e);
        return wide ? *ReadU64(sh, off64, e) : *ReadU32(sh, off64, e);
      };
      Bytes null_entry = entry(0);
      bool plausible = field(null_entry, 0, 0, false) == 0 &&   // sh_name
                       field(null_entry, 4, 4, false) == 0 &&   // sh_type
                       field(null_entry, 8, 8, true) == 0 &&    // sh_flags
                       field(null_entry, 12, 16, true) == 0 &&  // sh_addr
                       field(null_entry, 16, 24, true) == 0;    // sh_offset
      if (plausible && shstrndx != 0 && shstrndx < 0xFF00)
        plausible = shstrndx < shnum && field(entry(shstrndx), 4, 4, false) == 3;  // SHT_STRTAB
      uint64_t sh_end = shoff + table;
      for (uint32_t i = 1; plausible && i < shnum && i < kMaxTableEntries; ++i) {
        Bytes sh = entry(i);
        uint32_t sh_type = static_cast<uint32_t>(field(sh, 4, 4, false));
        uint64_t sh_offset = field(sh, 16, 24, true);
        uint64_t sh_size = field(sh, 20, 32, true);
        if (sh_type == 8 || sh_type == 0) continue;  // SHT_NOBITS, SHT_NULL
        if (sh_offset > UINT64_MAX - sh_size)
          plausible = false;
        else
          sh_end = std::max(sh_end, sh_offset + sh_size);
      }
      if (plausible) {
        table_read = true;
        end = std::max(end, sh_end);
      } else {
        sections_ignored = true;
      }
    }
  }
  // Neither table readable: a chance "\x7fELF" or a file cut inside its headers; there is nothing
  // to measure, so it is not claimed. A 32-bit file cannot extend beyond 4 GiB.
  if (!table_read) return fail("no header table inside the data");
  if (!is64 && end > 0xFFFFFFFFULL) return fail("extent beyond 4 GiB");
  if (end > data.size()) truncated = true;

  Parsed p;
  p.size = end;
  p.truncated = truncated;
  p.details = {{"class", is64 ? "ELF64" : "ELF32"},
               {"endianness", e == Endian::kLittle ? "little" : "big"},
               {"machine", MachineName(machine)},
               {"type", TypeName(type)},
               {"entry", fmt::format("0x{:x}", entry)}};
  if (!interpreter.empty()) p.details.push_back({"interpreter", interpreter});
  if (sections_ignored)
    p.details.push_back({"section_table", "implausible, not used for the size"});
  return p;
}

}  // namespace

extern const FormatHandler elf_handler{
    "elf", FormatKind::kRecognizer, "ELF executable or library", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
