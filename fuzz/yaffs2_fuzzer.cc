// libFuzzer target for the YAFFS2 handler: the input as is and again with a little-endian
// directory header (type 3, parent 1, checksum 0xFFFF) planted at offset 0, so layout detection
// and the object walk run on every input. Seed it with images from the writer in
// src/unpack/formats/yaffs2_test.cc (with and without spare).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size,
                                       std::string_view("\x03\0\0\0\x01\0\0\0\xFF\xFF", 10));
  return 0;
}
