// Helpers shared by the filesystem handlers that emit a file tree piece by piece: the walk of a
// directory tree known by parent links, a log of the problems met on the way (the first few
// named, the rest counted, one diagnostic at the end) and zero-filling of the holes in a file.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {

class ProblemLog {
 public:
  static constexpr uint64_t kShown = 4;

  // Records a problem; the first kShown are kept word for word, the rest only counted.
  void Add(const std::string& msg);
  // Success when nothing was recorded, else one kMalformed error at `offset` naming them.
  Status Finish(uint64_t offset) const;
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
  std::string first_;
};

// Writes `n` zero bytes to `out`, `chunk` bytes (at most kMaxZeroChunk) per write.
constexpr size_t kMaxZeroChunk = 16384;
Status WriteZeros(TreeSink::FileOut& out, uint64_t n, size_t chunk);

// True for a name a tree entry can have: not empty, not "." or "..", no '/' and no NUL.
inline bool ValidEntryName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// The walk of the handlers whose images give each entry's parent (UBIFS, YAFFS2): depth first
// from `root`, each directory's entries in name order, a directory's contents right after it.
//   list(id)          the entries of directory `id`: a pointer to a vector the walk sorts by
//                     name(entry), or null when it has none
//   bad_name(entry)   told of an entry whose name fails ValidEntryName (it is skipped)
//   visit(entry, path) emits the entry; returns the id of the directory to walk into, or
//                     std::nullopt (not a directory, or one not to enter), or an error to stop
//   too_deep(path)    told of a directory `max_depth` levels down (it is not entered)
// Stops with kLimit once the budget's time is up.
template <typename DirId, typename List, typename Name, typename BadName, typename Visit,
          typename TooDeep>
Status WalkDirs(const Budget& budget, DirId root, size_t max_depth, List list, Name name,
                BadName bad_name, Visit visit, TooDeep too_deep) {
  struct Dir {
    DirId id;
    std::string path;
    size_t depth;
  };
  std::vector<Dir> stack{{root, "", 0}};
  while (!stack.empty()) {
    Dir d = std::move(stack.back());
    stack.pop_back();
    if (budget.TimeUp()) return Fail(ErrorCode::kLimit, "time limit reached (--max-seconds)");
    auto* entries = list(d.id);
    if (entries == nullptr) continue;
    std::sort(entries->begin(), entries->end(),
              [&](const auto& a, const auto& b) { return name(a) < name(b); });
    std::vector<Dir> sub;
    for (const auto& e : *entries) {
      const std::string& n = name(e);
      if (!ValidEntryName(n)) {
        bad_name(e);
        continue;
      }
      std::string path = d.path.empty() ? n : d.path + "/" + n;
      Result<std::optional<DirId>> dir = visit(e, path);
      if (!dir) return std::unexpected(dir.error());
      if (!dir->has_value()) continue;
      if (d.depth + 1 >= max_depth)
        too_deep(path);
      else
        sub.push_back({**dir, std::move(path), d.depth + 1});
    }
    for (auto c = sub.rbegin(); c != sub.rend(); ++c) stack.push_back(std::move(*c));
  }
  return {};
}

}  // namespace firmwarden::unpack
