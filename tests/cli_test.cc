// The command line as a user meets it: help text, exit codes, JSON that parses, extract output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;

int Fw(const std::string& args, std::string* out = nullptr) {
  return t::Run(std::string(FIRMWARDEN_BINARY) + " " + args + " 2>&1", out);
}

TEST(Cli, HelpOnEveryCommand) {
  std::string out;
  EXPECT_EQ(Fw("--help", &out), 0);
  EXPECT_NE(out.find("info"), std::string::npos);
  EXPECT_NE(out.find("extract"), std::string::npos);
  EXPECT_NE(out.find("Exit codes"), std::string::npos);
  for (const char* cmd : {"info", "extract"}) {
    out.clear();
    EXPECT_EQ(Fw(std::string(cmd) + " --help", &out), 0) << cmd;
    EXPECT_NE(out.find("--max-depth"), std::string::npos) << cmd;
    EXPECT_NE(out.find("Example"), std::string::npos) << cmd;
  }
}

TEST(Cli, UsageErrorsExitTwo) {
  std::string out;
  EXPECT_EQ(Fw("", &out), 2);
  EXPECT_EQ(Fw("frobnicate x", &out), 2);
  EXPECT_EQ(Fw("info /nonexistent/image.bin", &out), 2);
  EXPECT_EQ(Fw("extract /etc/hostname", &out), 2);  // -o is required
  t::TempDir d;
  ASSERT_EQ(t::Run("mkdir " + t::Sh(d / "full") + " && touch " + t::Sh(d / "full/x")), 0);
  ASSERT_EQ(t::Run("echo hi | gzip > " + t::Sh(d / "a.gz")), 0);
  out.clear();
  EXPECT_EQ(Fw("extract " + t::Sh(d / "a.gz") + " -o " + t::Sh(d / "full"), &out), 2);
  EXPECT_NE(out.find("not empty"), std::string::npos) << out;
}

TEST(Cli, ExitCodesSayHowMuchWasUnderstood) {
  t::TempDir d;
  ASSERT_EQ(
      t::Run("cd " + t::Sh(d.path()) +
             " && mkdir t && echo hi > t/a && tar cf ok.tar t && head -c 1100 ok.tar > cut.tar"
             " && head -c 4096 /dev/urandom > random.bin"),
      0);
  EXPECT_EQ(Fw("info " + t::Sh(d / "ok.tar")), 0);
  EXPECT_EQ(Fw("info " + t::Sh(d / "cut.tar")), 1);
  std::string out;
  EXPECT_EQ(Fw("info " + t::Sh(d / "random.bin"), &out), 1);
  EXPECT_NE(out.find("no known format"), std::string::npos) << out;
}

TEST(Cli, JsonParsesAndTilesTheImage) {
  t::TempDir d;
  ASSERT_EQ(t::Run("cd " + t::Sh(d.path()) +
                   " && mkdir t && echo hi > t/a && ln -s a t/l && tar cf x.tar t && gzip -k x.tar"
                   " && (head -c 1000 /dev/urandom; cat x.tar.gz; head -c 8192 /dev/zero | tr "
                   "'\\0' '\\377') > img"),
            0);
  std::string out;
  ASSERT_EQ(t::Run(std::string(FIRMWARDEN_BINARY) + " info --json " + t::Sh(d / "img"), &out), 0);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["clean"], true);
  uint64_t pos = 0;
  for (const auto& r : j["layout"]["regions"]) {
    EXPECT_EQ(r["offset"].get<uint64_t>(), pos);
    pos += r["size"].get<uint64_t>();
  }
  EXPECT_EQ(pos, j["layout"]["size"].get<uint64_t>());
  EXPECT_EQ(j["layout"]["regions"][1]["format"], "gzip");
  EXPECT_EQ(j["layout"]["regions"][1]["children"][0]["regions"][0]["format"], "tar");
  EXPECT_EQ(j["layout"]["regions"][2]["kind"], "padding");

  out.clear();
  ASSERT_EQ(t::Run(std::string(FIRMWARDEN_BINARY) + " extract --json " + t::Sh(d / "img") + " -o " +
                       t::Sh(d / "out"),
                   &out),
            0);
  auto e = nlohmann::json::parse(out);
  ASSERT_EQ(e["trees"].size(), 1u);
  std::string dir = e["trees"][0]["disk_dir"];
  EXPECT_EQ(t::ReadFile(d / ("out/" + dir + "/t/a")), "hi\n");
  auto manifest = nlohmann::json::parse(t::ReadFile(d / "out/manifest.json"));
  EXPECT_EQ(manifest["firmwarden_manifest"], 1);
  bool saw_link = false;
  for (const auto& entry : manifest["entries"])
    if (entry["path"] == "t/l") {
      saw_link = true;
      EXPECT_EQ(entry["type"], "symlink");
      EXPECT_EQ(entry["target"], "a");
    }
  EXPECT_TRUE(saw_link);
}

TEST(Cli, FormatsDocIsGeneratedFromTheRegistry) {
  std::string out;
  ASSERT_EQ(t::Run(std::string(FIRMWARDEN_BINARY) + " formats --markdown", &out), 0);
  EXPECT_EQ(out, t::ReadFile(std::string(FIRMWARDEN_SOURCE_DIR) + "/docs/formats.md"))
      << "docs/formats.md is stale: regenerate it with firmwarden formats --markdown";
  for (const char* f : {"squashfs", "ext", "uimage", "fit", "trx", "tplink", "lzop", "cpio"})
    EXPECT_NE(out.find(std::string("`") + f + "`"), std::string::npos) << f;
}

}  // namespace
}  // namespace firmwarden
