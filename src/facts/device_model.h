// DeviceModel: the facts about a device, computed once from its unpacked file system. Checks read
// these; they never walk the tree or re-parse a file that a fact already parsed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "facts/bootloader.h"
#include "facts/configs.h"
#include "facts/crypto_material.h"
#include "facts/elf.h"
#include "facts/endpoints.h"
#include "facts/rootfs.h"
#include "facts/secrets.h"
#include "facts/source_ref.h"
#include "facts/web_handlers.h"
#include "firmwarden/unpack.h"

namespace firmwarden::facts {

enum class HashScheme {
  kEmpty,     // "" : no password at all
  kLocked,    // "*", "!", "!!", "x" without shadow, "!…" prefixed hashes
  kDes,       // 13 chars of [./0-9A-Za-z]
  kMd5,       // $1$
  kApr1,      // $apr1$
  kSha256,    // $5$
  kSha512,    // $6$
  kBcrypt,    // $2a$ $2b$ $2x$ $2y$
  kYescrypt,  // $y$
  kOther,     // something crypt(3) may know ($7$, $gy$, $sha1$, $md5,…)
  kPlain      // not a hash at all: looks like a cleartext password
};

std::string_view HashSchemeName(HashScheme s);
HashScheme ClassifyHash(std::string_view hash);

struct Account {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
  std::string shell;
  bool login_shell = false;  // shell is not nologin/false/sync/…
  std::string hash;          // from shadow when present there, else passwd field 2
  HashScheme scheme = HashScheme::kLocked;
  SourceRef passwd;     // the passwd line
  SourceRef hash_from;  // the line the hash came from (shadow or passwd)
};

// A program the boot graph shows being started.
struct Started {
  std::vector<std::string> argv;  // as written (variables expanded where known)
  std::string binary;             // resolved device path of argv[0], "" when not in the image
  std::string program;            // what runs: basename, or the BusyBox applet ("telnetd")
  std::string via;  // "inittab", "script", "rc.d", "procd", "inetd", "xinetd", "systemd", "cron",
                    // "hotplug"
  bool conditional = false;  // inside an if/case/&&/|| branch: may or may not run
  bool respawn = false;      // inittab respawn/askfirst: a console or long-running service
  std::string user;          // from inetd/systemd User=, "" when unknown (root by default)
  std::string console;       // inittab tty field ("ttyS0"), "" when none
  SourceRef source;
  std::vector<std::string> chain;  // the scripts that led here, outermost first
};

// A credential a service (web server, nvram defaults) ships with, outside passwd/shadow.
struct ServiceCredential {
  std::string kind;  // "htpasswd", "userfile", "nvram"
  std::string user;
  std::string secret;  // a hash, or the cleartext password
  bool cleartext = false;
  SourceRef at;
};

// A packet capture file format, known by its magic.
enum class CaptureFormat { kPcap, kPcapng };

// The format of a capture that starts with `head` (at least its first 12 bytes): pcap (either
// byte order, micro- or nanosecond magic) of version 2.x, or a pcapng Section Header Block.
std::optional<CaptureFormat> SniffCapture(std::string_view head);

// Files shorter than this are never recorded as captures (a pcap file header alone is 24 bytes).
inline constexpr uint64_t kMinCaptureFileBytes = 24;

struct DeviceModel {
  RootFs fs;
  std::string out_dir;  // where the image was unpacked
  std::vector<Account> accounts;
  std::vector<SourceRef> account_files;  // passwd/shadow files read (with their paths)
  std::vector<ServiceCredential> service_credentials;
  std::vector<Started> started;
  std::vector<std::string> boot_notes;  // what the boot-graph builder could not follow, and why
  // BusyBox applets the image provides: name -> the busybox binary's device path.
  std::map<std::string, std::string> busybox_applets;
  std::vector<Secret> secrets;  // hard-coded passwords, credentials in URLs, API keys
  // URLs in files and programs (filled by the same pass over the files as the secrets).
  std::vector<Endpoint> endpoints;
  // Strings the image says about itself (hostname, model, vendor) for the password dictionary.
  std::vector<std::string> identity_strings;
  // Private keys and certificates anywhere in the image (key files, PEM carved from binaries…),
  // and what the crypto-material builder could not read.
  std::vector<PrivateKey> keys;
  std::vector<Certificate> certs;
  std::vector<std::string> crypto_notes;
  // Every regular file that starts with \x7fELF (up to kMaxElfFileBytes), keyed by device path.
  // Files that failed to parse are absent here and named in elf_notes.
  std::map<std::string, ElfInfo> elves;
  std::vector<std::string> elf_notes;
  // Packet captures (pcap, pcapng) of kMinCaptureFileBytes or more, by device path: recognised in
  // the same read of each file's first bytes that looks for the ELF magic.
  std::map<std::string, CaptureFormat> captures;
  // Shared objects (facts/program_bytes.h LibraryNames) whose name another file carries in its
  // bytes, a sign of loading by name (dlopen): library path -> the first such file in tree order.
  // Searched: every ELF above up to 32 MiB, and files up to 1 MiB under /etc or named *.sh,
  // *.conf, *.lua.
  std::map<std::string, std::string> library_named_by;
  // ELF files (up to 32 MiB) that carry the AES S-box: path -> offset of its first 16 bytes.
  std::map<std::string, uint64_t> aes_sbox;
  // Daemon, package-manager, kernel and script configuration, parsed once (facts/configs.h).
  Configs configs;
  // CGI programs and web scripts (facts/web_handlers.h), in tree order, read once.
  std::vector<WebHandler> web_handlers;
  // U-Boot binaries and environments: in the image's unknown regions, in blobs the unpacker could
  // not fully read, and under /boot (facts/bootloader.h).
  BootLoaderFacts bootloader;
};

inline constexpr uint64_t kMaxElfFileBytes = 64ULL << 20;

// Builds every fact from an unpacked image. `out_dir` is the directory Unpack() wrote into.
// `image_path`, when given, lets the boot-loader facts read the image's own unknown regions.
std::unique_ptr<DeviceModel> BuildModel(const Unpacked& unpacked, const std::string& out_dir,
                                        const std::string& image_path = "");

// The fact builders, one per file; each fills its part of the model.
void BuildAccounts(DeviceModel& m);  // also service_credentials
void BuildBusyBox(DeviceModel& m);
void BuildBootGraph(DeviceModel& m);
// The boot graph's shell reader on one script text (tests and the fuzzer): what it starts is
// appended to m.started.
void InterpretShellText(DeviceModel& m, std::string_view text, const std::string& path,
                        const std::vector<std::string>& args);
void BuildIdentity(DeviceModel& m);
void BuildElf(DeviceModel& m);  // parses on up to two threads; results do not depend on order
// BuildSecrets (after BuildElf) is declared in facts/secrets.h.
void BuildCryptoMaterial(DeviceModel& m);
void BuildConfigs(DeviceModel& m);
void BuildWebHandlers(DeviceModel& m);  // after BuildElf (compiled handlers are not read)
void BuildBootLoader(DeviceModel& m, const Unpacked& unpacked, const std::string& image_path);

}  // namespace firmwarden::facts
