#include "unpack/manifest.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "report/json.h"

namespace firmwarden::unpack {

Status WriteManifest(int out_dir_fd, const Unpacked& unpacked, const std::string& image_name) {
  // One entry per line so the manifest can be grepped and diffed.
  std::string text = "{\n\"firmwarden_manifest\": 1,\n";
  text += fmt::format("\"image\": {},\n", nlohmann::json(image_name).dump());
  text += fmt::format("\"trees\": {},\n", report::TreesToJson(unpacked.files).dump());
  text += "\"entries\": [\n";
  const auto& entries = unpacked.files.entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    text += report::EntryToJson(entries[i])
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += i + 1 < entries.size() ? ",\n" : "\n";
  }
  text += "]\n}\n";
  int fd = openat(out_dir_fd, "manifest.json",
                  O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return Fail(ErrorCode::kIo, fmt::format("cannot write manifest.json: {}", strerror(errno)));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return Fail(ErrorCode::kIo, "short write of manifest.json");
    }
    off += static_cast<size_t>(n);
  }
  close(fd);
  return {};
}

}  // namespace firmwarden::unpack
