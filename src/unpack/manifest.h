// manifest.json: one record per FileTree entry, written beside the extracted trees. It carries
// what the disk cannot (owners, setuid bits, device numbers, refused entries). Format in README.
#pragma once

#include <string>

#include "core/result.h"
#include "firmwarden/unpack.h"

namespace firmwarden::unpack {

Status WriteManifest(int out_dir_fd, const Unpacked& unpacked, const std::string& image_name);

}  // namespace firmwarden::unpack
