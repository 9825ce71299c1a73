#include "facts/elf.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace firmwarden::facts {
namespace {

constexpr uint32_t kShtSymtab = 2;
constexpr uint32_t kShtStrtab = 3;
constexpr uint32_t kShtDynamic = 6;
constexpr uint32_t kShtNobits = 8;
constexpr uint32_t kShtDynsym = 11;

constexpr uint64_t kDtNull = 0;
constexpr uint64_t kDtNeeded = 1;
constexpr uint64_t kDtHash = 4;
constexpr uint64_t kDtStrtab = 5;
constexpr uint64_t kDtSymtab = 6;
constexpr uint64_t kDtStrsz = 10;
constexpr uint64_t kDtSyment = 11;
constexpr uint64_t kDtSoname = 14;
constexpr uint64_t kDtRpath = 15;
constexpr uint64_t kDtBindNow = 24;
constexpr uint64_t kDtRunpath = 29;
constexpr uint64_t kDtFlags = 30;
constexpr uint64_t kDtGnuHash = 0x6ffffef5;
constexpr uint64_t kDtFlags1 = 0x6ffffffb;
constexpr uint64_t kDtMipsSymtabno = 0x70000011;

constexpr uint64_t kDfBindNow = 0x8;
constexpr uint64_t kDf1Now = 0x1;
constexpr uint64_t kDf1Pie = 0x08000000;

// A view of the input with the file's class and byte order.
class Reader {
 public:
  Reader(Bytes data, bool is64, Endian e) : data_(data), is64_(is64), e_(e) {}
  Bytes data() const { return data_; }
  bool is64() const { return is64_; }
  Result<uint16_t> U16(uint64_t pos) const { return ReadU16(data_, Pos(pos), e_); }
  Result<uint32_t> U32(uint64_t pos) const { return ReadU32(data_, Pos(pos), e_); }
  Result<uint64_t> U64(uint64_t pos) const { return ReadU64(data_, Pos(pos), e_); }
  // An address-sized field.
  Result<uint64_t> Addr(uint64_t pos) const {
    if (is64_) return U64(pos);
    auto v = U32(pos);
    if (!v) return std::unexpected(v.error());
    return uint64_t{*v};
  }
  size_t addr_size() const { return is64_ ? 8 : 4; }
  // `n` bytes at `pos`, checked.
  Result<Bytes> At(uint64_t pos, uint64_t n) const {
    if (pos > data_.size() || n > data_.size() - pos)
      return Fail(ErrorCode::kTruncated,
                  fmt::format("{} bytes at 0x{:x} exceed the {}-byte file", n, pos, data_.size()),
                  pos);
    return data_.subspan(static_cast<size_t>(pos), static_cast<size_t>(n));
  }

 private:
  // Positions past SIZE_MAX cannot be in the file; map them to one that fails the bounds check.
  size_t Pos(uint64_t pos) const {
    return pos > data_.size() ? data_.size() : static_cast<size_t>(pos);
  }
  Bytes data_;
  bool is64_;
  Endian e_;
};

// A NUL-terminated string inside `table` at `off`, capped; nullopt when `off` is outside.
std::optional<std::string> CString(Bytes table, uint64_t off) {
  if (off >= table.size()) return std::nullopt;
  std::string_view s = AsChars(table.subspan(static_cast<size_t>(off)));
  size_t nul = s.find('\0');
  if (nul == std::string_view::npos) return std::nullopt;  // unterminated: runs off the table
  return std::string(s.substr(0, std::min(nul, kMaxElfStringBytes)));
}

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

struct Section {
  uint32_t name = 0;
  uint32_t type = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t link = 0;
  uint32_t info = 0;
  uint64_t entsize = 0;
  std::string name_str;
};

Result<Section> ReadSection(const Reader& r, uint64_t at) {
  Section s;
  auto fail = [&](const Error& e) { return std::unexpected(e); };
  auto name = r.U32(at);
  if (!name) return fail(name.error());
  auto type = r.U32(at + 4);
  if (!type) return fail(type.error());
  s.name = *name;
  s.type = *type;
  uint64_t a = r.addr_size();
  // sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize
  auto off = r.Addr(at + 8 + 2 * a);
  auto size = r.Addr(at + 8 + 3 * a);
  auto link = r.U32(at + 8 + 4 * a);
  auto info = r.U32(at + 12 + 4 * a);
  auto ent = r.Addr(at + 16 + 5 * a);
  if (!off || !size || !link || !info || !ent)
    return Fail(ErrorCode::kTruncated, "section header runs past the end", at);
  s.offset = *off;
  s.size = *size;
  s.link = *link;
  s.info = *info;
  s.entsize = *ent;
  return s;
}

class Parser {
 public:
  Parser(Reader r, ElfInfo& info) : r_(r), info_(info) {}

  Status Run(uint64_t phoff, uint64_t phentsize, uint64_t phnum, uint64_t shoff, uint64_t shentsize,
             uint64_t shnum, uint64_t shstrndx);

 private:
  Status ReadSections(uint64_t shoff, uint64_t shentsize, uint64_t& shnum, uint64_t& shstrndx,
                      uint64_t& phnum);
  Status ReadSegments(uint64_t phoff, uint64_t phentsize, uint64_t phnum);
  Status ReadDynamic();
  void ReadSymbols(Bytes syms, Bytes strtab, uint64_t entsize, uint64_t count,
                   std::vector<std::string>* imports, std::vector<std::string>* exports,
                   std::vector<std::string>* all);
  void ReadDynsymFromDynamic(uint64_t symtab, uint64_t syment, uint64_t hash, uint64_t gnu_hash,
                             uint64_t mips_symtabno, Bytes strtab);
  std::optional<uint64_t> CountFromGnuHash(uint64_t gnu_hash);
  // The file offset of virtual address `vaddr` through the PT_LOAD segments.
  std::optional<uint64_t> Offset(uint64_t vaddr) const;
  void Problem(std::string what) {
    if (info_.problems.size() < 32) info_.problems.push_back(std::move(what));
  }

  Reader r_;
  ElfInfo& info_;
  std::vector<Section> sections_;
};

Status Parser::ReadSections(uint64_t shoff, uint64_t shentsize, uint64_t& shnum, uint64_t& shstrndx,
                            uint64_t& phnum) {
  if (shoff == 0) return {};
  uint64_t min_ent = r_.is64() ? 64 : 40;
  if (shentsize < min_ent)
    return Fail(ErrorCode::kMalformed, fmt::format("e_shentsize {} too small", shentsize), shoff);
  // Extended numbering: the real counts live in section 0.
  if (shnum == 0 || shstrndx == 0xffff || phnum == 0xffff) {
    auto s0 = ReadSection(r_, shoff);
    if (!s0) return std::unexpected(s0.error());
    if (shnum == 0) shnum = s0->size;
    if (shstrndx == 0xffff) shstrndx = s0->link;
    if (phnum == 0xffff) phnum = s0->info;
  }
  if (shnum > kMaxElfHeaders)
    return Fail(ErrorCode::kLimit, fmt::format("{} section headers", shnum), shoff);
  if (auto t = r_.At(shoff, shnum * shentsize); !t)
    return Fail(ErrorCode::kTruncated,
                fmt::format("section header table ({} x {}) outside the file", shnum, shentsize),
                shoff);
  sections_.reserve(static_cast<size_t>(shnum));
  for (uint64_t i = 0; i < shnum; ++i) {
    auto s = ReadSection(r_, shoff + i * shentsize);
    if (!s) return std::unexpected(s.error());
    sections_.push_back(*s);
  }
  info_.has_sections = !sections_.empty();
  Bytes shstr;
  if (shstrndx < sections_.size() && sections_[shstrndx].type != kShtNobits) {
    const Section& ss = sections_[shstrndx];
    if (auto b = r_.At(ss.offset, ss.size))
      shstr = *b;
    else
      Problem(fmt::format("section name table at 0x{:x} outside the file", ss.offset));
  }
  for (Section& s : sections_) {
    if (auto n = CString(shstr, s.name)) s.name_str = *n;
    if (s.type == kShtSymtab) info_.has_symtab = true;
    if (s.name_str.starts_with(".debug_") || s.name_str.starts_with(".zdebug_"))
      info_.has_debug = true;
  }
  return {};
}

Status Parser::ReadSegments(uint64_t phoff, uint64_t phentsize, uint64_t phnum) {
  if (phnum == 0) return {};
  uint64_t min_ent = r_.is64() ? 56 : 32;
  if (phentsize < min_ent)
    return Fail(ErrorCode::kMalformed, fmt::format("e_phentsize {} too small", phentsize), phoff);
  if (phnum > kMaxElfHeaders)
    return Fail(ErrorCode::kLimit, fmt::format("{} program headers", phnum), phoff);
  if (auto t = r_.At(phoff, phnum * phentsize); !t)
    return Fail(ErrorCode::kTruncated,
                fmt::format("program header table ({} x {}) outside the file", phnum, phentsize),
                phoff);
  for (uint64_t i = 0; i < phnum; ++i) {
    uint64_t at = phoff + i * phentsize;
    ElfSegment s;
    // The table is in bounds, so these reads cannot fail; check anyway.
    auto type = r_.U32(at);
    if (!type) return std::unexpected(type.error());
    s.type = *type;
    if (r_.is64()) {
      auto flags = r_.U32(at + 4);
      auto off = r_.U64(at + 8);
      auto va = r_.U64(at + 16);
      auto fs = r_.U64(at + 32);
      auto ms = r_.U64(at + 40);
      if (!flags || !off || !va || !fs || !ms)
        return Fail(ErrorCode::kTruncated, "program header", at);
      s.flags = *flags;
      s.offset = *off;
      s.vaddr = *va;
      s.filesz = *fs;
      s.memsz = *ms;
    } else {
      auto off = r_.U32(at + 4);
      auto va = r_.U32(at + 8);
      auto fs = r_.U32(at + 16);
      auto ms = r_.U32(at + 20);
      auto flags = r_.U32(at + 24);
      if (!flags || !off || !va || !fs || !ms)
        return Fail(ErrorCode::kTruncated, "program header", at);
      s.flags = *flags;
      s.offset = *off;
      s.vaddr = *va;
      s.filesz = *fs;
      s.memsz = *ms;
    }
    switch (s.type) {
      case kPtGnuStack:
        info_.has_gnu_stack = true;
        info_.exec_stack = (s.flags & kPfX) != 0;
        break;
      case kPtGnuRelro:
        info_.has_relro = true;
        break;
      case kPtLoad:
        if ((s.flags & kPfW) != 0 && (s.flags & kPfX) != 0) info_.wx_load = true;
        break;
      case kPtDynamic:
        info_.has_dynamic = true;
        break;
      case kPtInterp:
        if (auto b = r_.At(s.offset, std::min<uint64_t>(s.filesz, kMaxElfStringBytes))) {
          std::string_view v = AsChars(*b);
          info_.interpreter = std::string(v.substr(0, v.find('\0')));
        } else {
          Problem(fmt::format("PT_INTERP at 0x{:x} outside the file", s.offset));
        }
        break;
      default:
        break;
    }
    info_.segments.push_back(s);
  }
  return {};
}

std::optional<uint64_t> Parser::Offset(uint64_t vaddr) const {
  for (const ElfSegment& s : info_.segments) {
    if (s.type != kPtLoad) continue;
    if (vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) return s.offset + (vaddr - s.vaddr);
  }
  return std::nullopt;
}

void Parser::ReadSymbols(Bytes syms, Bytes strtab, uint64_t entsize, uint64_t count,
                         std::vector<std::string>* imports, std::vector<std::string>* exports,
                         std::vector<std::string>* all) {
  uint64_t min_ent = r_.is64() ? 24 : 16;
  if (entsize < min_ent) entsize = min_ent;
  count = std::min<uint64_t>({count, syms.size() / entsize, kMaxElfSymbols});
  Reader sr(syms, r_.is64(), info_.endian);
  for (uint64_t i = 1; i < count; ++i) {  // symbol 0 is the null symbol
    uint64_t at = i * entsize;
    auto name = sr.U32(at);
    if (!name) break;
    uint8_t st_info = 0;
    uint16_t shndx = 0;
    if (r_.is64()) {
      auto b = sr.At(at + 4, 4);
      if (!b) break;
      st_info = static_cast<uint8_t>((*b)[0]);
      auto x = sr.U16(at + 6);
      if (!x) break;
      shndx = *x;
    } else {
      auto b = sr.At(at + 12, 4);
      if (!b) break;
      st_info = static_cast<uint8_t>((*b)[0]);
      auto x = sr.U16(at + 14);
      if (!x) break;
      shndx = *x;
    }
    if (*name == 0) continue;
    auto s = CString(strtab, *name);
    if (!s) {
      Problem(fmt::format("symbol {} names offset {} outside its string table", i, *name));
      continue;
    }
    if (s->empty()) continue;
    unsigned bind = st_info >> 4;
    unsigned type = st_info & 0xf;
    if (type == 3 || type == 4) continue;  // STT_SECTION, STT_FILE
    if (all != nullptr) {
      all->push_back(*s);
      continue;
    }
    if (shndx == 0) {
      imports->push_back(std::move(*s));
    } else if (bind == 1 || bind == 2 || bind == 10) {  // GLOBAL, WEAK, GNU_UNIQUE
      exports->push_back(std::move(*s));
    }
  }
}

std::optional<uint64_t> Parser::CountFromGnuHash(uint64_t gnu_hash) {
  auto off = Offset(gnu_hash);
  if (!off) return std::nullopt;
  auto nbuckets = r_.U32(*off);
  auto symoffset = r_.U32(*off + 4);
  auto bloom_size = r_.U32(*off + 8);
  if (!nbuckets || !symoffset || !bloom_size) return std::nullopt;
  uint64_t buckets = *off + 16 + uint64_t{*bloom_size} * r_.addr_size();
  uint64_t chains = buckets + uint64_t{*nbuckets} * 4;
  if (!r_.At(buckets, uint64_t{*nbuckets} * 4)) return std::nullopt;
  uint64_t max = 0;
  for (uint64_t i = 0; i < *nbuckets; ++i) {
    auto b = r_.U32(buckets + i * 4);
    if (!b) return std::nullopt;
    max = std::max<uint64_t>(max, *b);
  }
  if (max < *symoffset) return uint64_t{*symoffset};
  // Walk the last chain to its end marker.
  for (uint64_t i = max; i - max < kMaxElfSymbols; ++i) {
    auto c = r_.U32(chains + (i - *symoffset) * 4);
    if (!c) return std::nullopt;
    if ((*c & 1) != 0) return i + 1;
  }
  return std::nullopt;
}

void Parser::ReadDynsymFromDynamic(uint64_t symtab, uint64_t syment, uint64_t hash,
                                   uint64_t gnu_hash, uint64_t mips_symtabno, Bytes strtab) {
  auto sym_off = Offset(symtab);
  if (!sym_off) {
    Problem(fmt::format("DT_SYMTAB 0x{:x} is in no loaded segment", symtab));
    return;
  }
  std::optional<uint64_t> count;
  if (mips_symtabno != 0) count = mips_symtabno;
  if (!count && hash != 0)
    if (auto h = Offset(hash))
      if (auto n = r_.U32(*h + 4)) count = *n;  // nchain == number of symbols
  if (!count && gnu_hash != 0) count = CountFromGnuHash(gnu_hash);
  if (!count) {
    Problem("no symbol count (DT_HASH, DT_GNU_HASH) for DT_SYMTAB");
    return;
  }
  uint64_t ent = syment != 0 ? syment : (r_.is64() ? 24 : 16);
  if (ent > 256) {
    Problem(fmt::format("DT_SYMENT {} is implausible", syment));
    return;
  }
  uint64_t avail = *sym_off <= r_.data().size() ? r_.data().size() - *sym_off : 0;
  uint64_t n = std::min<uint64_t>({*count, kMaxElfSymbols, avail / ent});
  uint64_t bytes = n * ent;
  auto b = r_.At(*sym_off, bytes);
  if (!b) return;
  info_.has_dynsym = true;
  ReadSymbols(*b, strtab, ent, n, &info_.imports, &info_.exports, nullptr);
}

Status Parser::ReadDynamic() {
  // The dynamic table: PT_DYNAMIC, else the SHT_DYNAMIC section.
  std::optional<std::pair<uint64_t, uint64_t>> where;
  for (const ElfSegment& s : info_.segments)
    if (s.type == kPtDynamic) where = {s.offset, s.filesz};
  if (!where)
    for (const Section& s : sections_)
      if (s.type == kShtDynamic) where = {s.offset, s.size};
  if (!where) return {};
  auto table = r_.At(where->first, where->second);
  if (!table)
    return Fail(ErrorCode::kTruncated,
                fmt::format("dynamic table ({} bytes) outside the file", where->second),
                where->first);
  uint64_t ent = 2 * r_.addr_size();
  uint64_t n = std::min<uint64_t>(where->second / ent, kMaxElfDynamic);
  std::vector<std::pair<uint64_t, uint64_t>> dyn;
  uint64_t strtab = 0, strsz = 0, symtab = 0, syment = 0, hash = 0, gnu_hash = 0, symtabno = 0;
  bool have_strtab = false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t at = where->first + i * ent;
    auto tag = r_.Addr(at);
    auto val = r_.Addr(at + r_.addr_size());
    if (!tag || !val) break;
    if (*tag == kDtNull) break;
    switch (*tag) {
      case kDtStrtab:
        strtab = *val;
        have_strtab = true;
        break;
      case kDtStrsz:
        strsz = *val;
        break;
      case kDtSymtab:
        symtab = *val;
        break;
      case kDtSyment:
        syment = *val;
        break;
      case kDtHash:
        hash = *val;
        break;
      case kDtGnuHash:
        gnu_hash = *val;
        break;
      case kDtMipsSymtabno:
        if (info_.machine_id == 8 || info_.machine_id == 10) symtabno = *val;
        break;
      case kDtFlags:
        info_.dt_flags = *val;
        break;
      case kDtFlags1:
        info_.dt_flags_1 = *val;
        break;
      case kDtBindNow:
        info_.bind_now = true;
        break;
      default:
        break;
    }
    dyn.emplace_back(*tag, *val);
  }
  if ((info_.dt_flags & kDfBindNow) != 0 || (info_.dt_flags_1 & kDf1Now) != 0)
    info_.bind_now = true;
  info_.pie_flag = (info_.dt_flags_1 & kDf1Pie) != 0;

  // The dynamic string table: through the loaded segments, else the section that .dynamic links.
  Bytes dynstr;
  if (have_strtab) {
    if (auto off = Offset(strtab)) {
      uint64_t avail = r_.data().size() - std::min<uint64_t>(*off, r_.data().size());
      if (auto b = r_.At(*off, std::min(strsz != 0 ? strsz : avail, avail))) dynstr = *b;
    }
  }
  if (dynstr.empty())
    for (const Section& s : sections_)
      if (s.type == kShtDynamic && s.link < sections_.size() &&
          sections_[s.link].type == kShtStrtab)
        if (auto b = r_.At(sections_[s.link].offset, sections_[s.link].size)) dynstr = *b;
  if (dynstr.empty() && have_strtab)
    Problem(fmt::format("DT_STRTAB 0x{:x} is in no loaded segment", strtab));

  for (const auto& [tag, val] : dyn) {
    if (tag != kDtNeeded && tag != kDtSoname && tag != kDtRpath && tag != kDtRunpath) continue;
    auto s = CString(dynstr, val);
    if (!s) {
      Problem(fmt::format("dynamic tag {} names string {} outside DT_STRTAB", tag, val));
      continue;
    }
    if (tag == kDtNeeded && info_.needed.size() < 1024) info_.needed.push_back(*s);
    if (tag == kDtSoname) info_.soname = *s;
    if (tag == kDtRpath) info_.rpath = *s, info_.has_rpath = true;
    if (tag == kDtRunpath) info_.runpath = *s, info_.has_runpath = true;
  }

  // Dynamic symbols: the section when there is one, else through the dynamic table.
  for (const Section& s : sections_) {
    if (s.type != kShtDynsym || s.link >= sections_.size()) continue;
    const Section& st = sections_[s.link];
    auto syms = r_.At(s.offset, s.size);
    auto strs = st.type == kShtNobits ? Result<Bytes>(Bytes{}) : r_.At(st.offset, st.size);
    if (!syms || !strs) {
      Problem(fmt::format(".dynsym at 0x{:x} or its strings outside the file", s.offset));
      continue;
    }
    uint64_t ent = s.entsize != 0 ? s.entsize : (r_.is64() ? 24 : 16);
    info_.has_dynsym = true;
    ReadSymbols(*syms, *strs, ent, s.size / std::max<uint64_t>(ent, 1), &info_.imports,
                &info_.exports, nullptr);
    break;
  }
  if (!info_.has_dynsym && symtab != 0 && !dynstr.empty())
    ReadDynsymFromDynamic(symtab, syment, hash, gnu_hash, symtabno, dynstr);
  return {};
}

Status Parser::Run(uint64_t phoff, uint64_t phentsize, uint64_t phnum, uint64_t shoff,
                   uint64_t shentsize, uint64_t shnum, uint64_t shstrndx) {
  if (auto s = ReadSections(shoff, shentsize, shnum, shstrndx, phnum); !s) return s;
  if (auto s = ReadSegments(phoff, phentsize, phnum); !s) return s;
  if (auto s = ReadDynamic(); !s) return s;
  for (const Section& s : sections_) {
    if (s.type == kShtSymtab && s.link < sections_.size()) {
      const Section& st = sections_[s.link];
      auto syms = r_.At(s.offset, s.size);
      auto strs = r_.At(st.offset, st.size);
      if (syms && strs && st.type != kShtNobits) {
        uint64_t ent = s.entsize != 0 ? s.entsize : (r_.is64() ? 24 : 16);
        ReadSymbols(*syms, *strs, ent, s.size / std::max<uint64_t>(ent, 1), nullptr, nullptr,
                    &info_.symtab);
      } else {
        Problem(fmt::format(".symtab at 0x{:x} or its strings outside the file", s.offset));
      }
    }
    if (s.name_str == ".comment" && s.type != kShtNobits) {
      auto b = r_.At(s.offset, std::min<uint64_t>(s.size, 1 << 16));
      if (!b) {
        Problem(fmt::format(".comment at 0x{:x} outside the file", s.offset));
        continue;
      }
      std::string_view v = AsChars(*b);
      while (!v.empty() && info_.comments.size() < 64) {
        size_t nul = v.find('\0');
        std::string_view c = v.substr(0, nul);
        if (!c.empty() &&
            std::find(info_.comments.begin(), info_.comments.end(), c) == info_.comments.end())
          info_.comments.emplace_back(c.substr(0, kMaxElfStringBytes));
        if (nul == std::string_view::npos) break;
        v.remove_prefix(nul + 1);
      }
    }
  }
  SortUnique(info_.imports);
  SortUnique(info_.exports);
  SortUnique(info_.symtab);
  return {};
}

bool Contains(const std::vector<std::string>& sorted, std::string_view name) {
  return std::binary_search(sorted.begin(), sorted.end(), name, std::less<>());
}

bool AnyPrefix(const std::vector<std::string>& sorted, std::string_view prefix) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), prefix, std::less<>());
  return it != sorted.end() && std::string_view(*it).starts_with(prefix);
}

}  // namespace

std::string_view ElfTypeName(ElfType t) {
  switch (t) {
    case ElfType::kNone:
      return "NONE";
    case ElfType::kRel:
      return "REL";
    case ElfType::kExec:
      return "EXEC";
    case ElfType::kDyn:
      return "DYN";
    case ElfType::kCore:
      return "CORE";
    case ElfType::kOther:
      return "OTHER";
  }
  return "OTHER";
}

std::string MachineName(uint16_t machine) {
  switch (machine) {
    case 2:
      return "sparc";
    case 3:
      return "x86";
    case 4:
      return "m68k";
    case 8:
    case 10:
      return "mips";
    case 18:
      return "sparc32plus";
    case 20:
      return "powerpc";
    case 21:
      return "powerpc64";
    case 22:
      return "s390";
    case 40:
      return "arm";
    case 42:
      return "sh";
    case 43:
      return "sparc64";
    case 45:
      return "arc";
    case 50:
      return "ia64";
    case 62:
      return "x86_64";
    case 92:
      return "openrisc";
    case 93:
      return "arc-compact";
    case 94:
      return "xtensa";
    case 106:
      return "blackfin";
    case 113:
      return "nios2";
    case 164:
      return "hexagon";
    case 183:
      return "aarch64";
    case 189:
      return "microblaze";
    case 195:
      return "arc-v2";
    case 243:
      return "riscv";
    case 247:
      return "bpf";
    case 252:
      return "csky";
    case 258:
      return "loongarch";
    default:
      return fmt::format("em-{}", machine);
  }
}

bool ElfInfo::IsExecutable() const {
  if (type == ElfType::kExec) return true;
  return type == ElfType::kDyn && (!interpreter.empty() || pie_flag);
}

bool ElfInfo::IsLibrary() const { return type == ElfType::kDyn && !IsExecutable(); }

bool ElfInfo::Imports(std::string_view name) const { return Contains(imports, name); }
bool ElfInfo::Exports(std::string_view name) const { return Contains(exports, name); }
bool ElfInfo::HasSymbol(std::string_view name) const {
  return Contains(imports, name) || Contains(exports, name) || Contains(symtab, name);
}
bool ElfInfo::HasSymbolPrefix(std::string_view prefix) const {
  return AnyPrefix(imports, prefix) || AnyPrefix(exports, prefix) || AnyPrefix(symtab, prefix);
}

Result<ElfInfo> ParseElf(std::string_view bytes) {
  Bytes data = AsBytes(bytes);
  if (bytes.size() < 16 || !bytes.starts_with("\x7f"
                                              "ELF"))
    return Fail(ErrorCode::kMalformed, "not an ELF file", 0);
  ElfInfo info;
  uint8_t cls = static_cast<uint8_t>(bytes[4]);
  uint8_t enc = static_cast<uint8_t>(bytes[5]);
  if (cls != 1 && cls != 2) return Fail(ErrorCode::kMalformed, fmt::format("EI_CLASS {}", cls), 4);
  if (enc != 1 && enc != 2) return Fail(ErrorCode::kMalformed, fmt::format("EI_DATA {}", enc), 5);
  info.bits = cls == 2 ? 64 : 32;
  info.endian = enc == 1 ? Endian::kLittle : Endian::kBig;
  Reader r(data, cls == 2, info.endian);
  size_t hsize = cls == 2 ? 64 : 52;
  if (bytes.size() < hsize)
    return Fail(ErrorCode::kTruncated,
                fmt::format("ELF header needs {} bytes, file has {}", hsize, bytes.size()),
                bytes.size());
  auto type = r.U16(16);
  auto machine = r.U16(18);
  auto entry = r.Addr(24);
  uint64_t a = r.addr_size();
  auto phoff = r.Addr(24 + a);
  auto shoff = r.Addr(24 + 2 * a);
  uint64_t rest = 28 + 3 * a;  // e_flags precedes: e_ehsize, e_phentsize, e_phnum, …
  auto phentsize = r.U16(rest + 2);
  auto phnum = r.U16(rest + 4);
  auto shentsize = r.U16(rest + 6);
  auto shnum = r.U16(rest + 8);
  auto shstrndx = r.U16(rest + 10);
  if (!type || !machine || !entry || !phoff || !shoff || !phentsize || !phnum || !shentsize ||
      !shnum || !shstrndx)
    return Fail(ErrorCode::kTruncated, "ELF header", 0);
  switch (*type) {
    case 0:
      info.type = ElfType::kNone;
      break;
    case 1:
      info.type = ElfType::kRel;
      break;
    case 2:
      info.type = ElfType::kExec;
      break;
    case 3:
      info.type = ElfType::kDyn;
      break;
    case 4:
      info.type = ElfType::kCore;
      break;
    default:
      info.type = ElfType::kOther;
  }
  info.machine_id = *machine;
  info.machine = MachineName(*machine);
  info.entry = *entry;
  Parser p(r, info);
  if (auto s = p.Run(*phoff, *phentsize, *phnum, *shoff, *shentsize, *shnum, *shstrndx); !s)
    return std::unexpected(s.error());
  return info;
}

}  // namespace firmwarden::facts
