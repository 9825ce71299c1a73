// TreeSink: the only code that writes extracted entries to disk.
//
// Every path the image supplies is hostile. The sink normalises names (no "..", no NUL, leading
// '/' stripped), walks to the parent directory one component at a time with openat(O_NOFOLLOW |
// O_DIRECTORY) from a descriptor of the tree's root, and creates the final component relative to
// that descriptor with O_EXCL | O_NOFOLLOW. A symlink the image planted is therefore never
// followed, "a/../../x" is refused, a hardlink can only point at a regular file already written in
// the same tree, and no device node, fifo or socket is ever created. Setuid/setgid/sticky bits and
// ownership are never applied on disk; the FileTree records them.
//
// Refused entries are recorded (state kUnsafe) with a diagnostic; Add* then returns success so the
// handler carries on. Add* returns an error only when a limit is hit (files, bytes, time): the
// handler must stop and propagate it.
//
// In dry-run mode (no root descriptor) nothing is written and only the FileTree is filled.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "core/result.h"
#include "firmwarden/file_tree.h"
#include "firmwarden/unpack.h"
#include "unpack/handler.h"

namespace firmwarden::unpack {

class TreeSink {
 public:
  // `root_fd`: an open directory descriptor the sink takes ownership of, or -1 for a dry run.
  // `disk_dir`: that directory relative to the output dir, for FileEntry::disk_path.
  TreeSink(FileTree& files, int root_fd, std::string disk_dir, Origin origin, Budget& budget,
           std::vector<Diagnostic>& diagnostics);
  ~TreeSink();
  TreeSink(const TreeSink&) = delete;
  TreeSink& operator=(const TreeSink&) = delete;

  // Directories, symlinks, hardlinks, devices, fifos, sockets: everything but file data.
  // For a hardlink, entry.link_target is the (raw) path of the entry it links to.
  Status Add(FileEntry entry);
  // A regular file whose whole content is in memory.
  Status AddFile(FileEntry entry, Bytes content);

  // A regular file written in pieces.
  class FileOut {
   public:
    ~FileOut();
    Status Write(Bytes data);
    // Ends the file; `truncated` marks it as incompletely read (kept, and flagged).
    Status Close(bool truncated = false);

   private:
    friend class TreeSink;
    TreeSink* sink_ = nullptr;
    int fd_ = -1;
    size_t entry_index_ = 0;
    uint64_t written_ = 0;
    bool closed_ = false;
  };
  Result<std::unique_ptr<FileOut>> OpenFile(FileEntry entry);
  // Rewrites the data of a regular file already added to this tree (cpio stores a hardlinked
  // file's data with its last link). Returns null when no such written file exists.
  Result<std::unique_ptr<FileOut>> ReopenFile(std::string_view raw_path, uint64_t size);

  uint64_t entries_added() const { return added_; }
  bool dry_run() const { return root_fd_ < 0; }

 private:
  struct Target {
    int dir_fd = -1;   // borrowed: owned by the parent cache or the root
    std::string name;  // final component
    std::string tree_path;
  };
  // Normalises entry.tree_path (filled from raw) and opens its parent; records and diagnoses an
  // unsafe entry and returns std::nullopt for it.
  Result<std::optional<Target>> Prepare(FileEntry& entry);
  Result<int> OpenParent(const std::vector<std::string>& parts, bool create, std::string* why);
  void Refuse(FileEntry& entry, const std::string& why);
  Status Charge(const FileEntry& entry);
  // Removes a non-directory at name so it can be replaced; false if a directory is in the way.
  bool ClearSlot(int dir_fd, const std::string& name);
  size_t Record(FileEntry entry);

  FileTree& files_;
  int root_fd_;
  std::string disk_dir_;
  Origin origin_;
  Budget& budget_;
  std::vector<Diagnostic>& diagnostics_;
  uint64_t added_ = 0;
  uint64_t refused_ = 0;
  // One-entry cache of the last parent directory opened.
  std::string cached_parent_;
  int cached_fd_ = -1;
};

// Splits and validates an image-supplied path. Leading '/' and "." components are dropped; "..",
// NUL bytes, and components longer than 255 bytes are refused with a reason.
Result<std::vector<std::string>> NormalisePath(std::string_view raw);

}  // namespace firmwarden::unpack
