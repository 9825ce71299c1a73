// Our own 7z reader (sevenzip_reader.h): archives written by the real 7z (7-Zip 26) at test time
// with every coder we decode, including the ARM64 branch filter libarchive 3.6 lacks. Each is
// extracted by our reader and compared byte for byte with the source tree, and with libarchive's
// result where libarchive can read it. Hostile inputs (every truncation, bit flips with the CRCs
// repaired, hand-made headers) must end in an error or a clean result, never a crash.
#include <archive.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "unpack/formats/archive_common.h"
#include "unpack/formats/handler_test_util.h"
#include "unpack/formats/sevenzip_reader.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {
namespace {

namespace t = firmwarden::testing;
using testing::Detail;
using testing::FindRegion;
using testing::FlipBits;
using testing::Info;
using testing::Shell;

constexpr int64_t kMtime = 1700000000;

// Bytes that look like arm64 code: BL and ADRP instructions (which the ARM64 filter rewrites)
// among a few common instructions, so the data compresses and the filter has work to do.
std::string Arm64Code(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s;
  static const uint32_t kCommon[] = {0xD503201F, 0xA9BF7BFD, 0x910003FD, 0xA8C17BFD,
                                     0xD65F03C0, 0xF9400000, 0xB9400001, 0x52800000};
  while (s.size() < n) {
    uint64_t r = rng();
    uint32_t insn;
    switch (r % 8) {
      case 0:
      case 1:
        insn = 0x94000000u | static_cast<uint32_t>((r >> 8) & 0x3FFF);  // BL, near
        break;
      case 2:
        insn = 0x90000000u | static_cast<uint32_t>((r >> 8) & 0x00FFFFE0);  // ADRP
        break;
      default:
        insn = kCommon[(r >> 8) % 8];
    }
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(insn >> (8 * i)));
  }
  s.resize(n);
  return s;
}

struct Want {
  std::string path;
  EntryType type;
  uint32_t mode;
  std::string content;  // file data or symlink target
};

// The tree every test archive packs, written under `src`.
std::vector<Want> MakeTree(const std::string& src) {
  std::string code = Arm64Code(150000, 1);
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "line " + std::to_string(i) + " of some config text\n";
  std::vector<Want> w = {
      {"bin", EntryType::kDir, 0755, ""},
      {"bin/app", EntryType::kFile, 0755, code},
      {"bin/su", EntryType::kFile, 04755, code.substr(0, 70001)},
      {"bin/sh", EntryType::kSymlink, 0777, "app"},
      {"etc", EntryType::kDir, 0755, ""},
      {"etc/passwd", EntryType::kFile, 0644, "root::0:0:root:/root:/bin/sh\n"},
      {"etc/shadow", EntryType::kFile, 0600, text},
      {"etc/rcS", EntryType::kSymlink, 0777, "../bin/app"},
      {"empty", EntryType::kFile, 0644, ""},
      {"emptydir", EntryType::kDir, 0700, ""},
      {"random.bin", EntryType::kFile, 0444, t::RandomBytes(100000, 7)},
      {"ls", EntryType::kFile, 0755, t::ReadFile("/bin/ls")},
  };
  std::string s = t::Sh(src);
  EXPECT_EQ(Shell("mkdir -p " + s + "/bin " + s + "/etc " + s + "/emptydir"), 0);
  for (const Want& e : w)
    if (e.type == EntryType::kFile) t::WriteFile(src + "/" + e.path, e.content);
  std::string cmd = "cd " + s;
  for (const Want& e : w) {
    if (e.type == EntryType::kSymlink) cmd += " && ln -s " + e.content + " " + e.path;
    if (e.type != EntryType::kSymlink) cmd += fmt::format(" && chmod {:o} {}", e.mode, e.path);
  }
  cmd += " && find . -exec touch -h -d @" + std::to_string(kMtime) + " {} +";
  EXPECT_EQ(Shell(cmd), 0) << cmd;
  return w;
}

// Packs `src` (a MakeTree) with 7z and `args`; returns the archive's bytes.
std::string Pack(const std::string& src, const std::string& out, const std::string& args,
                 const std::string& what = "bin etc empty emptydir random.bin ls") {
  std::string cmd = "cd " + t::Sh(src) + " && rm -f " + t::Sh(out) + " && 7z a -snl " + args + " " +
                    t::Sh(out) + " " + what + " >/dev/null 2>&1";
  EXPECT_EQ(Shell(cmd), 0) << cmd;
  return t::ReadFile(out);
}

struct Extracted {
  FileTree files;
  std::vector<Diagnostic> diags;
  Status status;
  std::string root;  // where the tree was written ("" for a dry run)
};

Budget MakeBudget(uint64_t bytes) {
  Budget b;
  b.bytes_left = bytes;
  b.files_left = 100000;
  b.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  return b;
}

// Extracts `bytes` with our reader (own) or libarchive into `dir` ("" for a dry run).
std::unique_ptr<Extracted> ExtractWith(bool own, const std::string& bytes, const std::string& dir,
                                       uint64_t budget_bytes = 1ULL << 30) {
  auto x = std::make_unique<Extracted>();
  Budget budget = MakeBudget(budget_bytes);
  int fd = -1;
  if (!dir.empty()) {
    EXPECT_EQ(Shell("mkdir -p " + t::Sh(dir)), 0);
    fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    x->root = dir;
  }
  x->files.BeginTree(Tree{"7z", "/0x0.7z", dir.empty() ? "" : "t", 0, 0});
  Bytes chunk = AsBytes(bytes);
  TreeSink sink(x->files, fd, "t", Origin{"7z", "/0x0.7z", 0}, budget, x->diags);
  ExtractContext ctx{chunk, 0, budget, "/0x0.7z"};
  if (own) {
    auto a = sevenzip::ReadArchive(chunk, 0);
    if (!a)
      x->status = std::unexpected(a.error());
    else
      x->status = sevenzip::Extract(*a, ctx, sink);
  } else {
    x->status = ExtractWithLibarchive(ctx, sink, archive_read_support_format_7zip);
  }
  return x;
}

const FileEntry* Find(const FileTree& ft, const std::string& path) { return ft.Find(0, path); }

// Every wanted entry is there with its type, mode, size, mtime and data; nothing else is.
void ExpectTree(const Extracted& x, const std::vector<Want>& want, const std::string& label) {
  SCOPED_TRACE(label);
  ASSERT_TRUE(x.status) << x.status.error().ToString();
  for (const Diagnostic& d : x.diags) ADD_FAILURE() << "diagnostic: " << d.message;
  EXPECT_EQ(x.files.entries().size(), want.size());
  for (const Want& w : want) {
    SCOPED_TRACE(w.path);
    const FileEntry* e = Find(x.files, w.path);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->type, w.type);
    if (w.type != EntryType::kSymlink) {
      EXPECT_EQ(e->mode, w.mode);
    }
    EXPECT_EQ(e->uid, 0u);
    EXPECT_EQ(e->gid, 0u);
    if (w.type == EntryType::kFile) {
      EXPECT_EQ(e->mtime, kMtime);
      EXPECT_EQ(e->size, w.content.size());
      EXPECT_EQ(e->state, EntryState::kWritten);
      std::string got = t::ReadFile(x.root + "/" + w.path);
      EXPECT_EQ(got.size(), w.content.size());
      EXPECT_TRUE(got == w.content) << "content differs";
      struct stat st;
      ASSERT_EQ(stat((x.root + "/" + w.path).c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 07000, 0u) << "setuid must not reach the disk";
    } else if (w.type == EntryType::kSymlink) {
      EXPECT_EQ(e->link_target, w.content);
      EXPECT_EQ(e->size, w.content.size());
      char buf[256] = {};
      ASSERT_GT(readlink((x.root + "/" + w.path).c_str(), buf, sizeof buf - 1), 0);
      EXPECT_EQ(std::string(buf), w.content);
    } else {
      struct stat st;
      ASSERT_EQ(lstat((x.root + "/" + w.path).c_str(), &st), 0);
      EXPECT_TRUE(S_ISDIR(st.st_mode));
    }
  }
}

// Our result equals libarchive's, entry by entry and byte for byte.
void ExpectSame(const Extracted& own, const Extracted& lib) {
  ASSERT_TRUE(lib.status) << lib.status.error().ToString();
  ASSERT_EQ(own.files.entries().size(), lib.files.entries().size());
  for (const FileEntry& o : own.files.entries()) {
    SCOPED_TRACE(o.tree_path);
    const FileEntry* l = Find(lib.files, o.tree_path);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(o.type, l->type);
    EXPECT_EQ(o.mode, l->mode);
    EXPECT_EQ(o.uid, l->uid);
    EXPECT_EQ(o.gid, l->gid);
    EXPECT_EQ(o.mtime, l->mtime);
    EXPECT_EQ(o.size, l->size);
    EXPECT_EQ(o.link_target, l->link_target);
    // libarchive appends '/' to directory names; we keep the name as stored.
    if (o.type != EntryType::kDir) {
      EXPECT_EQ(o.raw_name, l->raw_name);
    }
    if (o.type == EntryType::kFile) {
      EXPECT_EQ(t::Sha256Hex(t::ReadFile(own.root + "/" + o.tree_path)),
                t::Sha256Hex(t::ReadFile(lib.root + "/" + l->tree_path)));
    }
  }
}

struct Variant {
  const char* name;
  const char* args;
  const char* method;  // must appear in the folders' methods
  bool own;            // the handler must pick our reader (libarchive 3.6 cannot decode it)
  int libarchive;      // libarchive 3.6 reads it: 1 yes (results compared), 0 no, -1 depends
};

class SevenZipReaderTest : public ::testing::TestWithParam<Variant> {};

TEST_P(SevenZipReaderTest, ExtractsTheTreeByteForByte) {
  const Variant& v = GetParam();
  t::TempDir d;
  std::vector<Want> want = MakeTree(d / "src");
  std::string bytes = Pack(d / "src", d / "a.7z", v.args);
  ASSERT_FALSE(bytes.empty());

  auto a = sevenzip::ReadArchive(AsBytes(bytes), 0);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->files.size(), want.size());
  EXPECT_NE(sevenzip::Methods(*a).find(v.method), std::string::npos) << sevenzip::Methods(*a);
  EXPECT_TRUE(sevenzip::CanDecode(*a));
  EXPECT_EQ(sevenzip::NeedsOwnDecoder(*a), v.own) << sevenzip::Methods(*a);
  // 7z's own listing agrees on the method.
  std::string listing;
  ASSERT_EQ(Shell("7z l -slt " + t::Sh(d / "a.7z"), &listing), 0);
  EXPECT_NE(listing.find(v.method), std::string::npos);

  auto own = ExtractWith(true, bytes, d / "own");
  ExpectTree(*own, want, "own reader");

  auto lib = ExtractWith(false, bytes, d / "lib");
  if (v.libarchive == 1 || (v.libarchive == -1 && lib->status)) {
    ExpectTree(*lib, want, "libarchive");
    ExpectSame(*own, *lib);
  } else if (v.libarchive == 0) {
    EXPECT_FALSE(lib->status) << "libarchive 3.6 was expected to fail on " << v.args;
  }

  // A dry run records the same entries (symlink targets included) and writes nothing.
  auto dry = ExtractWith(true, bytes, "");
  ASSERT_TRUE(dry->status) << dry->status.error().ToString();
  ASSERT_EQ(dry->files.entries().size(), own->files.entries().size());
  for (const FileEntry& e : own->files.entries()) {
    const FileEntry* g = Find(dry->files, e.tree_path);
    ASSERT_NE(g, nullptr) << e.tree_path;
    EXPECT_EQ(g->type, e.type);
    EXPECT_EQ(g->mode, e.mode);
    EXPECT_EQ(g->size, e.size);
    EXPECT_EQ(g->link_target, e.link_target);
  }

  // The whole engine picks the right extractor and ends clean.
  UnpackOptions o;
  o.output_dir = d / "x";
  auto r = Unpack(d / "a.7z", o);
  ASSERT_TRUE(r);
  for (const Diagnostic& dg : r->diagnostics) ADD_FAILURE() << dg.message;
  ASSERT_EQ(r->files.trees().size(), 1u);
  EXPECT_EQ(r->files.trees()[0].format, "7z");
  const FileEntry* app = r->files.Find(0, "bin/app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(t::ReadFile(d / ("x/" + r->files.trees()[0].disk_dir + "/bin/app")), want[1].content);
  const FileEntry* su = r->files.Find(0, "bin/su");
  ASSERT_NE(su, nullptr);
  EXPECT_EQ(su->mode, 04755u);
  const Region* reg = FindRegion(r->layout, "7z");
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(Detail(reg->details, "files"), std::to_string(want.size()));
  EXPECT_NE(Detail(reg->details, "methods").find(v.method), std::string::npos);
}

const Variant kVariants[] = {
    {"Arm64Lzma2EncodedHeader", "-mf=ARM64 -mhc=on", "ARM64", true, 0},
    {"Arm64Lzma2PlainHeader", "-mf=ARM64 -mhc=off", "ARM64", true, 0},
    {"Arm64Lzma", "-m0=LZMA -mf=ARM64", "ARM64", true, 0},
    {"Arm64NonSolid", "-mf=ARM64 -ms=off", "ARM64", true, 0},
    {"Arm64Ultra", "-mf=ARM64 -mx=9 -mqs=on", "ARM64", true, 0},
    {"Arm64Deflate", "-m0=Deflate -mf=ARM64", "ARM64", true, 0},
    {"Copy", "-m0=Copy", "Copy", false, 1},
    {"CopyPlainHeader", "-m0=Copy -mhc=off", "Copy", false, 1},
    {"Deflate", "-m0=Deflate -mf=off", "Deflate", false, 1},
    {"BZip2", "-m0=BZip2 -mf=off", "BZip2", false, 1},
    {"BZip2Multithreaded", "-m0=BZip2 -mf=off -mmt=2 -md=100k", "BZip2", false, 1},
    {"Lzma", "-m0=LZMA -mf=off", "LZMA", false, 1},
    {"LzmaBcj", "-m0=LZMA -mf=BCJ", "BCJ", false, 1},
    {"Lzma2Bcj", "-m0=LZMA2 -mf=BCJ", "BCJ", false, 1},
    {"Lzma2Ppc", "-m0=LZMA2 -mf=PPC", "PPC", false, 1},
    {"Lzma2Ia64", "-m0=LZMA2 -mf=IA64", "IA64", false, 1},
    {"Lzma2Arm", "-m0=LZMA2 -mf=ARM", "ARM", false, 1},
    {"Lzma2Armt", "-m0=LZMA2 -mf=ARMT", "ARMT", false, 1},
    {"LzmaSparc", "-m0=LZMA -mf=SPARC", "SPARC", true, -1},
    {"LzmaArmt", "-m0=LZMA -mf=ARMT", "ARMT", true, -1},
    {"Lzma2Delta", "-m0=LZMA2 -mf=Delta:4", "Delta", false, 1},
    {"DeflateBcj", "-m0=Deflate -mf=BCJ", "BCJ", false, 1},
    {"BZip2Arm", "-m0=BZip2 -mf=ARM", "ARM", true, 0},
    {"CopyPpc", "-m0=Copy -mf=PPC", "PPC", true, 0},
    {"Lzma2NonSolidBlocks", "-m0=LZMA2 -ms=2f -mf=off", "LZMA2", false, 1},
};

INSTANTIATE_TEST_SUITE_P(Coders, SevenZipReaderTest, ::testing::ValuesIn(kVariants),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SevenZipReader, SeveralFoldersAndSubstreams) {
  t::TempDir d;
  MakeTree(d / "src");
  std::string bytes = Pack(d / "src", d / "a.7z", "-mf=ARM64 -ms=2f");
  auto a = sevenzip::ReadArchive(AsBytes(bytes), 0);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_GE(a->folders.size(), 4u);
  uint64_t substreams = 0;
  for (const sevenzip::Folder& f : a->folders) substreams += f.num_substreams;
  size_t with_data = 0;
  for (const sevenzip::File& f : a->files) with_data += f.has_stream;
  EXPECT_EQ(substreams, with_data);
  EXPECT_TRUE(sevenzip::NeedsOwnDecoder(*a));
}

TEST(SevenZipReader, EmptyArchiveAndOnlyEmptyEntries) {
  t::TempDir d;
  MakeTree(d / "src");
  std::string bytes = Pack(d / "src", d / "a.7z", "", "empty emptydir");
  auto a = sevenzip::ReadArchive(AsBytes(bytes), 0);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_TRUE(a->folders.empty());
  ASSERT_EQ(a->files.size(), 2u);
  auto x = ExtractWith(true, bytes, d / "own");
  ASSERT_TRUE(x->status);
  const FileEntry* e = Find(x->files, "empty");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, EntryType::kFile);
  EXPECT_EQ(e->size, 0u);
  EXPECT_EQ(t::ReadFile(d / "own/empty"), "");
  const FileEntry* dir = Find(x->files, "emptydir");
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(dir->type, EntryType::kDir);
  EXPECT_EQ(dir->mode, 0700u);
}

TEST(SevenZipReader, UnicodeNames) {
  t::TempDir d;
  ASSERT_EQ(Shell("mkdir -p " + t::Sh(d / "src") + " && cd " + t::Sh(d / "src") +
                  " && printf x > 'grüße €.txt' && printf y > '\xF0\x9F\x98\x80.bin'"),
            0);
  std::string bytes = Pack(d / "src", d / "a.7z", "-mf=ARM64", "*");
  auto x = ExtractWith(true, bytes, d / "own");
  ASSERT_TRUE(x->status);
  EXPECT_NE(Find(x->files, "grüße €.txt"), nullptr);
  EXPECT_NE(Find(x->files, "\xF0\x9F\x98\x80.bin"), nullptr);
  EXPECT_EQ(t::ReadFile(d / "own/\xF0\x9F\x98\x80.bin"), "y");
}

// Codecs we do not decode name themselves, and the handler leaves such archives to libarchive.
TEST(SevenZipReader, UnsupportedCodecsNameTheirId) {
  t::TempDir d;
  MakeTree(d / "src");
  struct Case {
    const char* args;
    const char* message;
  } cases[] = {
      {"-m0=PPMd -mf=off", "7z codec 030401 (PPMD) not supported"},
      {"-m0=Deflate64 -mf=off", "7z codec 040109 (Deflate64) not supported"},
      {"-m0=BCJ2 -m1=LZMA", "7z codec 0303011B (BCJ2) not supported"},
      {"-pSecret -mhe=off", "encrypted (AES)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    std::string bytes = Pack(d / "src", d / "a.7z", c.args);
    auto a = sevenzip::ReadArchive(AsBytes(bytes), 0);
    ASSERT_TRUE(a) << a.error().ToString();
    EXPECT_FALSE(sevenzip::CanDecode(*a));
    auto x = ExtractWith(true, bytes, d / "own");
    ASSERT_FALSE(x->status);
    EXPECT_EQ(x->status.error().code, ErrorCode::kUnsupported);
    EXPECT_NE(x->status.error().message.find(c.message), std::string::npos)
        << x->status.error().message;
    EXPECT_TRUE(x->status.error().offset.has_value());
    Shell("rm -rf " + t::Sh(d / "own"));
  }
}

TEST(SevenZipReader, BudgetIsChecked) {
  t::TempDir d;
  MakeTree(d / "src");
  std::string bytes = Pack(d / "src", d / "a.7z", "-mf=ARM64");
  auto x = ExtractWith(true, bytes, d / "own", 1000);
  ASSERT_FALSE(x->status);
  EXPECT_EQ(x->status.error().code, ErrorCode::kLimit);
  EXPECT_NE(x->status.error().message.find("budget"), std::string::npos);
  // The encoded header itself is capped too.
  std::string enc = Pack(d / "src", d / "b.7z", "-mf=ARM64 -mhc=on");
  auto a = sevenzip::ReadArchive(AsBytes(enc), 0, 16);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kLimit);
}

// Rewrites the next-header and start-header CRCs so mutated headers reach the parser.
void FixCrcs(std::string& s) {
  if (s.size() < 32) return;
  Bytes b = AsBytes(s);
  uint64_t off = *ReadU64(b, 12, Endian::kLittle);
  uint64_t size = *ReadU64(b, 20, Endian::kLittle);
  if (off <= s.size() - 32 && size <= s.size() - 32 - off) {
    uint32_t c = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(s.data() + 32 + off), static_cast<uInt>(size)));
    testing::PutU32(s, 28, c, false);
  }
  uint32_t c = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(s.data() + 12), 20));
  testing::PutU32(s, 8, c, false);
}

// Runs the reader on hostile bytes: an error or a result, never a crash.
void Survive(const std::string& bytes, const std::string& dir) {
  auto a = sevenzip::ReadArchive(AsBytes(bytes), 0);
  if (!a) {
    EXPECT_FALSE(a.error().message.empty());
    return;
  }
  auto dry = ExtractWith(true, bytes, "", 8ULL << 20);
  if (!dry->status) {
    EXPECT_FALSE(dry->status.error().message.empty());
  }
  if (!dir.empty()) {
    auto x = ExtractWith(true, bytes, dir, 8ULL << 20);
    if (!x->status) {
      EXPECT_FALSE(x->status.error().message.empty());
    }
    Shell("rm -rf " + t::Sh(dir));
  }
}

std::string SmallArchive(const t::TempDir& d, const std::string& args) {
  Shell("mkdir -p " + t::Sh(d / "small") + " && cd " + t::Sh(d / "small") +
        " && mkdir -p sub && printf 'hello world hello world\\n' > sub/a && ln -sf a sub/l"
        " && head -c 300 /bin/ls > b && chmod 4755 b");
  return Pack(d / "small", d / "small.7z", args, "sub b");
}

TEST(SevenZipHostile, EveryTruncation) {
  t::TempDir d;
  for (const char* args : {"-mf=ARM64 -mhc=on", "-mf=ARM64 -mhc=off", "-m0=BZip2 -mf=ARM"}) {
    SCOPED_TRACE(args);
    std::string full = SmallArchive(d, args);
    ASSERT_GT(full.size(), 100u);
    int ok = 0;
    for (size_t n = 0; n < full.size(); ++n) {
      auto a = sevenzip::ReadArchive(AsBytes(full).first(n), 0);
      ASSERT_FALSE(a) << "prefix " << n << " parsed";
      EXPECT_FALSE(a.error().message.empty());
      // With the CRCs repaired the header parser sees the truncated data itself.
      std::string cut = full.substr(0, n);
      FixCrcs(cut);
      Survive(cut, "");
      ok += sevenzip::ReadArchive(AsBytes(cut), 0).has_value();
      // And through the whole engine (handler + libarchive fallback), in info mode.
      if (n % 7 == 0) Info(cut);
    }
    auto a = sevenzip::ReadArchive(AsBytes(full), 0);
    ASSERT_TRUE(a);
    EXPECT_LT(ok, static_cast<int>(full.size()));
  }
}

TEST(SevenZipHostile, BitFlipsWithRepairedCrcs) {
  t::TempDir d;
  for (const char* args : {"-mf=ARM64 -mhc=on", "-mf=ARM64 -mhc=off", "-m0=Deflate -mf=ARM64",
                           "-m0=LZMA -mf=ARM64", "-m0=BZip2"}) {
    SCOPED_TRACE(args);
    std::string full = SmallArchive(d, args);
    int parsed = 0, failed = 0;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      std::string m = FlipBits(full, seed, 1 + static_cast<int>(seed % 4), 32);
      FixCrcs(m);
      auto a = sevenzip::ReadArchive(AsBytes(m), 0);
      (a ? parsed : failed)++;
      Survive(m, seed % 10 == 0 ? d / "flip" : "");
      if (seed % 5 == 0) Info(m);
    }
    EXPECT_GT(failed, 0);
  }
}

// Headers made by hand: absurd counts, sizes and coders.
std::string WithHeader(const std::string& header, const std::string& packed = "") {
  std::string s("7z\xBC\xAF\x27\x1C\x00\x04", 8);
  s.resize(32, '\0');
  s += packed;
  s += header;
  for (int i = 0; i < 8; ++i) s[12 + i] = static_cast<char>((packed.size() >> (8 * i)) & 0xFF);
  for (int i = 0; i < 8; ++i) s[20 + i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  FixCrcs(s);
  return s;
}

TEST(SevenZipHostile, HandMadeHeaders) {
  struct Case {
    const char* name;
    std::string header;
    const char* message;
  } cases[] = {
      // kHeader kFilesInfo NumFiles=2^56-ish
      {"huge file count", std::string("\x01\x05\xFE\xFF\xFF\xFF\xFF\xFF\xFF\x00", 10),
       "implausible file count"},
      // kHeader kMainStreamsInfo kPackInfo pos=0 count=huge
      {"huge pack count", std::string("\x01\x04\x06\x00\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 13),
       "implausible pack stream count"},
      // folder with 200 coders
      {"many coders",
       std::string("\x01\x04\x06\x00\x01\x09\x05\x00\x07\x0B\x01\x00\x80\xC8", 14) +
           std::string(64, '\0'),
       "implausible coder count"},
      {"unknown top property", std::string("\x01\x42\x00", 3), "unexpected 0x42"},
      {"not a header", std::string("\x33\x00", 2), "header starts with 0x33"},
      {"truncated number", std::string("\x01\x05\xFF\x01", 4), "number"},
      {"names run out", std::string("\x01\x05\x02\x11\x05\x00\x41\x00\x00\x00\x00", 11),
       "names end early"},
      {"encoded twice",
       // kEncodedHeader: PackInfo(pos 0, 1 stream, size 5) UnpackInfo(1 folder: Copy, size 5)
       std::string("\x17\x06\x00\x01\x09\x05\x00\x07\x0B\x01\x00\x01\x00\x0C\x05\x00\x00", 17),
       "encoded twice"},
      {"bind pair out of range",
       std::string("\x01\x04\x06\x00\x01\x09\x05\x00\x07\x0B\x01\x00\x02\x01\x00\x01\x21\x05\x09"
                   "\x0C\x05\x05\x00\x00\x00",
                   25),
       "bind pair out of range"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string packed = std::string(c.name) == "encoded twice"
                             ? std::string("\x17\x00", 2) + std::string("\x00\x00\x00", 3)
                             : "";
    std::string s = WithHeader(c.header, packed);
    auto a = sevenzip::ReadArchive(AsBytes(s), 0);
    ASSERT_FALSE(a) << c.name;
    EXPECT_NE(a.error().message.find(c.message), std::string::npos) << a.error().message;
    EXPECT_TRUE(a.error().offset.has_value());
    Info(s);
  }
  // A header size far beyond the data is refused before anything is read.
  std::string s = WithHeader(std::string("\x01\x00", 2));
  testing::PutU32(s, 20, 0xFFFFFFF0u, false);
  FixCrcs(s);
  auto a = sevenzip::ReadArchive(AsBytes(s), 0);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kTruncated);
  // The smallest valid archive: an empty header.
  auto empty = sevenzip::ReadArchive(AsBytes(WithHeader("")), 0);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->files.empty());
}

// A dictionary far larger than the data must not make the decoder allocate it: the LZMA2
// dictionary byte of a real archive is raised to 4 GiB and the archive still extracts.
TEST(SevenZipHostile, HugeDictionaryIsCapped) {
  t::TempDir d;
  MakeTree(d / "src");
  std::string bytes = Pack(d / "src", d / "a.7z", "-mf=ARM64 -mhc=off", "etc");
  auto a = sevenzip::ReadArchive(AsBytes(bytes), 0);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->folders.size(), 1u);
  const sevenzip::Coder* lz2 = nullptr;
  for (const sevenzip::Coder& c : a->folders[0].coders)
    if (c.id == 0x21) lz2 = &c;
  ASSERT_NE(lz2, nullptr);
  ASSERT_EQ(lz2->props.size(), 1u);
  // Find the coder record "21 <props>" in the plain header and raise the dictionary byte.
  std::string rec = std::string("\x21\x01", 2) + lz2->props;
  size_t at = bytes.find(rec, 32 + a->pack_sizes[0]);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 2] = static_cast<char>(40);  // 4 GiB - 1, the largest defined value
  FixCrcs(bytes);
  auto x = ExtractWith(true, bytes, d / "own");
  ASSERT_TRUE(x->status) << x->status.error().ToString();
  EXPECT_EQ(t::ReadFile(d / "own/etc/passwd"), "root::0:0:root:/root:/bin/sh\n");
}

}  // namespace
}  // namespace firmwarden::unpack
