// Keys and certificates found in a device image: PEM blocks (also carved out of binaries), PuTTY
// key files, OpenSSH private keys, Dropbear binary host keys and DER files named like keys or
// certificates. Parsing is done by OpenSSL 3 wherever it knows the format; the OpenSSH, PuTTY and
// Dropbear containers (which OpenSSL does not read) are unwrapped here with bounds-checked reads,
// and their ssh-wire public keys are turned into EVP_PKEYs so that every object gets the same
// SubjectPublicKeyInfo SHA-256 fingerprint, whatever file format it came in. That fingerprint is
// what links a certificate to its private key, and an image's keys to known-compromised ones.
//
// Every input is hostile: the scanners never throw, bound the bytes they read and the objects they
// record, and clear OpenSSL's error queue after every attempt. Thread-compatible (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace firmwarden::facts {

// A public key as the fingerprint sees it.
struct PublicKeyInfo {
  std::string type;         // "RSA", "DSA", "EC", "ED25519", "ED448", or "" when unknown
  int bits = 0;             // key size (modulus bits, group order bits); 0 when unknown
  std::string curve;        // EC group name ("prime256v1"), "" otherwise
  std::string spki_sha256;  // lower-case hex of SHA-256(DER SubjectPublicKeyInfo), "" if unknown
};

struct PrivateKey {
  std::string path;       // device path of the file it is in
  uint64_t offset = 0;    // byte offset of the object in that file
  bool embedded = false;  // inside a program (ELF) or at an offset in a binary: not a key file
  // "PEM RSA", "PEM EC", "PEM DSA", "PKCS#8", "encrypted PKCS#8", "OpenSSH", "PuTTY",
  // "Dropbear", "DER".
  std::string format;
  bool encrypted = false;     // passphrase-protected (its public half may still be known)
  PublicKeyInfo pub;          // empty type when encrypted and the format does not say
  bool ssh_host_key = false;  // named like an SSH host key (ssh_host_*_key, dropbear_*_host_key)
  std::string comment;        // OpenSSH/PuTTY comment, when the format carries one
};

struct Certificate {
  std::string path;
  uint64_t offset = 0;
  bool embedded = false;
  bool der = false;                 // a DER file rather than a PEM block
  std::string subject;              // RFC 2253 text
  std::string issuer;               // RFC 2253 text
  std::string common_name;          // subject CN, "" when none
  int64_t not_before = 0;           // unix seconds
  int64_t not_after = 0;            // unix seconds
  std::string signature_algorithm;  // OpenSSL long name, e.g. "sha1WithRSAEncryption"
  std::string signature_digest;     // "md5", "sha1", "sha256"…, "" when none or unknown
  PublicKeyInfo pub;
  bool self_signed = false;  // issuer == subject (and the key ids agree when present)
  bool is_ca = false;        // basicConstraints CA:TRUE
  int version = 0;           // 1 or 3
  std::string sha256;        // SHA-256 of the certificate's DER, lower-case hex
};

// Bounds on what one scan reads and records.
struct CryptoLimits {
  uint64_t max_file_bytes = 4 << 20;     // bytes read from each file
  uint64_t max_total_bytes = 512 << 20;  // bytes read across the whole image
  size_t max_objects = 20000;            // keys + certificates recorded
  size_t max_block_bytes = 64 << 10;     // a PEM block longer than this is not one
};

struct CryptoMaterial {
  std::vector<PrivateKey> keys;
  std::vector<Certificate> certs;
  std::vector<std::string> notes;  // what could not be read (truncated blocks, limits hit)
};

// Scans one buffer, the content of the file at device path `path` (its name decides whether a
// Dropbear or DER parse is tried), appending what it finds to `out`. Never throws.
void ScanBufferForCrypto(std::string_view data, const std::string& path, CryptoMaterial& out,
                         const CryptoLimits& limits = {});

// Whether a file name looks like an SSH host private key.
bool IsSshHostKeyName(std::string_view basename);

}  // namespace firmwarden::facts
