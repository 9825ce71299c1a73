#include <gtest/gtest.h>

#include "unpack/formats/handler_test_util.h"

namespace firmwarden::unpack::testing {
namespace {

using firmwarden::testing::RandomBytes;
using firmwarden::testing::ReadFile;
using firmwarden::testing::SharedDir;

// PFS/0.9 from its description: magic, reserved, name length, count; entries (name, attribute,
// offset from the end of the table, size); data.
std::string MakePfs(const std::vector<std::pair<std::string, std::string>>& files,
                    uint16_t name_len = 64) {
  std::string s("PFS/0.9\0", 8);
  PutU32(s, 8, 0, false);
  PutU16(s, 12, name_len, false);
  PutU16(s, 14, static_cast<uint16_t>(files.size()), false);
  std::string data;
  for (const auto& [name, content] : files) {
    std::string e(name_len + 12u, '\0');
    e.replace(0, name.size(), name);
    PutU32(e, name_len, 0xb8b23af9, false);
    PutU32(e, name_len + 4u, content.empty() ? 0 : static_cast<uint32_t>(data.size()), false);
    PutU32(e, name_len + 8u, static_cast<uint32_t>(content.size()), false);
    s += e;
    data += content;
  }
  return s + data;
}

std::vector<std::pair<std::string, std::string>> Files() {
  return {{"www\\cgi-bin\\apply.cgi", ""},
          {"www\\index.htm", "<html>" + std::string(500, 'i') + "</html>"},
          {"www\\images\\logo.gif", "GIF89a" + RandomBytes(300, 1)},
          {"..\\..\\evil", "x"}};
}

TEST(Pfs, ListsAndExtracts) {
  auto files = Files();
  std::string fs = MakePfs(files);
  auto p = ParseWith("pfs", fs + std::string(40, '\xff'));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->size, fs.size());
  EXPECT_EQ(Detail(*p, "files"), "4");
  Extraction x(fs, "web.pfs");
  ASSERT_TRUE(x.u.has_value());
  ASSERT_EQ(x.u->files.trees().size(), 1u);
  const FileEntry* e = x.u->files.Find(0, "www/index.htm");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(x.Read(*e), files[1].second);
  e = x.u->files.Find(0, "www/cgi-bin/apply.cgi");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, 0u);
  EXPECT_FALSE(firmwarden::testing::Exists(x.tmp.path() + "/evil"));
}

TEST(Pfs, HostileAndTruncated) {
  std::string fs = MakePfs(Files());
  for (auto [at, v] :
       std::vector<std::pair<size_t, uint16_t>>{{12, 2}, {12, 5000}, {14, 0}, {14, 60000}}) {
    std::string m = fs;
    PutU16(m, at, v, false);
    EXPECT_FALSE(ParseWith("pfs", m).has_value()) << at;
  }
  std::string m = fs;
  PutU32(m, 16 + 64 + 8, 0x7FFFFFFF, false);  // a size far past the data
  auto p = ParseWith("pfs", m);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->truncated);
  EXPECT_FALSE(Info(m).Clean());
  const size_t table = 16 + 76 * 4;
  for (size_t n = 0; n < fs.size(); n += 11) {
    auto q = ParseWith("pfs", fs.substr(0, n));
    EXPECT_EQ(q.has_value(), n >= table) << n;
    if (n >= table) {
      EXPECT_FALSE(Info(fs.substr(0, n)).Clean()) << n;
    }
  }
  for (uint64_t seed = 0; seed < 200; ++seed) Info(FlipBits(fs, seed, 1 + seed % 4, 8));
}

TEST(Pfs, RealWrt120nWebPages) {
  std::string img = ReadFile(SharedDir() + "/corpora/firmware/linksys-wrt120n-1.0.07.002-us.bin");
  if (img.empty()) GTEST_SKIP() << "corpus not available";
  Unpacked u = Info(img);
  ASSERT_EQ(u.layout.regions.size(), 1u);
  const Region& arc = u.layout.regions[0];
  ASSERT_EQ(arc.children.size(), 2u);
  const Region* lz = FindRegion(arc.children[1], "lzma");
  ASSERT_NE(lz, nullptr);
  ASSERT_EQ(lz->children.size(), 1u);
  const Region* pfs = FindRegion(lz->children[0], "pfs");
  ASSERT_NE(pfs, nullptr);
  EXPECT_EQ(pfs->size, lz->children[0].size);  // the file system fills the stream exactly
  EXPECT_EQ(Detail(pfs->details, "files"), "168");
  ASSERT_TRUE(pfs->tree.has_value());
  EXPECT_EQ(u.files.trees()[*pfs->tree].entry_count, 168u);
  EXPECT_NE(u.files.Find(*pfs->tree, "www/cgi-bin/apply.cgi"), nullptr);
  EXPECT_TRUE(u.Clean());
}

}  // namespace
}  // namespace firmwarden::unpack::testing
