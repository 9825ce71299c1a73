#pragma once
#include "firmwarden/result.h"  // IWYU pragma: export
