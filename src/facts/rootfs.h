// RootFs: the device's file system as the device sees it, over one extracted tree.
//
// Lookups follow symlinks inside the tree model (absolute targets resolve against the tree's root,
// never against the host), so `/etc/passwd -> ../tmp/passwd` resolves to a missing file instead of
// anything outside. Content is read from the extracted copy on disk, opened beneath the output
// directory with no symlink resolution at all (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
// Not thread-safe for concurrent Read() of the same instance only because of the read cache.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "firmwarden/file_tree.h"

namespace firmwarden::facts {

class RootFs {
 public:
  // `out_dir`: the directory Unpack() wrote into; `tree`: index into files.trees().
  RootFs(const FileTree& files, size_t tree, std::string out_dir);
  // An empty file system (nothing extracted).
  RootFs() = default;

  // Picks the tree that looks most like a root file system (etc/, bin/, sbin/, an init).
  // Returns nullopt when nothing was extracted.
  static std::optional<size_t> PickRoot(const FileTree& files);

  bool empty() const { return files_ == nullptr; }
  size_t tree() const { return tree_; }

  // The entry at `path` ("/etc/passwd" or "etc/passwd"), without following a final symlink.
  const FileEntry* Entry(std::string_view path) const;
  // The entry `path` names after following symlinks (at most 32 hops); nullptr when dangling.
  const FileEntry* Resolve(std::string_view path) const;
  // Resolved path ("/bin/busybox") of `path`, or "" when dangling.
  std::string ResolvePath(std::string_view path) const;

  // Content of the regular file `path` names (symlinks followed in the model), at most
  // `max_bytes`. nullopt when missing, not a regular file, or not on disk.
  std::optional<std::string> Read(std::string_view path, uint64_t max_bytes = 4 << 20) const;
  std::optional<std::string> ReadEntry(const FileEntry& e, uint64_t max_bytes = 4 << 20) const;
  // A read-only descriptor of a regular file's extracted copy (opened beneath the output directory,
  // no symlinks), for callers that map large files instead of copying them; -1 when unavailable.
  // The caller closes it.
  int OpenEntry(const FileEntry& e) const;

  // Direct children of directory `dir` (no symlink following of the children), sorted by name.
  std::vector<const FileEntry*> List(std::string_view dir) const;
  // Every entry of the tree, sorted by tree path: the unpackers' own order can vary between runs
  // (SquashFS decompresses on several threads), and every check that walks the tree reports in
  // this order.
  const std::vector<const FileEntry*>& All() const { return all_; }

  // "/" + tree_path.
  static std::string DevicePath(const FileEntry& e) { return "/" + e.tree_path; }

 private:
  const FileTree* files_ = nullptr;
  size_t tree_ = 0;
  std::string out_dir_;
  std::vector<const FileEntry*> all_;
  std::map<std::string, std::vector<const FileEntry*>, std::less<>> children_;
};

// "a/b/../c" -> "a/c"; leading '/' and "." dropped; ".." above the root stays at the root.
std::string NormalizePath(std::string_view path);

}  // namespace firmwarden::facts
