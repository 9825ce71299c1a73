#include "unpack/formats/archive_common.h"

#include <archive_entry.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <memory>
#include <vector>

namespace firmwarden::unpack {
namespace {

EntryType TypeOf(archive_entry* e) {
  if (archive_entry_hardlink(e) != nullptr) return EntryType::kHardlink;
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
      return EntryType::kDir;
    case AE_IFLNK:
      return EntryType::kSymlink;
    case AE_IFCHR:
      return EntryType::kCharDev;
    case AE_IFBLK:
      return EntryType::kBlockDev;
    case AE_IFIFO:
      return EntryType::kFifo;
    case AE_IFSOCK:
      return EntryType::kSocket;
    default:
      return EntryType::kFile;
  }
}

// Streams the current entry's data into `out`. Returns whether the data broke off early; an error
// only for a limit.
Result<bool> CopyData(archive* a, TreeSink::FileOut& out, std::vector<std::byte>& buf) {
  while (true) {
    la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n == 0) return false;
    if (n < 0) return true;
    if (auto s = out.Write(Bytes(buf.data(), static_cast<size_t>(n))); !s)
      return std::unexpected(s.error());
  }
}

}  // namespace

Status ExtractWithLibarchive(const ExtractContext& ctx, TreeSink& sink,
                             int (*enable)(struct archive*)) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  if (!a) return Fail(ErrorCode::kIo, "archive_read_new failed");
  enable(a.get());
  archive_read_support_filter_none(a.get());
  if (archive_read_open_memory(a.get(), ctx.chunk.data(), ctx.chunk.size()) != ARCHIVE_OK)
    return Fail(ErrorCode::kMalformed,
                fmt::format("libarchive cannot open the chunk: {}",
                            archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"),
                ctx.base_offset);
  archive_entry* e = nullptr;
  std::vector<std::byte> buf(1 << 16);
  while (true) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_FATAL || r == ARCHIVE_RETRY)
      return Fail(
          ErrorCode::kMalformed,
          fmt::format("archive header: {}",
                      archive_error_string(a.get()) ? archive_error_string(a.get()) : "unreadable"),
          ctx.base_offset + static_cast<uint64_t>(archive_read_header_position(a.get())));
    FileEntry fe;
    const char* name = archive_entry_pathname(e);
    fe.raw_name = name != nullptr ? name : "";
    fe.type = TypeOf(e);
    // The full mode, not archive_entry_perm(): setuid/setgid/sticky must survive.
    fe.mode = static_cast<uint32_t>(archive_entry_mode(e)) & 07777;
    fe.uid = static_cast<uint32_t>(archive_entry_uid(e));
    fe.gid = static_cast<uint32_t>(archive_entry_gid(e));
    fe.mtime = archive_entry_mtime(e);
    fe.size = archive_entry_size_is_set(e) ? static_cast<uint64_t>(archive_entry_size(e)) : 0;
    fe.origin.offset = static_cast<uint64_t>(archive_read_header_position(a.get()));
    if (fe.type == EntryType::kSymlink) {
      const char* t = archive_entry_symlink(e);
      fe.link_target = t != nullptr ? t : "";
      fe.size = fe.link_target.size();
    } else if (fe.type == EntryType::kHardlink) {
      fe.link_target = archive_entry_hardlink(e);
    } else if (fe.type == EntryType::kCharDev || fe.type == EntryType::kBlockDev) {
      fe.rdev_major = static_cast<uint32_t>(archive_entry_rdevmajor(e));
      fe.rdev_minor = static_cast<uint32_t>(archive_entry_rdevminor(e));
      fe.size = 0;
    }
    if (archive_entry_xattr_reset(e) > 0) {
      const char* xname;
      const void* xval;
      size_t xsize;
      while (archive_entry_xattr_next(e, &xname, &xval, &xsize) == ARCHIVE_OK)
        fe.xattrs.emplace_back(xname, std::string(static_cast<const char*>(xval), xsize));
    }

    std::unique_ptr<TreeSink::FileOut> link_data;
    if (fe.type == EntryType::kHardlink && fe.size > 0) {
      // cpio (newc, crc) stores a hardlinked file's data with its last link: the data belongs to
      // the file the link names, which was added earlier with no data.
      auto reopened = sink.ReopenFile(fe.link_target, fe.size);
      if (!reopened) return std::unexpected(reopened.error());
      link_data = std::move(*reopened);
      if (!link_data) {  // the target is gone or unsafe: keep the data under this name
        fe.type = EntryType::kFile;
        fe.link_target.clear();
      }
    }
    if (link_data) {
      auto broken = CopyData(a.get(), *link_data, buf);
      if (!broken) return std::unexpected(broken.error());
      if (auto s = link_data->Close(*broken); !s) return s;
      if (auto s = sink.Add(std::move(fe)); !s) return s;
      continue;
    }
    if (fe.type != EntryType::kFile) {
      if (auto s = sink.Add(std::move(fe)); !s) return s;
      continue;
    }
    auto out = sink.OpenFile(std::move(fe));
    if (!out) return std::unexpected(out.error());
    if (sink.dry_run()) {  // info mode: metadata only
      archive_read_data_skip(a.get());
      if (auto s = (*out)->Close(); !s) return s;
      continue;
    }
    auto copied = CopyData(a.get(), **out, buf);
    if (!copied) return std::unexpected(copied.error());
    bool broken = *copied;
    if (auto s = (*out)->Close(broken); !s) return s;
    if (broken)
      return Fail(ErrorCode::kTruncated,
                  fmt::format("archive data for \"{}\" unreadable: {}", name ? name : "",
                              archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"),
                  ctx.base_offset);
  }
  return {};
}

}  // namespace firmwarden::unpack
