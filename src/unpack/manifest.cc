#include "unpack/manifest.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <vector>

#include "report/json.h"

namespace firmwarden::unpack {

Status WriteManifest(int out_dir_fd, const Unpacked& unpacked, const std::string& image_name) {
  // One entry per line so the manifest can be grepped and diffed.
  std::string text = "{\n\"firmwarden_manifest\": 1,\n";
  text += fmt::format("\"image\": {},\n", nlohmann::json(image_name).dump());
  text += fmt::format("\"trees\": {},\n", report::TreesToJson(unpacked.files).dump());
  text += "\"entries\": [\n";
  // Tree by tree, each sorted by path: the same image always gives the same manifest, whatever
  // order parallel extraction finished in.
  const auto& entries = unpacked.files.entries();
  std::vector<size_t> order(entries.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<size_t> tree_of(entries.size(), 0);
  const auto& trees = unpacked.files.trees();
  for (size_t t = 0; t < trees.size(); ++t)
    for (size_t i = trees[t].first_entry; i < trees[t].first_entry + trees[t].entry_count; ++i)
      tree_of[i] = t;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tree_of[a] != tree_of[b] ? tree_of[a] < tree_of[b]
                                    : entries[a].tree_path < entries[b].tree_path;
  });
  for (size_t k = 0; k < order.size(); ++k) {
    text += report::EntryToJson(entries[order[k]])
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += k + 1 < order.size() ? ",\n" : "\n";
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
