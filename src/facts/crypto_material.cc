// Keys and certificates: OpenSSL 3 parses X.509, PKCS#1/PKCS#8/SEC1 keys and encrypted PKCS#8
// containers. OpenSSL cannot read OpenSSH's openssh-key-v1, PuTTY's .ppk or Dropbear's key files,
// and no Debian library reads all three, so their (small) containers are unwrapped here with
// ByteReader; the public key they carry is handed back to OpenSSL to be fingerprinted.
#include "facts/crypto_material.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <optional>

#include "core/byte_reader.h"
#include "facts/device_model.h"
#include "facts/text_util.h"

namespace firmwarden::facts {
namespace {

template <auto F>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    F(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

// Clears OpenSSL's thread-local error queue when a parse attempt goes out of scope.
struct ErrGuard {
  ~ErrGuard() { ERR_clear_error(); }
};

constexpr size_t kMaxMpintBytes = 4096;  // 32768-bit numbers: larger is not a real key

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

PublicKeyInfo Describe(const EVP_PKEY* k) {
  PublicKeyInfo info;
  if (k == nullptr) return info;
  ErrGuard guard;
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      info.type = "RSA";
      break;
    case EVP_PKEY_DSA:
      info.type = "DSA";
      break;
    case EVP_PKEY_EC:
      info.type = "EC";
      break;
    case EVP_PKEY_ED25519:
      info.type = "ED25519";
      break;
    case EVP_PKEY_ED448:
      info.type = "ED448";
      break;
    default:
      if (const char* n = EVP_PKEY_get0_type_name(k)) info.type = n;
      break;
  }
  info.bits = std::max(0, EVP_PKEY_get_bits(k));
  if (info.type == "EC") {
    char name[80] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(k, name, sizeof name, &len) == 1)
      info.curve.assign(name, std::min(len, sizeof name - 1));
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(const_cast<EVP_PKEY*>(k), &der);
  if (len > 0 && der != nullptr) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(der, static_cast<size_t>(len), md);
    info.spki_sha256 = Hex(md, sizeof md);
  }
  OPENSSL_free(der);
  return info;
}

// ---- base64 ----

std::optional<std::string> Base64(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
    clean.push_back(c);
  }
  if (clean.empty() || clean.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  while (pad < 2 && clean[clean.size() - 1 - pad] == '=') ++pad;
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), U8(clean),
                          static_cast<int>(clean.size()));
  ERR_clear_error();
  if (n < 0 || static_cast<size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// ---- ssh wire format (RFC 4251 strings and mpints) ----

std::optional<std::string_view> SshString(ByteReader& r, size_t max = 1 << 20) {
  auto n = r.U32be();
  if (!n || *n > max) return std::nullopt;
  auto b = r.Take(*n);
  if (!b) return std::nullopt;
  return AsChars(*b);
}

std::optional<BnPtr> SshMpint(ByteReader& r) {
  auto s = SshString(r, kMaxMpintBytes + 1);
  if (!s) return std::nullopt;
  if (!s->empty() && (static_cast<unsigned char>((*s)[0]) & 0x80) != 0) return std::nullopt;
  BnPtr bn(BN_bin2bn(U8(*s), static_cast<int>(s->size()), nullptr));
  if (!bn) return std::nullopt;
  return bn;
}

PkeyPtr FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  PkeyPtr out;
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* k = nullptr;
  if (params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
      EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) == 1)
    out.reset(k);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return out;
}

struct SshKey {
  std::string type;  // "ssh-rsa", …
  PkeyPtr pkey;      // null when the numbers did not make a key
};

// Reads the fields after the key-type string: the public key of `type`. With `dropbear`, the
// Dropbear private-key layout (public fields then private ones; ed25519 as one 64-byte string).
std::optional<SshKey> ReadSshKeyBody(ByteReader& r, std::string_view type, bool dropbear) {
  ErrGuard guard;
  SshKey key;
  key.type = std::string(type);
  std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>> bld(OSSL_PARAM_BLD_new());
  if (!bld) return std::nullopt;
  if (type == "ssh-rsa") {
    auto e = SshMpint(r);
    auto n = e ? SshMpint(r) : std::nullopt;
    if (!n) return std::nullopt;
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n->get()) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e->get()) == 1)
      key.pkey = FromParams("RSA", bld.get());
  } else if (type == "ssh-dss") {
    auto p = SshMpint(r);
    auto q = p ? SshMpint(r) : std::nullopt;
    auto g = q ? SshMpint(r) : std::nullopt;
    auto y = g ? SshMpint(r) : std::nullopt;
    if (!y) return std::nullopt;
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p->get()) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_Q, q->get()) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g->get()) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y->get()) == 1)
      key.pkey = FromParams("DSA", bld.get());
  } else if (type.starts_with("ecdsa-sha2-")) {
    auto curve = SshString(r, 64);
    auto point = curve ? SshString(r, 512) : std::nullopt;
    if (!point) return std::nullopt;
    const char* group = *curve == "nistp256"   ? "P-256"
                        : *curve == "nistp384" ? "P-384"
                        : *curve == "nistp521" ? "P-521"
                                               : nullptr;
    if (group != nullptr &&
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point->data(),
                                         point->size()) == 1)
      key.pkey = FromParams("EC", bld.get());
  } else if (type == "ssh-ed25519") {
    auto pk = SshString(r, 128);
    if (!pk) return std::nullopt;
    std::string_view pub = *pk;
    if (dropbear && pub.size() == 64) pub = pub.substr(32);
    if (pub.size() != 32) return std::nullopt;
    key.pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, U8(pub), pub.size()));
  } else {
    return std::nullopt;
  }
  return key;
}

std::optional<SshKey> ReadSshPublicBlob(std::string_view blob) {
  ByteReader r(AsBytes(blob));
  auto type = SshString(r, 64);
  if (!type) return std::nullopt;
  return ReadSshKeyBody(r, *type, false);
}

// ---- the scanner ----

class Scanner {
 public:
  Scanner(std::string_view data, const std::string& path, CryptoMaterial& out,
          const CryptoLimits& limits)
      : data_(data), path_(path), out_(out), limits_(limits) {
    base_ = Basename(path);
    elf_ = IsElf(data);
    binary_ = elf_ || data.substr(0, 4096).find('\0') != std::string_view::npos;
  }

  void Run() {
    size_t before = Count();
    ScanPem();
    ScanPutty();
    if (Count() == before && base_.starts_with("dropbear_") && base_.ends_with("_key")) Dropbear();
    if (Count() == before) Der();
  }

 private:
  size_t Count() const { return out_.keys.size() + out_.certs.size(); }
  bool Full() {
    if (Count() < limits_.max_objects) return false;
    if (!full_noted_) {
      full_noted_ = true;
      out_.notes.push_back(fmt::format("{}: stopped at {} keys and certificates (limit)", path_,
                                       limits_.max_objects));
    }
    return true;
  }

  // Inside a program, or inside some other binary at an offset: not a file of its own.
  bool Embedded(uint64_t offset) const { return elf_ || (binary_ && offset > 0); }

  PrivateKey NewKey(uint64_t offset, std::string format) {
    PrivateKey k;
    k.path = path_;
    k.offset = offset;
    k.embedded = Embedded(offset);
    k.format = std::move(format);
    k.ssh_host_key = IsSshHostKeyName(base_);
    return k;
  }

  void AddCert(X509* x, uint64_t offset, bool der) {
    ErrGuard guard;
    Certificate c;
    c.path = path_;
    c.offset = offset;
    c.embedded = Embedded(offset);
    c.der = der;
    auto name_text = [](const X509_NAME* n) {
      std::string s;
      BioPtr bio(BIO_new(BIO_s_mem()));
      if (!bio || n == nullptr) return s;
      if (X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253) >= 0) {
        char* p = nullptr;
        long len = BIO_get_mem_data(bio.get(), &p);
        if (p != nullptr && len > 0) s.assign(p, static_cast<size_t>(std::min(len, 4096L)));
      }
      return s;
    };
    const X509_NAME* subject = X509_get_subject_name(x);
    c.subject = name_text(subject);
    c.issuer = name_text(X509_get_issuer_name(x));
    if (subject != nullptr) {
      int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
      if (i >= 0) {
        unsigned char* utf8 = nullptr;
        int n =
            ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
        if (n > 0 && utf8 != nullptr)
          c.common_name.assign(reinterpret_cast<char*>(utf8),
                               static_cast<size_t>(std::min(n, 1024)));
        OPENSSL_free(utf8);
      }
    }
    auto unix_time = [](const ASN1_TIME* t) -> int64_t {
      std::tm tm{};
      if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
      return static_cast<int64_t>(timegm(&tm));
    };
    c.not_before = unix_time(X509_get0_notBefore(x));
    c.not_after = unix_time(X509_get0_notAfter(x));
    int sig = X509_get_signature_nid(x);
    if (sig != NID_undef) {
      if (const char* ln = OBJ_nid2ln(sig)) c.signature_algorithm = ln;
      int md = NID_undef, pk = NID_undef;
      if (OBJ_find_sigid_algs(sig, &md, &pk) == 1 && md != NID_undef)
        if (const char* sn = OBJ_nid2sn(md)) c.signature_digest = Lower(sn);
    }
    c.pub = Describe(X509_get0_pubkey(x));
    c.self_signed = X509_self_signed(x, 0) == 1;
    c.is_ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
    c.version = static_cast<int>(X509_get_version(x)) + 1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) c.sha256 = Hex(md, mdlen);
    out_.certs.push_back(std::move(c));
  }

  // One PEM block, BEGIN line to END line inclusive.
  void PemBlock(std::string_view label, std::string_view block, uint64_t offset) {
    ErrGuard guard;
    // PEM quoted inside JSON/JS/C sources: "\n" escapes instead of newlines.
    std::string unescaped;
    if (block.find('\n') == std::string_view::npos && block.find("\\n") != std::string_view::npos) {
      unescaped.reserve(block.size());
      for (size_t i = 0; i < block.size(); ++i) {
        if (block[i] == '\\' && i + 1 < block.size() && block[i + 1] == 'n') {
          unescaped.push_back('\n');
          ++i;
        } else {
          unescaped.push_back(block[i]);
        }
      }
      unescaped.push_back('\n');
      block = unescaped;
    }
    BioPtr bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    if (!bio) return;
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* der = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &der, &len) != 1 || len <= 0) {
      OPENSSL_free(name);
      OPENSSL_free(header);
      OPENSSL_free(der);
      Note(offset, fmt::format("unreadable PEM block \"{}\"", label));
      return;
    }
    std::string_view body(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
    bool encrypted_header =
        header != nullptr && std::string_view(header).find("ENCRYPTED") != std::string_view::npos;
    ParseObject(label, body, offset, encrypted_header);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
  }

  void Note(uint64_t offset, std::string what) {
    if (out_.notes.size() >= 1000) return;
    out_.notes.push_back(fmt::format("{} at offset {}: {}", path_, offset, what));
  }

  // A decoded PEM body (or a whole DER file when `label` is empty: every kind is tried).
  // Returns whether it made an object.
  bool ParseObject(std::string_view label, std::string_view der, uint64_t offset,
                   bool encrypted_header) {
    ErrGuard guard;
    const unsigned char* p = U8(der);
    long len = static_cast<long>(der.size());
    bool any = label.empty();
    if (any || label == "CERTIFICATE" || label == "X509 CERTIFICATE" ||
        label == "TRUSTED CERTIFICATE") {
      const unsigned char* q = p;
      X509Ptr x(label == "TRUSTED CERTIFICATE" ? d2i_X509_AUX(nullptr, &q, len)
                                               : d2i_X509(nullptr, &q, len));
      if (x) {
        AddCert(x.get(), offset, any);
        return true;
      }
      if (!any) {
        Note(offset, fmt::format("unparseable {}", label));
        return false;
      }
    }
    struct Traditional {
      std::string_view label;
      int type;
      const char* format;
      const char* name;
    };
    static constexpr Traditional kTraditional[] = {
        {"RSA PRIVATE KEY", EVP_PKEY_RSA, "PEM RSA", "RSA"},
        {"DSA PRIVATE KEY", EVP_PKEY_DSA, "PEM DSA", "DSA"},
        {"EC PRIVATE KEY", EVP_PKEY_EC, "PEM EC", "EC"},
    };
    for (const Traditional& t : kTraditional) {
      if (label != t.label) continue;
      PrivateKey k = NewKey(offset, t.format);
      if (encrypted_header) {
        k.encrypted = true;
        k.pub.type = t.name;
        out_.keys.push_back(std::move(k));
        return true;
      }
      const unsigned char* q = p;
      PkeyPtr key(d2i_PrivateKey(t.type, nullptr, &q, len));
      if (!key) {
        Note(offset, fmt::format("unparseable {}", label));
        return false;
      }
      k.pub = Describe(key.get());
      out_.keys.push_back(std::move(k));
      return true;
    }
    if (any || label == "PRIVATE KEY") {
      const unsigned char* q = p;
      std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO_free>> p8(
          d2i_PKCS8_PRIV_KEY_INFO(nullptr, &q, len));
      PkeyPtr key(p8 ? EVP_PKCS82PKEY(p8.get()) : nullptr);
      if (!key && any) {
        // A bare DER PKCS#1/SEC1/DSA key file.
        for (const Traditional& t : kTraditional) {
          const unsigned char* r = p;
          key.reset(d2i_PrivateKey(t.type, nullptr, &r, len));
          if (key) break;
        }
      }
      if (key) {
        PrivateKey k = NewKey(offset, any ? "DER" : "PKCS#8");
        k.pub = Describe(key.get());
        out_.keys.push_back(std::move(k));
        return true;
      }
      if (!any) {
        Note(offset, "unparseable PRIVATE KEY");
        return false;
      }
    }
    if (any || label == "ENCRYPTED PRIVATE KEY") {
      const unsigned char* q = p;
      std::unique_ptr<X509_SIG, Deleter<X509_SIG_free>> sig(d2i_X509_SIG(nullptr, &q, len));
      if (sig && q == p + len) {
        PrivateKey k = NewKey(offset, "encrypted PKCS#8");
        k.encrypted = true;
        out_.keys.push_back(std::move(k));
        return true;
      }
      if (!any) Note(offset, "unparseable ENCRYPTED PRIVATE KEY");
      return false;
    }
    if (label == "OPENSSH PRIVATE KEY") return OpenSsh(der, offset);
    return false;  // public keys, requests, parameters: not what these facts are about
  }

  // openssh-key-v1: magic, cipher, kdf, kdf options, key count, public key blobs, private part.
  bool OpenSsh(std::string_view der, uint64_t offset) {
    static constexpr std::string_view kMagic{"openssh-key-v1\0", 15};
    if (!der.starts_with(kMagic)) {
      Note(offset, "OPENSSH PRIVATE KEY without the openssh-key-v1 magic");
      return false;
    }
    ByteReader r(AsBytes(der.substr(kMagic.size())));
    auto cipher = SshString(r, 256);
    auto kdf = cipher ? SshString(r, 256) : std::nullopt;
    auto kdf_options = kdf ? SshString(r, 4096) : std::nullopt;
    if (!kdf_options) {
      Note(offset, "truncated OpenSSH private key");
      return false;
    }
    auto count = r.U32be();
    if (!count || *count == 0 || *count > 16) {
      Note(offset, "truncated OpenSSH private key");
      return false;
    }
    auto blob = SshString(r, 1 << 16);
    if (!blob) {
      Note(offset, "truncated OpenSSH private key");
      return false;
    }
    PrivateKey k = NewKey(offset, "OpenSSH");
    k.encrypted = *cipher != "none";
    if (auto key = ReadSshPublicBlob(*blob)) {
      k.pub = Describe(key->pkey.get());
      if (k.pub.type.empty()) k.pub.type = SshTypeName(key->type);
    }
    out_.keys.push_back(std::move(k));
    return true;
  }

  static std::string SshTypeName(std::string_view ssh_type) {
    if (ssh_type == "ssh-rsa") return "RSA";
    if (ssh_type == "ssh-dss") return "DSA";
    if (ssh_type.starts_with("ecdsa-")) return "EC";
    if (ssh_type == "ssh-ed25519") return "ED25519";
    return "";
  }

  void ScanPem() {
    static constexpr std::string_view kBegin = "-----BEGIN ";
    size_t pos = 0;
    while ((pos = data_.find(kBegin, pos)) != std::string_view::npos) {
      if (Full()) return;
      size_t label_at = pos + kBegin.size();
      size_t dashes = data_.find("-----", label_at);
      if (dashes == std::string_view::npos || dashes - label_at > 64) {
        pos = label_at;
        continue;
      }
      std::string_view label = data_.substr(label_at, dashes - label_at);
      bool clean = !label.empty() && std::all_of(label.begin(), label.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ';
      });
      if (!clean) {
        pos = label_at;
        continue;
      }
      std::string end_marker = fmt::format("-----END {}-----", label);
      size_t body_at = dashes + 5;
      std::string_view window = data_.substr(body_at, limits_.max_block_bytes);
      size_t end = window.find(end_marker);
      if (end == std::string_view::npos) {
        // A program that only names the marker (libcrypto, ssh clients) has no base64 after it.
        std::string_view next = Trim(window.substr(0, 80));
        if (next.size() >= 64 && Base64(next.substr(0, 64)))
          Note(pos, fmt::format("PEM block \"{}\" without its END line (truncated?)", label));
        pos = body_at;
        continue;
      }
      size_t block_end = body_at + end + end_marker.size();
      PemBlock(label, data_.substr(pos, block_end - pos), pos);
      pos = block_end;
    }
  }

  // PuTTY .ppk (versions 2 and 3): "Key: value" header lines, then Public-Lines of base64.
  void ScanPutty() {
    static constexpr std::string_view kMagic = "PuTTY-User-Key-File-";
    size_t pos = 0;
    while ((pos = data_.find(kMagic, pos)) != std::string_view::npos) {
      if (Full()) return;
      size_t at = pos;
      pos += kMagic.size();
      std::vector<std::string_view> lines = Lines(data_.substr(at, 64 << 10));
      if (lines.size() < 4) continue;
      size_t colon = lines[0].find(": ");
      if (colon == std::string_view::npos) continue;
      std::string_view ssh_type = Trim(lines[0].substr(colon + 2));
      std::string encryption, comment;
      std::string public_b64;
      bool have_public = false;
      for (size_t i = 1; i < lines.size() && i < 8; ++i) {
        std::string_view l = lines[i];
        if (l.starts_with("Encryption: ")) encryption = Trim(l.substr(12));
        if (l.starts_with("Comment: ")) comment = Trim(l.substr(9)).substr(0, 256);
        if (l.starts_with("Public-Lines: ")) {
          int n = 0;
          for (char c : Trim(l.substr(14))) {
            if (c < '0' || c > '9' || n > 1000) {
              n = -1;
              break;
            }
            n = n * 10 + (c - '0');
          }
          if (n <= 0 || i + static_cast<size_t>(n) >= lines.size()) break;
          for (int j = 1; j <= n; ++j) public_b64 += Trim(lines[i + j]);
          have_public = true;
          break;
        }
      }
      if (!have_public || encryption.empty()) continue;
      auto blob = Base64(public_b64);
      if (!blob) {
        Note(at, "PuTTY key with unreadable public lines");
        continue;
      }
      PrivateKey k = NewKey(at, "PuTTY");
      k.encrypted = encryption != "none";
      k.comment = comment;
      if (auto key = ReadSshPublicBlob(*blob)) k.pub = Describe(key->pkey.get());
      if (k.pub.type.empty()) k.pub.type = SshTypeName(ssh_type);
      out_.keys.push_back(std::move(k));
    }
  }

  // Dropbear's own key file: ssh-wire type string, public fields, private fields.
  void Dropbear() {
    if (data_.size() > (64 << 10)) return;
    ByteReader r(AsBytes(data_));
    auto type = SshString(r, 64);
    if (!type) return;
    auto key = ReadSshKeyBody(r, *type, true);
    if (!key) {
      Note(0, "not a Dropbear key");
      return;
    }
    PrivateKey k = NewKey(0, "Dropbear");
    k.pub = Describe(key->pkey.get());
    if (k.pub.type.empty()) k.pub.type = SshTypeName(key->type);
    out_.keys.push_back(std::move(k));
  }

  void Der() {
    static constexpr std::string_view kExtensions[] = {".der", ".crt", ".cer", ".key", ".pem"};
    bool named = std::any_of(std::begin(kExtensions), std::end(kExtensions),
                             [&](std::string_view x) { return base_.ends_with(x); });
    if (!named || data_.size() > (256 << 10) || data_.size() < 16) return;
    if (static_cast<unsigned char>(data_[0]) != 0x30) return;  // a DER SEQUENCE
    ParseObject("", data_, 0, false);
  }

  std::string_view data_;
  const std::string& path_;
  std::string base_;
  CryptoMaterial& out_;
  const CryptoLimits& limits_;
  bool elf_ = false;     // a program
  bool binary_ = false;  // not text (a Dropbear or DER key file is binary too)
  bool full_noted_ = false;
};

}  // namespace

bool IsSshHostKeyName(std::string_view name) {
  return (name.starts_with("ssh_host_") && name.ends_with("_key")) ||
         (name.starts_with("dropbear_") && name.ends_with("_host_key"));
}

void ScanBufferForCrypto(std::string_view data, const std::string& path, CryptoMaterial& out,
                         const CryptoLimits& limits) {
  try {
    Scanner(data, path, out, limits).Run();
  } catch (const std::exception& e) {  // allocation failure: keep what was found
    out.notes.push_back(fmt::format("{}: {}", path, e.what()));
  }
  ERR_clear_error();
}

void BuildCryptoMaterial(DeviceModel& m) {
  CryptoMaterial cm;
  CryptoLimits limits;
  uint64_t total = 0;
  size_t clipped = 0;
  for (const FileEntry* e : m.fs.All()) {
    if (e->type != EntryType::kFile || e->size == 0) continue;
    if (cm.keys.size() + cm.certs.size() >= limits.max_objects) break;
    if (total >= limits.max_total_bytes) {
      cm.notes.push_back(fmt::format("stopped reading files for keys after {} bytes (limit)",
                                     limits.max_total_bytes));
      break;
    }
    uint64_t want = std::min(limits.max_file_bytes, limits.max_total_bytes - total);
    if (e->size > want) ++clipped;
    auto data = m.fs.ReadEntry(*e, want);
    if (!data) continue;
    total += data->size();
    ScanBufferForCrypto(*data, RootFs::DevicePath(*e), cm, limits);
  }
  if (clipped > 0)
    cm.notes.push_back(
        fmt::format("{} files larger than {} bytes were searched for keys only in "
                    "their first {} bytes",
                    clipped, limits.max_file_bytes, limits.max_file_bytes));
  m.keys = std::move(cm.keys);
  m.certs = std::move(cm.certs);
  m.crypto_notes = std::move(cm.notes);
}

}  // namespace firmwarden::facts
