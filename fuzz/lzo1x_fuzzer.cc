// libFuzzer target for the LZO1X decoder and the lzop container reader. Both must survive any
// input: no crash, no sanitizer report, no unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "unpack/lzo1x.h"
#include "unpack/lzop.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const firmwarden::Bytes in(reinterpret_cast<const std::byte*>(data), size);

  // A fixed buffer like a squashfs block cache; static so each run does not pay for 1 MiB.
  static std::vector<std::byte> out(1 << 20);
  size_t consumed = 0;
  auto n = firmwarden::unpack::Lzo1xDecompressPrefix(in, out, &consumed);
  if (n && (*n > out.size() || consumed > size)) __builtin_trap();
  auto strict = firmwarden::unpack::Lzo1xDecompress(in, out);
  // The strict form must agree with the prefix form whenever the stream fills the whole input.
  if (strict && (!n || *strict != *n || consumed != size)) __builtin_trap();

  std::string text;
  auto lzop = firmwarden::unpack::LzopDecompress(in, &text, 16u << 20);
  if (lzop) {
    auto measured = firmwarden::unpack::LzopMeasure(in);
    // Both walk the same structure, so they must agree on success and on the end.
    if (!measured || measured->consumed != lzop->consumed || text.size() != lzop->uncompressed_size)
      __builtin_trap();
  }
  return 0;
}
