// ELF executables, libraries and objects (32/64-bit, either byte order), recognised and measured.
// An ELF file has no length field; its extent is the furthest byte any header points at: the end
// of the section header table, of every segment's file image and of every section's contents.
// Trailing data that nothing references (appended payloads) is left for the scanner.
#include <fmt/format.h>

#include "unpack/handler.h"

namespace firmwarden::unpack {
namespace {

constexpr Magic kMagics[] = {{std::string_view("\x7f" "ELF", 4), 0}};
// Tables bigger than this are not produced by any toolchain and would only cost time.
constexpr uint32_t kMaxTableEntries = 65536;

std::string MachineName(uint16_t m) {
  switch (m) {
    case 2: return "SPARC";
    case 3: return "x86";
    case 4: return "m68k";
    case 8: return "MIPS";
    case 10: return "MIPS (RS3000 LE)";
    case 18: return "SPARC v8+";
    case 20: return "PowerPC";
    case 21: return "PowerPC64";
    case 22: return "S/390";
    case 40: return "ARM";
    case 42: return "SuperH";
    case 43: return "SPARC v9";
    case 50: return "IA-64";
    case 62: return "x86-64";
    case 83: return "AVR";
    case 87: return "V850";
    case 88: return "M32R";
    case 92: return "OpenRISC";
    case 93: return "ARC";
    case 94: return "Xtensa";
    case 106: return "Blackfin";
    case 113: return "Altera Nios II";
    case 164: return "Hexagon";
    case 183: return "AArch64";
    case 189: return "MicroBlaze";
    case 195: return "ARC v2";
    case 243: return "RISC-V";
    case 258: return "LoongArch";
    default: return fmt::format("unknown ({})", m);
  }
}

std::string TypeName(uint16_t t) {
  switch (t) {
    case 0: return "none";
    case 1: return "relocatable";
    case 2: return "executable";
    case 3: return "shared object";
    case 4: return "core";
    default: return fmt::format("0x{:x}", t);
  }
}

Result<Parsed> Parse(const ParseContext& ctx) {
  Bytes data = ctx.data.subspan(ctx.offset);
  auto fail = [&](std::string msg) { return Fail(ErrorCode::kMalformed, "ELF: " + msg, ctx.offset); };
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

  // Section headers (type NOBITS occupies no file space).
  if (shnum != 0) {
    uint64_t table = uint64_t{shnum} * shentsize;
    if (!extend(shoff, table)) return fail("bad shoff");
    if (shoff > data.size() || table > data.size() - shoff) {
      truncated = true;
    } else {
      table_read = true;
      for (uint32_t i = 0; i < shnum && i < kMaxTableEntries; ++i) {
        Bytes sh = data.subspan(shoff + uint64_t{i} * shentsize, shentsize);
        uint32_t sh_type = *ReadU32(sh, 4, e);
        uint64_t sh_offset = is64 ? *ReadU64(sh, 24, e) : *ReadU32(sh, 16, e);
        uint64_t sh_size = is64 ? *ReadU64(sh, 32, e) : *ReadU32(sh, 20, e);
        if (sh_type == 8 || sh_type == 0) continue;  // SHT_NOBITS, SHT_NULL
        if (!extend(sh_offset, sh_size)) return fail("section size overflows");
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
  return p;
}

}  // namespace

extern const FormatHandler elf_handler{"elf", FormatKind::kRecognizer,
                                       "ELF executable or library", kMagics, Parse, nullptr};

}  // namespace firmwarden::unpack
