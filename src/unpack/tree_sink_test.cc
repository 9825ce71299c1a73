// The safe writer's name handling and its refusals, below the archive formats.
#include "unpack/tree_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_util.h"

namespace firmwarden::unpack {
namespace {

namespace t = firmwarden::testing;

TEST(NormalisePath, DropsLeadingSlashesAndDots) {
  EXPECT_EQ(*NormalisePath("/etc//./passwd"), (std::vector<std::string>{"etc", "passwd"}));
  EXPECT_EQ(*NormalisePath("./bin/sh"), (std::vector<std::string>{"bin", "sh"}));
  EXPECT_TRUE(NormalisePath("./")->empty());
}

TEST(NormalisePath, RefusesEscapes) {
  EXPECT_EQ(NormalisePath("../x").error().code, ErrorCode::kUnsafe);
  EXPECT_EQ(NormalisePath("a/b/../../../x").error().code, ErrorCode::kUnsafe);
  EXPECT_EQ(NormalisePath(std::string_view("a\0b", 3)).error().code, ErrorCode::kUnsafe);
  EXPECT_EQ(NormalisePath(std::string(256, 'x')).error().code, ErrorCode::kUnsafe);
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "d/";
  EXPECT_FALSE(NormalisePath(deep));
  EXPECT_TRUE(NormalisePath("a..b/..c/c.."));  // dots inside names are fine
}

struct SinkFixture {
  t::TempDir dir;
  FileTree files;
  Budget budget{1 << 20, 100, std::chrono::steady_clock::now() + std::chrono::hours(1)};
  std::vector<Diagnostic> diags;
  std::unique_ptr<TreeSink> sink;
  SinkFixture() {
    mkdir((dir / "root").c_str(), 0755);
    int fd = open((dir / "root").c_str(), O_RDONLY | O_DIRECTORY);
    files.BeginTree(Tree{"test", "/t", "root", 0, 0});
    sink = std::make_unique<TreeSink>(files, fd, "root", Origin{"test", "/t", 0}, budget, diags);
  }
  FileEntry Entry(std::string name, EntryType type, std::string target = "") {
    FileEntry e;
    e.raw_name = std::move(name);
    e.type = type;
    e.mode = 0644;
    e.link_target = std::move(target);
    return e;
  }
};

TEST(TreeSink, ADuplicateNameReplacesTheEarlierFileNotWhatItPointsTo) {
  SinkFixture f;
  t::WriteFile(f.dir / "outside", "keep\n");
  ASSERT_TRUE(f.sink->Add(f.Entry("x", EntryType::kSymlink, f.dir / "outside")));
  ASSERT_TRUE(f.sink->AddFile(f.Entry("x", EntryType::kFile), AsBytes("new\n")));
  EXPECT_EQ(t::ReadFile(f.dir / "outside"), "keep\n");
  EXPECT_EQ(t::ReadFile(f.dir / "root/x"), "new\n");
}

TEST(TreeSink, BudgetLimitsAreErrorsUnsafeNamesAreNot) {
  SinkFixture f;
  EXPECT_TRUE(f.sink->AddFile(f.Entry("../evil", EntryType::kFile), AsBytes("x")));
  EXPECT_EQ(f.files.entries().back().state, EntryState::kUnsafe);
  f.budget.bytes_left = 3;
  auto s = f.sink->AddFile(f.Entry("big", EntryType::kFile), AsBytes("0123456789"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kLimit);
  f.budget.files_left = 0;
  auto d = f.sink->Add(f.Entry("dir", EntryType::kDir));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kLimit);
}

TEST(TreeSink, DirectoriesAreNeverReplacedBySymlinks) {
  SinkFixture f;
  ASSERT_TRUE(f.sink->Add(f.Entry("d", EntryType::kDir)));
  ASSERT_TRUE(f.sink->Add(f.Entry("d", EntryType::kSymlink, "/")));
  ASSERT_TRUE(f.sink->AddFile(f.Entry("d/file", EntryType::kFile), AsBytes("ok\n")));
  struct stat st;
  ASSERT_EQ(lstat((f.dir / "root/d").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(t::ReadFile(f.dir / "root/d/file"), "ok\n");
  ASSERT_EQ(f.files.entries().size(), 3u);
  EXPECT_EQ(f.files.entries()[1].type, EntryType::kSymlink);
  EXPECT_EQ(f.files.entries()[1].state, EntryState::kUnsafe);
}

}  // namespace
}  // namespace firmwarden::unpack
