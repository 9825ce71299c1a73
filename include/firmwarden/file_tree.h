// FileTree: every entry that unpacking found, with the metadata the device sees (type, full mode
// including setuid/setgid/sticky, owner, times, link targets, device numbers, xattrs) and where it
// came from. This, not the files on disk, is the truth: the safe writer never creates device nodes
// or sets setuid bits, and an unsafe entry is recorded here even when it was not written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace firmwarden {

enum class EntryType { kFile, kDir, kSymlink, kHardlink, kCharDev, kBlockDev, kFifo, kSocket };

std::string_view EntryTypeName(EntryType t);

// Why an entry is in the tree but not (fully) on disk.
enum class EntryState {
  kWritten,      // on disk as described (devices, fifos and sockets: metadata only, by design)
  kUnsafe,       // refused: would have left the output directory or followed a planted link
  kTruncated,    // data ended early or failed to decompress; what could be read is on disk
  kMetadataOnly  // info mode, or a limit stopped the data from being written
};

std::string_view EntryStateName(EntryState s);

struct Origin {
  std::string handler;  // format handler that produced the entry, e.g. "squashfs"
  std::string chunk;    // layout path of the chunk, e.g. "/0x0.uimage/payload/0x0.squashfs"
  uint64_t offset = 0;  // offset of the entry's header or inode within the chunk, when known
};

struct FileEntry {
  std::string tree_path;  // path inside its filesystem, normalised, no leading '/': "bin/busybox"
  std::string disk_path;  // path relative to the output directory ("" when not written)
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits with setuid/setgid/sticky (st_mode & 07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;
  uint64_t size = 0;
  std::string link_target;  // symlink target as stored, or the tree_path a hardlink points to
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  std::string raw_name;  // the name as the image stored it, when it differs from tree_path
  EntryState state = EntryState::kWritten;
  Origin origin;
};

// One extracted filesystem or archive.
struct Tree {
  std::string format;    // "squashfs", "tar", …
  std::string chunk;     // layout path of the chunk that produced it
  std::string disk_dir;  // directory relative to the output dir ("" in info mode)
  size_t first_entry = 0;
  size_t entry_count = 0;
};

class FileTree {
 public:
  // Starts a new tree; entries added afterwards belong to it. Returns its index.
  size_t BeginTree(Tree tree);
  void Add(FileEntry entry);
  const std::vector<FileEntry>& entries() const { return entries_; }
  std::vector<FileEntry>& mutable_entries() { return entries_; }
  const std::vector<Tree>& trees() const { return trees_; }
  // Entries of one tree.
  std::vector<const FileEntry*> EntriesOf(size_t tree) const;
  // Entry by tree_path within one tree (the last one wins if the image stored a name twice).
  const FileEntry* Find(size_t tree, std::string_view tree_path) const;

 private:
  std::vector<FileEntry> entries_;
  std::vector<Tree> trees_;
  std::vector<std::unordered_map<std::string, size_t>> index_;
};

}  // namespace firmwarden
