// Boot loader facts: U-Boot binaries and U-Boot environments found in the image (full flash
// dumps, vendor images that carry the boot loader, files under /boot), and what they say about
// the serial console at power-on: how long autoboot waits, whether any key stops it, and the
// kernel command line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace firmwarden::facts {

// One U-Boot environment: NUL-separated "name=value" strings ending in an empty string.
struct UBootEnv {
  enum class Kind {
    kSaved,     // an environment partition: CRC32 over the area verified
    kDefault,   // the default environment compiled into a U-Boot binary
    kText,      // a uEnv.txt-style text file (one name=value per line)
    kUnchecked  // a name=value block outside a U-Boot binary whose CRC did not verify
  };
  Kind kind = Kind::kUnchecked;
  std::string where;  // device path, or layout path of the blob
  uint64_t offset = 0;
  std::map<std::string, std::string> vars;
};

// One U-Boot binary.
struct UBootBinary {
  std::string where;
  std::string version;  // "U-Boot 1.1.4 (Mar 10 2015 - 15:00:34)", "" when no banner
  // Autoboot: "Hit any key to stop autoboot" (any key) or the keyed prompt; "" when neither.
  bool any_key_stops = false;
  bool keyed = false;
  bool hashed_stop_key = false;  // CONFIG_AUTOBOOT_ENCRYPTION: the stop key is stored hashed
  std::string stop_string;       // a fixed stop string compiled beside the keyed prompt
  std::optional<UBootEnv> default_env;
};

struct BootLoaderFacts {
  std::vector<UBootBinary> binaries;
  std::vector<UBootEnv> envs;  // saved, text and unchecked environments
  std::string fw_env_config;   // device path of fw_env.config: Linux can rewrite the environment
  // A kernel configuration embedded in a kernel image (IKCONFIG), and where it was found.
  std::string kernel_config;
  std::string kernel_config_where;
  // The environment that applies: a saved one first, else a binary's default one.
  const UBootEnv* Effective() const;
};

// Parses a NUL-separated environment starting at `data[start]` (the first name). Returns the
// variables, or nothing when fewer than two well-formed name=value strings are there.
std::optional<std::map<std::string, std::string>> ParseUBootEnvAt(std::string_view data,
                                                                  size_t start,
                                                                  size_t* end = nullptr);

// Looks for U-Boot in one buffer (a blob or a file) and appends what it finds.
void ScanForBootLoader(std::string_view data, const std::string& where, BootLoaderFacts& out);

// The kernel configuration a kernel built with CONFIG_IKCONFIG carries: gzip data between the
// markers "IKCFG_ST" and "IKCFG_ED". Returns the configuration text (at most 4 MiB), or nothing.
std::optional<std::string> FindEmbeddedKernelConfig(std::string_view data);

}  // namespace firmwarden::facts
