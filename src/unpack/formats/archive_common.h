// Extraction of archive chunks through libarchive (tar, cpio, zip, 7z, ISO 9660). Each format's
// own .cc measures the chunk (libarchive reads ahead and cannot say where an archive ends) and
// then hands the exact bytes here.
#pragma once

#include <archive.h>

#include "unpack/handler.h"
#include "unpack/tree_sink.h"

namespace firmwarden::unpack {

// `enable` turns on exactly one libarchive format reader (e.g. archive_read_support_format_tar).
Status ExtractWithLibarchive(const ExtractContext& ctx, TreeSink& sink,
                             int (*enable)(struct archive*));

}  // namespace firmwarden::unpack
