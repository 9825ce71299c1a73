#include "unpack/lzop.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

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

constexpr uint64_t kNoLimit = uint64_t{1} << 40;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lzop_test.XXXXXX").string();
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

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string RepetitiveText(size_t n) {
  std::string s;
  std::mt19937 rng(3);
  const char* words[] = {"firmware ", "squashfs ", "block ", "lzo ", "\n", "0000", "kernel "};
  while (s.size() < n) s += words[rng() % 7];
  s.resize(n);
  return s;
}

// Incompressible, compressible and constant stretches, so that a multi-block file has both
// stored and compressed blocks.
std::string Mixed(size_t n) {
  std::string s;
  std::mt19937 rng(11);
  while (s.size() < n) {
    switch (rng() % 3) {
      case 0:
        s += RandomBytes(1000 + rng() % 300000, rng());
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

// Runs the real lzop on `data` stored as `name` and returns the .lzo bytes.
std::string RealLzop(const std::string& data, const std::string& args,
                     const std::string& name = "in.bin", bool via_stdin = false) {
  TempDir dir;
  WriteFile(dir.path() / name, data);
  std::string cmd = "cd '" + dir.path().string() + "' && lzop -q -f " + args;
  cmd += via_stdin ? " -c < '" + name + "' > out.lzo" : " -o out.lzo '" + name + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return ReadFile(dir.path() / "out.lzo");
}

Bytes B(std::string_view s) { return AsBytes(s); }

// ---------------------------------------------------------------------------------------------
// Round trips against the real tool.

struct Case {
  const char* label;
  std::string data;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"random", RandomBytes(100000, 1)},
      {"text", RepetitiveText(1 << 20)},
      {"empty", ""},
      {"one_byte", "x"},
      {"mix3mb", Mixed(3 * 1024 * 1024)},
      {"exact_block", RepetitiveText(256 * 1024)},
  };
  return cases;
}

class LzopRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(LzopRoundTrip, MeasureAndDecompressMatchRealTool) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(std::string(c.label) + " " + GetParam());
    const std::string lzo = RealLzop(c.data, GetParam(), "orig.name");
    ASSERT_GT(lzo.size(), 9u);

    auto m = LzopMeasure(B(lzo));
    ASSERT_TRUE(m) << m.error().ToString();
    EXPECT_EQ(m->consumed, lzo.size());
    EXPECT_EQ(m->uncompressed_size, c.data.size());
    EXPECT_EQ(m->original_name, "orig.name");
    EXPECT_NE(m->mtime, 0u);

    // The measured end must not move when anything follows the stream.
    for (const std::string& tail :
         {std::string(4096, '\xff'), std::string(3, '\0'), RandomBytes(777, 5), lzo}) {
      const std::string padded = lzo + tail;
      auto pm = LzopMeasure(B(padded));
      ASSERT_TRUE(pm) << pm.error().ToString();
      EXPECT_EQ(pm->consumed, lzo.size());
      std::string out;
      auto pd = LzopDecompress(B(padded), &out, kNoLimit);
      ASSERT_TRUE(pd) << pd.error().ToString();
      EXPECT_EQ(pd->consumed, lzo.size());
      EXPECT_TRUE(out == c.data);
    }

    std::string out = "stale contents";
    auto d = LzopDecompress(B(lzo), &out, kNoLimit);
    ASSERT_TRUE(d) << d.error().ToString();
    EXPECT_EQ(d->consumed, lzo.size());
    EXPECT_EQ(d->uncompressed_size, c.data.size());
    ASSERT_EQ(out.size(), c.data.size());
    EXPECT_TRUE(out == c.data) << "decompressed bytes differ";
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, LzopRoundTrip,
                         ::testing::Values("-1", "-3", "-9", "--crc32", "-9 --crc32", "-F"));

uint32_t Be32(const std::string& s, size_t pos) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[pos])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 3]));
}

TEST(LzopTest, MultiBlockFileReallyHasSeveralBlocks) {
  const std::string& data = Cases()[4].data;
  const std::string lzo = RealLzop(data, "-3");
  auto m = LzopMeasure(B(lzo));
  ASSERT_TRUE(m) << m.error().ToString();

  // Walk the blocks independently of lzop.cc (lzop 1.04 default layout: adler32 of the data
  // only) to prove the file really mixes several stored and compressed blocks.
  ASSERT_EQ(Be32(lzo, 17) & 0x3fff, 1u);
  size_t pos = 33 + 1 + static_cast<uint8_t>(lzo[33]) + 4;
  int stored = 0, compressed = 0;
  while (Be32(lzo, pos) != 0) {
    const uint32_t dst = Be32(lzo, pos), src = Be32(lzo, pos + 4);
    (src < dst ? compressed : stored)++;
    pos += 12 + src;
  }
  EXPECT_EQ(pos + 4, m->consumed);
  EXPECT_EQ(stored + compressed, 12);
  EXPECT_GE(stored, 1);
  EXPECT_GE(compressed, 1);

  // Removing the final zero terminator must make the stream truncated, not shorter.
  auto cut = LzopMeasure(B(std::string_view(lzo).substr(0, lzo.size() - 4)));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::kTruncated);
}

TEST(LzopTest, StdinStreamHasEmptyName) {
  const std::string data = RepetitiveText(5000);
  const std::string lzo = RealLzop(data, "-3", "in.bin", /*via_stdin=*/true);
  std::string out;
  auto d = LzopDecompress(B(lzo), &out, kNoLimit);
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->original_name, "");
  EXPECT_EQ(d->consumed, lzo.size());
  EXPECT_TRUE(out == data);
}

// ---------------------------------------------------------------------------------------------
// Limits and hostile input.

TEST(LzopTest, MaxOutputTriggersLimit) {
  const std::string& data = Cases()[4].data;  // 3 MiB, several blocks
  const std::string lzo = RealLzop(data, "-1");
  std::string out;
  auto d = LzopDecompress(B(lzo), &out, 1000);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kLimit);

  d = LzopDecompress(B(lzo), &out, data.size() - 1);  // fails in the last block
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kLimit);

  d = LzopDecompress(B(lzo), &out, data.size());
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_TRUE(out == data);

  // The empty file needs no output at all.
  const std::string empty = RealLzop("", "-3");
  d = LzopDecompress(B(empty), &out, 0);
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_TRUE(out.empty());
}

TEST(LzopTest, TruncationAtAnyOffsetFails) {
  const std::string lzo = RealLzop(RepetitiveText(300000), "-9");  // two blocks
  const std::string big = RealLzop(Cases()[4].data, "-3");
  for (const std::string* s : {&lzo, &big}) {
    // Every offset through the header and first block headers, then a prime stride (each cut
    // decompresses up to the whole prefix, so testing every offset of the 3 MiB file is slow).
    const size_t stride = s->size() < 100000 ? 13 : s->size() / 300 + 1;
    for (size_t cut = 0; cut < s->size(); cut += cut < 300 ? 1 : stride) {
      const std::string part = s->substr(0, cut);
      auto m = LzopMeasure(B(part));
      ASSERT_FALSE(m) << "measure accepted a stream cut at " << cut;
      std::string out;
      auto d = LzopDecompress(B(part), &out, kNoLimit);
      ASSERT_FALSE(d) << "decompress accepted a stream cut at " << cut;
      ASSERT_TRUE(d.error().offset.has_value());
      EXPECT_LE(*d.error().offset, cut);
    }
  }
}

TEST(LzopTest, BitFlipsAreCaughtOrHarmless) {
  const std::string data = Mixed(600000);
  const std::string lzo = RealLzop(data, "-3");
  std::mt19937 rng(2024);
  int errors = 0;
  const int kTrials = 1500;
  for (int i = 0; i < kTrials; ++i) {
    std::string bad = lzo;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
    std::string out;
    auto d = LzopDecompress(B(bad), &out, 64 << 20);
    auto m = LzopMeasure(B(bad));
    if (!d) {
      ++errors;
      continue;
    }
    // Everything lzop writes by default is covered by a checksum (header) or adler32 (data), so a
    // successful decode must be the original, e.g. a match redirected to identical bytes.
    ASSERT_TRUE(m);
    EXPECT_EQ(m->consumed, d->consumed);
    ASSERT_EQ(out.size(), data.size());
    EXPECT_TRUE(out == data);
  }
  EXPECT_GT(errors, kTrials * 9 / 10);
}

TEST(LzopTest, RandomGarbageAfterMagicNeverCrashes) {
  const std::string magic("\x89LZO\x00\x0d\x0a\x1a\x0a", 9);
  const std::string lzo = RealLzop(RepetitiveText(3000), "-3");
  std::mt19937 rng(77);
  for (int i = 0; i < 5000; ++i) {
    std::string s = i % 2 ? magic + RandomBytes(rng() % 200, rng()) : lzo.substr(0, 50);
    if (i % 2 == 0) s += RandomBytes(rng() % 200, rng());
    std::string out;
    auto d = LzopDecompress(B(s), &out, 16 << 20);
    auto m = LzopMeasure(B(s));
    EXPECT_FALSE(d && !m);  // whatever decompresses must also measure
  }
}

TEST(LzopTest, RejectsBadMagicAndHeaderChecksum) {
  std::string lzo = RealLzop(RepetitiveText(3000), "-3", "name");
  std::string bad = lzo;
  bad[1] = 'X';
  auto m = LzopMeasure(B(bad));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(m.error().offset, 0u);

  bad = lzo;
  bad[25] ^= 0x01;  // in mtime, covered by the header checksum
  m = LzopMeasure(B(bad));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kMalformed);

  m = LzopMeasure(B(std::string_view(lzo).substr(0, 5)));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kTruncated);
}

// ---------------------------------------------------------------------------------------------
// Synthetic streams for header features the lzop tool cannot be asked to write.

constexpr uint32_t kFAdler32D = 0x1, kFAdler32C = 0x2, kFExtra = 0x40, kFCrc32D = 0x100,
                   kFCrc32C = 0x200, kFMultipart = 0x400, kFFilter = 0x800, kFHCrc32 = 0x1000;

void PutBe32(std::string* s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s->push_back(static_cast<char>(v >> shift));
}
void PutBe16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v));
}
uint32_t Adler(std::string_view s) {
  return static_cast<uint32_t>(
      adler32(1, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}
uint32_t Crc(std::string_view s) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

struct SynBlock {
  std::string raw;
  std::string payload;  // == raw for a stored block
};

struct SynOptions {
  uint32_t flags = kFAdler32D;
  uint8_t method = 1;
  uint32_t filter = 0;
  std::string extra;
  std::string name = "syn";
  uint16_t version = 0x1040;
  uint16_t needed = 0x0940;
};

std::string BuildLzop(const SynOptions& o, const std::vector<SynBlock>& blocks) {
  std::string s("\x89LZO\x00\x0d\x0a\x1a\x0a", 9);
  PutBe16(&s, o.version);
  PutBe16(&s, 0x20a0);
  if (o.version >= 0x0940) PutBe16(&s, o.needed);
  s.push_back(static_cast<char>(o.method));
  if (o.version >= 0x0940) s.push_back(5);
  PutBe32(&s, o.flags);
  if (o.flags & kFFilter) PutBe32(&s, o.filter);
  PutBe32(&s, 0100644);
  PutBe32(&s, 1700000000);
  if (o.version >= 0x0940) PutBe32(&s, 0);
  s.push_back(static_cast<char>(o.name.size()));
  s += o.name;
  auto sum = [&](std::string_view v) { return (o.flags & kFHCrc32) ? Crc(v) : Adler(v); };
  PutBe32(&s, sum(std::string_view(s).substr(9)));
  if (o.flags & kFExtra) {
    std::string e;
    PutBe32(&e, static_cast<uint32_t>(o.extra.size()));
    e += o.extra;
    s += e;
    PutBe32(&s, sum(e));
  }
  for (const SynBlock& b : blocks) {
    PutBe32(&s, static_cast<uint32_t>(b.raw.size()));
    PutBe32(&s, static_cast<uint32_t>(b.payload.size()));
    const bool compressed = b.payload.size() < b.raw.size();
    if (o.flags & kFAdler32D) PutBe32(&s, Adler(b.raw));
    if (o.flags & kFCrc32D) PutBe32(&s, Crc(b.raw));
    if (compressed && (o.flags & kFAdler32C)) PutBe32(&s, Adler(b.payload));
    if (compressed && (o.flags & kFCrc32C)) PutBe32(&s, Crc(b.payload));
    s += b.payload;
  }
  PutBe32(&s, 0);
  return s;
}

// 'A' then a 33-byte match at distance 1: 34 'A's from 8 bytes.
const SynBlock kRunBlock = {std::string(34, 'A'),
                            std::string("\x12\x41\x3f\x00\x00\x11\x00\x00", 8)};
const SynBlock kStoredBlock = {"stored!", "stored!"};

TEST(LzopSyntheticTest, AllChecksumFlagsExtraFieldAndCrcHeader) {
  for (uint32_t flags :
       {0u, kFAdler32D, kFAdler32D | kFAdler32C, kFCrc32D | kFCrc32C | kFHCrc32,
        kFAdler32D | kFCrc32D | kFAdler32C | kFCrc32C | kFExtra, kFCrc32D | kFHCrc32 | kFExtra}) {
    SCOPED_TRACE(flags);
    SynOptions o;
    o.flags = flags;
    o.extra = "some extra field bytes";
    const std::string lzo = BuildLzop(o, {kRunBlock, kStoredBlock, kRunBlock});
    auto m = LzopMeasure(B(lzo));
    ASSERT_TRUE(m) << m.error().ToString();
    EXPECT_EQ(m->consumed, lzo.size());
    EXPECT_EQ(m->uncompressed_size, 34u + 7u + 34u);
    EXPECT_EQ(m->original_name, "syn");
    EXPECT_EQ(m->mtime, 1700000000u);
    std::string out;
    auto d = LzopDecompress(B(lzo), &out, kNoLimit);
    ASSERT_TRUE(d) << d.error().ToString();
    EXPECT_EQ(out, std::string(34, 'A') + "stored!" + std::string(34, 'A'));
  }
}

TEST(LzopSyntheticTest, OldHeaderVersionWithoutNewFields) {
  SynOptions o;
  o.version = 0x0930;  // before version_needed_to_extract, level and mtime_high existed
  const std::string lzo = BuildLzop(o, {kRunBlock});
  std::string out;
  auto d = LzopDecompress(B(lzo), &out, kNoLimit);
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->consumed, lzo.size());
  EXPECT_EQ(out, std::string(34, 'A'));

  o.version = 0x0800;
  auto m = LzopMeasure(B(BuildLzop(o, {kRunBlock})));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kUnsupported);
}

TEST(LzopSyntheticTest, ChecksumMismatches) {
  SynOptions o;
  o.flags = kFAdler32D | kFAdler32C;
  std::string lzo = BuildLzop(o, {kRunBlock});
  const size_t header = lzo.size() - (4 + 4 + 4 + 4 + 8 + 4);
  // Compressed-data checksum: seen by both Measure and Decompress.
  std::string bad = lzo;
  bad[header + 12] ^= 0x10;
  auto m = LzopMeasure(B(bad));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kMalformed);
  // Decompressed-data checksum: only Decompress can see it.
  bad = lzo;
  bad[header + 8] ^= 0x10;
  EXPECT_TRUE(LzopMeasure(B(bad)));
  std::string out;
  auto d = LzopDecompress(B(bad), &out, kNoLimit);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(d.error().offset, header);

  // CRC-32 variants.
  o.flags = kFCrc32D | kFHCrc32;
  lzo = BuildLzop(o, {kStoredBlock});
  bad = lzo;
  bad[bad.size() - 4 - 7 - 1] ^= 0x01;  // last byte of the crc32
  d = LzopDecompress(B(bad), &out, kNoLimit);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kMalformed);

  // Extra field checksum.
  o.flags = kFAdler32D | kFExtra;
  o.extra = "xyz";
  lzo = BuildLzop(o, {kStoredBlock});
  const size_t extra_data = lzo.find("xyz");
  ASSERT_NE(extra_data, std::string::npos);
  bad = lzo;
  bad[extra_data] = 'q';
  m = LzopMeasure(B(bad));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kMalformed);
}

TEST(LzopSyntheticTest, FilterIsMeasuredButNotDecompressed) {
  SynOptions o;
  o.flags = kFAdler32D | kFFilter;
  o.filter = 1;
  const std::string lzo = BuildLzop(o, {kRunBlock});
  auto m = LzopMeasure(B(lzo));
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->consumed, lzo.size());
  std::string out;
  auto d = LzopDecompress(B(lzo), &out, kNoLimit);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kUnsupported);
}

TEST(LzopSyntheticTest, HeaderFieldValidation) {
  SynOptions o;
  o.method = 0x2b;  // NRV2B: a real lzop method, but not LZO1X
  auto m = LzopMeasure(B(BuildLzop(o, {kRunBlock})));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kUnsupported);

  o = SynOptions();
  o.needed = 0x2000;
  m = LzopMeasure(B(BuildLzop(o, {kRunBlock})));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kUnsupported);

  o = SynOptions();
  o.flags = kFAdler32D | 0x00010000;  // reserved bit
  m = LzopMeasure(B(BuildLzop(o, {kRunBlock})));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kMalformed);

  o = SynOptions();
  o.flags = kFAdler32D | kFMultipart;
  m = LzopMeasure(B(BuildLzop(o, {kRunBlock})));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kUnsupported);

  // The OS and character-set bytes are legitimate and must be accepted.
  o = SynOptions();
  o.flags = kFAdler32D | 0x03000000 | 0x00100000;
  EXPECT_TRUE(LzopMeasure(B(BuildLzop(o, {kRunBlock}))));
}

TEST(LzopSyntheticTest, BlockLengthValidation) {
  SynOptions o;
  o.flags = 0;
  // Build by hand: header, then one block whose lengths are given directly.
  const std::string head = BuildLzop(o, {});
  const std::string prefix = head.substr(0, head.size() - 4);
  auto with_block = [&](uint32_t dst, uint32_t src, const std::string& data) {
    std::string s = prefix;
    PutBe32(&s, dst);
    PutBe32(&s, src);
    s += data;
    PutBe32(&s, 0);
    return s;
  };
  struct Bad {
    uint32_t dst, src;
    ErrorCode code;
  };
  for (const Bad& b :
       {Bad{64u * 1024 * 1024 + 1, 10, ErrorCode::kMalformed},
        Bad{0xffffffff, 10, ErrorCode::kUnsupported}, Bad{10, 11, ErrorCode::kMalformed},
        Bad{10, 0, ErrorCode::kMalformed}, Bad{1000, 500, ErrorCode::kTruncated}}) {
    auto m = LzopMeasure(B(with_block(b.dst, b.src, "0123456789a")));
    ASSERT_FALSE(m) << b.dst << "/" << b.src;
    EXPECT_EQ(m.error().code, b.code) << b.dst << "/" << b.src;
  }
  // Compressed block that decodes to fewer bytes than announced.
  std::string lzo = with_block(40, 8, kRunBlock.payload);
  EXPECT_TRUE(LzopMeasure(B(lzo)));
  std::string out;
  auto d = LzopDecompress(B(lzo), &out, kNoLimit);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kMalformed);
  // Compressed block that decodes to more: the fixed-size buffer overflows.
  lzo = with_block(20, 8, kRunBlock.payload);
  d = LzopDecompress(B(lzo), &out, kNoLimit);
  ASSERT_FALSE(d);
  // A 64 MiB claim with a small max_output is refused before anything is allocated.
  lzo = with_block(64u * 1024 * 1024, 8, kRunBlock.payload);
  d = LzopDecompress(B(lzo), &out, 1 << 20);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kLimit);
  // A back-reference before the start of the block inside an lzop stream.
  lzo = with_block(40, 7, std::string("\x12\x41\x40\x01\x11\x00\x00", 7));
  d = LzopDecompress(B(lzo), &out, kNoLimit);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(d.error().offset, prefix.size() + 8 + 2);  // the offending instruction
}

}  // namespace
}  // namespace firmwarden::unpack
