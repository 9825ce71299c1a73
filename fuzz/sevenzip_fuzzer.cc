// libFuzzer target for the 7z handler and our own 7z reader (sevenzip_reader.h). Three runs per
// input: the whole engine in info mode on the input as is and with the 7z signature planted at
// offset 0; then the reader directly on the input with the signature planted and the start-header
// and next-header CRCs repaired (so mutations reach the header parser instead of dying at a CRC),
// parsing the header and decoding every folder in a dry run, where the file data is still decoded
// when a folder holds a symlink. Seed it with small archives from `7z a -snl` (-mf=ARM64,
// -mhc=on/off, -m0=Copy/Deflate/BZip2/LZMA).
#include <zlib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "firmwarden/file_tree.h"
#include "fuzz_util.h"
#include "unpack/formats/sevenzip_reader.h"
#include "unpack/tree_sink.h"

namespace {

constexpr std::string_view kMagic("7z\xBC\xAF\x27\x1C", 6);

void PutU32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint64_t GetU64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

void ReaderWithRepairedCrcs(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  if (s.size() < 32) s.resize(32, '\0');
  s.replace(0, kMagic.size(), kMagic);
  uint64_t off = GetU64(s, 12), len = GetU64(s, 20);
  if (off <= s.size() - 32 && len <= s.size() - 32 - off)
    PutU32(s, 28,
           static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(s.data() + 32 + off),
                                       static_cast<uInt>(len))));
  PutU32(s, 8, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(s.data() + 12), 20)));

  using namespace firmwarden;
  using namespace firmwarden::unpack;
  Bytes chunk = AsBytes(s);
  auto a = sevenzip::ReadArchive(chunk, 0, 1 << 20);
  if (!a) return;
  (void)sevenzip::Methods(*a);
  (void)sevenzip::NeedsOwnDecoder(*a);
  Budget budget;
  budget.bytes_left = 16ULL << 20;
  budget.files_left = 1000;
  budget.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  FileTree files;
  files.BeginTree(Tree{"7z", "/fuzz", "", 0, 0});
  std::vector<Diagnostic> diags;
  TreeSink sink(files, -1, "", Origin{"7z", "/fuzz", 0}, budget, diags);
  ExtractContext ctx{chunk, 0, budget, "/fuzz"};
  (void)sevenzip::Extract(*a, ctx, sink);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, kMagic);
  ReaderWithRepairedCrcs(data, size);
  return 0;
}
