#include "unpack/lzo1x.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace firmwarden::unpack {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> ToBytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

void Append(std::vector<std::byte>* v, std::string_view s) {
  for (char c : s) v->push_back(static_cast<std::byte>(c));
}

std::string AsString(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Encodes a literal run of n >= 18 bytes at the start of a stream (state 0), using the
// extended-length form: a 0 instruction, zero bytes worth 255 each, and a final remainder.
void AppendLongLiteralHeader(std::vector<std::byte>* v, size_t n) {
  v->push_back(std::byte{0});
  size_t rest = n - 18;
  while (rest > 255) {
    v->push_back(std::byte{0});
    rest -= 255;
  }
  // The closing byte must be non-zero, which only n == 18 would violate.
  ASSERT_GT(rest, 0u);
  v->push_back(static_cast<std::byte>(rest));
}

std::string Pattern(size_t n) {
  std::string s;
  std::mt19937 rng(7);
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng()));
  return s;
}

const std::vector<std::byte> kEnd = ToBytes({0x11, 0x00, 0x00});

Result<std::string> Decompress(const std::vector<std::byte>& in, size_t cap) {
  std::vector<std::byte> out(cap);
  auto n = Lzo1xDecompress(in, out);
  if (!n) return std::unexpected(n.error());
  return AsString(std::span(out).first(*n));
}

TEST(Lzo1xTest, EndMarkerOnlyIsEmptyOutput) {
  auto r = Decompress(kEnd, 16);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, "");
  // Also with a zero-sized output buffer.
  std::span<std::byte> none;
  auto n = Lzo1xDecompress(kEnd, none);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
}

TEST(Lzo1xTest, FirstByteLiteralRun) {
  auto in = ToBytes({17 + 5});
  Append(&in, "hello");
  in.insert(in.end(), kEnd.begin(), kEnd.end());
  auto r = Decompress(in, 100);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, "hello");
}

TEST(Lzo1xTest, OverlappingShortMatch) {
  // 'A', then a 3-byte match at distance 1 (01LDDDSS = 0x40, H = 0).
  auto in = ToBytes({0x12, 'A', 0x40, 0x00, 0x11, 0x00, 0x00});
  auto r = Decompress(in, 100);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, "AAAA");
}

TEST(Lzo1xTest, LongOverlappingMatchWithExtendedLength) {
  // "ab", then a 001LLLLL match with L = 0 (extended: 31 + 255 + 10 + 2 = 298 bytes), distance 2.
  auto in = ToBytes({0x13, 'a', 'b', 0x20, 0x00, 10, 0x04, 0x00, 0x11, 0x00, 0x00});
  auto r = Decompress(in, 1000);
  ASSERT_TRUE(r) << r.error().ToString();
  std::string want;
  for (int i = 0; i < 150; ++i) want += "ab";
  EXPECT_EQ(*r, want);
}

TEST(Lzo1xTest, TwoByteMatchAfterTrailingLiterals) {
  // Two literals leave state 2, so instruction 0x04 is a 2-byte match at distance 1 + 1 = 2.
  auto in = ToBytes({0x13, 'a', 'b', 0x04, 0x00, 0x11, 0x00, 0x00});
  auto r = Decompress(in, 100);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, "abab");
}

TEST(Lzo1xTest, MatchTrailingLiteralsAreCopied) {
  // 0x41: 3-byte match at distance 1 followed by 1 literal ('z').
  auto in = ToBytes({0x12, 'A', 0x41, 0x00, 'z', 0x11, 0x00, 0x00});
  auto r = Decompress(in, 100);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, "AAAAz");
}

TEST(Lzo1xTest, ThreeByteMatchAfterLongLiteralRunIsFar) {
  // After a literal run of >= 4 bytes, instruction 0..15 is a 3-byte match at 2049 + ....
  const std::string lit = Pattern(2100);
  std::vector<std::byte> in;
  AppendLongLiteralHeader(&in, lit.size());
  Append(&in, lit);
  in.push_back(std::byte{0x00});  // D = 0
  in.push_back(std::byte{0x00});  // H = 0 -> distance 2049
  in.insert(in.end(), kEnd.begin(), kEnd.end());
  auto r = Decompress(in, 4000);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, lit + lit.substr(2100 - 2049, 3));
}

TEST(Lzo1xTest, FarMatchesUseSixteenBitForm) {
  const std::string lit = Pattern(40000);
  std::vector<std::byte> in;
  AppendLongLiteralHeader(&in, lit.size());
  Append(&in, lit);
  // 0001HLLL with H = 0, L = 1 (3 bytes), distance 16384 + 6.
  for (int b : {0x11, 6 << 2, 0x00}) in.push_back(static_cast<std::byte>(b));
  // H = 1, L = 2 (4 bytes), distance 32768 + 1 + 64 * 2.
  for (int b : {0x1a, 1 << 2 | 0x01, 0x02}) in.push_back(static_cast<std::byte>(b));
  in.push_back(std::byte{'!'});  // the trailing literal announced by SS = 1
  in.insert(in.end(), kEnd.begin(), kEnd.end());
  auto r = Decompress(in, 50000);
  ASSERT_TRUE(r) << r.error().ToString();
  std::string want = lit;
  want += want.substr(want.size() - 16390, 3);
  want += want.substr(want.size() - (32768 + 1 + 128), 4);
  want += '!';
  EXPECT_EQ(*r, want);
}

TEST(Lzo1xTest, BackReferenceBeforeStartIsMalformed) {
  // Distance 1 + (1 << 3) = 9 with only one byte of output.
  auto r = Decompress(ToBytes({0x12, 'A', 0x40, 0x01, 0x11, 0x00, 0x00}), 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(r.error().offset, 2u);

  // A far match as the very first instruction (distance 16385, nothing decoded yet).
  r = Decompress(ToBytes({0x11, 0x04, 0x00, 0x11, 0x00, 0x00}), 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kMalformed);

  // Exactly one byte too far: distance 2 with one byte of output.
  r = Decompress(ToBytes({0x12, 'A', 0x44, 0x00, 0x11, 0x00, 0x00}), 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kMalformed);
}

TEST(Lzo1xTest, TruncationIsReportedWithOffset) {
  auto r = Decompress({}, 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTruncated);

  auto in = ToBytes({0x12, 'A', 0x40, 0x00, 0x11, 0x00, 0x00});
  for (size_t cut = 0; cut < in.size(); ++cut) {
    std::vector<std::byte> part(in.begin(), in.begin() + cut);
    r = Decompress(part, 100);
    ASSERT_FALSE(r) << "cut at " << cut;
    EXPECT_EQ(r.error().code, ErrorCode::kTruncated) << "cut at " << cut;
    ASSERT_TRUE(r.error().offset.has_value());
    EXPECT_LE(*r.error().offset, cut);
  }
  // Literal count larger than the remaining input.
  r = Decompress(ToBytes({17 + 10, 'a', 'b'}), 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTruncated);
  EXPECT_EQ(r.error().offset, 0u);
}

TEST(Lzo1xTest, OutputOverflowIsLimit) {
  auto in = ToBytes({17 + 5});
  Append(&in, "hello");
  in.insert(in.end(), kEnd.begin(), kEnd.end());
  auto r = Decompress(in, 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLimit);

  // A match that overflows, and an extended length that could never fit.
  r = Decompress(ToBytes({0x13, 'a', 'b', 0x20, 0x00, 10, 0x04, 0x00, 0x11, 0x00, 0x00}), 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLimit);
  std::vector<std::byte> zeros = ToBytes({0x00});
  zeros.resize(100000, std::byte{0});  // an endless run of length-extension bytes
  r = Decompress(zeros, 1000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLimit);
  r = Decompress(zeros, 1 << 30 >> 4);  // big buffer: the input runs out first
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTruncated);
}

TEST(Lzo1xTest, TrailingBytesRejectedButPrefixReportsConsumed) {
  auto in = ToBytes({0x12, 'A', 0x40, 0x00, 0x11, 0x00, 0x00, 0xff, 0xff});
  auto r = Decompress(in, 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kMalformed);

  std::vector<std::byte> out(100);
  size_t consumed = 0;
  auto n = Lzo1xDecompressPrefix(in, out, &consumed);
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(consumed, 7u);
}

// ---------------------------------------------------------------------------------------------
// Real data from the lzop tool.

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lzo1x_test.XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

uint32_t Be32(const std::string& s, size_t pos) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[pos])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 3]));
}

struct RawBlock {
  size_t raw_offset;  // offset of this block's data in the original input
  size_t raw_len;
  std::string payload;  // LZO1X-compressed bytes
};

// Compresses `data` with the real lzop and returns its compressed (not stored) blocks. This is a
// deliberately independent, minimal walker of what lzop 1.04 writes by default (adler32 of the
// decompressed data only), so these tests do not depend on lzop.cc.
std::vector<RawBlock> LzopBlocks(const std::string& data, const char* level) {
  TempDir dir;
  WriteFile(dir.path() / "in", data);
  std::string cmd = "cd '" + dir.path().string() + "' && lzop -q -f " + level + " -o in.lzo in";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string lzo = ReadFile(dir.path() / "in.lzo");
  std::vector<RawBlock> blocks;
  if (lzo.size() < 50) {
    ADD_FAILURE() << "lzop output too short";
    return blocks;
  }
  const uint32_t flags = Be32(lzo, 17);
  EXPECT_EQ(flags & 0x00003fff, 0x1u) << "unexpected lzop flags";
  // magic 9, version 2, lib 2, needed 2, method 1, level 1, flags 4, mode 4, mtime 8.
  size_t pos = 33;
  pos += 1 + static_cast<uint8_t>(lzo[pos]) + 4;  // name, header checksum
  size_t raw_offset = 0;
  for (;;) {
    const uint32_t dst = Be32(lzo, pos);
    if (dst == 0) break;
    const uint32_t src = Be32(lzo, pos + 4);
    pos += 12;  // lengths + adler32
    if (src < dst) blocks.push_back({raw_offset, dst, lzo.substr(pos, src)});
    pos += src;
    raw_offset += dst;
  }
  EXPECT_EQ(raw_offset, data.size());
  return blocks;
}

std::string RepetitiveText(size_t n) {
  std::string s;
  std::mt19937 rng(3);
  const char* words[] = {"firmware ", "squashfs ", "block ", "lzo ", "\n", "0000", "kernel "};
  while (s.size() < n) s += words[rng() % 7];
  s.resize(n);
  return s;
}

std::string Mixed(size_t n) {
  std::string s;
  std::mt19937 rng(11);
  while (s.size() < n) {
    switch (rng() % 3) {
      case 0:
        s += Pattern(1000 + rng() % 20000);
        break;
      case 1:
        s += RepetitiveText(1000 + rng() % 50000);
        break;
      default:
        s.append(1000 + rng() % 30000, static_cast<char>(rng()));
        break;
    }
  }
  s.resize(n);
  return s;
}

TEST(Lzo1xTest, DecodesRealLzopBlocks) {
  const std::vector<std::string> inputs = {RepetitiveText(200000), Mixed(1 << 20),
                                           std::string(100000, 'x'), RepetitiveText(40)};
  size_t checked = 0;
  for (const char* level : {"-1", "-3", "-9"}) {
    for (const std::string& data : inputs) {
      for (const RawBlock& b : LzopBlocks(data, level)) {
        std::vector<std::byte> out(b.raw_len);
        auto n = Lzo1xDecompress(AsBytes(b.payload), out);
        ASSERT_TRUE(n) << level << ": " << n.error().ToString();
        ASSERT_EQ(*n, b.raw_len);
        ASSERT_EQ(AsString(out), data.substr(b.raw_offset, b.raw_len)) << level;
        ++checked;

        // One byte short of room must be a clean kLimit.
        std::vector<std::byte> small(b.raw_len - 1);
        auto s = Lzo1xDecompress(AsBytes(b.payload), small);
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, ErrorCode::kLimit);
      }
    }
  }
  EXPECT_GE(checked, 12u);
}

TEST(Lzo1xTest, TruncatedRealBlocksAlwaysFail) {
  const std::vector<RawBlock> blocks = LzopBlocks(RepetitiveText(100000), "-9");
  ASSERT_FALSE(blocks.empty());
  const RawBlock& b = blocks[0];
  std::vector<std::byte> out(b.raw_len);
  // Every cut of the block loses (part of) the end marker, so none may succeed.
  for (size_t cut = 0; cut < b.payload.size(); ++cut) {
    auto n = Lzo1xDecompress(AsBytes(std::string_view(b.payload).substr(0, cut)), out);
    ASSERT_FALSE(n) << "cut " << cut;
    EXPECT_TRUE(n.error().code == ErrorCode::kTruncated || n.error().code == ErrorCode::kLimit ||
                n.error().code == ErrorCode::kMalformed);
  }
}

TEST(Lzo1xTest, BitFlipsNeverCrash) {
  std::vector<RawBlock> blocks = LzopBlocks(Mixed(300000), "-3");
  for (RawBlock& b : LzopBlocks(RepetitiveText(100000), "-9")) blocks.push_back(std::move(b));
  ASSERT_GE(blocks.size(), 3u);
  std::mt19937 rng(12345);
  size_t failures = 0;
  size_t trials = 0;
  for (const RawBlock& b : blocks) {
    std::vector<std::byte> out(b.raw_len);
    for (int i = 0; i < 300; ++i) {
      std::string bad = b.payload;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f)
        bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
      auto n = Lzo1xDecompress(AsBytes(bad), out);
      ++trials;
      if (!n) {
        ++failures;
      } else {
        EXPECT_LE(*n, out.size());
      }
    }
  }
  // Flipped literal bytes decode "fine" (there is no checksum at this level), but a share of the
  // corruptions must still be caught by the structure alone.
  EXPECT_GT(failures, trials / 10);
}

TEST(Lzo1xTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(99);
  std::vector<std::byte> out(64 * 1024);
  size_t ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> in(rng() % 300);
    for (auto& b : in) b = static_cast<std::byte>(rng());
    // Bias towards the end marker so some inputs get far.
    if (!in.empty() && rng() % 2) in.insert(in.end(), kEnd.begin(), kEnd.end());
    size_t consumed = 0;
    auto n = Lzo1xDecompressPrefix(in, out, &consumed);
    if (n) {
      ++ok;
      EXPECT_LE(*n, out.size());
      EXPECT_LE(consumed, in.size());
    }
  }
  EXPECT_LT(ok, 20000u);
}

}  // namespace
}  // namespace firmwarden::unpack
