#include "facts/uci.h"

#include "facts/text_util.h"

namespace firmwarden::facts {
namespace {

// Splits a UCI line into words, honouring single and double quotes.
std::vector<std::string> UciWords(std::string_view l) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < l.size()) {
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
    if (i >= l.size() || l[i] == '#') break;
    std::string w;
    while (i < l.size() && l[i] != ' ' && l[i] != '\t') {
      char q = l[i];
      if (q == '\'' || q == '"') {
        size_t e = l.find(q, i + 1);
        if (e == std::string_view::npos) e = l.size();
        w += l.substr(i + 1, e - i - 1);
        i = e + 1;
      } else {
        w += l[i++];
      }
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

std::vector<UciSection> ParseUci(std::string_view text) {
  std::vector<UciSection> out;
  std::map<std::string, int> anon;
  auto lines = Lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    auto w = UciWords(lines[n]);
    if (w.empty()) continue;
    if (w[0] == "config" && w.size() >= 2) {
      UciSection s;
      s.type = w[1];
      s.line = static_cast<int>(n + 1);
      s.name = w.size() >= 3 ? w[2] : "@" + w[1] + "[" + std::to_string(anon[w[1]]++) + "]";
      out.push_back(std::move(s));
    } else if (w[0] == "option" && w.size() >= 2 && !out.empty()) {
      out.back().options[w[1]] = w.size() >= 3 ? w[2] : "";
      out.back().option_lines[w[1]] = static_cast<int>(n + 1);
    } else if (w[0] == "list" && w.size() >= 3 && !out.empty()) {
      out.back().lists[w[1]].push_back(w[2]);
      out.back().option_lines[w[1]] = static_cast<int>(n + 1);
    }
  }
  return out;
}

std::optional<bool> UciBool(std::string_view v) {
  std::string l = Lower(v);
  if (l == "1" || l == "on" || l == "true" || l == "yes" || l == "enabled") return true;
  if (l == "0" || l == "off" || l == "false" || l == "no" || l == "disabled") return false;
  return std::nullopt;
}

}  // namespace firmwarden::facts
