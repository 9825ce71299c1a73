#include "facts/rootfs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace firmwarden::facts {
namespace {

int OpenBeneath(const std::string& root, const std::string& rel) {
  int dfd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, dfd, rel.c_str(), &how, sizeof how));
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: the safe writer made every directory component itself, so a plain
    // no-follow open of the last component is what remains to guard.
    fd = openat(dfd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  }
  close(dfd);
  return fd;
}

}  // namespace

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view p = path.substr(i, j - i);
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!p.empty() && p != ".") {
      parts.push_back(p);
    }
    i = j + 1;
  }
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

RootFs::RootFs(const FileTree& files, size_t tree, std::string out_dir)
    : files_(&files), tree_(tree), out_dir_(std::move(out_dir)) {
  all_ = files.EntriesOf(tree);
  std::sort(all_.begin(), all_.end(),
            [](const FileEntry* a, const FileEntry* b) { return a->tree_path < b->tree_path; });
  // Taken from the sorted list, each directory's children are already in path order.
  for (const FileEntry* e : all_) {
    size_t slash = e->tree_path.rfind('/');
    std::string parent = slash == std::string::npos ? "" : e->tree_path.substr(0, slash);
    if (!e->tree_path.empty()) children_[parent].push_back(e);
  }
}

std::optional<size_t> RootFs::PickRoot(const FileTree& files) {
  std::optional<size_t> best;
  long best_score = -1;
  for (size_t t = 0; t < files.trees().size(); ++t) {
    long score = 0;
    for (const char* p : {"etc", "bin", "sbin", "lib", "usr", "etc/passwd", "etc/inittab",
                          "sbin/init", "bin/sh", "bin/busybox"})
      if (files.Find(t, p) != nullptr) score += 1000000;
    score += static_cast<long>(std::min<size_t>(files.trees()[t].entry_count, 999999));
    if (score > best_score) {
      best_score = score;
      best = t;
    }
  }
  return best;
}

const FileEntry* RootFs::Entry(std::string_view path) const {
  if (files_ == nullptr) return nullptr;
  return files_->Find(tree_, NormalizePath(path));
}

std::string RootFs::ResolvePath(std::string_view path) const {
  if (files_ == nullptr) return "";
  // Walk component by component so that symlinked directories resolve too.
  std::string todo = NormalizePath(path);
  std::string done;
  int hops = 0;
  while (!todo.empty()) {
    size_t slash = todo.find('/');
    std::string head = todo.substr(0, slash);
    std::string rest = slash == std::string::npos ? "" : todo.substr(slash + 1);
    std::string candidate = done.empty() ? head : done + "/" + head;
    const FileEntry* e = files_->Find(tree_, candidate);
    if (e == nullptr) return "";
    if (e->type == EntryType::kSymlink) {
      if (++hops > 32) return "";
      std::string target = e->link_target;
      std::string base = target.starts_with('/') ? "" : done;
      todo = NormalizePath(base + "/" + target + (rest.empty() ? "" : "/" + rest));
      done.clear();
      continue;
    }
    if (e->type == EntryType::kHardlink) {
      if (++hops > 32) return "";
      todo = NormalizePath(e->link_target + (rest.empty() ? "" : "/" + rest));
      done.clear();
      continue;
    }
    done = candidate;
    todo = rest;
  }
  return "/" + done;
}

const FileEntry* RootFs::Resolve(std::string_view path) const {
  std::string p = ResolvePath(path);
  if (p.empty()) return nullptr;
  if (p == "/") return nullptr;
  return files_->Find(tree_, p.substr(1));
}

std::optional<std::string> RootFs::ReadEntry(const FileEntry& e, uint64_t max_bytes) const {
  if (e.type != EntryType::kFile || e.disk_path.empty() || e.state == EntryState::kUnsafe)
    return std::nullopt;
  int fd = OpenBeneath(out_dir_, e.disk_path);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return std::nullopt;
  }
  std::string out(static_cast<size_t>(std::min<uint64_t>(st.st_size, max_bytes)), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = read(fd, out.data() + got, out.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  out.resize(got);
  return out;
}

int RootFs::OpenEntry(const FileEntry& e) const {
  if (e.type != EntryType::kFile || e.disk_path.empty() || e.state == EntryState::kUnsafe)
    return -1;
  return OpenBeneath(out_dir_, e.disk_path);
}

std::optional<std::string> RootFs::Read(std::string_view path, uint64_t max_bytes) const {
  const FileEntry* e = Resolve(path);
  if (e == nullptr) return std::nullopt;
  return ReadEntry(*e, max_bytes);
}

std::vector<const FileEntry*> RootFs::List(std::string_view dir) const {
  std::string resolved = ResolvePath(dir);
  if (resolved.empty() && !NormalizePath(dir).empty()) return {};
  auto it = children_.find(NormalizePath(resolved));
  if (it == children_.end()) return {};
  return it->second;
}

}  // namespace firmwarden::facts
