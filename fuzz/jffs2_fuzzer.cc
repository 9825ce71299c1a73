// libFuzzer target for the JFFS2 handler: the whole engine in dry-run mode (nothing written), with
// the small limits of fuzz_util.h. Built by fuzz/CMakeLists.txt (preset `fuzz`).
// Seeds: tiny images from mkfs.jffs2 -r DIR -o seed.img -e 0x10000 -n, with -l and -b, and with
// -X lzo -x zlib or -x zlib -x rtime for the other compressors, and the last ones with every
// data node re-encoded as compressor 8 (raw LZMA1, lc0 lp0 pb0, 8 KiB dictionary; symlink targets
// too, which the dry run still decodes), since no Debian tool writes JFFS2 lzma.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpack(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
