// JSON views of unpack results, shared by `info --json`, `extract --json` and the manifest.
#pragma once

#include <nlohmann/json.hpp>

#include "firmwarden/file_tree.h"
#include "firmwarden/unpack.h"

namespace firmwarden::report {

nlohmann::ordered_json LayoutToJson(const BlobLayout& layout);
nlohmann::ordered_json EntryToJson(const FileEntry& e);
nlohmann::ordered_json DiagnosticToJson(const Diagnostic& d);
nlohmann::ordered_json TreesToJson(const FileTree& files);
// The whole result: image, stats, layout, trees, diagnostics (no per-entry records).
nlohmann::ordered_json UnpackedToJson(const Unpacked& u, const std::string& image_name);

}  // namespace firmwarden::report
