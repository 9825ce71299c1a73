// Version ordering for the component checks (COMP-03), exposed for tests.
#pragma once

#include <string_view>

namespace firmwarden::audit {

// Compares the upstream parts of two versions (epoch and "-revision" dropped): numbers by value,
// '.' and '_' as separators, letters by character; "1.1.1w" > "1.1.1" and "1.36.1" > "1.36".
// Returns -1, 0 or 1.
int CompareVersions(std::string_view a, std::string_view b);

}  // namespace firmwarden::audit
