// Helpers for the format handler tests: call one handler's parse() directly, run the whole engine
// in info mode, look up details and regions, and mutate inputs for the hostile tests.
#pragma once

#include <gtest/gtest.h>
#include <lzma.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "core/blob.h"
#include "firmwarden/unpack.h"
#include "test_util.h"
#include "unpack/handler.h"

namespace firmwarden::unpack::testing {

// firmwarden::testing::Run, under a name that gtest's Test::Run does not hide inside TEST bodies.
inline int Shell(const std::string& command, std::string* out = nullptr) {
  return firmwarden::testing::Run(command, out);
}

inline const FormatHandler* HandlerNamed(std::string_view name) {
  for (const FormatHandler& h : Handlers())
    if (h.name == name) return &h;
  return nullptr;
}

// Runs `handler`'s parse() on `blob` at `offset`, as the engine would after a signature hit. The
// matched magic is the first of the handler's signatures present at the offset (or the first one).
inline Result<Parsed> ParseWith(std::string_view handler, const Blob& blob, size_t offset = 0,
                                uint64_t budget_bytes = 256ULL << 20) {
  const FormatHandler* h = HandlerNamed(handler);
  if (h == nullptr) return Fail(ErrorCode::kUsage, "no such handler");
  std::string_view match = h->magics.empty() ? std::string_view() : h->magics[0].bytes;
  std::string_view text = AsChars(blob.bytes());
  for (const Magic& m : h->magics) {
    if (offset + m.offset <= text.size() && text.substr(offset + m.offset).starts_with(m.bytes)) {
      match = m.bytes;
      break;
    }
  }
  Budget budget;
  budget.bytes_left = budget_bytes;
  budget.files_left = 1000000;
  budget.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  ParseContext ctx{blob, blob.bytes(), offset, budget, match};
  return h->parse(ctx);
}

inline Result<Parsed> ParseWith(std::string_view handler, std::string_view bytes,
                                size_t offset = 0) {
  Blob blob = Blob::FromString(bytes);
  return ParseWith(handler, blob, offset);
}

inline std::string Detail(const std::vector<KeyValue>& details, std::string_view key) {
  for (const KeyValue& kv : details)
    if (kv.key == key) return kv.value;
  return "<missing " + std::string(key) + ">";
}
inline std::string Detail(const Parsed& p, std::string_view key) { return Detail(p.details, key); }

inline std::string BlobString(const Blob& b) { return std::string(AsChars(b.bytes())); }

inline const SubBlob* Child(const Parsed& p, std::string_view name) {
  for (const SubBlob& c : p.children)
    if (c.name == name) return &c;
  return nullptr;
}

// The whole engine, info mode, small limits.
inline Unpacked Info(std::string_view bytes, const std::string& name = "image") {
  UnpackOptions opts;
  opts.limits.max_seconds = 30;
  opts.limits.max_total_bytes = 64ULL << 20;
  opts.limits.ratio_floor = 64ULL << 20;
  auto r = UnpackMemory(bytes, name, opts);
  EXPECT_TRUE(r.has_value());
  return r ? std::move(*r) : Unpacked{};
}

inline const Region* FindRegion(const BlobLayout& layout, std::string_view format) {
  for (const Region& r : layout.regions)
    if (r.kind == Region::Kind::kChunk && r.format == format) return &r;
  return nullptr;
}

// The first chunk of `format` anywhere in the layout, depth first.
inline const Region* FindRegionDeep(const BlobLayout& layout, std::string_view format) {
  for (const Region& r : layout.regions) {
    if (r.kind == Region::Kind::kChunk && r.format == format) return &r;
    for (const BlobLayout& c : r.children)
      if (const Region* f = FindRegionDeep(c, format)) return f;
  }
  return nullptr;
}

inline std::string RegionDetail(const Region& r, std::string_view key) {
  return Detail(r.details, key);
}

// Default limits, writing the trees under `out`.
inline UnpackOptions Options(const std::string& out) {
  UnpackOptions o;
  o.output_dir = out;
  return o;
}

inline const BlobLayout* FindChildLayout(const Region& r, std::string_view name) {
  for (const BlobLayout& b : r.children)
    if (b.name == name) return &b;
  return nullptr;
}

inline void PutU32(std::string& s, size_t at, uint32_t v, bool big_endian) {
  if (s.size() < at + 4) s.resize(at + 4, '\0');
  for (int i = 0; i < 4; ++i) {
    int shift = big_endian ? 24 - 8 * i : 8 * i;
    s[at + i] = static_cast<char>((v >> shift) & 0xFF);
  }
}
inline void PutU16(std::string& s, size_t at, uint16_t v, bool big_endian) {
  if (s.size() < at + 2) s.resize(at + 2, '\0');
  s[at] = static_cast<char>(big_endian ? v >> 8 : v & 0xFF);
  s[at + 1] = static_cast<char>(big_endian ? v & 0xFF : v >> 8);
}

// An .lzma ("LZMA alone") stream of `in`, as vendor tools write them: preset 1 with the given
// dictionary size and literal context bits (the properties byte is 0x5D for lc=3, 0x5A for lc=0).
inline std::string LzmaAlone(std::string_view in, uint32_t dict_size,
                             uint32_t lc = LZMA_LC_DEFAULT) {
  lzma_options_lzma opt;
  lzma_lzma_preset(&opt, 1);
  opt.dict_size = dict_size;
  opt.lc = lc;
  lzma_stream s = LZMA_STREAM_INIT;
  EXPECT_EQ(lzma_alone_encoder(&s, &opt), LZMA_OK);
  std::string out(in.size() + in.size() / 2 + 1024, '\0');
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  s.next_out = reinterpret_cast<uint8_t*>(out.data());
  s.avail_out = out.size();
  EXPECT_EQ(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
  out.resize(out.size() - s.avail_out);
  lzma_end(&s);
  return out;
}

// An unpack of `bytes` into "out" of a fresh temporary directory, as `firmwarden unpack -o` does.
struct Extraction {
  Extraction(std::string_view bytes, const std::string& name)
      : u(UnpackMemory(bytes, name, Options(out))) {}
  // The data written for `e`.
  std::string Read(const FileEntry& e) const {
    return firmwarden::testing::ReadFile(out + "/" + e.disk_path);
  }
  firmwarden::testing::TempDir tmp;
  std::string out = tmp / "out";
  Result<Unpacked> u;
};

// Flips `count` random bits (fixed seed) outside the first `keep` bytes.
inline std::string FlipBits(std::string s, uint64_t seed, int count, size_t keep = 0) {
  if (s.size() <= keep) return s;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < count; ++i) {
    size_t at = keep + rng() % (s.size() - keep);
    s[at] = static_cast<char>(s[at] ^ (1 << (rng() % 8)));
  }
  return s;
}

// Unpacks `rounds` copies of `image`, each with 1 to `max_flips` random bits flipped (one
// generator, seeded with `seed`, for all rounds; with `head`, half the flips aim at the first
// `head` bytes), each into the fresh directory `next_out()` names, which is removed afterwards.
// Every copy must unpack and write nothing but files, directories and symlinks; `each`, when given,
// looks at each result too. Call it inside ASSERT_NO_FATAL_FAILURE: a fatal failure ends the
// rounds.
inline void ExpectBitFlipsContained(const std::string& image, uint64_t seed, int rounds,
                                    int max_flips, const std::function<std::string()>& next_out,
                                    size_t head = 0,
                                    const std::function<void(const Unpacked&)>& each = nullptr) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < rounds; ++i) {
    std::string data = image;
    int flips = 1 + static_cast<int>(rng() % max_flips);
    for (int f = 0; f < flips; ++f) {
      size_t off =
          head > 0 && rng() % 2 ? rng() % std::min(data.size(), head) : rng() % data.size();
      data[off] = static_cast<char>(data[off] ^ (1u << (rng() % 8)));
    }
    SCOPED_TRACE(i);
    std::string out = next_out();
    auto u = UnpackMemory(data, "flip", Options(out));
    ASSERT_TRUE(u.has_value());
    if (each) each(*u);
    for (const std::string& rel : firmwarden::testing::ListTree(out)) {
      struct stat st {};
      ASSERT_EQ(lstat((out + "/" + rel).c_str(), &st), 0);
      EXPECT_TRUE(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) << rel;
    }
    std::filesystem::remove_all(out);
  }
}

}  // namespace firmwarden::unpack::testing
