// Binary version signatures (identify/signatures.h) over every regular file of the root file
// system: each file is mapped and scanned once by the one Vectorscan database of all products;
// every hit becomes an occurrence (file, offset, matched string, rule id) of one component per
// (product, version), however many files carry it. A finding whose version is the upstream version
// of a package the package database already lists (busybox 1.35.0 vs dpkg's 1:1.35.0-4) takes that
// package's name, so the merge step folds it into the package instead of adding a second component.
#include "identify/signatures.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>
#include <unordered_map>

#include "facts/text_util.h"
#include "identify/identify.h"

namespace firmwarden::identify {

namespace {

namespace sg = signatures;

// "1.2.13.dfsg", "2.0.11+dfsg" and "2.1.12-stable" carry the upstream "1.2.13", "2.0.11" and
// "2.1.12" plus a repack or release marker.
bool SameUpstream(std::string_view package_version, std::string_view found) {
  std::string u = UpstreamVersion(package_version);
  if (u == found) return true;
  if (!u.starts_with(found) || u.size() == found.size()) return false;
  char sep = u[found.size()];
  return (sep == '.' || sep == '+' || sep == '~' || sep == '-') && u.size() > found.size() + 1 &&
         !std::isdigit(static_cast<unsigned char>(u[found.size() + 1]));
}

// True when the ELF file links one of the product's own libraries, directly or through the
// libraries it needs that the image ships (BIND's libisccfg quotes the OpenSSL headers' version
// text but reaches libcrypto only through libisc). `by_soname` maps DT_SONAME to the image's ELF
// facts; the walk is bounded and visits each library once.
bool LinksOwnLibrary(const sg::Signature& s, const facts::ElfInfo& elf,
                     const std::unordered_map<std::string, const facts::ElfInfo*>& by_soname) {
  if (s.libraries.empty()) return false;
  constexpr size_t kMaxLibraries = 256;
  std::vector<const facts::ElfInfo*> todo{&elf};
  std::set<std::string> seen;
  while (!todo.empty() && seen.size() < kMaxLibraries) {
    const facts::ElfInfo* e = todo.back();
    todo.pop_back();
    for (const std::string& needed : e->needed) {
      for (const std::string& lib : s.libraries)
        if (needed.starts_with(lib)) return true;
      if (!seen.insert(needed).second) continue;
      auto it = by_soname.find(needed);
      if (it != by_soname.end()) todo.push_back(it->second);
    }
  }
  return false;
}

class Mapped {
 public:
  Mapped(int fd, size_t size) : size_(size) {
    if (size == 0) return;
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) data_ = p;
  }
  ~Mapped() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  Mapped(const Mapped&) = delete;
  Mapped& operator=(const Mapped&) = delete;
  std::span<const std::byte> bytes() const {
    return data_ == nullptr ? std::span<const std::byte>()
                            : std::span(static_cast<const std::byte*>(data_), size_);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

constexpr size_t kMaxOccurrences = 64;

// Documentation quotes other versions (changelogs, NEWS, manuals: "fixed since procps 3.3.10");
// what runs on the device is never there.
bool Documentation(std::string_view tree_path) {
  for (std::string_view dir :
       {"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/",
        "usr/share/lintian/", "usr/share/common-licenses/", "usr/share/help/",
        "usr/share/gtk-doc/"})
    if (tree_path.starts_with(dir)) return true;
  return false;
}  // per component; the rest add nothing an auditor needs

}  // namespace

void Source_signatures(const Context& ctx, std::vector<Component>& out) {
  const facts::RootFs& fs = ctx.model.fs;
  if (fs.empty()) return;
  const sg::Database* db = sg::Database::Builtin();
  if (db == nullptr) return;  // the embedded data is validated by the tests
  const std::vector<sg::Signature>& sigs = db->signatures();
  sg::Scanner scanner(*db);

  struct Found {
    Component c;
  };
  std::map<std::pair<uint32_t, std::string>, Found> found;
  auto add = [&](const sg::Hit& h, const std::string& path, bool by_name) {
    Found& f = found[{h.sig, h.version}];
    if (f.c.evidence.size() >= kMaxOccurrences) return;
    const sg::Rule& rule = sigs[h.sig].rules[h.rule];
    f.c.evidence.push_back({"signature:" + rule.id, by_name ? "filename" : "binary-analysis", path,
                            0, by_name ? std::nullopt : std::optional<uint64_t>(h.offset), h.text,
                            by_name ? confidence::kFilename : confidence::kBanner});
    if (!by_name && f.c.main_file.empty()) f.c.main_file = path;
  };

  std::unordered_map<std::string, const facts::ElfInfo*> by_soname;
  for (const auto& [path, elf] : ctx.model.elves)
    if (!elf.soname.empty()) by_soname.emplace(elf.soname, &elf);

  for (const FileEntry* e : fs.All()) {
    if (e->type != EntryType::kFile || Documentation(e->tree_path)) continue;
    std::string path = facts::RootFs::DevicePath(*e);
    for (const sg::Hit& h : scanner.ScanPath(path)) add(h, path, true);
    if (e->size == 0 || e->size > sg::kMaxScanFileBytes) continue;
    int fd = fs.OpenEntry(*e);
    if (fd < 0) continue;
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        static_cast<uint64_t>(st.st_size) > sg::kMaxScanFileBytes) {
      close(fd);
      continue;
    }
    Mapped m(fd, static_cast<size_t>(st.st_size));
    close(fd);
    std::string base = facts::Basename(e->tree_path);
    // The ELF facts already parsed this file's DT_NEEDED (never parsed twice).
    auto elf = ctx.model.elves.find(path);
    for (const sg::Hit& h : scanner.Scan(m.bytes(), base)) {
      if (elf != ctx.model.elves.end() && LinksOwnLibrary(sigs[h.sig], elf->second, by_soname))
        continue;
      add(h, path, false);
    }
  }

  // A product named only by a path (versionless rule) that is also found with a version is that
  // version: the path's evidence joins the first versioned finding of the same product.
  for (auto it = found.begin(); it != found.end();) {
    auto versioned = it->first.second.empty() ? found.upper_bound(it->first) : found.end();
    if (versioned == found.end() || versioned->first.first != it->first.first) {
      ++it;
      continue;
    }
    for (ComponentEvidence& ev : it->second.c.evidence)
      if (versioned->second.c.evidence.size() < kMaxOccurrences)
        versioned->second.c.evidence.push_back(std::move(ev));
    it = found.erase(it);
  }

  // Package components already found, by lower-cased name, to join.
  std::unordered_map<std::string, std::vector<const Component*>> packages;
  for (const Component& c : out)
    if (c.confidence >= confidence::kPackageDatabase ||
        (!c.evidence.empty() && c.evidence.front().confidence >= confidence::kPackageDatabase))
      packages[facts::Lower(c.name)].push_back(&c);

  std::vector<Component> made;  // appended after the loop: `packages` points into `out`
  for (auto& [key, f] : found) {
    const sg::Signature& s = sigs[key.first];
    Component& c = f.c;
    c.name = s.product;
    c.version = key.second;
    c.type = s.type;
    c.description = s.description;
    c.cpe_vendor = s.cpe_vendor;
    c.cpe_product = s.cpe_product;
    c.cpe = FormatCpe(s.cpe_part, s.cpe_vendor, s.cpe_product, c.version);
    c.purl = MakePurl(s.purl_type, s.purl_namespace, s.purl_name, c.version, {});
    std::vector<std::string> names = s.packages;
    names.insert(names.begin(), s.product);
    for (const std::string& n : names) {
      auto it = packages.find(facts::Lower(n));
      if (it == packages.end()) continue;
      const Component* pkg = nullptr;
      for (const Component* p : it->second)
        if (c.version.empty() ? pkg == nullptr : SameUpstream(p->version, c.version)) pkg = p;
      if (pkg == nullptr) continue;
      c.name = pkg->name;
      c.version = UpstreamVersion(pkg->version);
      // The package's own identity stands (its CPE is derived from its name and version).
      c.cpe.clear();
      c.cpe_vendor.clear();
      c.cpe_product.clear();
      c.purl.clear();
      break;
    }
    made.push_back(std::move(c));
  }
  for (Component& c : made) out.push_back(std::move(c));
}

}  // namespace firmwarden::identify
