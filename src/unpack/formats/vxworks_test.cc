#include <gtest/gtest.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::SharedDir;

// LZMA as TP-Link writes it: a 64 KiB dictionary, lc=0 (properties 0x5A).
std::string TpLinkLzma(std::string_view in) { return LzmaAlone(in, 1 << 16, 0); }

// A MemFS from its description: 32-byte magic, version 1, count, flags; 48-byte entries (name[40],
// stored size, offset from the magic); data 4-byte aligned.
std::string MakeMemfs(const std::vector<std::pair<std::string, std::string>>& files,
                      bool compress = true) {
  std::string s;
  for (int i = 0; i < 16; ++i) s += "ow";
  PutU32(s, 32, 1, true);
  PutU32(s, 36, static_cast<uint32_t>(files.size()), true);
  PutU32(s, 40, 0x14034, true);
  size_t table = s.size();
  s.resize(table + 48 * files.size(), '\0');
  for (size_t i = 0; i < files.size(); ++i) {
    std::string stored = compress ? TpLinkLzma(files[i].second) : files[i].second;
    s.resize((s.size() + 3) / 4 * 4, '\0');
    size_t e = table + 48 * i;
    s.replace(e, files[i].first.size(), files[i].first);
    PutU32(s, e + 40, static_cast<uint32_t>(stored.size()), true);
    PutU32(s, e + 44, static_cast<uint32_t>(s.size()), true);
    s += stored;
  }
  return s;
}

std::vector<std::pair<std::string, std::string>> Files() {
  return {{"index.htm", "<html>" + std::string(3000, 'x') + "</html>"},
          {"common.js", "var a = 1;\r\n" + RandomBytes(500, 1)},
          {"../../etc/passwd", "root::0:0::/:/bin/sh\n"}};
}

TEST(VxWorksMemfs, ListsAndExtractsFiles) {
  auto files = Files();
  std::string fs = MakeMemfs(files);
  auto p = ParseWith("vxworks_memfs", fs + std::string(64, '\xff'));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, fs.size());
  EXPECT_EQ(Detail(*p, "files"), "3");
  EXPECT_EQ(Detail(*p, "lzma_files"), "3");

  Extraction x(fs, "web.memfs");
  ASSERT_TRUE(x.u.has_value());
  ASSERT_EQ(x.u->files.trees().size(), 1u);
  const FileEntry* e = x.u->files.Find(0, "index.htm");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, files[0].second.size());
  EXPECT_EQ(x.Read(*e), files[0].second);
  e = x.u->files.Find(0, "common.js");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(x.Read(*e), files[1].second);
  // The hostile name never escapes the output directory.
  EXPECT_FALSE(firmwarden::testing::Exists(x.tmp.path() + "/etc/passwd"));
}

TEST(VxWorksMemfs, StoredFilesAndCorruptLzma) {
  std::string fs = MakeMemfs({{"a.txt", "plain text"}}, false);
  auto u = UnpackMemory(fs, "m", {});
  ASSERT_TRUE(u.has_value());
  const FileEntry* e = u->files.Find(0, "a.txt");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, 10u);

  // The stored object cut to half its length: the LZMA stream ends early.
  std::string bad = MakeMemfs({{"b.js", RandomBytes(4000, 9)}});
  PutU32(bad, 44 + 40, static_cast<uint32_t>((bad.size() - 44 - 48) / 2), true);
  Extraction x(bad, "m");
  auto& v = x.u;
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->Clean());
  bool named = false;
  for (const Diagnostic& d : v->diagnostics)
    named |= d.message.find("\"b.js\"") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(VxWorksMemfs, HostileTables) {
  std::string fs = MakeMemfs(Files());
  for (auto [at, v] : std::vector<std::pair<size_t, uint32_t>>{
           {32, 2},           // version
           {36, 0},           // no files
           {36, 0x7FFFFFFF},  // a table far larger than the data
           {44 + 44, 8}}) {   // an offset inside the table
    std::string m = fs;
    PutU32(m, at, v, true);
    EXPECT_FALSE(ParseWith("vxworks_memfs", m).has_value()) << at;
  }
  std::string m = fs;
  m[44] = '\x01';  // an unprintable name
  EXPECT_FALSE(ParseWith("vxworks_memfs", m).has_value());
  // An object far past the data: the chunk is truncated, extraction flags it.
  m = fs;
  PutU32(m, 44 + 40, 0x7FFFFFF0, true);
  auto p = ParseWith("vxworks_memfs", m);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->truncated);
  EXPECT_FALSE(Info(m).Clean());
}

TEST(VxWorksMemfs, TruncationAndBitFlips) {
  std::string fs = MakeMemfs(Files());
  for (size_t n = 0; n < fs.size(); n += 29) {
    auto p = ParseWith("vxworks_memfs", fs.substr(0, n));
    if (p) {
      EXPECT_TRUE(p->truncated) << n;
    }
    Unpacked u = Info(fs.substr(0, n));
    if (n >= 44 + 48 * 3) {
      EXPECT_FALSE(u.Clean()) << n;
    }
  }
  for (uint64_t seed = 0; seed < 200; ++seed) Info(FlipBits(fs, seed, 1 + seed % 4, 32));
}

// IMG0: header with the part table at 0x40, parts after the 0x80-byte header.
std::string MakeImg0(const std::vector<std::string>& parts) {
  std::string s(0x80, '\0');
  s.replace(0, 4, "IMG0");
  PutU32(s, 8, 0x07021101, true);
  for (size_t i = 0; i < parts.size(); ++i) {
    PutU32(s, 0x40 + 8 * i, static_cast<uint32_t>(s.size()), true);
    PutU32(s, 0x44 + 8 * i, static_cast<uint32_t>(parts[i].size()), true);
    s += parts[i];
  }
  PutU32(s, 4, static_cast<uint32_t>(s.size()), true);
  return s;
}

TEST(VxWorksImg0, PartsAndVersion) {
  std::string boot = RandomBytes(100, 2) +
                     std::string(
                         "VxWorks\0"
                         "5.5.1\0\0\0"
                         "VxWorks5.5.1\0\0\0\0"
                         "Aug 24 2011, 18:58:12\0",
                         54) +
                     RandomBytes(100, 3);
  std::string fs = MakeMemfs(Files());
  std::string img = MakeImg0({boot, fs, RandomBytes(77, 4)});
  auto p = ParseWith("vxworks_img0", img);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, img.size());
  EXPECT_EQ(Detail(*p, "vxworks_version"), "5.5.1");
  EXPECT_EQ(Detail(*p, "vxworks_build_date"), "Aug 24 2011, 18:58:12");
  ASSERT_EQ(p->children.size(), 3u);
  EXPECT_EQ(p->children[1].name, "memfs");
  Unpacked u = Info(img);
  const Region* r = FindRegion(u.layout, "vxworks_img0");
  ASSERT_NE(r, nullptr);
  const BlobLayout* m = FindChildLayout(*r, "memfs");
  ASSERT_NE(m, nullptr);
  EXPECT_NE(FindRegion(*m, "vxworks_memfs"), nullptr);
}

TEST(VxWorksImg0, HostileTableAndTruncation) {
  std::string img = MakeImg0({RandomBytes(300, 5), RandomBytes(300, 6)});
  for (auto [at, v] : std::vector<std::pair<size_t, uint32_t>>{
           {4, 0x10}, {0x40, 0x10}, {0x48, 0x90}, {0x4c, 0x7FFFFFFF}, {0x44, 0}}) {
    std::string m = img;
    PutU32(m, at, v, true);
    EXPECT_FALSE(ParseWith("vxworks_img0", m).has_value()) << at;
  }
  for (size_t n = 0; n < img.size(); n += 17) {
    auto p = ParseWith("vxworks_img0", img.substr(0, n));
    if (n < 0x80) {
      EXPECT_FALSE(p.has_value());
      continue;
    }
    ASSERT_TRUE(p.has_value()) << n;
    EXPECT_TRUE(p->truncated);
    for (const SubBlob& c : p->children) EXPECT_LE(c.blob.size(), n);
  }
  for (uint64_t seed = 0; seed < 200; ++seed) Info(FlipBits(img, seed, 1 + seed % 3, 4));
}

TEST(VxWorks, RealTpLinkImage) {
  std::string path = SharedDir() + "/corpora/firmware/fact-testvec-tplink-vxworks-wr.fw";
  std::string img = ReadFile(path);
  if (img.empty()) GTEST_SKIP() << "corpus not available";
  Extraction x(img, "wr.fw");
  auto& u = x.u;
  ASSERT_TRUE(u.has_value());
  const Region* outer = FindRegion(u->layout, "vxworks_img0");
  ASSERT_NE(outer, nullptr);
  EXPECT_EQ(outer->offset, 0x14u);
  EXPECT_EQ(outer->offset + outer->size, img.size());
  EXPECT_EQ(Detail(outer->details, "vxworks_version"), "5.5.1");  // README: VxWorks 5.5.1
  // The inner IMG0 sits in the outer one's payload and lists kernel, MemFS and a trailing part.
  ASSERT_EQ(outer->children.size(), 1u);
  const Region* inner = FindRegion(outer->children[0], "vxworks_img0");
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(Detail(inner->details, "parts"), "3");
  const BlobLayout* kernel = FindChildLayout(*inner, "kernel_lzma");
  ASSERT_NE(kernel, nullptr);
  EXPECT_NE(FindRegion(*kernel, "lzma"), nullptr);
  const BlobLayout* memfs = FindChildLayout(*inner, "memfs");
  ASSERT_NE(memfs, nullptr);
  const Region* fs = FindRegion(*memfs, "vxworks_memfs");
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(Detail(fs->details, "files"), "185");  // README: MemFS with 185 files
  EXPECT_EQ(fs->size, memfs->size);                // the MemFS fills its part exactly
  ASSERT_TRUE(fs->tree.has_value());
  const Tree& t = u->files.trees()[*fs->tree];
  EXPECT_EQ(t.entry_count, 185u);
  size_t written = 0;
  for (const FileEntry* e : u->files.EntriesOf(*fs->tree)) {
    EXPECT_EQ(e->state, EntryState::kWritten) << e->tree_path;
    written += e->state == EntryState::kWritten;
  }
  EXPECT_EQ(written, 185u);
  const FileEntry* js = u->files.Find(*fs->tree, "common.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(x.Read(*js).substr(0, 12), "//setTagStr(");
  for (const Diagnostic& d : u->diagnostics)
    EXPECT_EQ(d.where.find("memfs"), std::string::npos) << d.message;
}

}  // namespace
}  // namespace firmwarden::unpack::testing
