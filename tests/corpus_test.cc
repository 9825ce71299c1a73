// Round trip against ground truth: every image the corpus builder made from real Debian packages
// (tests/corpus/build) is unpacked, and its root filesystem must equal the source tree entry for
// entry: path, type, mode, owner, size, sha256, link target and device numbers, as far as the
// format can carry them (the truth file says which). Wrapper images must also reveal the kernel.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;
using nlohmann::json;

struct CorpusImage {
  std::string image;  // relative to the corpus dir
  std::string truth;
  std::string format;
};

void PrintTo(const CorpusImage& c, std::ostream* os) { *os << c.image; }

std::vector<CorpusImage> LoadIndex() {
  std::vector<CorpusImage> out;
  std::string dir = t::CorpusDir();
  if (dir.empty()) return out;
  std::ifstream f(dir + "/index.json");
  json idx = json::parse(f, nullptr, false);
  if (idx.is_discarded()) return out;
  for (const json& i : idx["images"]) out.push_back({i["image"], i["truth"], i["format"]});
  return out;
}

std::string Name(const ::testing::TestParamInfo<CorpusImage>& info) {
  std::string n = info.param.image;
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

class CorpusTest : public ::testing::TestWithParam<CorpusImage> {};

bool Carries(const json& truth, const std::string& what) {
  for (const json& c : truth["expect"]["carries"])
    if (c == what) return true;
  return false;
}

// Collects every "linux_banner" note of every blob.
void Banners(const BlobLayout& b, std::vector<std::string>& out) {
  for (const KeyValue& kv : b.notes)
    if (kv.key == "linux_banner") out.push_back(kv.value);
  for (const Region& r : b.regions)
    for (const BlobLayout& c : r.children) Banners(c, out);
}

TEST_P(CorpusTest, RootFilesystemEqualsTheSourceTree) {
  const CorpusImage& ci = GetParam();
  std::string dir = t::CorpusDir();
  std::ifstream tf(dir + "/" + ci.truth);
  json truth = json::parse(tf);
  t::TempDir out;
  UnpackOptions o;
  o.output_dir = out / "x";
  auto r = Unpack(dir + "/" + ci.image, o);
  ASSERT_TRUE(r) << r.error().message;
  for (const Diagnostic& d : r->diagnostics)
    ADD_FAILURE() << ci.image << ": unexpected diagnostic: " << d.where << ": " << d.message;

  // The root filesystem is the tree with the most entries.
  ASSERT_FALSE(r->files.trees().empty()) << ci.image << ": nothing extracted";
  size_t root = 0;
  for (size_t i = 0; i < r->files.trees().size(); ++i)
    if (r->files.trees()[i].entry_count > r->files.trees()[root].entry_count) root = i;
  const Tree& tree = r->files.trees()[root];
  std::string base = out / ("x/" + tree.disk_dir);

  std::set<std::string> expected;
  for (const json& e : truth["entries"]) {
    std::string path = e["path"];
    expected.insert(path);
    SCOPED_TRACE(ci.image + ": " + path);
    const FileEntry* got = r->files.Find(root, path);
    if (got == nullptr) {
      ADD_FAILURE() << "missing";
      continue;
    }
    std::string type = e["type"];
    std::string got_type(EntryTypeName(got->type));
    // A hardlink pair may be stored either way round: one name is the file, the other the link.
    bool link_pair =
        (type == "hardlink" || type == "file") && (got_type == "hardlink" || got_type == "file");
    if (!link_pair) {
      EXPECT_EQ(got_type, type);
    }
    if (Carries(truth, "mode") && type != "symlink") {
      EXPECT_EQ(got->mode, e["mode"].get<uint32_t>());
    }
    if (Carries(truth, "uid")) {
      EXPECT_EQ(got->uid, e["uid"].get<uint32_t>());
      EXPECT_EQ(got->gid, e["gid"].get<uint32_t>());
    }
    if (Carries(truth, "mtime") && type != "symlink" && type != "dir") {
      EXPECT_EQ(got->mtime, e["mtime"].get<int64_t>());
    }
    if (type == "symlink") {
      EXPECT_EQ(got->link_target, e["target"].get<std::string>());
    }
    if (type == "file" || type == "hardlink") {
      EXPECT_EQ(got->size, e["size"].get<uint64_t>());
      ASSERT_FALSE(got->disk_path.empty());
      EXPECT_EQ(t::Sha256Hex(t::ReadFile(out / ("x/" + got->disk_path))),
                e["sha256"].get<std::string>());
    }
    if (type == "chardev" || type == "blockdev") {
      EXPECT_EQ(got->rdev_major, e["rdev_major"].get<uint32_t>());
      EXPECT_EQ(got->rdev_minor, e["rdev_minor"].get<uint32_t>());
      EXPECT_FALSE(t::Exists(base + "/" + path)) << "device node created on disk";
    }
  }
  // Nothing extra, except lost+found that mke2fs adds on its own.
  for (const FileEntry* e : r->files.EntriesOf(root))
    if (!expected.count(e->tree_path) && e->tree_path != "lost+found")
      ADD_FAILURE() << ci.image << ": unexpected entry " << e->tree_path;
  EXPECT_EQ(truth["expect"]["entry_count"].get<size_t>(), expected.size());

  if (truth.contains("kernel")) {
    std::vector<std::string> banners;
    Banners(r->layout, banners);
    bool found = false;
    for (const std::string& b : banners)
      found |= b.find(truth["kernel"]["version"].get<std::string>()) != std::string::npos;
    EXPECT_TRUE(found) << ci.image << ": kernel banner not found";
  }
}

INSTANTIATE_TEST_SUITE_P(Debian, CorpusTest, ::testing::ValuesIn(LoadIndex()), Name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CorpusTest);

TEST(Corpus, IsPresentWhenRequired) {
  if (LoadIndex().empty()) {
    if (std::getenv("FIRMWARDEN_REQUIRE_CORPUS") != nullptr)
      FAIL() << "FIRMWARDEN_REQUIRE_CORPUS is set but no corpus was found; run "
                "tests/corpus/build --out build/corpus";
    GTEST_SKIP() << "no corpus (tests/corpus/build --out build/corpus)";
  }
  EXPECT_GE(LoadIndex().size(), 100u);
}

}  // namespace
}  // namespace firmwarden
