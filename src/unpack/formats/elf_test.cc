#include <gtest/gtest.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::Sh;
using firmwarden::testing::TempDir;
using firmwarden::testing::WriteFile;

void Put(std::string& s, size_t at, uint64_t v, int width, bool be) {
  if (s.size() < at + width) s.resize(at + width, '\0');
  for (int i = 0; i < width; ++i) {
    int shift = be ? 8 * (width - 1 - i) : 8 * i;
    s[at + i] = static_cast<char>((v >> shift) & 0xFF);
  }
}

// A minimal executable: ELF header, one PT_INTERP and one PT_LOAD program header, the payload
// (an interpreter path then code), and a section table (null, .text, .bss) at the end.
std::string MakeElf(bool is64, bool be, uint16_t machine, const std::string& code) {
  const size_t eh = is64 ? 64 : 52, ph = is64 ? 56 : 32, sh = is64 ? 64 : 40;
  const std::string interp = std::string("/lib/ld-test.so.1\0", 18);
  const size_t data_off = eh + 2 * ph;
  const size_t code_off = data_off + interp.size();
  const size_t shoff = (code_off + code.size() + 7) & ~size_t{7};
  std::string s = "\177ELF";
  s += static_cast<char>(is64 ? 2 : 1);
  s += static_cast<char>(be ? 2 : 1);
  s += '\x01';
  s.resize(16, '\0');
  auto w = [&](size_t at, uint64_t v, int width) { Put(s, at, v, width, be); };
  auto addr = [&](size_t at32, size_t at64, uint64_t v) {
    if (is64)
      w(at64, v, 8);
    else
      w(at32, v, 4);
  };
  w(16, 2, 2);  // ET_EXEC
  w(18, machine, 2);
  w(20, 1, 4);
  addr(24, 24, 0x400100);        // entry
  addr(28, 32, eh);              // phoff
  addr(32, 40, shoff);           // shoff
  size_t tail = is64 ? 48 : 36;  // flags, then the 16-bit fields
  w(tail, 0, 4);
  w(tail + 4, eh, 2);
  w(tail + 6, ph, 2);
  w(tail + 8, 2, 2);
  w(tail + 10, sh, 2);
  w(tail + 12, 3, 2);
  w(tail + 14, 0, 2);
  s.resize(data_off, '\0');
  // Program headers: type, offset, filesz at their class-specific positions.
  auto phdr = [&](size_t at, uint32_t type, uint64_t off, uint64_t size) {
    w(at, type, 4);
    if (is64) {
      w(at + 8, off, 8);
      w(at + 32, size, 8);
      w(at + 40, size, 8);
    } else {
      w(at + 4, off, 4);
      w(at + 16, size, 4);
      w(at + 20, size, 4);
    }
  };
  phdr(eh, 3, data_off, interp.size());
  phdr(eh + ph, 1, 0, code_off + code.size());
  s += interp + code;
  s.resize(shoff, '\0');
  auto shdr = [&](uint32_t type, uint64_t off, uint64_t size) {
    size_t at = s.size();
    s.resize(at + sh, '\0');
    w(at + 4, type, 4);
    if (is64) {
      w(at + 24, off, 8);
      w(at + 32, size, 8);
    } else {
      w(at + 16, off, 4);
      w(at + 20, size, 4);
    }
  };
  shdr(0, 0, 0);
  shdr(1, code_off, code.size());  // PROGBITS
  shdr(8, code_off, 0x7FFFFFF0);   // NOBITS: no file space, must not count
  return s;
}

TEST(Elf, SystemBinary) {
  std::string bin = ReadFile("/bin/true");
  if (bin.size() < 64) GTEST_SKIP() << "/bin/true unreadable";
  auto p = ParseWith("elf", bin);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, bin.size());
  EXPECT_FALSE(p->truncated);
  EXPECT_EQ(Detail(*p, "class"), sizeof(void*) == 8 ? "ELF64" : "ELF32");
  EXPECT_EQ(Detail(*p, "endianness"), "little");
#if defined(__x86_64__)
  EXPECT_EQ(Detail(*p, "machine"), "x86-64");
#elif defined(__aarch64__)
  EXPECT_EQ(Detail(*p, "machine"), "AArch64");
#endif
  EXPECT_TRUE(Detail(*p, "interpreter").starts_with("/lib")) << Detail(*p, "interpreter");

  // Embedded with data on both sides: measured, not assumed to run to the end.
  std::string blob = RandomBytes(1000, 1) + bin + std::string(4096, '\0') + RandomBytes(77, 2);
  Unpacked u = Info(blob);
  const Region* r = FindRegion(u.layout, "elf");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 1000u);
  EXPECT_EQ(r->size, bin.size());
}

TEST(Elf, CompiledObjectFile) {
  if (Shell("command -v cc >/dev/null 2>&1") != 0) GTEST_SKIP() << "no C compiler";
  TempDir dir;
  WriteFile(dir / "a.c", "int answer(void) { return 42; }\nconst char msg[] = \"hello\";\n");
  ASSERT_EQ(Shell("cc -c -O1 -o " + Sh(dir / "a.o") + " " + Sh(dir / "a.c")), 0);
  std::string obj = ReadFile(dir / "a.o");
  auto p = ParseWith("elf", obj);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, obj.size());
  EXPECT_EQ(Detail(*p, "type"), "relocatable");
}

TEST(Elf, HandBuiltBigEndianMips) {
  std::string code = RandomBytes(301, 3);
  std::string elf = MakeElf(false, true, 8, code);
  auto p = ParseWith("elf", elf + "trailing junk that is not part of the ELF");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, elf.size());
  EXPECT_EQ(Detail(*p, "class"), "ELF32");
  EXPECT_EQ(Detail(*p, "endianness"), "big");
  EXPECT_EQ(Detail(*p, "machine"), "MIPS");
  EXPECT_EQ(Detail(*p, "type"), "executable");
  EXPECT_EQ(Detail(*p, "entry"), "0x400100");
  EXPECT_EQ(Detail(*p, "interpreter"), "/lib/ld-test.so.1");
}

TEST(Elf, OtherClassesAndMachines) {
  struct Case {
    bool is64, be;
    uint16_t machine;
    const char* name;
  };
  for (const Case& c : {Case{false, false, 40, "ARM"}, Case{true, false, 183, "AArch64"},
                        Case{true, true, 21, "PowerPC64"}, Case{false, true, 20, "PowerPC"},
                        Case{false, false, 94, "Xtensa"}, Case{false, false, 3, "x86"},
                        Case{true, false, 243, "RISC-V"}}) {
    std::string elf = MakeElf(c.is64, c.be, c.machine, RandomBytes(100, c.machine));
    auto p = ParseWith("elf", elf);
    ASSERT_TRUE(p.has_value()) << c.name << ": " << p.error().message;
    EXPECT_EQ(p->size, elf.size()) << c.name;
    EXPECT_EQ(Detail(*p, "machine"), c.name);
    EXPECT_EQ(Detail(*p, "class"), c.is64 ? "ELF64" : "ELF32");
    EXPECT_EQ(Detail(*p, "endianness"), c.be ? "big" : "little");
  }
}

TEST(Elf, TruncatedAndHostile) {
  std::string elf = MakeElf(false, true, 8, RandomBytes(300, 4));
  // Cut inside the ELF header or inside both tables: nothing to measure.
  for (size_t n = 0; n < 52 + 32; ++n)
    EXPECT_FALSE(ParseWith("elf", elf.substr(0, n)).has_value()) << n;
  // Cut later: the program headers are readable, the chunk is flagged as truncated.
  for (size_t n = 52 + 64; n < elf.size(); n += 13) {
    auto p = ParseWith("elf", elf.substr(0, n));
    ASSERT_TRUE(p.has_value()) << n;
    EXPECT_TRUE(p->truncated) << n;
    EXPECT_EQ(p->size, elf.size()) << n;
  }
  // A segment whose offset + size overflows is rejected, not wrapped.
  std::string bad = elf;
  Put(bad, 52 + 32 + 4, 0xFFFFFFFF, 4, true);   // second phdr offset
  Put(bad, 52 + 32 + 16, 0xFFFFFFFF, 4, true);  // filesz
  auto p = ParseWith("elf", bad);
  if (p) {
    EXPECT_TRUE(p->truncated);
  }
  std::string bad64 = MakeElf(true, false, 62, "x");
  Put(bad64, 64 + 56 + 8, 0xFFFFFFFFFFFFFF00ULL, 8, false);
  Put(bad64, 64 + 56 + 32, 0x1000, 8, false);
  EXPECT_FALSE(ParseWith("elf", bad64).has_value());
  // Header fields that no toolchain writes.
  for (auto [at, v] : std::vector<std::pair<size_t, uint8_t>>{{4, 3}, {5, 0}, {6, 2}}) {
    std::string h = elf;
    h[at] = static_cast<char>(v);
    EXPECT_FALSE(ParseWith("elf", h).has_value()) << at;
  }
}

TEST(Elf, ImplausibleSectionTableIgnored) {
  // As in execute-in-place filesystems: headers intact, something else where the section table
  // should be. The extent comes from the program headers alone.
  std::string elf = MakeElf(false, false, 94, RandomBytes(500, 6));
  uint32_t shoff = *ReadU32(AsBytes(elf), 32, Endian::kLittle);
  std::string garbage = RandomBytes(elf.size() - shoff, 7);
  PutU32(garbage, 16, 0xFFF00000, false);  // a "section" 4 GiB out
  PutU32(garbage, 20, 0x000FFFFF, false);
  elf.replace(shoff, garbage.size(), garbage);
  auto p = ParseWith("elf", elf + std::string(100, 'z'));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, 52u + 2 * 32 + 18 + 500);  // end of the PT_LOAD segment
  EXPECT_FALSE(p->truncated);
  EXPECT_EQ(Detail(*p, "section_table"), "implausible, not used for the size");
}

TEST(Elf, GarbageAndBitFlips) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::string g = "\177ELF" + RandomBytes(600, seed);
    EXPECT_FALSE(ParseWith("elf", g).has_value()) << seed;
  }
  std::string elf = MakeElf(true, false, 62, RandomBytes(200, 5));
  for (uint64_t seed = 0; seed < 400; ++seed) {
    std::string m = FlipBits(elf, seed, 1 + seed % 4, 4);
    auto p = ParseWith("elf", m);
    if (p) {
      EXPECT_GT(p->size, 0u);
    }
    if (seed % 20 == 0) Info(m);
  }
}

}  // namespace
}  // namespace firmwarden::unpack::testing
