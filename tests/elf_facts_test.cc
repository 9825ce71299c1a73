// The ELF reader against binutils: programs compiled here by gcc with every hardening flag on and
// off, real MIPS big-endian programs from the OpenWrt images, the Debian mipsel/armel/arm64
// programs of the test corpus, and hand-made 32/64-bit big/little-endian files, each compared
// field by field with `readelf`. Plus hostile input: every truncation and random byte flips.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <sstream>

#include "facts/elf.h"
#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;
using facts::ElfInfo;
using facts::ParseElf;

bool HaveTool(const std::string& tool) { return t::Run("command -v " + tool + " >/dev/null") == 0; }

// Compiles `source` with `flags`; returns the program's path ("" when gcc failed).
std::string Compile(const t::TempDir& dir, const std::string& name, const std::string& flags,
                    const std::string& source) {
  t::WriteFile(dir / (name + ".c"), source);
  std::string out = dir / name;
  std::string log;
  if (t::Run("gcc " + t::Sh(dir / (name + ".c")) + " -o " + t::Sh(out) + " " + flags + " 2>&1",
             &log) != 0) {
    ADD_FAILURE() << "gcc " << flags << ": " << log;
    return "";
  }
  return out;
}

constexpr const char* kSource = R"(#include <stdio.h>
#include <string.h>
int exported_counter = 3;
int helper(const char *s) { return (int)strlen(s) + exported_counter; }
int main(int argc, char **argv) {
  char buf[64];
  strcpy(buf, argc > 1 ? argv[1] : "x");
  printf("%s %d\n", buf, helper(buf));
  return 0;
}
)";

// What readelf says about a file.
struct Readelf {
  std::string type;  // "EXEC", "DYN", …
  std::string interpreter;
  bool gnu_stack = false, exec_stack = false, relro = false, wx_load = false, dynamic = false;
  std::vector<std::string> needed;
  std::string soname, rpath, runpath;
  bool has_rpath = false, has_runpath = false, bind_now = false, pie = false;
  std::set<std::string> imports, exports;
  bool dynsym_listed = false;
};

std::string Bracketed(const std::string& line) {
  size_t a = line.find('['), b = line.rfind(']');
  return a == std::string::npos || b == std::string::npos ? "" : line.substr(a + 1, b - a - 1);
}

Readelf RunReadelf(const std::string& path) {
  Readelf r;
  std::string out;
  t::Run("LC_ALL=C readelf -h -d -l -W " + t::Sh(path) + " 2>/dev/null", &out);
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ws(line);
    std::vector<std::string> w;
    for (std::string x; ws >> x;) w.push_back(x);
    if (w.empty()) continue;
    if (line.find("Type:") != std::string::npos && w[0] == "Type:" && w.size() > 1) r.type = w[1];
    if (line.find("Requesting program interpreter:") != std::string::npos)
      r.interpreter = line.substr(line.find(": ") + 2, line.rfind(']') - line.find(": ") - 2);
    if (w[0] == "GNU_STACK" || w[0] == "GNU_RELRO" || w[0] == "LOAD" || w[0] == "DYNAMIC") {
      std::string flags;
      for (size_t i = 6; i + 1 < w.size(); ++i) flags += w[i];
      if (w[0] == "GNU_STACK")
        r.gnu_stack = true, r.exec_stack = flags.find('E') != std::string::npos;
      if (w[0] == "GNU_RELRO") r.relro = true;
      if (w[0] == "DYNAMIC") r.dynamic = true;
      if (w[0] == "LOAD" && flags.find('W') != std::string::npos &&
          flags.find('E') != std::string::npos)
        r.wx_load = true;
    }
    if (w.size() >= 2 && w[0].starts_with("0x")) {
      const std::string& tag = w[1];
      if (tag == "(NEEDED)") r.needed.push_back(Bracketed(line));
      if (tag == "(SONAME)") r.soname = Bracketed(line);
      if (tag == "(RPATH)") r.rpath = Bracketed(line), r.has_rpath = true;
      if (tag == "(RUNPATH)") r.runpath = Bracketed(line), r.has_runpath = true;
      if (tag == "(BIND_NOW)") r.bind_now = true;
      if (tag == "(FLAGS)" && line.find("BIND_NOW") != std::string::npos) r.bind_now = true;
      if (tag == "(FLAGS_1)") {
        std::set<std::string> f(w.begin() + 2, w.end());
        if (f.contains("NOW")) r.bind_now = true;
        if (f.contains("PIE")) r.pie = true;
      }
    }
  }
  out.clear();
  t::Run("LC_ALL=C readelf --dyn-syms -W " + t::Sh(path) + " 2>/dev/null", &out);
  std::istringstream syms(out);
  while (std::getline(syms, line)) {
    std::istringstream ws(line);
    std::vector<std::string> w;
    for (std::string x; ws >> x;) w.push_back(x);
    if (w.size() < 8 || !w[0].ends_with(':') || w[0] == "Num:") continue;
    r.dynsym_listed = true;
    std::string name = w[7].substr(0, w[7].find('@'));
    const std::string &type = w[3], &bind = w[4], &ndx = w[6];
    if (name.empty() || type == "SECTION" || type == "FILE") continue;
    if (ndx == "UND")
      r.imports.insert(name);
    else if (bind == "GLOBAL" || bind == "WEAK" || bind == "UNIQUE")
      r.exports.insert(name);
  }
  return r;
}

std::string_view TypeName(facts::ElfType t) { return facts::ElfTypeName(t); }

// Parses `path` and compares every field with readelf. Returns the parse for further checks.
ElfInfo ExpectMatchesReadelf(const std::string& path) {
  std::string bytes = t::ReadFile(path);
  auto info = ParseElf(bytes);
  EXPECT_TRUE(info) << path << ": " << (info ? "" : info.error().ToString());
  if (!info) return {};
  Readelf r = RunReadelf(path);
  SCOPED_TRACE(path);
  EXPECT_EQ(TypeName(info->type), r.type);
  EXPECT_EQ(info->interpreter, r.interpreter);
  EXPECT_EQ(info->has_gnu_stack, r.gnu_stack);
  EXPECT_EQ(info->exec_stack, r.exec_stack);
  EXPECT_EQ(info->has_relro, r.relro);
  EXPECT_EQ(info->wx_load, r.wx_load);
  EXPECT_EQ(info->has_dynamic, r.dynamic);
  EXPECT_EQ(info->needed, r.needed);
  EXPECT_EQ(info->soname, r.soname);
  EXPECT_EQ(info->has_rpath, r.has_rpath);
  EXPECT_EQ(info->rpath, r.rpath);
  EXPECT_EQ(info->has_runpath, r.has_runpath);
  EXPECT_EQ(info->runpath, r.runpath);
  EXPECT_EQ(info->bind_now, r.bind_now);
  EXPECT_EQ(info->pie_flag, r.pie);
  if (r.dynsym_listed) {
    EXPECT_EQ(std::set<std::string>(info->imports.begin(), info->imports.end()), r.imports);
    EXPECT_EQ(std::set<std::string>(info->exports.begin(), info->exports.end()), r.exports);
  }
  EXPECT_TRUE(info->problems.empty()) << info->problems.front();
  return *info;
}

class ElfFacts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("gcc") || !HaveTool("readelf")) GTEST_SKIP() << "needs gcc and readelf";
  }
  t::TempDir dir_;
};

TEST_F(ElfFacts, HardenedProgramMatchesReadelf) {
  std::string p = Compile(dir_, "hard",
                          "-O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong "
                          "-fPIE -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack",
                          kSource);
  ElfInfo e = ExpectMatchesReadelf(p);
  EXPECT_EQ(e.bits, 64);
  EXPECT_EQ(e.machine, "x86_64");
  EXPECT_TRUE(e.IsPie());
  EXPECT_TRUE(e.IsExecutable());
  EXPECT_TRUE(e.Imports("__stack_chk_fail"));
  EXPECT_TRUE(std::any_of(e.imports.begin(), e.imports.end(), [](const std::string& i) {
    return i.ends_with("_chk") && i != "__stack_chk_fail";
  }));
  EXPECT_TRUE(e.Exports("exported_counter") || e.HasSymbol("exported_counter"));
  EXPECT_TRUE(e.has_symtab);  // not stripped
  ASSERT_FALSE(e.comments.empty());
  EXPECT_TRUE(e.comments[0].starts_with("GCC: ")) << e.comments[0];
}

TEST_F(ElfFacts, WeakProgramMatchesReadelf) {
  std::string p = Compile(dir_, "weak",
                          "-O0 -fno-stack-protector -fno-PIE -no-pie -Wl,-z,norelro "
                          "-Wl,-z,execstack -g -Wl,--disable-new-dtags,-rpath,lib:/tmp",
                          kSource);
  ElfInfo e = ExpectMatchesReadelf(p);
  EXPECT_EQ(e.type, facts::ElfType::kExec);
  EXPECT_TRUE(e.exec_stack);
  EXPECT_FALSE(e.has_relro);
  EXPECT_TRUE(e.has_debug);
  EXPECT_EQ(e.rpath, "lib:/tmp");
  EXPECT_TRUE(e.Imports("strcpy"));
  EXPECT_FALSE(e.HasSymbol("__stack_chk_fail"));
}

TEST_F(ElfFacts, VariantsMatchReadelf) {
  const std::vector<std::string> flags = {
      "-O2 -s -Wl,-z,relro,-z,lazy",
      "-O2 -s -Wl,--hash-style=sysv -Wl,-rpath,'$ORIGIN/../lib'",
      "-O2 -s -Wl,--hash-style=gnu -Wl,-z,now",
      "-O2 -fPIC -shared -Wl,-soname,libthing.so.1 -Wl,-z,relro,-z,now",
      "-O2 -static -s",
      "-O2 -static-pie",
      "-O2 -Wl,-z,execstack -Wl,-z,norelro -no-pie -fno-PIE",
  };
  for (size_t i = 0; i < flags.size(); ++i) {
    std::string p = Compile(dir_, "v" + std::to_string(i), flags[i], kSource);
    if (p.empty()) continue;
    SCOPED_TRACE(flags[i]);
    ElfInfo e = ExpectMatchesReadelf(p);
    if (flags[i].find("-shared") != std::string::npos) {
      EXPECT_TRUE(e.IsLibrary());
      EXPECT_EQ(e.soname, "libthing.so.1");
    }
    if (flags[i].find("static-pie") != std::string::npos) {
      EXPECT_TRUE(e.IsPie());
    }
    if (flags[i] == "-O2 -static -s") {
      EXPECT_FALSE(e.has_dynsym);
      EXPECT_FALSE(e.has_symtab);
    }
  }
}

// Wipes the section header table fields so that only the program headers remain, as on
// sstrip'ed firmware binaries: the dynamic symbols must come from DT_SYMTAB with the count from
// DT_HASH or DT_GNU_HASH and still match readelf on the intact file.
TEST_F(ElfFacts, DynamicSymbolsWithoutSectionHeaders) {
  for (std::string hash : {"sysv", "gnu", "both"}) {
    std::string p = Compile(dir_, "h" + hash, "-O2 -Wl,--hash-style=" + hash, kSource);
    if (p.empty()) continue;
    Readelf r = RunReadelf(p);
    std::string bytes = t::ReadFile(p);
    for (size_t off : {40, 60, 62}) std::fill_n(bytes.begin() + off, off == 40 ? 8 : 2, '\0');
    auto e = ParseElf(bytes);
    ASSERT_TRUE(e) << e.error().ToString();
    EXPECT_FALSE(e->has_sections);
    EXPECT_TRUE(e->has_dynsym) << hash;
    EXPECT_EQ(std::set<std::string>(e->imports.begin(), e->imports.end()), r.imports) << hash;
    EXPECT_EQ(std::set<std::string>(e->exports.begin(), e->exports.end()), r.exports) << hash;
    EXPECT_EQ(e->needed, r.needed);
  }
}

// ---- hand-made files: 32/64-bit, both byte orders ----

class Writer {
 public:
  Writer(bool is64, bool big) : is64_(is64), big_(big) {}
  void U8(uint8_t v) { s_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { N(v, 2); }
  void U32(uint32_t v) { N(v, 4); }
  void U64(uint64_t v) { N(v, 8); }
  void Addr(uint64_t v) { N(v, is64_ ? 8 : 4); }
  void Bytes(std::string_view b) { s_ += b; }
  void PadTo(size_t n) { s_.resize(std::max(s_.size(), n), '\0'); }
  size_t size() const { return s_.size(); }
  std::string& str() { return s_; }

 private:
  void N(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      int shift = big_ ? (n - 1 - i) * 8 : i * 8;
      s_.push_back(static_cast<char>((v >> shift) & 0xff));
    }
  }
  bool is64_, big_;
  std::string s_;
};

// A small dynamically linked program: PT_LOAD (RWX), PT_INTERP, PT_DYNAMIC, PT_GNU_STACK (RW),
// no section headers unless `sections`; dynamic symbols found through DT_HASH.
std::string MakeElf(bool is64, bool big, uint16_t machine, bool sections) {
  const uint64_t base = 0x400000;
  const size_t eh = is64 ? 64 : 52, ph = is64 ? 56 : 32, nph = 4, sym = is64 ? 24 : 16,
               dyn = is64 ? 16 : 8;
  const std::string interp = std::string("/lib/ld-uClibc.so.0") + '\0';
  const std::string dynstr = std::string("\0libc.so.0\0puts\0my_export\0/tmp/lib\0", 35);
  const uint32_t s_libc = 1, s_puts = 11, s_export = 16, s_rpath = 26;
  const std::string comment = std::string("GCC: (GNU) 4.8.3\0GCC: (GNU) 4.8.3\0", 34);
  const std::string shstr = std::string("\0.dynsym\0.dynstr\0.comment\0.debug_info\0", 39);
  size_t o_interp = eh + nph * ph;
  size_t o_dynstr = o_interp + interp.size();
  size_t o_dynsym = (o_dynstr + dynstr.size() + 7) & ~size_t{7};
  size_t o_hash = o_dynsym + 3 * sym;
  size_t o_dyn = o_hash + 4 * 6;
  const size_t ndyn = 10;
  size_t o_comment = o_dyn + ndyn * dyn;
  size_t o_shstr = o_comment + comment.size();
  size_t o_sh = (o_shstr + shstr.size() + 7) & ~size_t{7};
  const size_t sh = is64 ? 64 : 40, nsh = sections ? 6 : 0;
  size_t total = o_sh + nsh * sh;

  Writer w(is64, big);
  w.Bytes(
      "\x7f"
      "ELF");
  w.U8(is64 ? 2 : 1);
  w.U8(big ? 2 : 1);
  w.U8(1);
  w.PadTo(16);
  w.U16(2);  // ET_EXEC
  w.U16(machine);
  w.U32(1);
  w.Addr(base + 0x100);         // entry
  w.Addr(eh);                   // phoff
  w.Addr(sections ? o_sh : 0);  // shoff
  w.U32(0);                     // flags
  w.U16(static_cast<uint16_t>(eh));
  w.U16(static_cast<uint16_t>(ph));
  w.U16(nph);
  w.U16(static_cast<uint16_t>(sh));
  w.U16(static_cast<uint16_t>(nsh));
  w.U16(sections ? 5 : 0);  // shstrndx
  auto phdr = [&](uint32_t type, uint32_t flags, uint64_t off, uint64_t size) {
    w.U32(type);
    if (is64) w.U32(flags);
    w.Addr(off);
    w.Addr(base + off);
    w.Addr(base + off);
    w.Addr(size);
    w.Addr(size);
    if (!is64) w.U32(flags);
    w.Addr(4);
  };
  phdr(facts::kPtLoad, 7, 0, total);
  phdr(facts::kPtInterp, 4, o_interp, interp.size());
  phdr(facts::kPtDynamic, 6, o_dyn, ndyn * dyn);
  phdr(facts::kPtGnuStack, 6, 0, 0);
  w.Bytes(interp);
  w.Bytes(dynstr);
  w.PadTo(o_dynsym);
  auto symbol = [&](uint32_t name, uint64_t value, uint8_t info, uint16_t shndx) {
    w.U32(name);
    if (is64) {
      w.U8(info), w.U8(0), w.U16(shndx), w.U64(value), w.U64(0);
    } else {
      w.U32(static_cast<uint32_t>(value)), w.U32(0), w.U8(info), w.U8(0), w.U16(shndx);
    }
  };
  symbol(0, 0, 0, 0);
  symbol(s_puts, 0, 0x12, 0);               // GLOBAL FUNC UND
  symbol(s_export, base + 0x100, 0x12, 1);  // GLOBAL FUNC defined
  // DT_HASH: nbucket 1, nchain 3, bucket[0] = 2, chain = {0, 0, 1}
  for (uint32_t v : {1u, 3u, 2u, 0u, 0u, 1u}) w.U32(v);
  auto dynent = [&](uint64_t tag, uint64_t val) { w.Addr(tag), w.Addr(val); };
  dynent(1, s_libc);           // NEEDED
  dynent(15, s_rpath);         // RPATH
  dynent(5, base + o_dynstr);  // STRTAB
  dynent(10, dynstr.size());   // STRSZ
  dynent(6, base + o_dynsym);  // SYMTAB
  dynent(11, sym);             // SYMENT
  dynent(4, base + o_hash);    // HASH
  dynent(30, 8);               // FLAGS: BIND_NOW
  dynent(0x6ffffffb, 1);       // FLAGS_1: NOW
  dynent(0, 0);
  w.Bytes(comment);
  w.Bytes(shstr);
  w.PadTo(o_sh);
  if (sections) {
    auto shdr = [&](uint32_t name, uint32_t type, uint64_t off, uint64_t size, uint32_t link,
                    uint64_t entsize) {
      w.U32(name), w.U32(type), w.Addr(0), w.Addr(base + off), w.Addr(off), w.Addr(size);
      w.U32(link), w.U32(0), w.Addr(1), w.Addr(entsize);
    };
    shdr(0, 0, 0, 0, 0, 0);
    shdr(1, 11, o_dynsym, 3 * sym, 2, sym);        // .dynsym
    shdr(9, 3, o_dynstr, dynstr.size(), 0, 0);     // .dynstr
    shdr(17, 1, o_comment, comment.size(), 0, 1);  // .comment
    shdr(26, 1, o_comment, 0, 0, 0);               // .debug_info (empty)
    shdr(0, 3, o_shstr, shstr.size(), 0, 0);       // names
  }
  EXPECT_EQ(w.size(), total);
  return w.str();
}

TEST(ElfHandMade, EveryClassAndByteOrder) {
  struct Case {
    bool is64, big;
    uint16_t machine;
    const char* name;
  };
  for (Case c : {Case{false, true, 8, "mips"}, Case{false, false, 8, "mips"},
                 Case{false, false, 40, "arm"}, Case{false, true, 40, "arm"},
                 Case{true, false, 183, "aarch64"}, Case{true, true, 21, "powerpc64"},
                 Case{true, false, 62, "x86_64"}, Case{false, false, 3, "x86"}}) {
    for (bool sections : {false, true}) {
      SCOPED_TRACE(fmt::format("{} {}-bit {} sections={}", c.name, c.is64 ? 64 : 32,
                               c.big ? "BE" : "LE", sections));
      std::string bytes = MakeElf(c.is64, c.big, c.machine, sections);
      auto e = ParseElf(bytes);
      ASSERT_TRUE(e) << e.error().ToString();
      EXPECT_EQ(e->bits, c.is64 ? 64 : 32);
      EXPECT_EQ(e->endian, c.big ? Endian::kBig : Endian::kLittle);
      EXPECT_EQ(e->machine, c.name);
      EXPECT_EQ(e->type, facts::ElfType::kExec);
      EXPECT_EQ(e->entry, 0x400100u);
      EXPECT_EQ(e->interpreter, "/lib/ld-uClibc.so.0");
      EXPECT_TRUE(e->wx_load);
      EXPECT_TRUE(e->has_gnu_stack);
      EXPECT_FALSE(e->exec_stack);
      EXPECT_FALSE(e->has_relro);
      EXPECT_TRUE(e->bind_now);
      EXPECT_EQ(e->needed, std::vector<std::string>{"libc.so.0"});
      EXPECT_EQ(e->rpath, "/tmp/lib");
      EXPECT_EQ(e->imports, std::vector<std::string>{"puts"});
      EXPECT_EQ(e->exports, std::vector<std::string>{"my_export"});
      EXPECT_EQ(e->has_sections, sections);
      EXPECT_EQ(e->has_debug, sections);
      if (sections) {
        EXPECT_EQ(e->comments, std::vector<std::string>{"GCC: (GNU) 4.8.3"});
      }
      EXPECT_TRUE(e->problems.empty()) << e->problems.front();
      // readelf agrees on the hand-made file too.
      if (HaveTool("readelf")) {
        t::TempDir d;
        t::WriteFile(d / "f", bytes);
        ExpectMatchesReadelf(d / "f");
      }
    }
  }
}

TEST(ElfHandMade, HostileOffsetsFailWithTheOffset) {
  std::string bytes = MakeElf(false, true, 8, true);
  std::string bad = bytes;
  bad[28] = '\x7f';  // e_phoff (big-endian u32 at 28) far beyond the file
  auto e = ParseElf(bad);
  ASSERT_FALSE(e);
  EXPECT_TRUE(e.error().offset.has_value());
  EXPECT_GE(*e.error().offset, 0x7f000000u);
  EXPECT_FALSE(ParseElf(bytes.substr(0, 40)));
  EXPECT_FALSE(
      ParseElf("\x7f"
               "ELF\x03\x01"));
  EXPECT_FALSE(ParseElf("not an elf"));
}

// ---- hostile input ----

void ParseAll(const std::string& bytes, size_t step) {
  for (size_t n = 0; n <= bytes.size(); n += (n < 4096 ? 1 : step))
    (void)ParseElf(bytes.substr(0, n));
}

TEST(ElfHostile, EveryTruncation) {
  for (bool is64 : {false, true})
    for (bool big : {false, true})
      for (bool sections : {false, true}) ParseAll(MakeElf(is64, big, 8, sections), 1);
  if (!HaveTool("gcc")) return;
  t::TempDir dir;
  std::string p = Compile(dir, "small", "-O2 -s", kSource);
  if (!p.empty()) ParseAll(t::ReadFile(p), 7);
}

TEST(ElfHostile, RandomFlips) {
  std::vector<std::string> seeds = {MakeElf(false, true, 8, true), MakeElf(true, false, 183, true),
                                    MakeElf(false, false, 40, false)};
  if (HaveTool("gcc")) {
    t::TempDir dir;
    std::string p = Compile(dir, "small", "-O2 -Wl,--hash-style=both", kSource);
    if (!p.empty()) seeds.push_back(t::ReadFile(p));
  }
  std::mt19937_64 rng(20231114);
  size_t parsed = 0;
  for (const std::string& seed : seeds) {
    for (int round = 0; round < 3000; ++round) {
      std::string b = seed;
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < flips; ++i) {
        // Mostly the headers and tables near the start, sometimes anywhere.
        size_t limit = (rng() % 4 == 0) ? b.size() : std::min<size_t>(b.size(), 1024);
        size_t at = rng() % limit;
        b[at] = static_cast<char>(rng() & 0xff);
      }
      if (auto e = ParseElf(b)) ++parsed;
    }
  }
  EXPECT_GT(parsed, 0u);
}

// ---- real binaries of other architectures ----

void CompareTree(const std::string& root, size_t& compared, size_t limit) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       it != std::filesystem::recursive_directory_iterator() && compared < limit;
       it.increment(ec)) {
    if (ec) break;
    if (it->is_symlink() || !it->is_regular_file()) continue;
    std::string head = t::ReadFile(it->path()).substr(0, 4);
    if (head !=
        "\x7f"
        "ELF")
      continue;
    ExpectMatchesReadelf(it->path());
    ++compared;
  }
}

// The OpenWrt ar71xx images: MIPS big-endian, uClibc/musl, sstrip'ed.
TEST(ElfRealImages, OpenWrtMipsBigEndianMatchesReadelf) {
  if (!HaveTool("readelf")) GTEST_SKIP();
  std::string image =
      t::SharedDir() + "/corpora/firmware/openwrt-15.05.1-ar71xx-tl-wr703n-v1-sysupgrade.bin";
  if (!t::Exists(image)) GTEST_SKIP() << "needs " << image;
  t::TempDir dir;
  UnpackOptions o;
  o.output_dir = dir / "out";
  auto u = Unpack(image, o);
  ASSERT_TRUE(u) << u.error().message;
  size_t compared = 0;
  CompareTree(dir / "out", compared, 400);
  EXPECT_GT(compared, 20u);
}

// The corpus's Debian programs for mipsel, armel and arm64 (when tests/corpus/build has run):
// each architecture's tar image, unpacked, every ELF compared.
TEST(ElfRealImages, CorpusArchitecturesMatchReadelf) {
  if (!HaveTool("readelf")) GTEST_SKIP();
  std::string corpus = t::CorpusDir();
  if (corpus.empty()) GTEST_SKIP() << "no corpus (python3 tests/corpus/build --out build/corpus)";
  size_t compared = 0;
  for (const char* arch : {"bookworm-mipsel", "bookworm-armel", "bookworm-arm64"}) {
    std::string image = corpus + "/" + arch + "/tar-gnu.tar.gz";
    if (!t::Exists(image)) continue;
    SCOPED_TRACE(arch);
    t::TempDir dir;
    UnpackOptions o;
    o.output_dir = dir / "out";
    auto u = Unpack(image, o);
    ASSERT_TRUE(u) << u.error().message;
    size_t before = compared;
    CompareTree(dir / "out", compared, compared + 200);
    EXPECT_GT(compared, before) << "no ELF file in " << image;
  }
  if (compared == 0) GTEST_SKIP() << "no tar images in " << corpus;
}

}  // namespace
}  // namespace firmwarden
