// OpenWrt UCI configuration files (/etc/config/<name>): sections with typed options and lists.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace firmwarden::facts {

struct UciSection {
  std::string type;
  std::string name;  // given name, or "@type[n]" for anonymous sections
  int line = 0;
  std::map<std::string, std::string> options;
  std::map<std::string, std::vector<std::string>> lists;
  std::map<std::string, int> option_lines;  // option/list name -> 1-based line (the last one)
};

// Parses the text of one UCI file. Malformed lines are skipped.
std::vector<UciSection> ParseUci(std::string_view text);

// "1", "on", "true", "yes", "enabled" -> true; "0", "off", "false", "no", "disabled" -> false.
std::optional<bool> UciBool(std::string_view v);

}  // namespace firmwarden::facts
