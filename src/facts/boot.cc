// The boot graph: what actually starts, with which arguments, from inittab down through the
// scripts it runs (rcS, init.d and rc.d links, OpenWrt rc.common and procd scripts) and inetd.
//
// Scripts are not grepped: a small shell reader tokenises them (quotes, comments, continuation
// lines, here-documents), tracks variables, positional arguments and functions, expands `for`
// loops over globs against the image, and evaluates the conditions it can decide statically
// (file tests on the image, string comparisons of known values). A command inside a branch whose
// condition it cannot decide is still recorded, marked conditional. Whatever it cannot follow
// (an unknown command name, too deep a nesting) becomes a boot note instead of a guess.
#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "facts/device_model.h"
#include "facts/text_util.h"
#include "facts/uci.h"

namespace firmwarden::facts {
namespace {

enum class Tri { kFalse, kTrue, kUnknown };

Tri Not(Tri t) {
  return t == Tri::kTrue ? Tri::kFalse : t == Tri::kFalse ? Tri::kTrue : Tri::kUnknown;
}

struct Segment {
  std::string text;
  enum Kind { kLiteral, kDouble, kBare, kSubst } kind = kBare;
};

struct Tok {
  enum Kind { kWord, kOp, kNewline } kind = kWord;
  std::string text;  // op text, or the word with quotes removed (for keywords)
  std::vector<Segment> segs;
  bool quoted = false;
  int line = 0;
};

constexpr size_t kMaxScriptBytes = 1 << 20;
constexpr int kMaxDepth = 16;
constexpr size_t kMaxStarted = 20000;
// Statements interpreted per image: recursion with fan-out would otherwise grow exponentially.
constexpr size_t kMaxSteps = 100000;

std::vector<Tok> Tokenize(std::string_view s) {
  std::vector<Tok> out;
  int line = 1;
  size_t i = 0;
  std::vector<std::string> heredocs;  // delimiters pending at the next newline
  auto push_op = [&](std::string op) {
    Tok t;
    t.kind = Tok::kOp;
    t.text = std::move(op);
    t.line = line;
    out.push_back(std::move(t));
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && s[i + 1] == '\n') {
      i += 2;
      ++line;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '\n') {
      Tok t;
      t.kind = Tok::kNewline;
      t.line = line;
      out.push_back(t);
      ++line;
      ++i;
      for (const std::string& d : heredocs) {  // skip here-document bodies
        while (i < s.size()) {
          size_t e = s.find('\n', i);
          if (e == std::string_view::npos) e = s.size();
          std::string_view body_line = Trim(s.substr(i, e - i));
          i = e + 1;
          ++line;
          if (body_line == d) break;
        }
      }
      heredocs.clear();
      continue;
    }
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    // Operators.
    auto at = [&](std::string_view op) { return s.substr(i).starts_with(op); };
    if (at(";;")) {
      push_op(";;");
      i += 2;
      continue;
    }
    if (at("&&")) {
      push_op("&&");
      i += 2;
      continue;
    }
    if (at("||")) {
      push_op("||");
      i += 2;
      continue;
    }
    if (c == ';' || c == '|' || c == '(' || c == ')') {
      push_op(std::string(1, c));
      ++i;
      continue;
    }
    if (c == '&' && !at("&>")) {
      push_op("&");
      ++i;
      continue;
    }
    // Redirections: dropped together with their target word.
    {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() &&
          (s[j] == '>' || s[j] == '<' || (s[j] == '&' && j + 1 < s.size() && s[j + 1] == '>'))) {
        bool heredoc = s.substr(j).starts_with("<<");
        while (j < s.size() &&
               (s[j] == '>' || s[j] == '<' || s[j] == '&' || s[j] == '-' || s[j] == '|'))
          ++j;
        if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) && s[j - 1] == '&') {
          ++j;  // 2>&1
          i = j;
          continue;
        }
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
        size_t k = j;
        while (k < s.size() && !std::isspace(static_cast<unsigned char>(s[k])) && s[k] != ';' &&
               s[k] != '&' && s[k] != '|' && s[k] != ')')
          ++k;
        if (heredoc) {
          std::string d(s.substr(j, k - j));
          std::erase(d, '\'');
          std::erase(d, '"');
          heredocs.push_back(d);
        }
        i = k;
        continue;
      }
    }
    // A word.
    Tok t;
    t.line = line;
    Segment cur;
    auto flush = [&](Segment::Kind next) {
      if (!cur.text.empty() || cur.kind != Segment::kBare) t.segs.push_back(cur);
      cur = Segment{};
      cur.kind = next;
    };
    cur.kind = Segment::kBare;
    while (i < s.size()) {
      c = s[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' || c == '|' || c == '&' ||
          c == '(' || c == ')' || c == '<' || c == '>')
        break;
      if (c == '\\' && i + 1 < s.size()) {
        if (s[i + 1] == '\n') {
          i += 2;
          ++line;
          continue;
        }
        cur.text += s[i + 1];
        i += 2;
        continue;
      }
      if (c == '\'') {
        flush(Segment::kLiteral);
        size_t e = s.find('\'', i + 1);
        if (e == std::string_view::npos) e = s.size();
        cur.text = std::string(s.substr(i + 1, e - i - 1));
        t.quoted = true;
        flush(Segment::kBare);
        i = e + 1;
        continue;
      }
      if (c == '"') {
        flush(Segment::kDouble);
        size_t j = i + 1;
        while (j < s.size() && s[j] != '"') {
          if (s[j] == '\\' && j + 1 < s.size()) {
            cur.text += s[j + 1];
            j += 2;
            continue;
          }
          if (s[j] == '`' || (s[j] == '$' && j + 1 < s.size() && s[j + 1] == '(')) {
            cur.kind = Segment::kSubst;
          }
          if (s[j] == '\n') ++line;
          cur.text += s[j++];
        }
        t.quoted = true;
        flush(Segment::kBare);
        i = j + 1;
        continue;
      }
      if (c == '`' || (c == '$' && i + 1 < s.size() && s[i + 1] == '(')) {
        // Command substitution: its value is not known statically. Skip to the matching end.
        flush(Segment::kSubst);
        if (c == '`') {
          size_t e = s.find('`', i + 1);
          if (e == std::string_view::npos) e = s.size();
          cur.text = std::string(s.substr(i, e + 1 - i));
          i = e + 1;
        } else {
          int depth = 0;
          size_t j = i + 1;
          for (; j < s.size(); ++j) {
            if (s[j] == '(') ++depth;
            if (s[j] == ')' && --depth == 0) break;
            if (s[j] == '\n') ++line;
          }
          cur.text = std::string(s.substr(i, j + 1 - i));
          i = std::min(s.size(), j + 1);
        }
        flush(Segment::kBare);
        continue;
      }
      if (c == '$' && i + 1 < s.size() && s[i + 1] == '{') {
        size_t e = s.find('}', i);
        if (e == std::string_view::npos) e = s.size() - 1;
        cur.text += s.substr(i, e + 1 - i);
        i = e + 1;
        continue;
      }
      cur.text += c;
      ++i;
    }
    flush(Segment::kBare);
    for (const Segment& sg : t.segs) t.text += sg.text;
    if (!t.segs.empty() || t.quoted) out.push_back(std::move(t));
  }
  Tok end;
  end.kind = Tok::kNewline;
  end.line = line;
  out.push_back(end);
  return out;
}

struct Word {
  std::string text;
  bool known = true;
};

const std::set<std::string, std::less<>> kBuiltins = {".",
                                                      ":",
                                                      "[",
                                                      "[[",
                                                      "alias",
                                                      "break",
                                                      "cd",
                                                      "command",
                                                      "continue",
                                                      "echo",
                                                      "eval",
                                                      "exit",
                                                      "export",
                                                      "false",
                                                      "getopts",
                                                      "hash",
                                                      "local",
                                                      "printf",
                                                      "pwd",
                                                      "read",
                                                      "readonly",
                                                      "return",
                                                      "set",
                                                      "shift",
                                                      "source",
                                                      "test",
                                                      "times",
                                                      "trap",
                                                      "true",
                                                      "type",
                                                      "ulimit",
                                                      "umask",
                                                      "unalias",
                                                      "unset",
                                                      "wait",
                                                      "logger",
                                                      "sleep",
                                                      "usleep",
                                                      "include",
                                                      "append",
                                                      "procd_open_instance",
                                                      "procd_close_instance",
                                                      "procd_set_param",
                                                      "procd_append_param",
                                                      "procd_open_trigger",
                                                      "procd_close_trigger",
                                                      "procd_add_reload_trigger",
                                                      "service_stop",
                                                      "json_init",
                                                      "json_add_string",
                                                      "json_add_boolean",
                                                      "json_close_object",
                                                      "json_add_object",
                                                      "let"};

struct Script {
  std::string path;
  std::vector<Tok> toks;
  std::map<std::string, std::pair<size_t, size_t>> funcs;  // name -> token range of the body
};

using Cond = std::pair<int, int>;  // (branch point id, branch index)

struct Ctx {
  Script* script = nullptr;
  std::vector<Cond> conds;        // undecided branches that lead here; empty: runs for sure
  int* returned = nullptr;        // `return`/`exit` ran in the body: 1 maybe, 2 for sure
  std::vector<std::string> args;  // $1…
  std::map<std::string, Word>* vars = nullptr;
  std::vector<std::string> chain;
  std::string via;
  int depth = 0;
};

struct Frame {
  enum Type { kIf, kCase, kLoop } type = kIf;
  int uid = 0;
  int branch_idx = 0;
  Tri branch = Tri::kTrue;
  bool any_true = false;
  bool all_false = true;
  Word case_word;
  bool case_matched = false;
  bool expect_pattern = false;
};

class Interp {
 public:
  explicit Interp(DeviceModel& m) : m_(m) {}

  void RunInittab();
  void RunInetd();
  void RunXinetd(const Started& daemon);
  void RunSystemd();
  void RunCron();
  void RunHotplug();
  // Interprets `text` as the script at `path` run with `args` (tests and the fuzzer).
  void RunText(std::string_view text, const std::string& path,
               const std::vector<std::string>& args) {
    Script sc;
    sc.path = path;
    sc.toks = Tokenize(text);
    std::map<std::string, Word> vars;
    Ctx c;
    c.script = &sc;
    c.vars = &vars;
    c.args = args;
    c.via = "script";
    Run(0, sc.toks.size(), c, false);
  }
  void RunLine(const std::string& path, int line, const std::string& text, const std::string& via,
               const std::string& user, bool conditional);

 private:
  // ---- expansion ----
  Word ExpandVar(const std::string& name, const Ctx& c) {
    if (name.size() == 1 && std::isdigit(static_cast<unsigned char>(name[0]))) {
      size_t n = static_cast<size_t>(name[0] - '0');
      if (n == 0) return {c.script ? c.script->path : "sh", true};
      return n <= c.args.size() ? Word{c.args[n - 1], true} : Word{"", true};
    }
    if (name == "@" || name == "*") {
      std::string j;
      for (const std::string& a : c.args) j += (j.empty() ? "" : " ") + a;
      return {j, true};
    }
    if (name == "#") return {std::to_string(c.args.size()), true};
    auto it = c.vars->find(name);
    if (it != c.vars->end()) return it->second;
    return {"$" + name, false};
  }

  // Expands one token; unquoted expansions are split on whitespace.
  std::vector<Word> Expand(const Tok& t, const Ctx& c) {
    std::vector<Word> out;
    Word cur;
    bool have = false;
    for (const Segment& sg : t.segs) {
      if (sg.kind == Segment::kLiteral) {
        cur.text += sg.text;
        have = true;
        continue;
      }
      if (sg.kind == Segment::kSubst) {
        cur.text += sg.text;
        cur.known = false;
        have = true;
        continue;
      }
      const std::string& s = sg.text;
      size_t i = 0;
      while (i < s.size()) {
        if (s[i] != '$' || i + 1 >= s.size()) {
          cur.text += s[i++];
          have = true;
          continue;
        }
        std::string name, fallback;
        bool has_fallback = false;
        if (s[i + 1] == '{') {
          size_t e = s.find('}', i);
          if (e == std::string::npos) e = s.size();
          std::string inner = s.substr(i + 2, e - i - 2);
          size_t op = inner.find_first_of(":-=+?#%");
          name = inner.substr(0, op);
          if (op != std::string::npos) {
            std::string_view rest = std::string_view(inner).substr(op);
            if (rest.starts_with(":-") || rest.starts_with("-")) {
              has_fallback = true;
              fallback = std::string(rest.substr(rest[0] == ':' ? 2 : 1));
            } else {
              name.clear();  // other operators: value unknown
            }
          }
          i = std::min(s.size(), e + 1);
        } else {
          size_t j = i + 1;
          if (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '@' || s[j] == '*' ||
              s[j] == '#' || s[j] == '?' || s[j] == '$' || s[j] == '!') {
            name = s.substr(j, 1);
            j++;
          } else {
            while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_'))
              ++j;
            name = s.substr(i + 1, j - i - 1);
          }
          if (name.empty()) {
            cur.text += '$';
            ++i;
            have = true;
            continue;
          }
          i = j;
        }
        Word v = name.empty() || name == "?" || name == "$" || name == "!" ? Word{"$?", false}
                                                                           : ExpandVar(name, c);
        if (!v.known && has_fallback) {
          // Unset or unknown: the default is what a fresh boot sees when nothing set it.
          auto it = c.vars->find(name);
          if (it == c.vars->end()) v = Word{fallback, true};
        } else if (v.known && v.text.empty() && has_fallback) {
          v = Word{fallback, true};
        }
        if (sg.kind == Segment::kBare && v.known) {
          auto parts = Words(v.text);
          for (size_t k = 0; k < parts.size(); ++k) {
            if (k > 0) {
              out.push_back(cur);
              cur = Word{};
            }
            cur.text += parts[k];
          }
          have = have || !parts.empty();
        } else {
          cur.text += v.text;
          cur.known = cur.known && v.known;
          have = true;
        }
      }
    }
    if (have || t.quoted) out.push_back(cur);
    return out;
  }

  std::vector<Word> ExpandAll(size_t b, size_t e, const Ctx& c) {
    std::vector<Word> out;
    for (size_t i = b; i < e; ++i)
      for (Word& w : Expand(c.script->toks[i], c)) out.push_back(std::move(w));
    return out;
  }

  // Globs in the last path component, against the image.
  std::vector<Word> Glob(const Word& w) {
    if (!w.known || w.text.find_first_of("*?[") == std::string::npos) return {w};
    size_t slash = w.text.rfind('/');
    std::string dir = slash == std::string::npos ? "" : w.text.substr(0, slash);
    std::string pat = slash == std::string::npos ? w.text : w.text.substr(slash + 1);
    if (dir.find_first_of("*?[") != std::string::npos) return {Word{w.text, false}};
    std::vector<Word> out;
    for (const FileEntry* e : m_.fs.List(dir.empty() ? "/" : dir)) {
      std::string name = Basename(e->tree_path);
      if (fnmatch(pat.c_str(), name.c_str(), 0) == 0) out.push_back({dir + "/" + name, true});
    }
    return out;  // sorted: List() is sorted by path
  }

  // ---- conditions ----
  bool Volatile(const std::string& p) {
    for (const char* v : {"/tmp", "/var", "/proc", "/sys", "/dev", "/mnt", "/run", "/data"})
      if (p == v || p.starts_with(std::string(v) + "/")) return true;
    return false;
  }

  Tri TestFile(const std::string& op, const Word& w) {
    if (!w.known || w.text.empty() || w.text[0] != '/' || Volatile(w.text)) return Tri::kUnknown;
    const FileEntry* e = m_.fs.Resolve(w.text);
    if (op == "-e") return e ? Tri::kTrue : Tri::kFalse;
    if (op == "-f") return e && e->type == EntryType::kFile ? Tri::kTrue : Tri::kFalse;
    if (op == "-d") return e && e->type == EntryType::kDir ? Tri::kTrue : Tri::kFalse;
    if (op == "-x") return e && (e->mode & 0111) != 0 ? Tri::kTrue : Tri::kFalse;
    if (op == "-s") return e && e->size > 0 ? Tri::kTrue : Tri::kFalse;
    if (op == "-r") return e ? Tri::kTrue : Tri::kFalse;
    return Tri::kUnknown;
  }

  Tri EvalTest(std::vector<Word> a) {
    if (!a.empty() && (a.back().text == "]" || a.back().text == "]]")) a.pop_back();
    for (size_t k = 1; k + 1 < a.size(); ++k) {  // -a binds tighter than -o
      if (a[k].known && a[k].text == "-o") {
        Tri l = EvalTest({a.begin(), a.begin() + static_cast<long>(k)});
        Tri r = EvalTest({a.begin() + static_cast<long>(k) + 1, a.end()});
        return l == Tri::kTrue || r == Tri::kTrue     ? Tri::kTrue
               : l == Tri::kFalse && r == Tri::kFalse ? Tri::kFalse
                                                      : Tri::kUnknown;
      }
    }
    for (size_t k = 1; k + 1 < a.size(); ++k) {
      if (a[k].known && a[k].text == "-a") {
        Tri l = EvalTest({a.begin(), a.begin() + static_cast<long>(k)});
        Tri r = EvalTest({a.begin() + static_cast<long>(k) + 1, a.end()});
        return l == Tri::kFalse || r == Tri::kFalse ? Tri::kFalse
               : l == Tri::kTrue && r == Tri::kTrue ? Tri::kTrue
                                                    : Tri::kUnknown;
      }
    }
    if (!a.empty() && a[0].text == "!") {
      a.erase(a.begin());
      return Not(EvalTest(a));
    }
    if (a.size() == 2 && a[0].known) {
      const std::string& op = a[0].text;
      if (op == "-n")
        return a[1].known ? (a[1].text.empty() ? Tri::kFalse : Tri::kTrue) : Tri::kUnknown;
      if (op == "-z")
        return a[1].known ? (a[1].text.empty() ? Tri::kTrue : Tri::kFalse) : Tri::kUnknown;
      return TestFile(op, a[1]);
    }
    if (a.size() == 3 && a[1].known) {
      if (!a[0].known || !a[2].known) return Tri::kUnknown;
      const std::string& op = a[1].text;
      if (op == "=" || op == "==") return a[0].text == a[2].text ? Tri::kTrue : Tri::kFalse;
      if (op == "!=") return a[0].text != a[2].text ? Tri::kTrue : Tri::kFalse;
      char* end0 = nullptr;
      char* end2 = nullptr;
      long x = std::strtol(a[0].text.c_str(), &end0, 10);
      long y = std::strtol(a[2].text.c_str(), &end2, 10);
      bool nums = !a[0].text.empty() && !a[2].text.empty() && *end0 == '\0' && *end2 == '\0';
      auto b = [](bool v) { return v ? Tri::kTrue : Tri::kFalse; };
      if (nums && op == "-eq") return b(x == y);
      if (nums && op == "-ne") return b(x != y);
      if (nums && op == "-gt") return b(x > y);
      if (nums && op == "-ge") return b(x >= y);
      if (nums && op == "-lt") return b(x < y);
      if (nums && op == "-le") return b(x <= y);
    }
    return Tri::kUnknown;
  }

  // Evaluates an and-or list of tests in tokens [b, e).
  Tri EvalCondition(size_t b, size_t e, const Ctx& c) {
    Tri acc = Tri::kTrue;
    std::string pending = "";
    size_t i = b;
    while (i < e) {
      size_t j = i;
      while (j < e && !(c.script->toks[j].kind == Tok::kOp &&
                        (c.script->toks[j].text == "&&" || c.script->toks[j].text == "||")))
        ++j;
      std::vector<Word> w;
      for (size_t k = i; k < j; ++k) {
        const Tok& t = c.script->toks[k];
        if (t.kind == Tok::kOp && (t.text == "(" || t.text == ")")) continue;
        if (t.kind != Tok::kWord) continue;
        for (Word& x : Expand(t, c)) w.push_back(std::move(x));
      }
      bool neg = !w.empty() && w[0].text == "!";
      if (neg) w.erase(w.begin());
      Tri r = Tri::kUnknown;
      if (!w.empty() && (w[0].text == "[" || w[0].text == "test" || w[0].text == "[["))
        r = EvalTest(std::vector<Word>(w.begin() + 1, w.end()));
      else if (!w.empty() && w[0].text == "true")
        r = Tri::kTrue;
      else if (!w.empty() && w[0].text == "false")
        r = Tri::kFalse;
      if (neg) r = Not(r);
      if (pending.empty())
        acc = r;
      else if (pending == "&&")
        acc = acc == Tri::kFalse
                  ? Tri::kFalse
                  : (acc == Tri::kTrue ? r : (r == Tri::kFalse ? Tri::kFalse : Tri::kUnknown));
      else
        acc = acc == Tri::kTrue
                  ? Tri::kTrue
                  : (acc == Tri::kFalse ? r : (r == Tri::kTrue ? Tri::kTrue : Tri::kUnknown));
      if (j < e) pending = c.script->toks[j].text;
      i = j + 1;
    }
    return acc;
  }

  // ---- structure ----
  bool IsWord(const Script& s, size_t i, std::string_view w) {
    return i < s.toks.size() && s.toks[i].kind == Tok::kWord && !s.toks[i].quoted &&
           s.toks[i].text == w;
  }
  bool StatementStart(const Script& s, size_t i) {
    if (i == 0) return true;
    const Tok& p = s.toks[i - 1];
    return p.kind == Tok::kNewline ||
           (p.kind == Tok::kOp &&
            (p.text == ";" || p.text == "&" || p.text == ";;" || p.text == "&&" || p.text == "||" ||
             p.text == "|" || p.text == "(" || p.text == ")")) ||
           (p.kind == Tok::kWord && !p.quoted &&
            (p.text == "then" || p.text == "do" || p.text == "else" || p.text == "{" ||
             p.text == "!"));
  }
  // Index of the `close` keyword matching an `open` at or after `i` (nesting counted).
  size_t FindClose(const Script& s, size_t i, std::initializer_list<std::string_view> open,
                   std::string_view close, size_t e) {
    int depth = 0;
    for (size_t k = i; k < e; ++k) {
      if (s.toks[k].kind != Tok::kWord || s.toks[k].quoted || !StatementStart(s, k)) continue;
      for (std::string_view o : open)
        if (s.toks[k].text == o) ++depth;
      if (s.toks[k].text == close && --depth == 0) return k;
    }
    return e;
  }
  // The `}` closing the brace group opened by the `{` at `i`, or `e`.
  size_t MatchBrace(const Script& s, size_t i, size_t e) {
    int depth = 0;
    for (size_t q = i; q < e; ++q) {
      if (s.toks[q].kind != Tok::kWord || s.toks[q].quoted) continue;
      if (s.toks[q].text == "{" && StatementStart(s, q)) ++depth;
      if (s.toks[q].text == "}" && StatementStart(s, q) && --depth == 0) return q;
    }
    return e;
  }
  size_t FindWordAtStatement(const Script& s, size_t i, std::string_view w, size_t e) {
    for (size_t k = i; k < e; ++k)
      if (IsWord(s, k, w) && StatementStart(s, k)) return k;
    return e;
  }

  // ---- running ----
  Tri Gate(const std::vector<Frame>& frames) {
    Tri g = Tri::kTrue;
    for (const Frame& f : frames) {
      if (f.branch == Tri::kFalse) return Tri::kFalse;
      if (f.branch == Tri::kUnknown) g = Tri::kUnknown;
    }
    return g;
  }

  void Run(size_t b, size_t e, Ctx& c, bool conditional);
  void RunList(size_t b, size_t e, Ctx& c, bool conditional, bool* background_out);
  void Exec(std::vector<Word> argv, Ctx& c, bool conditional, bool background, int line);
  void RunScriptFile(const std::string& path, std::vector<std::string> args, Ctx& parent,
                     bool conditional, int line);
  void Record(const std::vector<Word>& argv, const std::string& binary, const std::string& program,
              Ctx& c, bool conditional, int line);
  std::string Lookup(const std::string& name) {
    if (name.find('/') != std::string::npos) {
      std::string p = name[0] == '/' ? name : "/" + name;
      return m_.fs.Resolve(p) ? p : "";
    }
    for (const char* dir :
         {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/", "/usr/local/sbin/", "/usr/local/bin/"}) {
      std::string p = dir + name;
      if (m_.fs.Resolve(p) != nullptr) return p;
    }
    return "";
  }
  // The trimmed lines of the device file `path`, read once per boot graph (`text` when the
  // caller already read it).
  const std::vector<std::string>& FileLines(const std::string& path,
                                            const std::string* text = nullptr) {
    auto it = lines_cache_.find(path);
    if (it != lines_cache_.end()) return it->second;
    std::vector<std::string> lines;
    std::optional<std::string> read;
    if (text == nullptr && (read = m_.fs.Read(path, kMaxScriptBytes))) text = &*read;
    if (text != nullptr)
      for (std::string_view l : Lines(*text)) lines.emplace_back(Trim(l));
    return lines_cache_.emplace(path, std::move(lines)).first->second;
  }
  std::string LineText(const Script& s, int line) {
    const std::vector<std::string>& lines = FileLines(s.path);
    if (line < 1 || static_cast<size_t>(line) > lines.size()) return "";
    return lines[static_cast<size_t>(line) - 1];
  }

  // Ctx `c` with one more undecided branch.
  Ctx Under(const Ctx& c, Cond cond) {
    Ctx x = c;
    x.conds.push_back(cond);
    return x;
  }
  Cond Pseudo() { return {next_uid_++, 0}; }  // an undecided condition with no alternatives
  int NewBranchPoint() {
    info_[next_uid_] = {0, false};
    return next_uid_++;
  }

 public:
  struct BranchInfo {
    int branches = 0;
    bool exhaustive = false;  // has an else / a `*)` pattern: one branch always runs
  };
  std::map<int, BranchInfo> info_;
  std::vector<std::vector<Cond>> conds_;  // parallel to m_.started

 private:
  int next_uid_ = 1;
  size_t steps_ = 0;
  bool budget_noted_ = false;
  DeviceModel& m_;
  std::map<std::string, std::unique_ptr<Script>> scripts_;
  std::map<std::string, std::vector<std::string>> lines_cache_;
  std::set<std::string> running_;
  std::vector<size_t> procd_last_;  // index in m_.started of the last procd command per depth
};

void Interp::Record(const std::vector<Word>& argv, const std::string& binary,
                    const std::string& program, Ctx& c, bool conditional, int line) {
  if (m_.started.size() >= kMaxStarted) return;
  Started s;
  for (const Word& w : argv) s.argv.push_back(w.text);
  s.binary = binary;
  s.program = program;
  s.via = c.via;
  s.conditional = conditional;
  s.source = {c.script ? c.script->path : "", line, c.script ? LineText(*c.script, line) : ""};
  s.chain = c.chain;
  std::vector<Cond> conds = c.conds;
  if (conditional && conds.empty()) conds.push_back(Pseudo());
  s.conditional = !conds.empty();
  m_.started.push_back(std::move(s));
  conds_.push_back(std::move(conds));
}

void Interp::Exec(std::vector<Word> argv, Ctx& c, bool conditional, bool background, int line) {
  (void)background;
  // Assignments before the command.
  size_t k = 0;
  while (k < argv.size() && argv[k].text.find('=') != std::string::npos &&
         argv[k].text.find('=') > 0 && argv[k].text.find('/') > argv[k].text.find('=')) {
    bool ident = true;
    std::string_view n(argv[k].text.data(), argv[k].text.find('='));
    for (char ch : n) ident = ident && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
    if (!ident) break;
    ++k;
  }
  if (k == argv.size()) {
    for (const Word& w : argv) {
      size_t eq = w.text.find('=');
      (*c.vars)[w.text.substr(0, eq)] = Word{w.text.substr(eq + 1), w.known && !conditional};
    }
    return;
  }
  argv.erase(argv.begin(), argv.begin() + static_cast<long>(k));
  if (argv.empty()) return;
  std::string cmd = argv[0].text;
  if (cmd == "local" || cmd == "export" || cmd == "readonly") {
    for (size_t i = 1; i < argv.size(); ++i) {
      size_t eq = argv[i].text.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      (*c.vars)[argv[i].text.substr(0, eq)] =
          Word{argv[i].text.substr(eq + 1), argv[i].known && !conditional};
    }
    return;
  }
  // Wrappers that run their arguments.
  while (!argv.empty()) {
    std::string base = Basename(argv[0].text);
    if (base == "exec" || base == "nohup" || base == "setsid" || base == "busybox" ||
        base == "env" || base == "chrt" || base == "taskset") {
      argv.erase(argv.begin());
      while (base == "env" && !argv.empty() && argv[0].text.find('=') != std::string::npos)
        argv.erase(argv.begin());
      continue;
    }
    if (base == "nice" || base == "ionice") {
      argv.erase(argv.begin());
      while (!argv.empty() && argv[0].text.starts_with("-")) {
        bool takes = argv[0].text == "-n" || argv[0].text == "-c";
        argv.erase(argv.begin());
        if (takes && !argv.empty()) argv.erase(argv.begin());
      }
      continue;
    }
    break;
  }
  while (!argv.empty() && argv[0].known && (argv[0].text == "{" || argv[0].text == "}"))
    argv.erase(argv.begin());
  if (argv.empty()) return;
  cmd = argv[0].text;
  std::string base = Basename(cmd);
  if (!argv[0].known) {
    m_.boot_notes.push_back(fmt::format("{}:{}: cannot tell which command `{}` runs",
                                        c.script ? c.script->path : "?", line, cmd));
    return;
  }
  if (base == "start-stop-daemon") {
    bool start = false;
    std::string exe, user;
    std::vector<Word> rest;
    for (size_t i = 1; i < argv.size(); ++i) {
      const std::string& a = argv[i].text;
      if (a == "-S" || a == "--start")
        start = true;
      else if ((a == "-x" || a == "--exec" || a == "-a" || a == "--startas") && i + 1 < argv.size())
        exe = argv[++i].text;
      else if (a.starts_with("--exec="))
        exe = a.substr(7);
      else if ((a == "-c" || a == "--chuid" || a == "-u" || a == "--user") && i + 1 < argv.size())
        user = argv[++i].text;
      else if (a == "--") {
        rest.assign(argv.begin() + static_cast<long>(i) + 1, argv.end());
        break;
      } else if ((a == "-p" || a == "--pidfile" || a == "-n" || a == "--name" || a == "-N" ||
                  a == "--nicelevel" || a == "-d" || a == "--chdir" || a == "-r" ||
                  a == "--chroot" || a == "-s" || a == "--signal" || a == "-g" || a == "--group") &&
                 i + 1 < argv.size())
        ++i;
    }
    if (!start || exe.empty()) return;
    std::vector<Word> run{Word{exe, true}};
    run.insert(run.end(), rest.begin(), rest.end());
    size_t before = m_.started.size();
    Exec(run, c, conditional, true, line);
    for (size_t i = before; i < m_.started.size(); ++i) m_.started[i].user = user;
    return;
  }
  if (cmd == "service_start") {  // OpenWrt before procd
    argv.erase(argv.begin());
    while (!argv.empty() && argv[0].text.starts_with("-")) argv.erase(argv.begin());
    if (!argv.empty()) Exec(argv, c, conditional, true, line);
    return;
  }
  if (cmd == "procd_set_param" && argv.size() >= 3 && argv[1].text == "command") {
    std::vector<Word> run(argv.begin() + 2, argv.end());
    std::string via = c.via;
    c.via = "procd";
    size_t before = m_.started.size();
    Exec(run, c, conditional, true, line);
    c.via = via;
    if (m_.started.size() > before) procd_last_.push_back(m_.started.size() - 1);
    return;
  }
  if (cmd == "procd_append_param" && argv.size() >= 3 && argv[1].text == "command") {
    if (!procd_last_.empty())
      for (size_t i = 2; i < argv.size(); ++i)
        m_.started[procd_last_.back()].argv.push_back(argv[i].text);
    return;
  }
  if ((cmd == "." || cmd == "source") && argv.size() >= 2) return;  // libraries of functions
  // OpenWrt UCI: read /etc/config/<name> so that config_foreach and config_get see real values.
  if (cmd == "config_load" && argv.size() >= 2) {
    (*c.vars)["__uci"] = argv[1];
    return;
  }
  if (cmd == "config_foreach" || cmd == "config_get" || cmd == "config_get_bool") {
    auto cfg = c.vars->find("__uci");
    std::vector<UciSection> sections;
    bool have = false;
    if (cfg != c.vars->end() && cfg->second.known) {
      auto text = m_.fs.Read("/etc/config/" + cfg->second.text, kMaxScriptBytes);
      if (text) {
        sections = ParseUci(*text);
        have = true;
      }
    }
    if (cmd == "config_foreach" && argv.size() >= 2) {
      if (!have) return;
      for (const UciSection& sec : sections)
        if (argv.size() < 3 || sec.type == argv[2].text)
          Exec({argv[1], Word{sec.name, true}}, c, conditional, false, line);
      return;
    }
    if (argv.size() >= 4) {  // config_get VAR SECTION OPTION [DEFAULT]
      Word value{"", false};
      if (have && argv[2].known) {
        std::optional<std::string> v;
        for (const UciSection& sec : sections)
          if (sec.name == argv[2].text) {
            auto o = sec.options.find(argv[3].text);
            if (o != sec.options.end()) v = o->second;
          }
        if (!v && argv.size() >= 5) v = argv[4].text;
        if (v) value = Word{*v, argv.size() < 5 || argv[4].known || v != argv[4].text};
        if (!v) value = Word{"", true};
        if (cmd == "config_get_bool" && value.known) {
          auto b = UciBool(value.text);
          value = b ? Word{*b ? "1" : "0", true} : Word{"", false};
        }
      }
      if (conditional) value.known = false;
      (*c.vars)[argv[1].text] = value;
    }
    return;
  }
  if (c.script != nullptr) {
    auto f = c.script->funcs.find(cmd);
    if (f != c.script->funcs.end()) {
      if (c.depth >= kMaxDepth) return;
      Ctx fc = c;
      fc.args.clear();
      for (size_t i = 1; i < argv.size(); ++i) fc.args.push_back(argv[i].text);
      fc.depth = c.depth + 1;
      fc.returned = nullptr;  // `return` ends the function, not its caller
      Run(f->second.first, f->second.second, fc, conditional);
      return;
    }
  }
  if (kBuiltins.count(cmd) != 0) return;
  std::string path = Lookup(cmd);
  std::string program = base;
  if (path.empty()) {
    auto applet = m_.busybox_applets.find(base);
    if (applet != m_.busybox_applets.end() && cmd.find('/') == std::string::npos)
      path = applet->second;
  }
  const FileEntry* e = path.empty() ? nullptr : m_.fs.Resolve(path);
  std::string resolved = e ? RootFs::DevicePath(*e) : "";
  // procd (OpenWrt 15.05 and later) implements rcS itself: `rcS S boot` runs /etc/rc.d/S* boot.
  if (e == nullptr && cmd == "/etc/init.d/rcS" && m_.fs.Resolve("/sbin/procd") != nullptr) {
    std::string prefix = argv.size() > 1 ? argv[1].text : "S";
    std::string action = argv.size() > 2 ? argv[2].text : "boot";
    if (prefix != "S") return;
    Ctx pc = c;
    pc.via = "procd";
    pc.chain.push_back("/sbin/procd");
    for (const FileEntry* link : m_.fs.List("/etc/rc.d"))
      if (Basename(link->tree_path).starts_with(prefix))
        Exec({Word{RootFs::DevicePath(*link), true}, Word{action, true}}, pc, conditional, false,
             line);
    return;
  }
  if (e != nullptr && e->type == EntryType::kFile) {
    auto head = m_.fs.ReadEntry(*e, 256);
    if (head && head->starts_with("#!")) {
      std::string shebang(Trim(Lines(*head).empty() ? "" : Lines(*head)[0].substr(2)));
      std::string interp = Basename(Words(shebang).empty() ? "" : Words(shebang)[0]);
      if (interp == "sh" || interp == "ash" || interp == "bash" || interp == "dash" ||
          interp == "busybox") {
        std::vector<std::string> args;
        for (size_t i = 1; i < argv.size(); ++i) args.push_back(argv[i].text);
        RunScriptFile(resolved, args, c, conditional, line);
        return;
      }
    }
  }
  // A name that is neither in the image nor an absolute path is a function from a library the
  // script sourced (OpenWrt's /lib/functions.sh) or a program the image lacks: not a start.
  if (e == nullptr && cmd.find('/') == std::string::npos) return;
  Record(argv, resolved, program, c, conditional, line);
}

void Interp::RunList(size_t b, size_t e, Ctx& c, bool conditional, bool* background_out) {
  // Simple commands joined by && || |, ended by ; & or newline (the caller cuts at those).
  const Script& s = *c.script;
  bool background = e < s.toks.size() && s.toks[e].kind == Tok::kOp && s.toks[e].text == "&";
  if (background_out) *background_out = background;
  e = std::min(e, s.toks.size());
  Tri gate = Tri::kTrue;
  size_t i = b;
  while (i < e) {
    size_t j = i;
    size_t group_end = 0;
    if (IsWord(s, i, "{")) {  // a brace group runs as one command of the chain
      group_end = MatchBrace(s, i, e);
      j = group_end;
    }
    while (j < e && !(s.toks[j].kind == Tok::kOp &&
                      (s.toks[j].text == "&&" || s.toks[j].text == "||" || s.toks[j].text == "|")))
      ++j;
    if (group_end != 0) {
      if (gate != Tri::kFalse) {
        Ctx g = gate == Tri::kUnknown ? Under(c, Pseudo()) : c;
        int group_returned = 0;
        g.returned = &group_returned;
        Run(i + 1, group_end, g, conditional);
        if (group_returned != 0 && c.returned != nullptr)
          *c.returned = std::max(*c.returned, group_returned == 2 && gate == Tri::kTrue ? 2 : 1);
      }
      std::string op = j < e ? s.toks[j].text : "";
      if (op == "&&" && gate != Tri::kFalse)
        gate = Tri::kUnknown;
      else if (op == "||")
        gate = Tri::kUnknown;
      i = j + 1;
      continue;
    }
    std::vector<Word> argv;
    int line = s.toks[i].line;
    bool is_test = false;
    for (size_t k = i; k < j; ++k) {
      if (s.toks[k].kind != Tok::kWord) continue;
      for (Word& w : Expand(s.toks[k], c)) argv.push_back(std::move(w));
    }
    bool neg = !argv.empty() && argv[0].text == "!";
    if (neg) argv.erase(argv.begin());
    Tri result = Tri::kUnknown;
    if (!argv.empty() && (argv[0].text == "[" || argv[0].text == "test" || argv[0].text == "[[")) {
      is_test = true;
      result = EvalTest(std::vector<Word>(argv.begin() + 1, argv.end()));
    } else if (!argv.empty() && argv[0].text == "true") {
      result = Tri::kTrue;
    } else if (!argv.empty() && argv[0].text == "false") {
      result = Tri::kFalse;
    }
    if (neg) result = Not(result);
    if (gate != Tri::kFalse && !is_test && !argv.empty()) {
      if (gate == Tri::kUnknown) {
        Ctx u = Under(c, Pseudo());
        Exec(argv, u, true, background, line);
      } else {
        Exec(argv, c, conditional, background, line);
      }
      if (!argv.empty() && (argv[0].text == "return" || argv[0].text == "exit") &&
          c.returned != nullptr)
        *c.returned = std::max(*c.returned, gate == Tri::kTrue && !conditional ? 2 : 1);
    }
    std::string op = j < e ? s.toks[j].text : "";
    if (op == "&&")
      gate = gate == Tri::kFalse                            ? Tri::kFalse
             : result == Tri::kFalse                        ? Tri::kFalse
             : (result == Tri::kTrue && gate == Tri::kTrue) ? Tri::kTrue
                                                            : Tri::kUnknown;
    else if (op == "||")
      gate = result == Tri::kTrue ? Tri::kFalse : (result == Tri::kFalse ? gate : Tri::kUnknown);
    i = j + 1;
  }
}

void Interp::Run(size_t b, size_t e, Ctx& c, bool conditional) {
  const Script& s = *c.script;
  e = std::min(e, s.toks.size());
  std::vector<Frame> frames;
  bool returned = false;        // an unconditional return/exit ran: the rest does not
  bool maybe_returned = false;  // a conditional one ran: the rest may not
  Ctx base = c;
  if (conditional) base.conds.push_back(Pseudo());
  base.returned = nullptr;
  // The context for a statement here: the undecided frames it sits in.
  auto here = [&]() {
    Ctx x = base;
    for (const Frame& f : frames)
      if (f.branch == Tri::kUnknown) x.conds.push_back({f.uid, f.branch_idx});
    if (maybe_returned) x.conds.push_back(Pseudo());
    return x;
  };
  auto new_branch = [&](Frame& f) {
    ++f.branch_idx;
    info_[f.uid].branches = f.branch_idx + 1;
  };
  size_t i = b;
  while (i < e && !returned) {
    if (++steps_ > kMaxSteps) {
      if (!budget_noted_) {
        budget_noted_ = true;
        m_.boot_notes.push_back(fmt::format(
            "stopped following the boot scripts after {} statements (at {}): the graph may be "
            "incomplete",
            kMaxSteps, s.path));
      }
      return;
    }
    const Tok& t = s.toks[i];
    if (t.kind == Tok::kNewline ||
        (t.kind == Tok::kOp && (t.text == ";" || t.text == "&" || t.text == "(" || t.text == ")" ||
                                t.text == "|" || t.text == "&&" || t.text == "||"))) {
      ++i;
      continue;
    }
    if (t.kind == Tok::kOp && t.text == ";;") {
      for (auto it = frames.rbegin(); it != frames.rend(); ++it)
        if (it->type == Frame::kCase) {
          it->expect_pattern = true;
          it->branch = Tri::kFalse;
          break;
        }
      ++i;
      continue;
    }
    // Case patterns.
    if (!frames.empty() && frames.back().type == Frame::kCase && frames.back().expect_pattern) {
      Frame& f = frames.back();
      if (IsWord(s, i, "esac")) {
        frames.pop_back();
        ++i;
        continue;
      }
      std::vector<std::string> pats;
      bool pats_known = true;
      size_t k = i;
      while (k < e && !(s.toks[k].kind == Tok::kOp && s.toks[k].text == ")")) {
        if (s.toks[k].kind == Tok::kWord)
          for (Word& w : Expand(s.toks[k], c)) {
            pats.push_back(w.text);
            pats_known = pats_known && w.known;
          }
        ++k;
      }
      bool match = false;
      bool star = false;
      for (const std::string& p : pats) {
        match = match || fnmatch(p.c_str(), f.case_word.text.c_str(), 0) == 0;
        star = star || p == "*";
      }
      new_branch(f);
      if (star) info_[f.uid].exhaustive = true;
      if (f.case_matched)
        f.branch = Tri::kFalse;
      else if (!f.case_word.known || !pats_known)
        f.branch = Tri::kUnknown;
      else if (match) {
        f.branch = Tri::kTrue;
        f.case_matched = true;
      } else
        f.branch = Tri::kFalse;
      f.expect_pattern = false;
      i = k + 1;
      continue;
    }
    if (t.kind == Tok::kWord && !t.quoted && StatementStart(s, i)) {
      const std::string& w = t.text;
      if (w == "if" || w == "elif") {
        size_t then = FindWordAtStatement(s, i + 1, "then", e);
        Tri cond = EvalCondition(i + 1, then, c);
        if (w == "if") {
          Frame f;
          f.type = Frame::kIf;
          f.uid = NewBranchPoint();
          info_[f.uid].branches = 1;
          f.branch = cond;
          f.any_true = cond == Tri::kTrue;
          f.all_false = cond == Tri::kFalse;
          frames.push_back(f);
        } else if (!frames.empty()) {
          Frame& f = frames.back();
          new_branch(f);
          f.branch = f.any_true ? Tri::kFalse : cond;
          f.any_true = f.any_true || cond == Tri::kTrue;
          f.all_false = f.all_false && cond == Tri::kFalse;
        }
        i = then + 1;
        continue;
      }
      if (w == "else") {
        if (!frames.empty()) {
          Frame& f = frames.back();
          new_branch(f);
          info_[f.uid].exhaustive = true;
          f.branch = f.any_true ? Tri::kFalse : (f.all_false ? Tri::kTrue : Tri::kUnknown);
        }
        ++i;
        continue;
      }
      if (w == "fi" || w == "done" || w == "esac") {
        if (!frames.empty()) frames.pop_back();
        ++i;
        continue;
      }
      if (w == "then" || w == "do" || w == "{" || w == "}" || w == "!") {
        ++i;
        continue;
      }
      if (w == "case") {
        Frame f;
        f.type = Frame::kCase;
        f.uid = NewBranchPoint();
        f.branch_idx = -1;
        auto words = i + 1 < e ? Expand(s.toks[i + 1], c) : std::vector<Word>{};
        f.case_word = words.size() == 1 ? words[0] : Word{"", false};
        f.expect_pattern = true;
        f.branch = Tri::kFalse;
        frames.push_back(f);
        size_t in = i + 2;
        while (in < e && s.toks[in].kind == Tok::kNewline) ++in;
        i = IsWord(s, in, "in") ? in + 1 : in;
        continue;
      }
      if (w == "for" || w == "while" || w == "until") {
        size_t done = FindClose(s, i, {"for", "while", "until"}, "done", e);
        size_t dow = FindWordAtStatement(s, i + 1, "do", done);
        Tri g = Gate(frames);
        if (g != Tri::kFalse && c.depth < kMaxDepth) {
          Ctx lc = here();
          lc.returned = nullptr;
          if (w == "for" && i + 1 < e) {
            std::string var = s.toks[i + 1].text;
            std::vector<Word> items;
            bool known = true;
            if (IsWord(s, i + 2, "in")) {
              size_t k = i + 3;
              while (k < dow && s.toks[k].kind == Tok::kWord) {
                for (Word& x : Expand(s.toks[k], c))
                  for (Word& y : Glob(x)) {
                    known = known && y.known;
                    items.push_back(y);
                  }
                ++k;
              }
            } else {
              for (const std::string& a : c.args) items.push_back({a, true});
            }
            if (!known) lc.conds.push_back(Pseudo());
            for (const Word& item : items) {
              (*c.vars)[var] = item;
              Run(dow + 1, done, lc, false);
            }
          } else {
            Run(dow + 1, done, lc, true);  // a loop body runs only while its condition holds
          }
        }
        i = done + 1;
        continue;
      }
      // Function definitions: name ( ) { … }   or   function name { … }
      bool fdef = i + 2 < e && s.toks[i + 1].kind == Tok::kOp && s.toks[i + 1].text == "(" &&
                  s.toks[i + 2].kind == Tok::kOp && s.toks[i + 2].text == ")";
      if (fdef || (w == "function" && i + 1 < e)) {
        std::string name = fdef ? w : s.toks[i + 1].text;
        size_t k = fdef ? i + 3 : i + 2;
        while (k < e && s.toks[k].kind == Tok::kNewline) ++k;
        if (k < e && IsWord(s, k, "{")) {
          int depth = 0;
          size_t close = e;
          for (size_t q = k; q < e; ++q) {
            if (s.toks[q].kind != Tok::kWord || s.toks[q].quoted) continue;
            if (s.toks[q].text == "{" && StatementStart(s, q)) ++depth;
            if (s.toks[q].text == "}" && StatementStart(s, q) && --depth == 0) {
              close = q;
              break;
            }
          }
          c.script->funcs[name] = {k + 1, close};
          i = close + 1;
          continue;
        }
      }
    }
    // An and-or list up to ; & newline (or a closing keyword handled above on the next turn).
    size_t j = i;
    while (j < e) {
      const Tok& x = s.toks[j];
      if (IsWord(s, j, "{") && StatementStart(s, j)) {
        j = std::min(e, MatchBrace(s, j, e) + 1);
        continue;
      }
      if (x.kind == Tok::kNewline) break;
      if (x.kind == Tok::kOp && (x.text == ";" || x.text == "&" || x.text == ";;")) break;
      if (x.kind == Tok::kOp && x.text == ")") break;
      ++j;
    }
    Tri g = Gate(frames);
    if (g != Tri::kFalse) {
      Ctx lc = here();
      int inner_returned = 0;
      lc.returned = &inner_returned;
      RunList(i, j, lc, false, nullptr);
      if (inner_returned == 2 && lc.conds.size() == base.conds.size())
        returned = true;
      else if (inner_returned != 0)
        maybe_returned = true;
    }
    i = j;
  }
  // A brace group's return leaves the enclosing function too.
  if (c.returned != nullptr && (returned || maybe_returned))
    *c.returned = std::max(*c.returned, returned && !conditional ? 2 : 1);
}

void Interp::RunScriptFile(const std::string& path, std::vector<std::string> args, Ctx& parent,
                           bool conditional, int line) {
  (void)line;
  std::string key = path;
  for (const std::string& a : args) key += "\x1f" + a;
  if (running_.count(key) != 0 || parent.depth >= kMaxDepth) return;
  // Debian's /etc/init.d/rc N runs the S links of rcN.d; its loop is too dynamic to read.
  if (path == "/etc/init.d/rc" && !args.empty()) {
    Ctx c = parent;
    c.depth++;
    c.chain.push_back(path);
    for (const FileEntry* e : m_.fs.List("/etc/rc" + args[0] + ".d")) {
      std::string n = Basename(e->tree_path);
      if (n.starts_with("S"))
        Exec({Word{RootFs::DevicePath(*e), true}, Word{"start", true}}, c, conditional, false, 0);
    }
    return;
  }
  auto it = scripts_.find(path);
  if (it == scripts_.end()) {
    auto text = m_.fs.Read(path, kMaxScriptBytes);
    if (!text) return;
    auto sc = std::make_unique<Script>();
    sc->path = path;
    sc->toks = Tokenize(*text);
    FileLines(path, &*text);
    it = scripts_.emplace(path, std::move(sc)).first;
  }
  Script* sc = it->second.get();
  running_.insert(key);
  std::map<std::string, Word> vars;
  Ctx c;
  c.script = sc;
  c.args = args;
  c.vars = &vars;
  c.chain = parent.chain;
  c.chain.push_back(path);
  c.via = parent.via == "inittab" ? "script" : parent.via;
  c.depth = parent.depth + 1;
  Run(0, sc->toks.size(), c, conditional);
  // OpenWrt rc.common: the script only defines functions; the action argument picks one.
  const std::vector<std::string>& lines = FileLines(path);
  if (!lines.empty() &&
      std::string_view(lines[0]).substr(0, 256).find("rc.common") != std::string_view::npos) {
    std::string action = args.empty() ? "" : args[0];
    bool procd = vars.count("USE_PROCD") != 0 && vars["USE_PROCD"].text == "1";
    std::vector<std::string> order;
    std::string start_fn = procd ? "start_service" : "start";
    if (action == "boot") {
      auto boot = sc->funcs.find("boot");
      bool calls_start = boot == sc->funcs.end();
      if (boot != sc->funcs.end())
        for (size_t k = boot->second.first; k < boot->second.second; ++k)
          calls_start =
              calls_start || (sc->toks[k].kind == Tok::kWord && sc->toks[k].text == "start");
      if (boot != sc->funcs.end()) order.push_back("boot");
      // rc.common's start() is what boot() calls; under procd it runs start_service().
      if (calls_start && (procd || boot == sc->funcs.end())) order.push_back(start_fn);
    } else if (action == "start" || action == "restart" || action == "reload") {
      order = {start_fn};
    }
    for (const std::string& fn : order) {
      auto f = sc->funcs.find(fn);
      if (f == sc->funcs.end()) continue;
      Ctx fc = c;
      fc.via = procd ? "procd" : "rc.d";
      fc.args.assign(args.size() > 1 ? args.begin() + 1 : args.end(), args.end());
      Run(f->second.first, f->second.second, fc, conditional);
    }
  }
  running_.erase(key);
}

void Interp::RunInittab() {
  auto text = m_.fs.Read("/etc/inittab", kMaxScriptBytes);
  Script top;
  top.path = "/etc/inittab";
  std::map<std::string, Word> vars;
  Ctx c;
  c.script = &top;
  c.vars = &vars;
  c.via = "inittab";
  if (!text) {
    // BusyBox init without an inittab runs rcS, then a shell on the console.
    if (m_.fs.Resolve("/etc/init.d/rcS") != nullptr) {
      m_.boot_notes.push_back("no /etc/inittab: assuming BusyBox init's built-in default (rcS)");
      Exec({Word{"/etc/init.d/rcS", true}}, c, false, false, 0);
    }
    return;
  }
  auto lines = Lines(*text);
  std::string default_level;
  for (std::string_view l : lines) {
    auto f = Split(l, ':');
    if (f.size() >= 3 && Trim(f[2]) == "initdefault") default_level = std::string(Trim(f[1]));
  }
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (l.empty() || l[0] == '#') continue;
    auto f = Split(l, ':');
    if (f.size() < 4) continue;
    std::string id(Trim(f[0])), levels(Trim(f[1])), action(Trim(f[2]));
    std::string process(l.substr(f[0].size() + f[1].size() + f[2].size() + 3));
    static const std::set<std::string> kRun = {"sysinit",  "wait",       "once", "respawn",
                                               "askfirst", "askconsole", "boot", "bootwait"};
    if (kRun.count(action) == 0) continue;
    bool cond = false;
    if (!levels.empty() && action != "sysinit" && action != "boot" && action != "bootwait" &&
        !default_level.empty() && levels.find(default_level) == std::string::npos)
      continue;  // SysV: not in the default runlevel
    if (!levels.empty() && default_level.empty() && action != "sysinit") cond = true;
    if (!process.empty() && process[0] == '-') process.erase(0, 1);  // login shell marker
    Script line_script;
    line_script.path = "/etc/inittab";
    line_script.toks = Tokenize(process);
    for (Tok& t : line_script.toks) t.line = static_cast<int>(n + 1);
    Ctx lc = c;
    lc.script = &line_script;
    size_t before = m_.started.size();
    Run(0, line_script.toks.size(), lc, cond);
    for (size_t i = before; i < m_.started.size(); ++i) {
      Started& s = m_.started[i];
      if (s.chain.empty()) {
        s.respawn = action == "respawn" || action == "askfirst" || action == "askconsole";
        // BusyBox: the id field is the tty; SysV getty lines name it as an argument.
        s.console = levels.empty() ? id : "";
        s.source = {"/etc/inittab", static_cast<int>(n + 1), std::string(l)};
      }
    }
  }
}

void Interp::RunInetd() {
  for (const Started& s : std::vector<Started>(m_.started)) {
    if (s.program != "inetd" && s.program != "xinetd") continue;
    if (s.program == "xinetd") {
      RunXinetd(s);
      continue;
    }
    std::string conf = "/etc/inetd.conf";
    for (size_t i = 1; i < s.argv.size(); ++i)
      if (!s.argv[i].starts_with("-")) conf = s.argv[i];
    auto text = m_.fs.Read(conf, kMaxScriptBytes);
    if (!text) continue;
    auto lines = Lines(*text);
    for (size_t n = 0; n < lines.size(); ++n) {
      std::string_view l = Trim(lines[n]);
      if (l.empty() || l[0] == '#') continue;
      auto w = Words(l);
      if (w.size() < 6) continue;
      Started st;
      st.via = "inetd";
      st.user = std::string(w[4].substr(0, w[4].find_first_of(":.")));
      std::string server(w[5]);
      if (server == "internal") continue;
      for (size_t i = 6; i < w.size(); ++i) st.argv.emplace_back(w[i]);
      if (st.argv.empty()) st.argv.push_back(server);
      std::string path = server.find('/') != std::string::npos ? server : "";
      const FileEntry* e = path.empty() ? nullptr : m_.fs.Resolve(path);
      st.binary = e ? RootFs::DevicePath(*e) : "";
      st.program = Basename(st.argv[0]);
      if (Basename(server) != "busybox" && Basename(server) != st.program &&
          m_.busybox_applets.count(st.program) == 0)
        st.program = Basename(server);
      st.conditional = s.conditional;
      st.source = {conf, static_cast<int>(n + 1), std::string(l)};
      st.chain = s.chain;
      st.chain.push_back(s.source.path);
      m_.started.push_back(std::move(st));
    }
  }
}

// xinetd: /etc/xinetd.conf (or the -f file) and its includedir; each enabled `service` block with
// a `server` is a program started on a connection, as `user`.
void Interp::RunXinetd(const Started& daemon) {
  std::string conf = "/etc/xinetd.conf";
  for (size_t i = 1; i + 1 < daemon.argv.size(); ++i)
    if (daemon.argv[i] == "-f") conf = daemon.argv[i + 1];
  std::vector<std::string> files = {conf};
  std::set<std::string> seen;
  for (size_t f = 0; f < files.size() && f < 256; ++f) {
    if (!seen.insert(files[f]).second) continue;
    auto text = m_.fs.Read(files[f], kMaxScriptBytes);
    if (!text) continue;
    auto lines = Lines(*text);
    std::map<std::string, std::string> attrs;
    std::string name;
    int start = 0;
    bool in_service = false, in_block = false;
    for (size_t n = 0; n < lines.size(); ++n) {
      std::string_view l = Trim(lines[n]);
      if (l.empty() || l[0] == '#') continue;
      if (!in_block && (l.starts_with("includedir ") || l.starts_with("includedir\t"))) {
        std::string dir(Trim(l.substr(10)));
        for (const FileEntry* e : m_.fs.List(dir)) {
          std::string base = Basename(e->tree_path);
          // xinetd skips names with a dot or ending in '~' in an includedir.
          if (e->type != EntryType::kFile || base.find('.') != std::string::npos ||
              base.ends_with("~"))
            continue;
          files.push_back(RootFs::DevicePath(*e));
        }
        continue;
      }
      if (!in_block && l.starts_with("service")) {
        name = std::string(Trim(l.substr(7)));
        in_service = true;
        start = static_cast<int>(n + 1);
        attrs.clear();
        if (l.find('{') != std::string_view::npos) in_block = true;
        continue;
      }
      if (l == "{") {
        in_block = true;
        continue;
      }
      if (l == "}") {
        if (in_service && in_block) {
          auto get = [&](const char* k) {
            auto it = attrs.find(k);
            return it == attrs.end() ? std::string() : it->second;
          };
          std::string type = get("type");
          bool internal = type.find("INTERNAL") != std::string::npos;
          if (get("disable") != "yes" && !get("server").empty() && !internal) {
            Started st;
            st.via = "xinetd";
            std::string server = get("server");
            st.argv.push_back(server);
            const std::string args = get("server_args");  // Words() returns views into it
            for (std::string_view a : Words(args)) st.argv.emplace_back(a);
            const FileEntry* e = m_.fs.Resolve(server);
            st.binary = e ? RootFs::DevicePath(*e) : "";
            st.program = Basename(server);
            if (st.program == "busybox" && st.argv.size() > 1) st.program = st.argv[1];
            st.user = get("user");
            st.conditional = daemon.conditional;
            st.source = {files[f], start, "service " + name};
            st.chain = daemon.chain;
            st.chain.push_back(daemon.source.path);
            m_.started.push_back(std::move(st));
          }
        }
        in_service = in_block = false;
        continue;
      }
      if (!in_block) continue;
      size_t eq = l.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      bool add = l[eq - 1] == '+' || l[eq - 1] == '-';
      std::string key(Trim(l.substr(0, add ? eq - 1 : eq)));
      std::string value(Trim(l.substr(eq + 1)));
      if (add && l[eq - 1] == '+')
        attrs[key] += (attrs[key].empty() ? "" : " ") + value;
      else if (!add)
        attrs[key] = value;
    }
  }
}

// Hotplug: scripts and commands run on kernel or network events (OpenWrt /etc/hotplug.d, BusyBox
// mdev.conf actions). They may run at any time after boot: conditional starts.
void Interp::RunHotplug() {
  for (const FileEntry* d : m_.fs.List("/etc/hotplug.d")) {
    if (d->type != EntryType::kDir) continue;
    for (const FileEntry* e : m_.fs.List(RootFs::DevicePath(*d))) {
      if (e->type != EntryType::kFile) continue;
      Script top;
      top.path = RootFs::DevicePath(*d);
      std::map<std::string, Word> vars;
      Ctx c;
      c.script = &top;
      c.vars = &vars;
      c.via = "hotplug";
      RunScriptFile(RootFs::DevicePath(*e), {}, c, true, 0);
    }
  }
  auto text = m_.fs.Read("/etc/mdev.conf", kMaxScriptBytes);
  if (!text) return;
  auto lines = Lines(*text);
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = Trim(lines[n]);
    if (l.empty() || l[0] == '#') continue;
    // device user:group mode [=path | >path | !] [@|$|*command]
    size_t cmd = l.find_first_of("@$*", l.find_first_of(" \t"));
    auto w = Words(l);
    if (w.size() < 4 || cmd == std::string_view::npos) continue;
    size_t at = static_cast<size_t>(w[3].data() - l.data());
    if (w[3][0] == '=' || w[3][0] == '>' || w[3][0] == '!')
      at = w.size() > 4 ? static_cast<size_t>(w[4].data() - l.data()) : std::string_view::npos;
    if (at == std::string_view::npos || at >= l.size()) continue;
    if (l[at] != '@' && l[at] != '$' && l[at] != '*') continue;
    RunLine("/etc/mdev.conf", static_cast<int>(n + 1), std::string(l.substr(at + 1)), "hotplug", "",
            true);
  }
}

// A command line from a unit file or crontab, run as if a shell read it at `path`:`line`.
void Interp::RunLine(const std::string& path, int line, const std::string& text,
                     const std::string& via, const std::string& user, bool conditional) {
  Script sc;
  sc.path = path;
  sc.toks = Tokenize(text);
  for (Tok& t : sc.toks) t.line = line;
  std::map<std::string, Word> vars;
  Ctx c;
  c.script = &sc;
  c.vars = &vars;
  c.via = via;
  size_t before = m_.started.size();
  Run(0, sc.toks.size(), c, conditional);
  for (size_t i = before; i < m_.started.size(); ++i) {
    Started& st = m_.started[i];
    if (st.user.empty()) st.user = user;
    if (st.chain.empty()) st.source = {path, line, text};
  }
}

void Interp::RunSystemd() {
  // systemd is PID 1 when /sbin/init resolves to it, or when there is no inittab and it exists.
  std::string init = m_.fs.ResolvePath("/sbin/init");
  bool systemd = Basename(init) == "systemd";
  if (!systemd && m_.fs.Resolve("/etc/inittab") == nullptr)
    systemd = m_.fs.Resolve("/lib/systemd/systemd") != nullptr ||
              m_.fs.Resolve("/usr/lib/systemd/systemd") != nullptr;
  if (!systemd) return;
  static const char* kDirs[] = {"/etc/systemd/system", "/lib/systemd/system",
                                "/usr/lib/systemd/system"};
  auto unit_path = [&](const std::string& name) -> std::string {
    for (const char* d : kDirs) {
      std::string p = std::string(d) + "/" + name;
      const FileEntry* link = m_.fs.Entry(p);
      if (link != nullptr && link->type == EntryType::kSymlink && link->link_target == "/dev/null")
        return "";  // masked
      if (m_.fs.Resolve(p) != nullptr) return m_.fs.ResolvePath(p);
    }
    return "";
  };
  std::string target = "multi-user.target";
  for (const char* d : kDirs) {
    std::string p = std::string(d) + "/default.target";
    std::string r = m_.fs.ResolvePath(p);
    if (!r.empty()) {
      target = Basename(r);
      break;
    }
  }
  std::vector<std::string> todo = {target};
  std::set<std::string> seen;
  while (!todo.empty() && seen.size() < 4096) {
    std::string unit = todo.back();
    todo.pop_back();
    if (!seen.insert(unit).second) continue;
    for (const char* d : kDirs)
      for (const char* kind : {".wants", ".requires"})
        for (const FileEntry* e : m_.fs.List(std::string(d) + "/" + unit + kind))
          todo.push_back(Basename(e->tree_path));
    std::string path = unit_path(unit);
    if (path.empty()) continue;
    auto text = m_.fs.Read(path, kMaxScriptBytes);
    if (!text) continue;
    std::string section, user, exec;
    int exec_line = 0;
    bool accept = false;
    std::string service;
    auto lines = Lines(*text);
    for (size_t n = 0; n < lines.size(); ++n) {
      std::string_view l = Trim(lines[n]);
      if (l.empty() || l[0] == '#' || l[0] == ';') continue;
      if (l[0] == '[') {
        section = std::string(l);
        continue;
      }
      size_t eq = l.find('=');
      if (eq == std::string_view::npos) continue;
      std::string key(Trim(l.substr(0, eq)));
      std::string value(Trim(l.substr(eq + 1)));
      if (key == "Wants" || key == "Requires" || key == "Also")
        for (std::string_view w : Words(value)) todo.emplace_back(w);
      if (section == "[Service]" && key == "User") user = value;
      if (section == "[Service]" && key == "ExecStart") {
        if (value.empty()) {
          exec.clear();
          continue;
        }
        size_t k = 0;
        while (k < value.size() &&
               std::string_view("-@+!:").find(value[k]) != std::string_view::npos)
          ++k;
        if (exec.empty()) {  // oneshot units may list several: the first is the daemon
          exec = value.substr(k);
          exec_line = static_cast<int>(n + 1);
        }
      }
      if (section == "[Socket]" && key == "Accept") accept = UciBool(value).value_or(false);
      if (section == "[Socket]" && key == "Service") service = value;
    }
    if (unit.ends_with(".socket")) {
      std::string stem = unit.substr(0, unit.size() - 7);
      todo.push_back(!service.empty() ? service : stem + (accept ? "@.service" : ".service"));
      continue;
    }
    if (!exec.empty()) RunLine(path, exec_line, exec, "systemd", user, false);
  }
}

void Interp::RunCron() {
  bool crond = false;
  for (const Started& s : m_.started)
    crond = crond || s.program == "crond" || s.program == "cron" || s.program == "busybox-crond";
  auto one = [&](const std::string& path, bool has_user, const std::string& owner) {
    auto text = m_.fs.Read(path, kMaxScriptBytes);
    if (!text) return;
    auto lines = Lines(*text);
    for (size_t n = 0; n < lines.size(); ++n) {
      std::string_view l = Trim(lines[n]);
      if (l.empty() || l[0] == '#') continue;
      auto w = Words(l);
      size_t fields = l[0] == '@' ? 1 : 5;
      if (w.size() <= fields + (has_user ? 1 : 0)) continue;
      if (fields == 5 && w[0].find('=') != std::string_view::npos) continue;  // VAR=value
      std::string user = has_user ? std::string(w[fields]) : owner;
      size_t start = static_cast<size_t>(w[fields + (has_user ? 1 : 0)].data() - l.data());
      RunLine(path, static_cast<int>(n + 1), std::string(l.substr(start)), "cron", user, !crond);
    }
  };
  one("/etc/crontab", true, "");
  for (const FileEntry* e : m_.fs.List("/etc/cron.d")) one(RootFs::DevicePath(*e), true, "");
  for (const char* dir : {"/etc/crontabs", "/var/spool/cron/crontabs"})
    for (const FileEntry* e : m_.fs.List(dir))
      one(RootFs::DevicePath(*e), false, Basename(e->tree_path));
}

}  // namespace

void InterpretShellText(DeviceModel& m, std::string_view text, const std::string& path,
                        const std::vector<std::string>& args) {
  Interp in(m);
  in.RunText(text, path, args);
}

void BuildBootGraph(DeviceModel& m) {
  Interp in(m);
  in.RunInittab();
  in.RunSystemd();
  in.RunInetd();
  in.RunCron();
  in.RunHotplug();
  // One record per start site. Copies reached through every branch of an if/else or a case
  // with `*)` run whatever the condition is: they are not conditional.
  std::vector<Started> started = std::move(m.started);
  std::vector<std::vector<Cond>> conds = std::move(in.conds_);
  conds.resize(started.size());
  m.started.clear();
  std::map<std::string, size_t> group_of;
  std::vector<std::vector<size_t>> groups;
  for (size_t i = 0; i < started.size(); ++i) {
    const Started& s = started[i];
    std::string key = s.via + "\x1f" + s.binary + "\x1f" + s.program + "\x1f" + s.source.path +
                      "\x1f" + std::to_string(s.source.line);
    for (const std::string& a : s.argv) key += "\x1f" + a;
    key += "\x1e";
    for (const std::string& p : s.chain) key += "\x1f" + p;
    auto [it, fresh] = group_of.emplace(key, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  for (const std::vector<size_t>& g : groups) {
    std::set<std::vector<Cond>> have;
    for (size_t i : g) {
      std::vector<Cond> c = conds[i];
      std::sort(c.begin(), c.end());
      have.insert(c);
    }
    bool changed = true;
    for (int round = 0; changed && round < 64 && have.count({}) == 0 && have.size() < 4096;
         ++round) {
      changed = false;
      std::set<std::vector<Cond>> next = have;
      for (const std::vector<Cond>& c : have) {
        for (size_t k = 0; k < c.size(); ++k) {
          auto info = in.info_.find(c[k].first);
          if (info == in.info_.end() || !info->second.exhaustive) continue;
          bool all = true;
          for (int br = 0; br < info->second.branches && all; ++br) {
            std::vector<Cond> alt = c;
            alt[k].second = br;
            std::sort(alt.begin(), alt.end());
            all = have.count(alt) != 0;
          }
          if (!all) continue;
          std::vector<Cond> reduced = c;
          reduced.erase(reduced.begin() + static_cast<long>(k));
          if (next.insert(reduced).second) changed = true;
        }
      }
      have = std::move(next);
    }
    Started s = started[g.front()];
    s.conditional = have.count({}) == 0;
    m.started.push_back(std::move(s));
  }
}

}  // namespace firmwarden::facts
