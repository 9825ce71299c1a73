#include "firmwarden/file_tree.h"

namespace firmwarden {

std::string_view EntryTypeName(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDir:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kHardlink:
      return "hardlink";
    case EntryType::kCharDev:
      return "chardev";
    case EntryType::kBlockDev:
      return "blockdev";
    case EntryType::kFifo:
      return "fifo";
    case EntryType::kSocket:
      return "socket";
  }
  return "unknown";
}

std::string_view EntryStateName(EntryState s) {
  switch (s) {
    case EntryState::kWritten:
      return "written";
    case EntryState::kUnsafe:
      return "unsafe";
    case EntryState::kTruncated:
      return "truncated";
    case EntryState::kMetadataOnly:
      return "metadata-only";
  }
  return "unknown";
}

size_t FileTree::BeginTree(Tree tree) {
  tree.first_entry = entries_.size();
  tree.entry_count = 0;
  trees_.push_back(std::move(tree));
  index_.emplace_back();
  return trees_.size() - 1;
}

void FileTree::Add(FileEntry entry) {
  if (trees_.empty()) BeginTree(Tree{});
  index_.back()[entry.tree_path] = entries_.size();
  entries_.push_back(std::move(entry));
  trees_.back().entry_count++;
}

std::vector<const FileEntry*> FileTree::EntriesOf(size_t tree) const {
  std::vector<const FileEntry*> out;
  if (tree >= trees_.size()) return out;
  const Tree& t = trees_[tree];
  for (size_t i = t.first_entry; i < t.first_entry + t.entry_count; ++i)
    out.push_back(&entries_[i]);
  return out;
}

const FileEntry* FileTree::Find(size_t tree, std::string_view tree_path) const {
  if (tree >= index_.size()) return nullptr;
  auto it = index_[tree].find(std::string(tree_path));
  return it == index_[tree].end() ? nullptr : &entries_[it->second];
}

}  // namespace firmwarden
