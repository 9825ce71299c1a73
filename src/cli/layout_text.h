// Text rendering of a layout, for `info` and `extract`.
#pragma once

#include <string>

#include "firmwarden/unpack.h"

namespace firmwarden::cli {

std::string LayoutText(const Unpacked& u, const std::string& image_name, bool show_disk_paths);
std::string DiagnosticsText(const Unpacked& u);

}  // namespace firmwarden::cli
