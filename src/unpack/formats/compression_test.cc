// Every compression handler against the real compressor: exact chunk boundaries when embedded
// between unknown bytes and padding, and a decompressed child equal to the original.
#include <gtest/gtest.h>

#include <string>

#include "firmwarden/unpack.h"
#include "test_util.h"

namespace firmwarden {
namespace {

namespace t = firmwarden::testing;

struct Tool {
  const char* format;   // handler name
  const char* command;  // reads "in", writes "out"
};

class CompressionTest : public ::testing::TestWithParam<Tool> {};

std::string Payload() {
  // Compressible but not trivial: text plus pseudo-random bytes, over several compressor blocks.
  std::string s;
  for (int i = 0; i < 20000; ++i)
    s += "line " + std::to_string(i * 7919 % 10007) + " of the payload\n";
  s += t::RandomBytes(300000, 42);
  return s;
}

TEST_P(CompressionTest, ChunkIsExactAndDecompressesToTheOriginal) {
  const Tool& tool = GetParam();
  t::TempDir d;
  std::string payload = Payload();
  t::WriteFile(d / "in", payload);
  ASSERT_EQ(t::Run("cd " + t::Sh(d.path()) + " && " + tool.command), 0) << tool.command;
  std::string compressed = t::ReadFile(d / "out");
  ASSERT_FALSE(compressed.empty());
  // Embed: 1000 random bytes (no 0x00/0xFF runs), the stream, then 4 KiB of 0xFF.
  std::string prefix = t::RandomBytes(1000, 7);
  for (char& c : prefix)
    if (c == '\0' || c == '\xff') c = 'A';
  std::string image = prefix + compressed + std::string(4096, '\xff');
  t::WriteFile(d / "image", image);

  UnpackOptions o;
  o.output_dir = d / "x";
  auto r = Unpack(d / "image", o);
  ASSERT_TRUE(r);
  const auto& regions = r->layout.regions;
  ASSERT_EQ(regions.size(), 3u) << tool.format;
  EXPECT_EQ(regions[0].kind, Region::Kind::kUnknown);
  EXPECT_EQ(regions[0].size, 1000u);
  const Region& c = regions[1];
  EXPECT_EQ(c.kind, Region::Kind::kChunk);
  EXPECT_EQ(c.format, tool.format);
  EXPECT_EQ(c.offset, 1000u);
  EXPECT_EQ(c.size, compressed.size()) << tool.format;
  EXPECT_EQ(regions[2].kind, Region::Kind::kPadding);
  EXPECT_EQ(regions[2].format, "0xff");
  ASSERT_EQ(c.children.size(), 1u);
  EXPECT_EQ(c.children[0].size, payload.size());
  // The decompressed child is unknown data, so it is written raw: compare it byte for byte.
  ASSERT_FALSE(c.children[0].disk_path.empty());
  EXPECT_EQ(t::Sha256Hex(t::ReadFile(d / ("x/" + c.children[0].disk_path))), t::Sha256Hex(payload));
  EXPECT_TRUE(r->Clean()) << tool.format;
}

TEST_P(CompressionTest, TruncatedStreamsGiveDiagnosticsNotCrashes) {
  const Tool& tool = GetParam();
  t::TempDir d;
  t::WriteFile(d / "in", Payload());
  ASSERT_EQ(t::Run("cd " + t::Sh(d.path()) + " && " + tool.command), 0);
  std::string compressed = t::ReadFile(d / "out");
  for (size_t cut : {compressed.size() / 2, compressed.size() - 1, compressed.size() * 9 / 10}) {
    auto r = UnpackMemory(std::string_view(compressed).substr(0, cut), "cut", {});
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->Clean()) << tool.format << " cut at " << cut;
  }
}

TEST_P(CompressionTest, BitFlipsNeverCrash) {
  const Tool& tool = GetParam();
  t::TempDir d;
  t::WriteFile(d / "in", Payload());
  ASSERT_EQ(t::Run("cd " + t::Sh(d.path()) + " && " + tool.command), 0);
  std::string compressed = t::ReadFile(d / "out");
  std::string noise = t::RandomBytes(64, 99);
  for (int i = 0; i < 32; ++i) {
    std::string flipped = compressed;
    size_t at = (static_cast<uint8_t>(noise[i]) * 7919u + i * 104729u) % flipped.size();
    flipped[at] = static_cast<char>(flipped[at] ^ (1 << (i % 8)));
    auto r = UnpackMemory(flipped, "flipped", {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->layout.size, flipped.size());
  }
}

INSTANTIATE_TEST_SUITE_P(
    RealTools, CompressionTest,
    ::testing::Values(Tool{"gzip", "gzip -9 -n -c in > out"}, Tool{"xz", "xz -6 -c in > out"},
                      Tool{"lzma", "xz --format=lzma -c in > out"},
                      Tool{"bzip2", "bzip2 -9 -c in > out"},
                      Tool{"zstd", "zstd -q -19 -c in > out"}, Tool{"lz4", "lz4 -q -9 -c in > out"},
                      Tool{"lz4-legacy", "lz4 -q -l -c in > out"},
                      Tool{"lzop", "lzop -9 -c in > out"},
                      Tool{"zlib",
                           "python3 -c \"import zlib,sys; sys.stdout.buffer.write("
                           "zlib.compress(open('in','rb').read(), 9))\" > out"}),
    [](const ::testing::TestParamInfo<Tool>& info) {
      std::string n = info.param.format;
      for (char& c : n)
        if (c == '-') c = '_';
      return n;
    });

TEST(Lzma, KernelStyleUnknownSizeWithEndMarker) {
  t::TempDir d;
  t::WriteFile(d / "in", Payload());
  // xz's lzma_alone encoder writes size -1 with an end marker: the kernel form.
  ASSERT_EQ(t::Run("cd " + t::Sh(d.path()) + " && xz --format=lzma -c < in > out"), 0);
  std::string s = t::ReadFile(d / "out");
  ASSERT_GE(s.size(), 13u);
  EXPECT_EQ(s.substr(5, 8), std::string(8, '\xff'));
  auto r = UnpackMemory(s, "k.lzma", {});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->layout.regions.size(), 1u);
  EXPECT_EQ(r->layout.regions[0].size, s.size());
}

}  // namespace
}  // namespace firmwarden
