// libFuzzer target for the SquashFS 1.x-3.x handler: the input as is and again with the vendor
// magic "shsq" planted at offset 0 (the byte order comes from the version field, so both orders
// are reached), unpacked in memory in info mode. Seed it with the fixtures that
// squashfs_legacy_test's writer makes (FIRMWARDEN_SQFS_LEGACY_SEEDS=<dir> writes them there)
// and with the first 64 KiB of the real legacy images.
//
// Info mode skips file data; with FIRMWARDEN_FUZZ_WRITE=1 in the environment each input is also
// extracted into a fresh temporary directory, which decodes every data block and fragment.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  firmwarden::fuzz::DryUnpackWithMagic(data, size, "shsq");
  (void)firmwarden::fuzz::WriteUnpackIfAsked(firmwarden::fuzz::AsView(data, size),
                                             "sqfs_legacy_fuzz");
  return 0;
}
