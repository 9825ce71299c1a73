#include "facts/bootloader.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <set>

#include "core/blob.h"
#include "core/byte_reader.h"
#include "facts/device_model.h"
#include "facts/text_util.h"

namespace firmwarden::facts {
namespace {

constexpr size_t kMaxVars = 1024;
constexpr size_t kMaxValue = 4096;
constexpr uint64_t kMaxRegionBytes = 8ULL << 20;  // an unknown region read for the boot loader
constexpr uint64_t kMaxWalkBytes = 128ULL << 20;  // all unknown regions of one image together
constexpr uint64_t kMaxFileBytes = 16ULL << 20;

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == ':';
}

// "name=value" with a sane name and a printable value.
bool WellFormed(std::string_view s, std::string_view* name, std::string_view* value) {
  size_t eq = s.find('=');
  if (eq == 0 || eq == std::string_view::npos || eq > 64 || s.size() - eq - 1 > kMaxValue)
    return false;
  for (size_t i = 0; i < eq; ++i)
    if (!NameChar(s[i])) return false;
  for (size_t i = eq + 1; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t') || c >= 0x7F) return false;
  }
  if (name) *name = s.substr(0, eq);
  if (value) *value = s.substr(eq + 1);
  return true;
}

// The NUL-terminated string starting at `i` (without its NUL); npos-safe at the buffer's end.
std::string_view StringAt(std::string_view data, size_t i) {
  size_t e = data.find('\0', i);
  if (e == std::string_view::npos) e = data.size();
  return data.substr(i, e - i);
}

// Walks back from the string at `i` over the name=value strings before it: the environment start.
size_t EnvStart(std::string_view data, size_t i) {
  for (size_t steps = 0; steps < kMaxVars && i >= 2 && data[i - 1] == '\0'; ++steps) {
    size_t prev_end = i - 1;  // the NUL that ends the previous string
    if (data[prev_end - 1] == '\0') break;
    // The previous string starts after the last NUL or other unprintable byte (a saved
    // environment's CRC may precede its first variable).
    size_t s = prev_end;
    while (s > 0 && prev_end - s <= 64 + kMaxValue) {
      unsigned char c = static_cast<unsigned char>(data[s - 1]);
      if ((c < 0x20 && c != '\t') || c >= 0x7F) break;
      --s;
    }
    if (!WellFormed(data.substr(s, prev_end - s), nullptr, nullptr)) break;
    i = s;
  }
  return i;
}

// The CRC32 an environment partition stores in front of its variables covers the whole area
// after the header (the unused tail included); its size is one of the usual sector multiples.
bool SavedEnvCrcMatches(std::string_view data, size_t start) {
  static constexpr uint64_t kSizes[] = {0x400,  0x800,   0x1000,  0x2000,  0x4000,
                                        0x8000, 0x10000, 0x20000, 0x40000, 0x80000};
  for (size_t header : {size_t{4}, size_t{5}}) {  // CRC, or CRC + the redundant copy's flag
    if (start < header) continue;
    size_t base = start - header;
    uint32_t want = static_cast<uint8_t>(data[base]) |
                    static_cast<uint32_t>(static_cast<uint8_t>(data[base + 1])) << 8 |
                    static_cast<uint32_t>(static_cast<uint8_t>(data[base + 2])) << 16 |
                    static_cast<uint32_t>(static_cast<uint8_t>(data[base + 3])) << 24;
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t done = start;
    for (uint64_t size : kSizes) {
      size_t end = base + size;
      if (end > data.size()) break;
      crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + done),
                  static_cast<uInt>(end - done));
      done = end;
      if (static_cast<uint32_t>(crc) == want) return true;
    }
  }
  return false;
}

// The printable string after the NULs that end the string at `i`: what a compiler placed next.
std::string NextString(std::string_view data, size_t i) {
  size_t e = data.find('\0', i);
  if (e == std::string_view::npos) return "";
  while (e < data.size() && data[e] == '\0') ++e;
  std::string_view s = StringAt(data, e);
  if (s.empty() || s.size() > 16) return "";
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F || c == '%')
      return "";
  return std::string(s);
}

std::string Where(const std::string& where, uint64_t offset) {
  return offset == 0 ? where : fmt::format("{}@{:#x}", where, offset);
}

// Records the first kernel configuration (IKCONFIG) found, `data` starting anywhere before its
// marker.
void NoteKernelConfig(std::string_view data, const std::string& where, BootLoaderFacts& out) {
  if (!out.kernel_config.empty()) return;
  if (auto text = FindEmbeddedKernelConfig(data)) {
    out.kernel_config = std::move(*text);
    out.kernel_config_where = where + " (IKCONFIG)";
  }
}

// Scans the unknown regions of `blob` (whose bytes are in `file`, mapped once) and of every
// sub-blob the unpacker wrote out as raw bytes (<out_dir>/<disk_path>.bin).
void WalkBlob(const BlobLayout& blob, const std::string& file, const std::string& out_dir,
              int depth, uint64_t& budget, BootLoaderFacts& out) {
  if (depth > 32) return;
  std::optional<Blob> mapped;
  if (!file.empty())
    if (auto b = Blob::MapFile(file)) mapped = std::move(*b);
  std::string_view bytes = mapped ? AsChars(mapped->bytes()) : std::string_view();
  for (const Region& r : blob.regions) {
    if (r.kind != Region::Kind::kUnknown || r.size < 64 || r.size > kMaxRegionBytes ||
        r.size > budget || r.offset >= bytes.size())
      continue;
    std::string_view region = bytes.substr(r.offset, r.size);
    budget -= region.size();
    ScanForBootLoader(region, Where(blob.path, r.offset), out);
    // The IKCONFIG marker sits in an unknown region; the gzip stream after it may have been
    // carved as a chunk of its own, so the configuration is read on past the region.
    if (size_t at = region.find("IKCFG_ST"); at != std::string_view::npos)
      NoteKernelConfig(bytes.substr(r.offset + at), Where(blob.path, r.offset + at), out);
  }
  for (const Region& r : blob.regions)
    for (const BlobLayout& child : r.children) {
      std::string child_file;
      if (!child.disk_path.empty() && child.disk_path.ends_with(".bin"))
        child_file = out_dir + "/" + child.disk_path;
      WalkBlob(child, child_file, out_dir, depth + 1, budget, out);
    }
}

bool LooksLikeBootFile(std::string_view path) {
  std::string base = Lower(Basename(path));
  return path.starts_with("/boot/") || base.find("u-boot") != std::string::npos ||
         base.find("uboot") != std::string::npos || base == "uenv.txt";
}

}  // namespace

std::optional<std::map<std::string, std::string>> ParseUBootEnvAt(std::string_view data,
                                                                  size_t start, size_t* end) {
  std::map<std::string, std::string> vars;
  size_t i = start;
  while (i < data.size() && vars.size() < kMaxVars) {
    std::string_view s = StringAt(data, i);
    if (s.empty()) break;  // the terminating empty string
    std::string_view name, value;
    if (!WellFormed(s, &name, &value)) break;
    vars.emplace(std::string(name), std::string(value));  // the first definition wins, as in U-Boot
    i += s.size() + 1;
  }
  if (end) *end = i;
  if (vars.size() < 2) return std::nullopt;
  return vars;
}

void ScanForBootLoader(std::string_view data, const std::string& where, BootLoaderFacts& out) {
  UBootBinary bin;
  bin.where = where;
  bool is_binary = false;
  for (size_t at = data.find("U-Boot "); at != std::string_view::npos;
       at = data.find("U-Boot ", at + 1)) {
    if (at + 7 < data.size() && data[at + 7] >= '0' && data[at + 7] <= '9') {
      std::string_view v = StringAt(data, at);
      size_t e = 0;
      while (e < v.size() && e < 96 && static_cast<unsigned char>(v[e]) >= 0x20 &&
             static_cast<unsigned char>(v[e]) < 0x7F && v[e] != '\n')
        ++e;
      bin.version = std::string(v.substr(0, e));
      is_binary = true;
      break;
    }
  }
  if (data.find("Hit any key to stop autoboot") != std::string_view::npos) {
    bin.any_key_stops = true;
    is_binary = true;
  }
  for (std::string_view prompt : {"Autobooting in %d seconds", "Autoboot in %d seconds"}) {
    size_t at = data.find(prompt);
    if (at == std::string_view::npos) continue;
    bin.keyed = true;
    is_binary = true;
    if (bin.stop_string.empty()) bin.stop_string = NextString(data, at);
  }
  if (data.find("bootstopkey") != std::string_view::npos) bin.keyed = bin.keyed || is_binary;
  if (data.find("bootstopkeysha256") != std::string_view::npos) bin.hashed_stop_key = true;

  std::set<size_t> starts;
  for (std::string_view anchor : {std::string_view("bootcmd="), std::string_view("bootdelay=")}) {
    for (size_t at = data.find(anchor); at != std::string_view::npos && starts.size() < 16;
         at = data.find(anchor, at + 1)) {
      // A name starts after a NUL, or right after a saved environment's CRC (and flag byte).
      bool after_nul = at == 0 || data[at - 1] == '\0';
      if (!after_nul && !SavedEnvCrcMatches(data, at)) continue;
      size_t start = after_nul ? EnvStart(data, at) : at;
      // CRC bytes that happen to be printable read as the start of the first name: a saved
      // environment may begin up to 4 bytes later than the walk back says.
      bool saved = false;
      for (size_t k = 0; k <= 4 && start + k <= at && !saved; ++k)
        if (SavedEnvCrcMatches(data, start + k)) {
          start += k;
          saved = true;
        }
      if (starts.count(start)) continue;
      auto vars = ParseUBootEnvAt(data, start);
      if (!vars) continue;
      starts.insert(start);
      UBootEnv env;
      env.where = where;
      env.offset = start;
      env.vars = std::move(*vars);
      if (saved) {
        env.kind = UBootEnv::Kind::kSaved;
        out.envs.push_back(std::move(env));
      } else if (is_binary && !bin.default_env) {
        env.kind = UBootEnv::Kind::kDefault;
        bin.default_env = std::move(env);
      } else if (!is_binary) {
        env.kind = UBootEnv::Kind::kUnchecked;
        out.envs.push_back(std::move(env));
      }
    }
  }
  if (is_binary) out.binaries.push_back(std::move(bin));
}

std::optional<std::string> FindEmbeddedKernelConfig(std::string_view data) {
  static constexpr std::string_view kStart = "IKCFG_ST";
  size_t at = data.find(kStart);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view gz = data.substr(at + kStart.size());
  if (gz.size() < 18 || gz[0] != '\x1f' || gz[1] != '\x8b') return std::nullopt;
  constexpr size_t kMax = 4 << 20;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
  std::string out(kMax, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(gz.size(), UINT32_MAX));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  size_t produced = out.size() - zs.avail_out;
  inflateEnd(&zs);
  // A configuration larger than the cap is cut at the cap: what was read still counts.
  if ((rc != Z_STREAM_END && rc != Z_BUF_ERROR) || produced == 0) return std::nullopt;
  out.resize(produced);
  if (out.find("CONFIG_") == std::string::npos) return std::nullopt;
  return out;
}

const UBootEnv* BootLoaderFacts::Effective() const {
  for (UBootEnv::Kind k : {UBootEnv::Kind::kSaved, UBootEnv::Kind::kText})
    for (const UBootEnv& e : envs)
      if (e.kind == k) return &e;
  for (const UBootBinary& b : binaries)
    if (b.default_env) return &*b.default_env;
  for (const UBootEnv& e : envs)
    if (e.kind == UBootEnv::Kind::kUnchecked) return &e;
  return nullptr;
}

void BuildBootLoader(DeviceModel& m, const Unpacked& unpacked, const std::string& image_path) {
  BootLoaderFacts& out = m.bootloader;
  uint64_t budget = kMaxWalkBytes;
  WalkBlob(unpacked.layout, image_path, m.out_dir, 0, budget, out);
  if (m.fs.empty()) return;
  for (const FileEntry* fe : m.fs.All()) {
    if (fe->type != EntryType::kFile || fe->size == 0 || fe->size > kMaxFileBytes) continue;
    std::string dev = RootFs::DevicePath(*fe);
    if (Basename(dev) == "fw_env.config" && out.fw_env_config.empty()) out.fw_env_config = dev;
    if (!LooksLikeBootFile(dev)) continue;
    auto data = m.fs.ReadEntry(*fe, kMaxFileBytes);
    if (!data) continue;
    if (Lower(Basename(dev)) == "uenv.txt") {
      UBootEnv env;
      env.kind = UBootEnv::Kind::kText;
      env.where = dev;
      for (std::string_view line : Lines(*data)) {
        std::string_view name, value;
        std::string_view t = Trim(line);
        if (!t.empty() && t[0] != '#' && WellFormed(t, &name, &value))
          env.vars.emplace(std::string(name), std::string(value));
      }
      if (!env.vars.empty()) out.envs.push_back(std::move(env));
      continue;
    }
    ScanForBootLoader(*data, dev, out);
    NoteKernelConfig(*data, dev, out);
  }
}

}  // namespace firmwarden::facts
