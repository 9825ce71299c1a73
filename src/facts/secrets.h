// Secrets: credentials and API keys written into files, found by rules (PCRE2, JIT-compiled):
// hard-coded passwords and tokens in scripts and configuration files, credentials in URLs and
// command lines, and cloud/API secret formats anywhere (binaries included).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace firmwarden::facts {

struct Secret {
  std::string rule;         // "password-assignment", "url-credentials", "aws-access-key", …
  bool cloud = false;       // an API/cloud secret format (SEC-02) rather than a password (SEC-01)
  std::string path;         // device path
  int line = 0;             // text files
  uint64_t offset = 0;      // byte offset in the file
  std::string excerpt;      // the matched text with the secret value partly masked
  bool in_program = false;  // a password rule matched a string compiled into an ELF program
};

struct DeviceModel;
void BuildSecrets(DeviceModel& m);

// Runs the rules over one buffer (exposed for tests and the fuzzer).
void ScanBufferForSecrets(std::string_view data, const std::string& path, bool text,
                          std::vector<Secret>& out);

// The password rules over the printable strings (6+ bytes) of a program, one string at a time,
// so a match never spans two unrelated strings. Results have in_program set and the string's
// file offset.
void ScanProgramStrings(std::string_view data, const std::string& path, std::vector<Secret>& out);

}  // namespace firmwarden::facts
