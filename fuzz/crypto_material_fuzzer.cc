// libFuzzer target for the crypto-material parser (src/facts/crypto_material.cc). The first byte
// picks how the rest is presented: raw under a plain, Dropbear or DER file name, or base64-wrapped
// as a PEM block or PuTTY public blob, so that the DER, openssh-key-v1 and ssh-wire parsers behind
// the armour are reached on every run, not only once the fuzzer has learnt base64.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "facts/crypto_material.h"

namespace {

std::string Base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  std::string wrapped;
  for (size_t i = 0; i < out.size(); i += 64) wrapped += out.substr(i, 64) + "\n";
  return wrapped;
}

constexpr const char* kLabels[] = {"CERTIFICATE",           "RSA PRIVATE KEY",     "PRIVATE KEY",
                                   "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY",
                                   "DSA PRIVATE KEY",       "TRUSTED CERTIFICATE"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > (1 << 20)) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  unsigned mode = data[0] % 12;
  firmwarden::facts::CryptoMaterial out;
  firmwarden::facts::CryptoLimits limits;
  limits.max_objects = 64;
  std::string buf;
  std::string path = "/etc/x";
  switch (mode) {
    case 0:
      buf = in;
      break;
    case 1:
      buf = in;
      path = "/etc/dropbear/dropbear_rsa_host_key";
      break;
    case 2:
      buf = in;
      path = "/etc/ssl/cert.der";
      break;
    case 3:
      buf = "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: f\nPublic-Lines: " +
            std::to_string(Base64(in).size() / 65 + 1) + "\n" + Base64(in);
      break;
    default: {
      std::string label = kLabels[mode - 4];
      buf = "-----BEGIN " + label + "-----\n" + Base64(in) + "-----END " + label + "-----\n";
      break;
    }
  }
  firmwarden::facts::ScanBufferForCrypto(buf, path, out, limits);
  return 0;
}
