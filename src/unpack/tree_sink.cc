#include "unpack/tree_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace firmwarden::unpack {
namespace {

constexpr size_t kMaxComponent = 255;
constexpr size_t kMaxDepth = 256;

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

Status WriteAll(int fd, Bytes data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kIo, fmt::format("write failed: {}", strerror(errno)));
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return {};
}

void SetTimes(int fd, int64_t mtime) {
  struct timespec ts[2];
  ts[0].tv_sec = mtime;
  ts[0].tv_nsec = 0;
  ts[1] = ts[0];
  futimens(fd, ts);
}

}  // namespace

Result<std::vector<std::string>> NormalisePath(std::string_view raw) {
  if (raw.find('\0') != std::string_view::npos)
    return Fail(ErrorCode::kUnsafe, "name contains a NUL byte");
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= raw.size()) {
    size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view comp = raw.substr(i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") return Fail(ErrorCode::kUnsafe, "name contains a '..' component");
    if (comp.size() > kMaxComponent)
      return Fail(ErrorCode::kUnsafe, fmt::format("name component of {} bytes", comp.size()));
    parts.emplace_back(comp);
    if (parts.size() > kMaxDepth) return Fail(ErrorCode::kUnsafe, "path deeper than 256 levels");
  }
  return parts;
}

TreeSink::TreeSink(FileTree& files, int root_fd, std::string disk_dir, Origin origin,
                   Budget& budget, std::vector<Diagnostic>& diagnostics)
    : files_(files),
      root_fd_(root_fd),
      disk_dir_(std::move(disk_dir)),
      origin_(std::move(origin)),
      budget_(budget),
      diagnostics_(diagnostics) {}

TreeSink::~TreeSink() {
  if (cached_fd_ >= 0 && cached_fd_ != root_fd_) close(cached_fd_);
  if (root_fd_ >= 0) close(root_fd_);
  if (refused_ > 0) {
    diagnostics_.push_back({Diagnostic::Severity::kWarning, origin_.chunk, std::nullopt,
                            fmt::format("{} unsafe entries refused (see manifest)", refused_)});
  }
}

size_t TreeSink::Record(FileEntry entry) {
  if (entry.origin.handler.empty()) {
    uint64_t off = entry.origin.offset;
    entry.origin = origin_;
    entry.origin.offset = off;
  }
  files_.Add(std::move(entry));
  ++added_;
  return files_.entries().size() - 1;
}

void TreeSink::Refuse(FileEntry& entry, const std::string& why) {
  ++refused_;
  if (refused_ <= 20) {
    diagnostics_.push_back(
        {Diagnostic::Severity::kWarning, origin_.chunk, entry.origin.offset,
         fmt::format("refused entry \"{}\": {}",
                     entry.raw_name.empty() ? entry.tree_path : entry.raw_name, why)});
  }
  entry.state = EntryState::kUnsafe;
  entry.disk_path.clear();
  Record(std::move(entry));
}

Status TreeSink::Charge(const FileEntry& entry) {
  if (budget_.files_left == 0)
    return Fail(ErrorCode::kLimit, "file-count limit reached (--max-files)");
  --budget_.files_left;
  if ((added_ & 0xFF) == 0 && budget_.TimeUp())
    return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
  return {};
}

Result<int> TreeSink::OpenParent(const std::vector<std::string>& parts, bool create,
                                 std::string* why) {
  size_t n = parts.size() - 1;
  if (n == 0) return root_fd_;
  std::string key = Join(parts, n);
  if (cached_fd_ >= 0 && key == cached_parent_) return cached_fd_;
  int cur = root_fd_;
  for (size_t i = 0; i < n; ++i) {
    int next = openat(cur, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(cur, parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        *why =
            fmt::format("cannot create directory \"{}\": {}", Join(parts, i + 1), strerror(errno));
        if (cur != root_fd_) close(cur);
        return -1;
      }
      next = openat(cur, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) {
      int e = errno;
      if (e == ELOOP || e == ENOTDIR)
        *why = fmt::format(
            "\"{}\" is not a directory (a symlink or file is in the way); "
            "refusing to write through it",
            Join(parts, i + 1));
      else
        *why = fmt::format("cannot open \"{}\": {}", Join(parts, i + 1), strerror(e));
      if (cur != root_fd_) close(cur);
      return -1;
    }
    if (cur != root_fd_) close(cur);
    cur = next;
  }
  if (cached_fd_ >= 0 && cached_fd_ != root_fd_) close(cached_fd_);
  cached_fd_ = cur;
  cached_parent_ = std::move(key);
  return cur;
}

Result<std::optional<TreeSink::Target>> TreeSink::Prepare(FileEntry& entry) {
  if (entry.raw_name.empty()) entry.raw_name = entry.tree_path;
  if (auto c = Charge(entry); !c) return std::unexpected(c.error());
  auto parts = NormalisePath(entry.raw_name);
  if (!parts) {
    entry.tree_path = entry.raw_name;
    Refuse(entry, parts.error().message);
    return std::optional<Target>();
  }
  entry.tree_path = Join(*parts, parts->size());
  if (entry.tree_path == entry.raw_name) entry.raw_name.clear();
  if (parts->empty()) return std::optional<Target>(Target{-1, "", ""});  // the root itself
  Target t;
  t.name = parts->back();
  t.tree_path = entry.tree_path;
  if (dry_run()) return std::optional<Target>(std::move(t));
  std::string why;
  auto fd = OpenParent(*parts, /*create=*/true, &why);
  if (!fd) return std::unexpected(fd.error());
  if (*fd < 0) {
    Refuse(entry, why);
    return std::optional<Target>();
  }
  t.dir_fd = *fd;
  return std::optional<Target>(std::move(t));
}

bool TreeSink::ClearSlot(int dir_fd, const std::string& name) {
  struct stat st {};
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return true;
  if (S_ISDIR(st.st_mode)) return false;
  return unlinkat(dir_fd, name.c_str(), 0) == 0;
}

Status TreeSink::Add(FileEntry entry) {
  auto prep = Prepare(entry);
  if (!prep) return std::unexpected(prep.error());
  if (!*prep) return {};
  Target& t = **prep;
  if (t.tree_path.empty()) return {};  // the root directory: nothing to record
  if (!dry_run()) entry.disk_path = disk_dir_ + "/" + t.tree_path;

  switch (entry.type) {
    case EntryType::kDir: {
      if (dry_run()) break;
      if (mkdirat(t.dir_fd, t.name.c_str(), 0755) != 0) {
        struct stat st {};
        if (errno != EEXIST || fstatat(t.dir_fd, t.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode)) {
          // A non-directory is in the way: replace it (it was an earlier entry of the image).
          if (!ClearSlot(t.dir_fd, t.name) || mkdirat(t.dir_fd, t.name.c_str(), 0755) != 0) {
            Refuse(entry, fmt::format("cannot create directory: {}", strerror(errno)));
            return {};
          }
        }
      }
      break;
    }
    case EntryType::kSymlink: {
      if (entry.link_target.find('\0') != std::string::npos) {
        Refuse(entry, "symlink target contains a NUL byte");
        return {};
      }
      if (dry_run()) break;
      if (!ClearSlot(t.dir_fd, t.name)) {
        Refuse(entry, "a directory of the same name already exists");
        return {};
      }
      // The target is stored as the image has it (it is what the device sees) and is never
      // followed by firmwarden: every later walk uses O_NOFOLLOW.
      const std::string& target = entry.link_target.empty() ? std::string(".") : entry.link_target;
      if (symlinkat(target.c_str(), t.dir_fd, t.name.c_str()) != 0) {
        Refuse(entry, fmt::format("cannot create symlink: {}", strerror(errno)));
        return {};
      }
      break;
    }
    case EntryType::kHardlink: {
      auto target_parts = NormalisePath(entry.link_target);
      if (!target_parts || target_parts->empty()) {
        Refuse(entry, fmt::format("hardlink target \"{}\" is unsafe", entry.link_target));
        return {};
      }
      std::string target_path = Join(*target_parts, target_parts->size());
      size_t tree_index = files_.trees().empty() ? 0 : files_.trees().size() - 1;
      const FileEntry* target_entry = files_.Find(tree_index, target_path);
      // In a dry run nothing is written, so a recorded file (kMetadataOnly) is a valid target.
      bool target_ok = target_entry != nullptr &&
                       (target_entry->state == EntryState::kWritten ||
                        (dry_run() && target_entry->state == EntryState::kMetadataOnly));
      if (!target_ok ||
          (target_entry->type != EntryType::kFile && target_entry->type != EntryType::kHardlink)) {
        Refuse(entry, fmt::format("hardlink to \"{}\", which is not a file written earlier in "
                                  "this tree",
                                  target_path));
        return {};
      }
      entry.link_target = target_path;
      entry.size = target_entry->size;
      if (dry_run()) break;
      std::string why;
      auto tfd_r = OpenParent(*target_parts, /*create=*/false, &why);
      if (!tfd_r) return std::unexpected(tfd_r.error());
      // OpenParent may have replaced the cached descriptor that t.dir_fd borrowed; reopen ours.
      int tfd = *tfd_r < 0 ? -1 : dup(*tfd_r);
      std::string dummy;
      auto pfd_r = OpenParent(*NormalisePath(t.tree_path), /*create=*/true, &dummy);
      if (!pfd_r) {
        if (tfd >= 0) close(tfd);
        return std::unexpected(pfd_r.error());
      }
      struct stat st {};
      if (tfd < 0 || *pfd_r < 0 ||
          fstatat(tfd, target_parts->back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode)) {
        if (tfd >= 0) close(tfd);
        Refuse(entry,
               fmt::format("hardlink target \"{}\" is not a regular file on disk", target_path));
        return {};
      }
      if (!ClearSlot(*pfd_r, t.name) ||
          linkat(tfd, target_parts->back().c_str(), *pfd_r, t.name.c_str(), 0) != 0) {
        int e = errno;
        close(tfd);
        Refuse(entry, fmt::format("cannot create hardlink: {}", strerror(e)));
        return {};
      }
      close(tfd);
      break;
    }
    case EntryType::kCharDev:
    case EntryType::kBlockDev:
    case EntryType::kFifo:
    case EntryType::kSocket:
      // Recorded only: creating device nodes from an untrusted image is never safe.
      entry.disk_path.clear();
      break;
    case EntryType::kFile:
      return AddFile(std::move(entry), {});
  }
  Record(std::move(entry));
  return {};
}

Result<std::unique_ptr<TreeSink::FileOut>> TreeSink::OpenFile(FileEntry entry) {
  entry.type = EntryType::kFile;
  auto prep = Prepare(entry);
  if (!prep) return std::unexpected(prep.error());
  auto out = std::make_unique<FileOut>();
  out->sink_ = this;
  if (!*prep) {  // refused: swallow the data
    out->closed_ = false;
    out->entry_index_ = files_.entries().size() - 1;
    return out;
  }
  Target& t = **prep;
  if (t.tree_path.empty()) {
    Refuse(entry, "a regular file cannot be the root of a tree");
    out->entry_index_ = files_.entries().size() - 1;
    return out;
  }
  if (!dry_run()) {
    if (!ClearSlot(t.dir_fd, t.name)) {
      Refuse(entry, "a directory of the same name already exists");
      out->entry_index_ = files_.entries().size() - 1;
      return out;
    }
    int fd = openat(t.dir_fd, t.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0) {
      Refuse(entry, fmt::format("cannot create file: {}", strerror(errno)));
      out->entry_index_ = files_.entries().size() - 1;
      return out;
    }
    out->fd_ = fd;
    entry.disk_path = disk_dir_ + "/" + t.tree_path;
  } else {
    entry.state = EntryState::kMetadataOnly;
  }
  out->entry_index_ = Record(std::move(entry));
  return out;
}

Result<std::unique_ptr<TreeSink::FileOut>> TreeSink::ReopenFile(std::string_view raw_path,
                                                                uint64_t size) {
  auto parts = NormalisePath(raw_path);
  if (!parts || parts->empty()) return std::unique_ptr<FileOut>();
  std::string path = Join(*parts, parts->size());
  size_t tree_index = files_.trees().empty() ? 0 : files_.trees().size() - 1;
  const FileEntry* found = files_.Find(tree_index, path);
  if (found == nullptr || found->type != EntryType::kFile || found->state == EntryState::kUnsafe)
    return std::unique_ptr<FileOut>();
  size_t index = static_cast<size_t>(found - files_.entries().data());
  auto out = std::make_unique<FileOut>();
  out->sink_ = this;
  out->entry_index_ = index;
  FileEntry& e = files_.mutable_entries()[index];
  e.size = size;
  if (!dry_run()) {
    std::string why;
    auto pfd = OpenParent(*parts, /*create=*/false, &why);
    if (!pfd) return std::unexpected(pfd.error());
    if (*pfd < 0) return std::unique_ptr<FileOut>();
    int fd = openat(*pfd, parts->back().c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return std::unique_ptr<FileOut>();
    out->fd_ = fd;
  }
  return out;
}

Status TreeSink::AddFile(FileEntry entry, Bytes content) {
  auto out = OpenFile(std::move(entry));
  if (!out) return std::unexpected(out.error());
  if (auto s = (*out)->Write(content); !s) return s;
  return (*out)->Close();
}

TreeSink::FileOut::~FileOut() {
  if (fd_ >= 0) close(fd_);
}

Status TreeSink::FileOut::Write(Bytes data) {
  if (closed_ || data.empty()) return {};
  if (!sink_->budget_.Take(data.size()))
    return Fail(ErrorCode::kLimit, "output-size limit reached (--max-bytes / --max-ratio)");
  written_ += data.size();
  if (fd_ < 0) return {};
  return WriteAll(fd_, data);
}

Status TreeSink::FileOut::Close(bool truncated) {
  if (closed_) return {};
  closed_ = true;
  FileEntry& e = sink_->files_.mutable_entries()[entry_index_];
  if (e.state == EntryState::kUnsafe) return {};
  if (truncated) e.state = EntryState::kTruncated;
  if (fd_ >= 0) {
    // Permission bits only: setuid, setgid and sticky stay in the manifest. Owner read/write is
    // kept so the extracted tree can be read back and removed.
    fchmod(fd_, (e.mode & 0777) | 0600);
    SetTimes(fd_, e.mtime);
    if (close(fd_) != 0) {
      fd_ = -1;
      return Fail(ErrorCode::kIo, fmt::format("closing {} failed", e.disk_path));
    }
    fd_ = -1;
  }
  // In a dry run handlers may skip reading data altogether.
  if (!sink_->dry_run() && written_ != e.size && !truncated && e.size != 0)
    e.state = EntryState::kTruncated;
  if (e.size == 0) e.size = written_;
  return {};
}

}  // namespace firmwarden::unpack
