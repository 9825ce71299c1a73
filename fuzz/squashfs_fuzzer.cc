// libFuzzer target for the squashfs handler: the whole input is unpacked in memory (info mode, so
// the TreeSink only records entries), which runs the signature scan, parse() and extract() with
// small limits. Seed it with small mksquashfs images of every compressor; most mutations then
// land in the superblock, the metadata tables or the compressed blocks.
//
// With FIRMWARDEN_FUZZ_WRITE=1 in the environment each input is also extracted into a fresh
// temporary directory (slower; exercises the on-disk path of the sink).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "firmwarden/unpack.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = firmwarden::fuzz::AsView(data, size);
  if (!firmwarden::fuzz::WriteUnpackIfAsked(bytes, "squashfs_fuzz"))
    (void)firmwarden::UnpackMemory(bytes, "fuzz.bin", firmwarden::fuzz::FilesystemOptions());
  return 0;
}
