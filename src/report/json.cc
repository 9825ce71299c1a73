#include "report/json.h"

#include <fmt/format.h>

#include <cmath>

namespace firmwarden::report {

using nlohmann::ordered_json;

namespace {
std::string_view KindName(Region::Kind k) {
  switch (k) {
    case Region::Kind::kChunk:
      return "chunk";
    case Region::Kind::kPadding:
      return "padding";
    case Region::Kind::kUnknown:
      return "unknown";
  }
  return "unknown";
}
}  // namespace

ordered_json LayoutToJson(const BlobLayout& layout) {
  ordered_json j;
  j["name"] = layout.name;
  j["path"] = layout.path;
  j["size"] = layout.size;
  if (layout.offset_in_parent) j["offset_in_parent"] = *layout.offset_in_parent;
  if (!layout.disk_path.empty()) j["disk_path"] = layout.disk_path;
  if (!layout.notes.empty()) {
    ordered_json notes = ordered_json::object();
    for (const auto& kv : layout.notes) notes[kv.key] = kv.value;
    j["notes"] = notes;
  }
  ordered_json regions = ordered_json::array();
  for (const Region& r : layout.regions) {
    ordered_json x;
    x["kind"] = KindName(r.kind);
    x["offset"] = r.offset;
    x["size"] = r.size;
    if (r.kind == Region::Kind::kChunk) {
      x["format"] = r.format;
      x["description"] = r.description;
      x["path"] = r.path;
      ordered_json details = ordered_json::object();
      for (const auto& kv : r.details) details[kv.key] = kv.value;
      x["details"] = details;
      if (r.truncated) x["truncated"] = true;
      if (!r.disk_path.empty()) x["disk_path"] = r.disk_path;
      if (r.tree) x["tree"] = *r.tree;
      if (!r.children.empty()) {
        ordered_json children = ordered_json::array();
        for (const BlobLayout& c : r.children) children.push_back(LayoutToJson(c));
        x["children"] = children;
      }
    } else if (r.kind == Region::Kind::kPadding) {
      x["byte"] = r.format;
    } else {
      x["entropy"] = std::round(r.entropy * 1000.0) / 1000.0;
    }
    regions.push_back(std::move(x));
  }
  j["regions"] = regions;
  return j;
}

ordered_json EntryToJson(const FileEntry& e) {
  ordered_json j;
  j["path"] = e.tree_path;
  j["type"] = EntryTypeName(e.type);
  j["mode"] = fmt::format("{:04o}", e.mode);
  j["uid"] = e.uid;
  j["gid"] = e.gid;
  j["size"] = e.size;
  j["mtime"] = e.mtime;
  if (!e.link_target.empty() || e.type == EntryType::kSymlink || e.type == EntryType::kHardlink)
    j["target"] = e.link_target;
  if (e.type == EntryType::kCharDev || e.type == EntryType::kBlockDev) {
    j["rdev_major"] = e.rdev_major;
    j["rdev_minor"] = e.rdev_minor;
  }
  if (!e.xattrs.empty()) {
    ordered_json x = ordered_json::object();
    for (const auto& [k, v] : e.xattrs) x[k] = v;
    j["xattrs"] = x;
  }
  if (!e.raw_name.empty()) j["raw_name"] = e.raw_name;
  j["state"] = EntryStateName(e.state);
  if (!e.disk_path.empty()) j["disk_path"] = e.disk_path;
  j["origin"] = {
      {"handler", e.origin.handler}, {"chunk", e.origin.chunk}, {"offset", e.origin.offset}};
  return j;
}

ordered_json DiagnosticToJson(const Diagnostic& d) {
  ordered_json j;
  j["severity"] = SeverityName(d.severity);
  j["where"] = d.where;
  if (d.offset) j["offset"] = *d.offset;
  j["message"] = d.message;
  return j;
}

ordered_json TreesToJson(const FileTree& files) {
  ordered_json trees = ordered_json::array();
  for (size_t i = 0; i < files.trees().size(); ++i) {
    const Tree& t = files.trees()[i];
    ordered_json x;
    x["index"] = i;
    x["format"] = t.format;
    x["chunk"] = t.chunk;
    if (!t.disk_dir.empty()) x["disk_dir"] = t.disk_dir;
    x["entries"] = t.entry_count;
    trees.push_back(std::move(x));
  }
  return trees;
}

ordered_json UnpackedToJson(const Unpacked& u, const std::string& image_name) {
  ordered_json j;
  j["image"] = image_name;
  j["clean"] = u.Clean();
  j["stats"] = {{"input_bytes", u.stats.input_bytes},
                {"output_bytes", u.stats.output_bytes},
                {"chunks", u.stats.chunks},
                {"unknown_bytes", u.stats.unknown_bytes},
                {"entries", u.files.entries().size()},
                {"seconds", u.stats.seconds}};
  j["layout"] = LayoutToJson(u.layout);
  j["trees"] = TreesToJson(u.files);
  ordered_json diags = ordered_json::array();
  for (const Diagnostic& d : u.diagnostics) diags.push_back(DiagnosticToJson(d));
  j["diagnostics"] = diags;
  return j;
}

}  // namespace firmwarden::report
