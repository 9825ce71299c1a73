// libFuzzer target for the vendor container handlers (arcadyan, huawei, linksys_bin, netgear_chk,
// seama, vxworks_img0, vxworks_memfs): the first input byte picks the handler, whose signature is
// then written where it belongs, and the whole engine runs in dry-run mode with small limits.
#include <string>
#include <string_view>

#include "fuzz_util.h"

namespace {

struct Target {
  std::string_view magic;
  size_t offset;
};

constexpr Target kTargets[] = {
    {std::string_view("\x00\xD5\x08\x00", 4), 0x68},  // arcadyan
    {"2RDH", 0x11080},                                // huawei packet
    {"2RDH", 0},                                      // bare tclinux
    {"HDR0", 32},                                     // linksys_bin
    {"*#$^", 0},                                      // netgear_chk
    {std::string_view("\x5E\xA3\xA4\x17", 4), 0},     // seama
    {"IMG0", 0},                                      // vxworks_img0
    {"owowowowowowowowowowowowowowowow", 0},          // vxworks_memfs
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Target& t = kTargets[data[0] % std::size(kTargets)];
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (t.offset > 0x1000 && in.size() < t.offset) {
    // The Huawei packet's header lies 68 KiB in: pad with the bootloader's 0xFF padding rather
    // than waiting for the fuzzer to grow inputs that long.
    in.resize(t.offset, '\xff');
  }
  firmwarden::fuzz::DryUnpackWithMagic(reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                                       t.magic, t.offset);
  return 0;
}
