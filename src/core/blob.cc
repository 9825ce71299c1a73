#include "core/blob.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace firmwarden {

struct Blob::Storage {
  void* map = nullptr;
  size_t map_size = 0;
  std::vector<std::byte> owned;
  std::byte* malloced = nullptr;
  ~Storage() {
    if (map != nullptr) munmap(map, map_size);
    free(malloced);
  }
};

Result<Blob> Blob::MapFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kIo, fmt::format("cannot open {}: {}", path, strerror(errno)));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return Fail(ErrorCode::kIo, fmt::format("cannot stat {}: {}", path, strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Fail(ErrorCode::kIo, fmt::format("{} is not a regular file", path));
  }
  Blob blob;
  blob.storage_ = std::make_shared<Storage>();
  if (st.st_size > 0) {
    void* map = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int e = errno;
      close(fd);
      return Fail(ErrorCode::kIo, fmt::format("cannot map {}: {}", path, strerror(e)));
    }
    madvise(map, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
    blob.storage_->map = map;
    blob.storage_->map_size = static_cast<size_t>(st.st_size);
    blob.data_ = static_cast<const std::byte*>(map);
    blob.size_ = static_cast<size_t>(st.st_size);
  }
  close(fd);
  return blob;
}

Blob Blob::FromVector(std::vector<std::byte> bytes) {
  Blob blob;
  blob.storage_ = std::make_shared<Storage>();
  blob.storage_->owned = std::move(bytes);
  blob.data_ = blob.storage_->owned.data();
  blob.size_ = blob.storage_->owned.size();
  return blob;
}

Blob Blob::FromMalloc(std::byte* data, size_t size) {
  Blob blob;
  blob.storage_ = std::make_shared<Storage>();
  blob.storage_->malloced = data;
  blob.data_ = data;
  blob.size_ = size;
  return blob;
}

Blob Blob::Slice(size_t offset, size_t size) const {
  Blob out = *this;
  if (offset > size_) offset = size_;
  if (size > size_ - offset) size = size_ - offset;
  out.data_ = data_ + offset;
  out.size_ = size;
  return out;
}

Blob Blob::FromString(std::string_view s) {
  std::vector<std::byte> v(s.size());
  if (!s.empty()) std::memcpy(v.data(), s.data(), s.size());
  return FromVector(std::move(v));
}

}  // namespace firmwarden
