// Small text helpers shared by the fact builders.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace firmwarden::facts {

std::string_view Trim(std::string_view s);
// Splits on `sep`, keeping empty fields.
std::vector<std::string_view> Split(std::string_view s, char sep);
// Lines without their '\n' (and a trailing '\r'), 1-based numbering is index + 1.
std::vector<std::string_view> Lines(std::string_view text);
// Whitespace-separated words.
std::vector<std::string_view> Words(std::string_view s);
std::string Basename(std::string_view path);
std::string Lower(std::string_view s);
// True when `data` starts like an ELF file.
bool IsElf(std::string_view data);

}  // namespace firmwarden::facts
