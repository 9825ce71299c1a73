// SourceRef: where a fact came from.
#pragma once

#include <string>

namespace firmwarden::facts {

// Where a fact came from: a file in the device file system and a 1-based line (0: whole file).
struct SourceRef {
  std::string path;
  int line = 0;
  std::string text;  // the line itself, trimmed
};

}  // namespace firmwarden::facts
