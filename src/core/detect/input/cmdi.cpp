// OS command injection attempts (CWE-78).
//
// A value is an attempt when, placed where an application puts it in a shell command, it stops
// being one word and adds a command. The value is read by the project's POSIX shell tokenizer in
// each place an application would put it:
//
//   * as an unquoted argument        `cmd VALUE`
//   * inside a double-quoted argument `cmd "VALUE`
//   * inside a single-quoted argument `cmd 'VALUE`
//   * as the whole command            `VALUE`  (system($value), eval)
//
// and convicted when a command word appears that the application did not write: after a control
// operator (; & && || | |& newline), or inside a closed command substitution ($(...), `...`,
// <(...)), and that word names a command — a program from a compact table of the commands
// attackers run (id, whoami, cat, wget, ping, powershell, type, dir ...), a path to an
// executable (/usr/bin/id, C:\Windows\System32\cmd.exe, /???/??t), or a variable the value
// assigned a command to (CMD=$'id';$CMD). Command names are read after quote removal, escapes,
// empty expansions ($u, $@, $()), ${IFS} word splitting and {a,b} brace expansion, so the usual
// obfuscations (w'h'o'am'i, c$@at, cat${IFS}/etc/passwd, {cat,/etc/passwd}) resolve.
//
// Prose is the risk: "Tom & Jerry", "rock & roll; jazz", "salt | pepper", fortunes that quote a
// shell one-liner. So the command must also look like a command line: names that are English
// words (cat, type, sleep, which, echo in a whole value) need an argument that only a command
// line has (an option, an absolute path, a URL, an address, a redirection to a file, a number for
// sleep); and the break-out must come within the first few words of the value — an attacker
// appends to the value the application expects, prose that quotes a command has a sentence
// before it. Apostrophes inside words (O'Brien, don't) and opening quotation marks never count
// as the quote that closes the application's string.
//
// Besides the shell grammar, three forms that deliver a command through another interpreter are
// convicted: a Shellshock function definition "() {", a call of a code-execution function
// (system('id'), exec("..."), passthru(...), phpinfo()) and PHP's {${...}} evaluation syntax.
//
// Cost: a byte scan decides which readings are possible; the tokenizer runs only on values with
// a shell metacharacter, a closing-like quote or a leading command name. Buffers are
// thread-local and keep their capacity, so a clean value allocates nothing in steady state.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/decode/decode.hpp"
#include "core/detect/input/input_detector.hpp"
#include "core/tokenize/shell/shell_tokenizer.hpp"

namespace vigil::detect::input {
namespace {

namespace sh = tokenize::shell;
using common::is_alnum;
using common::is_alpha;
using common::is_digit;
using common::to_lower;

// ---- the command table ----

// What makes a command word a command line (Command::flags).
enum CmdFlag : std::uint16_t {
  kAny = 1u << 0,     // distinctive name: a command line with any arguments, or none
  kBare = 1u << 1,    // runs usefully without arguments after a break-out (ls, id, pwd, dir)
  kLoose = 1u << 2,   // any arguments after a break-out (echo), but not as a whole value
  kWin = 1u << 3,     // Windows: matched case-insensitively; /X options count
  kNum = 1u << 4,     // a number argument counts (sleep 5, kill 1)
  kHost = 1u << 5,    // a host name argument counts (ping example.com)
  kCmdArg = 1u << 6,  // an argument naming a command counts (which curl, sudo id)
  kInterp = 1u << 7,  // runs code: options (-c, -e) and scripts count; bare after a pipe
  kShell = 1u << 8,   // a shell: bare after any break-out (; bash)
  kNet = 1u << 9,     // Windows net: its subcommands count (net user, net view)
  kSubstOnly = 1u << 10,  // a probe only inside a command substitution (`true`)
};

struct Command {
  std::string_view name;  // lower case
  std::uint16_t flags;
};

// Sorted by name (checked by a test through is_sorted at compile time below).
constexpr Command kCommands[] = {
    {"arp", kWin},
    {"awk", kInterp},
    {"base64", 0},
    {"bash", kInterp | kShell},
    {"bitsadmin", kAny | kWin},
    {"busybox", kCmdArg | kInterp},
    {"cat", 0},
    {"certutil", kAny | kWin},
    {"chmod", kNum},
    {"chown", 0},
    {"cmd", kInterp | kWin},
    {"cp", 0},
    {"crontab", kAny},
    {"cscript", kAny | kWin},
    {"csh", kInterp | kShell},
    {"curl", kAny | kHost},
    {"cut", 0},
    {"dash", kInterp | kShell},
    {"del", kWin},
    {"dig", kHost},
    {"dir", kBare | kWin},
    {"echo", kLoose},
    {"env", kCmdArg | kBare},
    {"eval", kCmdArg},
    {"exec", kCmdArg},
    {"false", kSubstOnly},
    {"find", 0},
    {"ftp", kHost},
    {"gawk", kInterp},
    {"gcc", 0},
    {"getent", kAny},
    {"grep", 0},
    {"head", 0},
    {"hostname", kBare | kWin},
    {"id", kBare},
    {"ifconfig", kAny},
    {"ipconfig", kAny | kWin},
    {"kill", kNum},
    {"ksh", kInterp | kShell},
    {"less", 0},
    {"ls", kBare},
    {"lsb_release", kAny},
    {"mkfifo", kAny},
    {"more", kWin},
    {"mshta", kAny | kWin},
    {"mv", 0},
    {"nc", kHost},
    {"ncat", kAny},
    {"net", kWin | kNet},
    {"netcat", kAny},
    {"netsh", kAny | kWin},
    {"netstat", kAny | kWin},
    {"nohup", kCmdArg},
    {"nslookup", kAny | kHost | kWin},
    {"perl", kInterp},
    {"php", kInterp},
    {"ping", kNum | kHost | kWin},
    {"powershell", kAny | kWin},
    {"printenv", kAny},
    {"printf", kLoose},
    {"ps", kBare},
    {"pwd", kBare},
    {"pwsh", kAny | kWin},
    {"python", kInterp},
    {"python2", kInterp},
    {"python3", kInterp},
    {"reg", kWin},
    {"regsvr32", kAny | kWin},
    {"rm", 0},
    {"route", kWin},
    {"ruby", kInterp},
    {"rundll32", kAny | kWin},
    {"schtasks", kAny | kWin},
    {"sed", 0},
    {"sh", kInterp | kShell},
    {"sleep", kNum},
    {"socat", kAny},
    {"sort", 0},
    {"ssh", kHost},
    {"sudo", kCmdArg},
    {"sysinfo", kAny},
    {"systeminfo", kAny | kWin},
    {"tail", 0},
    {"tar", 0},
    {"taskkill", kAny | kWin},
    {"tasklist", kAny | kWin},
    {"tee", 0},
    {"telnet", kHost},
    {"tftp", kHost | kWin},
    {"timeout", kNum | kWin},
    {"touch", 0},
    {"tr", 0},
    {"traceroute", kHost},
    {"tracert", kHost | kWin},
    {"true", kSubstOnly},
    {"type", kWin},
    {"uname", kAny},
    {"uniq", 0},
    {"useradd", kAny},
    {"wc", 0},
    {"wget", kAny | kHost},
    {"whereis", kCmdArg},
    {"which", kCmdArg},
    {"whoami", kAny | kWin},
    {"wmic", kAny | kWin},
    {"xargs", kCmdArg},
    {"zsh", kInterp | kShell},
};

constexpr bool table_sorted() {
  for (std::size_t i = 1; i < std::size(kCommands); ++i)
    if (!(kCommands[i - 1].name < kCommands[i].name)) return false;
  return true;
}
static_assert(table_sorted(), "kCommands must be sorted by name");

constexpr std::size_t kMaxNameLength = 15;  // longest table name ("lsb_release" + margin)

// Per first letter: the range of table entries, a mask of their name lengths and a mask of
// their second letters, so that most words are rejected after three loads (every plain word of
// a request reaches find_command() through cmdi_may_fire_on_word()).
struct LetterIndex {
  std::uint8_t begin[26] = {};
  std::uint8_t end[26] = {};
  std::uint16_t lengths[26] = {};
  std::uint32_t seconds[26] = {};  // bit c - 'a' for a second letter c; bit 26 for any other byte
};

// The bit of a name's second byte in LetterIndex::seconds (case-folded).
constexpr std::uint32_t second_bit(char c) {
  c = to_lower(c);
  return c >= 'a' && c <= 'z' ? 1u << (c - 'a') : 1u << 26;
}

constexpr LetterIndex make_letter_index() {
  LetterIndex x;
  for (std::size_t i = 0; i < std::size(kCommands); ++i) {
    int l = kCommands[i].name[0] - 'a';
    if (x.end[l] == 0) x.begin[l] = static_cast<std::uint8_t>(i);
    x.end[l] = static_cast<std::uint8_t>(i + 1);
    x.lengths[l] = static_cast<std::uint16_t>(x.lengths[l] | (1u << kCommands[i].name.size()));
    x.seconds[l] |= second_bit(kCommands[i].name[1]);
  }
  return x;
}
constexpr LetterIndex kLetterIndex = make_letter_index();

// The table entry for `name` (ASCII case-folded), or null.
const Command* find_command(std::string_view name) {
  if (name.size() < 2 || name.size() > kMaxNameLength) return nullptr;
  char first = to_lower(name[0]);
  if (first < 'a' || first > 'z') return nullptr;
  int l = first - 'a';
  if (!(kLetterIndex.lengths[l] & (1u << name.size()))) return nullptr;
  if (!(kLetterIndex.seconds[l] & second_bit(name[1]))) return nullptr;
  for (std::size_t i = kLetterIndex.begin[l]; i < kLetterIndex.end[l]; ++i) {
    std::string_view n = kCommands[i].name;
    if (n.size() != name.size()) continue;
    std::size_t k = 1;
    while (k < n.size() && to_lower(name[k]) == n[k]) ++k;
    if (k == n.size()) return &kCommands[i];
  }
  return nullptr;
}

bool has_upper(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && common::iequals(s.substr(s.size() - suffix.size()), suffix);
}

// Program-file extensions Windows runs by name.
std::string_view strip_exe(std::string_view s) {
  static constexpr std::string_view kExt[] = {".exe", ".bat", ".cmd"};
  if (s.size() <= 4 || s[s.size() - 4] != '.') return s;
  for (std::string_view ext : kExt)
    if (iends_with(s, ext)) return s.substr(0, s.size() - ext.size());
  return s;
}

// cmd.exe removes the caret, its escape character, from a word before it runs it: w^h^o^a^m^i
// is whoami. Writes `s` without carets into buf and returns it (empty when it does not fit).
constexpr std::size_t kCaretBytes = 64;
std::string_view strip_carets(std::string_view s, char (&buf)[kCaretBytes]) {
  std::size_t n = 0;
  for (char c : s) {
    if (c == '^') continue;
    if (n == sizeof(buf)) return {};
    buf[n++] = c;
  }
  return {buf, n};
}

// What a resolved command name is.
struct CommandName {
  const Command* cmd = nullptr;  // table entry (null for an unknown program path)
  bool path = false;             // named by a path to an executable
  bool lower = false;            // written in lower case, as Unix needs it
};

bool is_glob(char c) { return c == '*' || c == '?' || c == '['; }

// Whether `name` names a command: a table entry (Unix names in lower case only) or a path to an
// executable (a bin directory, a known program, a program extension, a globbed absolute path).
bool command_name(std::string_view name, CommandName* out) {
  *out = CommandName{};
  if (name.empty()) return false;
  std::size_t slash = name.find_last_of("/\\");
  if (slash == std::string_view::npos) {
    std::string_view base = strip_exe(name);
    bool exe = base.size() != name.size();
    const Command* c = find_command(base);
    if (c == nullptr) return false;
    out->lower = !has_upper(base);
    if (!out->lower && !(c->flags & kWin) && !exe) return false;
    out->cmd = c;
    return true;
  }
  std::string_view base = name.substr(slash + 1);
  std::string_view dir = name.substr(0, slash);
  if (base.empty() || name.find("://") != std::string_view::npos) return false;
  std::string_view prog = strip_exe(base);
  out->path = true;
  out->lower = true;
  out->cmd = find_command(prog);
  // A program is run from where programs live: an absolute, home- or dot-relative path, a
  // drive, or a bin directory. "myapp/ping" (a User-Agent, a route) is a name, not a program.
  bool located = name[0] == '/' || name[0] == '\\' || name[0] == '~' || name[0] == '.' ||
                 name[0] == '%' || (name.size() > 2 && is_alpha(name[0]) && name[1] == ':') ||
                 iends_with(dir, "bin") || iends_with(dir, "system32");
  if (out->cmd != nullptr && located && (!has_upper(prog) || (out->cmd->flags & kWin)))
    return true;
  out->cmd = nullptr;
  if (prog.size() != base.size()) return true;  // something.exe
  if (iends_with(dir, "bin") || iends_with(dir, "system32")) return true;
  if (name[0] == '/' && slash > 0 && std::any_of(name.begin(), name.end(), is_glob)) return true;
  if (name.substr(0, 2) == "./" &&
      (iends_with(base, ".sh") || iends_with(base, ".pl") || iends_with(base, ".py")))
    return true;
  return false;
}

// ---- words as the shell reads them ----

constexpr std::size_t kFieldBytes = 160;
constexpr std::size_t kMaxFields = 8;

// A word after quote removal, escapes, empty expansions, ${IFS} splitting and {a,b} brace
// expansion: up to kMaxFields fields in a fixed buffer.
struct Fields {
  char buf[kFieldBytes];
  std::uint16_t len = 0;
  std::uint16_t start[kMaxFields + 1] = {};
  std::uint8_t count = 0;     // fields closed so far (the open one is [start[count], len))
  bool dynamic = false;       // holds a command substitution or arithmetic (unknown text)
  bool assigned = false;      // a $NAME the value assigned earlier (CMD=...;$CMD)

  void put(char c) {
    if (len < kFieldBytes) buf[len++] = c;
  }
  void split() {
    if (len > start[count] && count + 1u < kMaxFields) start[++count] = len;
  }
  std::size_t size() const { return len > start[count] ? count + 1u : count; }
  std::string_view field(std::size_t i) const {
    std::size_t b = start[i];
    std::size_t e = i < count ? start[i + 1] : len;
    return std::string_view(buf + b, e - b);
  }
};

// Names assigned in the value (NAME=...), so that "$NAME" as a command word is known to run
// what the value put there.
struct Assigned {
  std::array<std::string_view, 4> names;
  std::size_t count = 0;
  bool has(std::string_view n) const {
    for (std::size_t i = 0; i < count; ++i)
      if (names[i] == n) return true;
    return false;
  }
};

// Variables that start with '/': ${HOME:0:1} is a slash.
bool slash_variable(std::string_view name) {
  return name == "HOME" || name == "PATH" || name == "PWD" || name == "OLDPWD" || name == "SHELL";
}

// The value of ${text} for an unset variable, as far as it matters for a command name.
void param_value(std::string_view text, Fields* f) {
  std::size_t i = 0;
  while (i < text.size() && (is_alnum(text[i]) || text[i] == '_')) ++i;
  std::string_view name = text.substr(0, i);
  std::string_view rest = text.substr(i);
  if (name == "IFS") {
    f->split();
    return;
  }
  if (slash_variable(name) && (rest == ":0:1" || rest == "::1")) {
    f->put('/');
    return;
  }
  // ${x:-word} and ${x-word} expand to word when x is unset.
  std::size_t d = rest.find('-');
  if (d != std::string_view::npos && (d == 0 || (d == 1 && rest[0] == ':'))) {
    for (char c : rest.substr(d + 1))
      if (c != '"' && c != '\'') f->put(c);
  }
}

bool is_braced_list(std::string_view s) {
  return s.size() > 3 && s.front() == '{' && s.back() == '}' &&
         s.find(',') != std::string_view::npos;
}

// Resolves word token `index`.
void resolve(std::string_view src, const sh::Tokens& tk, std::uint32_t index,
             const Assigned& assigned, Fields* f) {
  const sh::Token& t = tk.tokens[index];
  std::size_t open_param = 0;  // part index of an open ${, or 0
  bool in_param = false;
  for (std::size_t p = t.first_part; p < tk.parts.size() && tk.parts[p].begin < t.end; ++p) {
    const sh::Part& part = tk.parts[p];
    if (part.token != index) continue;
    std::string_view text = src.substr(part.begin, part.end - part.begin);
    switch (part.kind) {
      case sh::PartKind::kParamOpen:
        in_param = true;
        open_param = p;
        break;
      case sh::PartKind::kParamClose:
        if (in_param) {
          std::uint32_t b = tk.parts[open_param].end;
          param_value(src.substr(b, part.begin - b), f);
        }
        in_param = false;
        break;
      case sh::PartKind::kLiteral:
      case sh::PartKind::kQuotedText:
      case sh::PartKind::kExtGlobText:
        if (!in_param)
          for (char c : text) f->put(c);
        break;
      case sh::PartKind::kEscape:
        if (!in_param && text.size() == 2) f->put(text[1]);
        break;
      case sh::PartKind::kParam:
        if (in_param) break;
        if (text == "$IFS") {
          f->split();
        } else if (text == "$0" && f->len == 0) {
          for (char c : std::string_view("sh")) f->put(c);  // the running shell
        } else if (f->len == 0 && assigned.has(text.substr(1))) {
          f->assigned = true;
        }
        break;
      case sh::PartKind::kSubstOpen:
        // An empty substitution expands to nothing; any other is unknown text.
        if (!(p + 1 < tk.parts.size() && tk.parts[p + 1].kind == sh::PartKind::kSubstClose &&
              tk.parts[p + 1].token == index))
          f->dynamic = true;
        break;
      case sh::PartKind::kArithOpen:
        f->dynamic = true;
        break;
      default:
        break;
    }
  }
  // {cat,/etc/passwd} expands to its items.
  if (f->count == 0 && is_braced_list(f->field(0)) &&
      src.substr(t.begin, 1) == "{") {
    char tmp[kFieldBytes];
    std::size_t n = f->len;
    std::memcpy(tmp, f->buf, n);
    f->len = 0;
    for (std::size_t i = 1; i + 1 < n; ++i) {
      if (tmp[i] == ',') f->split();
      else f->put(tmp[i]);
    }
  }
}

// ---- arguments ----

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c); });
}

bool is_ipv4(std::string_view s) {
  int dots = 0, run = 0;
  for (char c : s) {
    if (is_digit(c)) {
      if (++run > 3) return false;
    } else if (c == '.' && run > 0) {
      ++dots;
      run = 0;
    } else {
      return false;
    }
  }
  return dots == 3 && run > 0;
}

bool is_hostname(std::string_view s) {
  if (s.size() < 4 || s.front() == '.' || s.back() == '.') return false;
  std::size_t dot = s.rfind('.');
  if (dot == std::string_view::npos) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '.' && c != '-') return false;
  std::string_view tld = s.substr(dot + 1);
  return tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), [](char c) { return is_alpha(c); });
}

// Files an attacker reads, writes or runs.
bool has_file_extension(std::string_view s) {
  static constexpr std::string_view kExt[] = {
      ".php", ".phtml", ".pl", ".py", ".sh", ".jsp", ".asp", ".aspx", ".cgi", ".rb",
      ".ini", ".conf", ".cfg", ".config", ".log", ".xml", ".txt", ".exe", ".bat", ".ps1",
      ".vbs", ".db", ".sql", ".bak", ".key", ".pem", ".htaccess", ".htpasswd", ".env", ".yml"};
  std::size_t dot = s.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  std::string_view ext = s.substr(dot);
  for (std::string_view e : kExt)
    if (common::iequals(ext, e)) return true;
  return false;
}

// A word that names a file or directory the way a command line does.
bool is_path(std::string_view s) {
  if (s.empty()) return false;
  if (s[0] == '/' || s[0] == '~') return true;
  if (s.substr(0, 2) == "./" || s.substr(0, 3) == "../" || s.substr(0, 2) == "\\\\") return true;
  if (s.size() >= 2 && is_alpha(s[0]) && s[1] == ':' &&
      (s.size() == 2 || s[2] == '\\' || s[2] == '/' || s[2] == '%'))
    return true;  // C:\ c:/ c:%5c
  if (s[0] == '%') {  // %SYSTEMROOT%\repair
    std::size_t end = s.find('%', 1);
    if (end != std::string_view::npos && end > 1 && end + 1 < s.size() &&
        (s[end + 1] == '\\' || s[end + 1] == '/'))
      return true;
  }
  // HKLM\Software, Windows\System32: a backslash between names.
  std::size_t bs = s.find('\\');
  if (bs != std::string_view::npos && bs > 0 && bs + 1 < s.size() && is_alnum(s[bs - 1]) &&
      is_alnum(s[bs + 1]))
    return true;
  return has_file_extension(s);
}

constexpr std::string_view kNetSubcommands[] = {"user",  "localgroup", "group",   "view",
                                                "share", "use",        "session", "accounts",
                                                "start", "stop",       "config"};

// How one argument field counts toward a command line.
enum class Arg { kNeutral, kPlain, kStrong };

Arg classify_arg(std::string_view a, const CommandName& name) {
  std::uint16_t flags = name.cmd != nullptr ? name.cmd->flags : std::uint16_t{kAny};
  if (a.empty()) return Arg::kNeutral;
  if (a[0] == '-') {
    if (a.size() >= 2 && is_alpha(a[1])) return Arg::kStrong;
    if (a.size() >= 3 && a[1] == '-' && is_alpha(a[2])) return Arg::kStrong;
    if ((flags & kNum) && all_digits(a.substr(1))) return Arg::kStrong;
    return Arg::kNeutral;
  }
  if (a == "/" || a == "~") return Arg::kNeutral;  // "10:30 / after lunch": a separator in prose
  if ((flags & kWin) && name.lower && a[0] == '/' && a.size() >= 2 && a.size() <= 16 &&
      std::all_of(a.begin() + 1, a.end(), [](char c) { return is_alnum(c) || c == '?'; }))
    return Arg::kStrong;  // /all /c /ADD
  if (is_path(a)) return Arg::kStrong;
  if (a.find("://") != std::string_view::npos) return Arg::kStrong;
  if (is_ipv4(a)) return Arg::kStrong;
  if (all_digits(a)) return (flags & kNum) ? Arg::kStrong : Arg::kNeutral;
  if ((flags & kHost) && is_hostname(a)) return Arg::kStrong;
  if (flags & (kCmdArg | kInterp)) {
    CommandName inner;
    if (command_name(a, &inner) && inner.lower) return Arg::kStrong;
  }
  if (flags & kNet) {
    for (std::string_view sub : kNetSubcommands)
      if (common::iequals(a, sub)) return Arg::kStrong;
  }
  if (std::all_of(a.begin(), a.end(), [](char c) { return is_alpha(c) || c == '\'' || c == ','; }))
    return Arg::kPlain;
  if (static_cast<unsigned char>(a[0]) >= 0x80) return Arg::kPlain;  // a word in another script
  return Arg::kNeutral;
}

// A redirection target that is a file (not a descriptor like &1 or a bare number).
bool file_target(std::string_view a) {
  if (a.empty() || all_digits(a) || a[0] == '&' || a == "-") return false;
  return is_path(a) || a.find('.') != std::string_view::npos;
}

// ---- the analysis of one reading ----

enum class Reading : std::uint8_t { kUnquoted, kDouble, kSingle, kWhole };

enum class How : std::uint8_t {
  kOperator,      // a control operator, then the command
  kSubstitution,  // a command substitution
  kRedirect,      // a redirection to or from a file
  kWhole,         // the value is a command line
};

struct Finding {
  Reading reading = Reading::kUnquoted;
  How how = How::kOperator;
  std::string_view op;             // the operator, substitution opener or redirection
  std::uint32_t begin = 0, end = 0;  // the command's span in the view
  std::uint32_t brk = 0;           // where the break-out starts in the view
};

// Per-thread buffers: reused, so a steady state allocates nothing.
struct Scratch {
  std::string text;
  std::string view;
  std::string param;
  std::string param2;
  sh::Tokens tokens;
  std::vector<std::uint32_t> stack;
  std::vector<std::uint32_t> closed;  // per opening part: 1 + end of its closer, 0 if none
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pending;  // (token, enclosing open part)
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// An attacker appends to the value the application expects: a break-out after more words than
// this is prose that quotes a command ("... use `ls -l` to see ...").
constexpr int kMaxLeadWords = 3;

int words_before(std::string_view v, std::size_t end) {
  int words = 0;
  bool in = false;
  for (std::size_t i = 0; i < end && i < v.size(); ++i) {
    bool blank = v[i] == ' ' || v[i] == '\t' || v[i] == '\n';
    if (!blank && !in) ++words;
    in = !blank;
    if (words > kMaxLeadWords) break;
  }
  return words;
}

// A substitution written as a word between words of a sentence: "Type `ls -la` to list the
// files", "Use $(pwd) in the Makefile". Documentation quotes commands that way (Markdown's code
// spans are backquotes); a payload puts nothing but more shell after its substitution.
// [open, close): the substitution in `s`.
bool quoted_in_prose(std::string_view s, std::size_t open, std::size_t close) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (close > s.size() || open == 0 || !blank(s[open - 1])) return false;
  if (close == s.size() || !blank(s[close])) return false;
  int words = 0;
  std::size_t i = close;
  while (words < 2) {
    while (i < s.size() && blank(s[i])) ++i;
    std::size_t b = i;
    while (i < s.size() && (is_alpha(s[i]) || (s[i] == '\'' && i > b))) ++i;
    if (i - b < 2) return false;
    while (i < s.size() && (s[i] == ',' || s[i] == '.' || s[i] == ':' || s[i] == '!' ||
                            s[i] == '?'))
      ++i;
    if (i < s.size() && !blank(s[i])) return false;
    ++words;
  }
  return true;
}

bool is_separator(std::string_view op) {
  return op == ";" || op == "&" || op == "&&" || op == "||" || op == "|" || op == "|&" ||
         op == ";;" || op == ";&" || op == ";;&";
}

// Where a command word stands.
struct Context {
  bool whole = false;                  // the value is read as the whole command
  bool after_pipe = false;             // the command reads a pipe
  bool first_in_substitution = false;  // the first command of a command substitution
};

// A word as written, quotes removed but backslashes kept (for Windows paths).
struct RawWord {
  char buf[kFieldBytes];
  std::size_t len = 0;
  bool backslash = false;
  explicit RawWord(std::string_view w) {
    if (w.find('\\') == std::string_view::npos) return;
    backslash = true;
    for (char c : w)
      if (c != '"' && c != '\'' && len < kFieldBytes) buf[len++] = c;
  }
  std::string_view text() const { return std::string_view(buf, len); }
};

class Reader {
 public:
  Reader(std::string_view view, Scratch* s) : view_(view), s_(s) {}

  // Reads the view in one position; true with *out filled when a command appears.
  bool read(Reading reading, Finding* out) {
    std::string& text = s_->text;
    text.clear();
    switch (reading) {
      case Reading::kUnquoted: text = "x "; break;
      case Reading::kDouble: text = "x \""; break;
      case Reading::kSingle: text = "x '"; break;
      case Reading::kWhole: break;
    }
    base_ = static_cast<std::uint32_t>(text.size());
    text.append(view_);
    src_ = text;
    sh::tokenize(src_, sh::Dialect::kBash, &s_->tokens);
    reading_ = reading;
    // Where the value first leaves the application's quoting: its closing quote.
    std::size_t quote = reading == Reading::kDouble   ? view_.find('"')
                        : reading == Reading::kSingle ? view_.find('\'')
                                                      : std::string_view::npos;
    first_break_ = static_cast<std::uint32_t>(std::min(quote, view_.size()));
    collect_assignments();
    if (reading == Reading::kWhole) return read_whole(out);
    return read_breakouts(out);
  }

 private:
  const sh::Tokens& tk() const { return s_->tokens; }

  // NAME= anywhere in the value: the value may assign a command and run it as $NAME later,
  // from an argument position too (^CMD=$'id';$CMD).
  void collect_assignments() {
    assigned_.count = 0;
    std::string_view v = view_;
    for (std::size_t eq = v.find('='); eq != std::string_view::npos && eq > 0;
         eq = v.find('=', eq + 1)) {
      std::size_t b = eq;
      while (b > 0 && (is_alnum(v[b - 1]) || v[b - 1] == '_')) --b;
      if (b == eq || is_digit(v[b])) continue;
      assigned_.names[assigned_.count++] = v.substr(b, eq - b);
      if (assigned_.count == assigned_.names.size()) break;
    }
  }

  // The token before `i` in the same command list (same depth and substitution), skipping
  // assignments, reserved words and redirections with their targets. kNoToken at the start of
  // the list.
  std::uint32_t previous(std::uint32_t i) const {
    const auto& toks = tk().tokens;
    const sh::Token& t = toks[i];
    std::uint32_t j = i;
    while (j > 0) {
      --j;
      const sh::Token& u = toks[j];
      if (u.depth > t.depth) continue;
      if (u.depth < t.depth || u.parent != t.parent) return sh::kNoToken;
      if (u.kind == sh::TokenKind::kWord && (u.flags & (sh::kFlagAssignment | sh::kFlagReserved)))
        continue;
      if (u.kind == sh::TokenKind::kRedirection) continue;
      if (u.kind == sh::TokenKind::kWord && j > 0 &&
          toks[j - 1].kind == sh::TokenKind::kRedirection && toks[j - 1].depth == u.depth)
        continue;  // a redirection's target
      return j;
    }
    return sh::kNoToken;
  }

  std::string_view text_of(const sh::Token& t) const {
    return src_.substr(t.begin, t.end - t.begin);
  }

  // How the command word `i` was introduced: true with the operator (or opener) and the offset
  // of the break-out when an operator or a substitution put it in command position.
  bool introduced(std::uint32_t i, std::uint32_t open_part, std::string_view* op,
                  std::uint32_t* brk) const {
    const auto& toks = tk().tokens;
    std::uint32_t j = previous(i);
    if (j == sh::kNoToken) {
      if (toks[i].depth == 0 || open_part == sh::kNoToken) return false;
      const sh::Part& open = tk().parts[open_part];
      *op = src_.substr(open.begin, open.end - open.begin);
      *brk = open.begin;
      return true;
    }
    const sh::Token& u = toks[j];
    if (u.kind == sh::TokenKind::kNewline) {
      *op = "\n";
      *brk = u.begin;
      return true;
    }
    if (u.kind != sh::TokenKind::kOperator) return false;
    std::string_view o = text_of(u);
    if (o == "(") {
      // A subshell only where a command may start.
      std::uint32_t k = previous(j);
      if (k != sh::kNoToken && !(toks[k].kind == sh::TokenKind::kNewline ||
                                 (toks[k].kind == sh::TokenKind::kOperator &&
                                  is_separator(text_of(toks[k])))))
        return false;
      if (k == sh::kNoToken && toks[j].depth == 0) return false;
      if (k != sh::kNoToken) {
        *op = text_of(toks[k]);
        *brk = toks[k].begin;
        return true;
      }
      *op = o;
      *brk = u.begin;
      return true;
    }
    if (!is_separator(o)) return false;
    *op = o;
    *brk = u.begin;
    return true;
  }

  // The words of the simple command starting at command word `i`: whether it is a command line.
  // `after_pipe`: the command reads a pipe. `whole`: the stricter test for a whole value.
  bool command_line(std::uint32_t i, const Context& ctx, std::uint32_t* end) const {
    const auto& toks = tk().tokens;
    const sh::Token& t = toks[i];
    Fields name_fields;
    resolve(src_, tk(), i, assigned_, &name_fields);
    *end = t.end;
    if (name_fields.assigned) return true;  // CMD=...;$CMD
    if (name_fields.size() == 0) return false;
    CommandName name;
    RawWord raw(text_of(t));
    char caret_buf[kCaretBytes];
    if (!command_name(name_fields.field(0), &name) &&
        !(raw.backslash && command_name(raw.text(), &name)) &&
        !(name_fields.field(0).find('^') != std::string_view::npos &&
          command_name(strip_carets(name_fields.field(0), caret_buf), &name)))
      return false;
    std::uint16_t flags = name.path ? std::uint16_t{kAny} : name.cmd->flags;
    if (flags & kSubstOnly) return ctx.first_in_substitution && name.lower;
    // A whole value that starts with a capitalised English word is a sentence ("Type /help").
    if (ctx.whole && !name.lower && !(flags & kAny)) return false;
    int strong = 0, plain = 0, args = 0;
    auto count = [&](std::string_view a) {
      ++args;
      switch (classify_arg(a, name)) {
        case Arg::kStrong: ++strong; return;
        case Arg::kPlain: ++plain; return;
        case Arg::kNeutral: break;
      }
      // A quoted argument holding a sentence ("That's gonna be tough ...") counts its words.
      std::size_t b = 0;
      while (b < a.size()) {
        std::size_t e = a.find(' ', b);
        if (e == std::string_view::npos) e = a.size();
        if (e > b && e - b < a.size() && classify_arg(a.substr(b, e - b), name) == Arg::kPlain)
          ++plain;
        b = e + 1;
      }
    };
    for (std::size_t k = 1; k < name_fields.size(); ++k) count(name_fields.field(k));
    bool followed_by_operator = false;
    bool redirect_next = false;
    for (std::uint32_t j = i + 1; j < toks.size(); ++j) {
      const sh::Token& u = toks[j];
      if (u.depth > t.depth) continue;
      if (u.depth < t.depth || u.parent != t.parent) break;
      if (u.kind == sh::TokenKind::kOperator || u.kind == sh::TokenKind::kNewline) {
        followed_by_operator = u.kind == sh::TokenKind::kNewline || is_separator(text_of(u));
        break;
      }
      if (u.kind == sh::TokenKind::kComment) break;
      *end = u.end;
      if (u.kind == sh::TokenKind::kRedirection) {
        redirect_next = true;
        continue;
      }
      if (u.kind != sh::TokenKind::kWord) continue;
      Fields f;
      resolve(src_, tk(), j, assigned_, &f);
      RawWord arg(text_of(u));
      if (redirect_next) {
        redirect_next = false;
        ++args;
        if (f.size() > 0 && file_target(f.field(0))) ++strong;
        continue;
      }
      if (f.dynamic) {
        ++args;
        ++strong;
        continue;
      }
      // Backslashes in C:\Windows are escapes to sh and separators to cmd.exe: the written form
      // decides whether the word is a Windows path.
      if (arg.backslash && classify_arg(arg.text(), name) == Arg::kStrong) {
        ++args;
        ++strong;
        continue;
      }
      for (std::size_t k = 0; k < f.size(); ++k) count(f.field(k));
      if (args > 64) break;
    }
    if (flags & kAny) return true;
    if (args == 0) {
      if (ctx.whole) return (flags & kBare) && name.lower && followed_by_operator;
      // "| name | id |" is a table row, "|id|" a pipeline: a lone word piped to or from words
      // that are not commands is a cell.
      if (!pipeline_of_commands(i)) return false;
      if ((flags & (kBare | kLoose)) && name.lower) return true;
      if ((flags & kShell) && name.lower) return true;
      return (flags & kInterp) && ctx.after_pipe;
    }
    if ((flags & kLoose) && !ctx.whole) return true;
    // Inside a command substitution a known program with command-like arguments is enough
    // (`cat<<<uname,-a`): prose puts sentences, not programs, between backquotes.
    if (ctx.first_in_substitution && plain == 0) return true;
    return strong > 0 && plain <= 2 * strong + 2;
  }

  // Whether the pipeline stage whose command word is token `k` may be a command: a name from
  // the table, or anything but a plain word (a table cell such as "name").
  bool stage_is_command(std::uint32_t k) const {
    Fields f;
    resolve(src_, tk(), k, assigned_, &f);
    if (f.size() == 0) return true;
    std::string_view w = f.field(0);
    CommandName n;
    if (command_name(w, &n)) return true;
    return !(w.size() >= 2 && std::all_of(w.begin(), w.end(), [](char c) {
      return is_alpha(c) || c == '_' || c == '-';
    }));
  }

  // Whether the stages piped into and out of command word `i` (those the value wrote) are
  // commands too.
  bool pipeline_of_commands(std::uint32_t i) const {
    const auto& toks = tk().tokens;
    const sh::Token& t = toks[i];
    std::uint32_t j = previous(i);
    if (j != sh::kNoToken && toks[j].kind == sh::TokenKind::kOperator &&
        (text_of(toks[j]) == "|" || text_of(toks[j]) == "|&")) {
      for (std::uint32_t k = j; k-- > 0;) {
        const sh::Token& u = toks[k];
        if (u.depth != t.depth || u.parent != t.parent) continue;
        if (u.kind == sh::TokenKind::kOperator || u.kind == sh::TokenKind::kNewline) break;
        if (u.kind == sh::TokenKind::kWord && (u.flags & sh::kFlagCommandName)) {
          if (u.begin >= base_ && !stage_is_command(k)) return false;
          break;
        }
      }
    }
    bool piped = false;
    for (std::uint32_t k = i + 1; k < toks.size(); ++k) {
      const sh::Token& u = toks[k];
      if (u.depth > t.depth || (u.depth == t.depth && u.parent != t.parent)) continue;
      if (u.depth < t.depth) break;
      if (u.kind == sh::TokenKind::kOperator) {
        std::string_view o = text_of(u);
        if (piped || (o != "|" && o != "|&")) break;
        piped = true;
        continue;
      }
      if (u.kind == sh::TokenKind::kNewline) break;
      if (piped && u.kind == sh::TokenKind::kWord && (u.flags & sh::kFlagCommandName))
        return stage_is_command(k);
    }
    return true;
  }

  // Finds the enclosing substitution of every command word and whether it was closed.
  void map_substitutions() {
    auto& stack = s_->stack;
    auto& closed = s_->closed;
    auto& pending = s_->pending;
    stack.clear();
    pending.clear();
    closed.assign(tk().parts.size(), 0);
    const auto& parts = tk().parts;
    const auto& toks = tk().tokens;
    for (std::uint32_t p = 0; p < parts.size(); ++p) {
      const sh::Part& part = parts[p];
      if (part.kind == sh::PartKind::kSubstOpen) {
        stack.push_back(p);
      } else if (part.kind == sh::PartKind::kSubstClose) {
        if (!stack.empty()) {
          closed[stack.back()] = part.end + 1;
          stack.pop_back();
        }
      }
      if (part.token == sh::kNoToken || part.token >= toks.size()) continue;
      const sh::Token& t = toks[part.token];
      if (t.first_part != p || t.kind != sh::TokenKind::kWord ||
          !(t.flags & sh::kFlagCommandName) || t.begin < base_)
        continue;
      pending.emplace_back(part.token, stack.empty() ? sh::kNoToken : stack.back());
    }
  }

  bool read_breakouts(Finding* out) {
    map_substitutions();
    const auto& toks = tk().tokens;
    for (const auto& [i, open] : s_->pending) {
      if (open != sh::kNoToken && !s_->closed[open]) continue;  // `... never closed: prose
      std::string_view op;
      std::uint32_t brk = 0;
      if (!introduced(i, open, &op, &brk)) continue;
      if (brk < base_) continue;
      if (words_before(view_, std::min(brk - base_, first_break_)) > kMaxLeadWords) continue;
      std::uint32_t end = 0;
      Context ctx;
      ctx.after_pipe = op == "|" || op == "|&";
      ctx.first_in_substitution = toks[i].depth > 0 && previous(i) == sh::kNoToken;
      if (ctx.first_in_substitution && open != sh::kNoToken &&
          quoted_in_prose(src_, tk().parts[open].begin, s_->closed[open] - 1))
        continue;
      if (!command_line(i, ctx, &end)) continue;
      out->reading = reading_;
      out->how = toks[i].depth > 0 && previous(i) == sh::kNoToken ? How::kSubstitution
                                                                   : How::kOperator;
      out->op = op;
      out->brk = brk - base_;
      out->begin = toks[i].begin - base_;
      out->end = std::max(end, toks[i].end) - base_;
      return true;
    }
    return read_redirects(out);
  }

  // A redirection the value adds to the application's command, to or from a file.
  bool read_redirects(Finding* out) {
    const auto& toks = tk().tokens;
    for (std::uint32_t j = 0; j + 1 < toks.size(); ++j) {
      const sh::Token& r = toks[j];
      if (r.kind != sh::TokenKind::kRedirection || r.begin < base_ || r.depth != 0) continue;
      std::string_view op = text_of(r);
      if (op.find("<<") != std::string_view::npos) continue;  // here-documents: data
      const sh::Token& target = toks[j + 1];
      if (target.kind != sh::TokenKind::kWord || target.depth != 0) continue;
      Fields f;
      resolve(src_, tk(), j + 1, assigned_, &f);
      if (f.size() == 0) continue;
      std::string_view file = f.field(0);
      bool device = file.substr(0, 9) == "/dev/tcp/" || file.substr(0, 9) == "/dev/udp/";
      bool script = has_file_extension(file) && !iends_with(file, ".txt") &&
                    !iends_with(file, ".log") && !iends_with(file, ".xml");
      bool system = file.size() > 5 && (file.substr(0, 5) == "/etc/" ||
                                        file.substr(0, 6) == "/proc/" ||
                                        file.substr(0, 5) == "/var/" ||
                                        file.substr(0, 5) == "/tmp/" ||
                                        file.substr(0, 6) == "/root/" ||
                                        file.substr(0, 6) == "/home/");
      if (!device && !script && !system) continue;
      if (words_before(view_, std::min(r.begin - base_, first_break_)) > kMaxLeadWords) continue;
      out->reading = reading_;
      out->how = How::kRedirect;
      out->op = op;
      out->brk = r.begin - base_;
      out->begin = target.begin - base_;
      out->end = target.end - base_;
      return true;
    }
    return false;
  }

  // The value as a whole command: every command of its list names a command line.
  bool read_whole(Finding* out) {
    const auto& toks = tk().tokens;
    bool any = false;
    std::uint32_t first_begin = 0, last_end = 0;
    for (std::uint32_t i = 0; i < toks.size(); ++i) {
      const sh::Token& t = toks[i];
      if (t.depth != 0 || t.kind != sh::TokenKind::kWord || !(t.flags & sh::kFlagCommandName))
        continue;
      std::uint32_t j = previous(i);
      bool after_pipe = j != sh::kNoToken && toks[j].kind == sh::TokenKind::kOperator &&
                        (text_of(toks[j]) == "|" || text_of(toks[j]) == "|&");
      std::uint32_t end = 0;
      Context ctx;
      ctx.whole = true;
      ctx.after_pipe = after_pipe;
      if (!command_line(i, ctx, &end)) return false;
      if (!any) first_begin = t.begin;
      any = true;
      last_end = std::max(end, last_end);
    }
    if (!any || tk().unterminated) return false;
    out->reading = Reading::kWhole;
    out->how = How::kWhole;
    out->brk = 0;
    out->begin = first_begin;
    out->end = last_end;
    return true;
  }

  std::string_view view_;
  Scratch* s_;
  std::string_view src_;
  std::uint32_t base_ = 0;
  Reading reading_ = Reading::kUnquoted;
  std::uint32_t first_break_ = 0;  // offset in the view of the closing quote (or its size)
  Assigned assigned_;
};

// ---- the quick scan ----

bool is_shell_meta(char c) {
  return c == ';' || c == '|' || c == '&' || c == '\n' || c == '`' || c == '<' || c == '>';
}

// The first `q` in v, when it reads like a closing quote: not an apostrophe inside a word
// (don't, O'Brien) and not an opening quotation mark before a word (said "hi"). A quote glued to
// punctuation before a word (cmd="id) closes the application's string too.
bool closing_quote(std::string_view v, char q) {
  std::size_t i = v.find(q);
  if (i == std::string_view::npos) return false;
  char after = i + 1 < v.size() ? v[i + 1] : ' ';
  char before = i > 0 ? v[i - 1] : ' ';
  auto word_char = [](char c) { return is_alnum(c) || static_cast<unsigned char>(c) >= 0x80; };
  if (!word_char(after)) return true;
  return !word_char(before) && !common::is_space(before);
}

// Bytes the leading-word scan looks at.
enum : std::uint8_t { kLeadStop = 1, kLeadOther = 2 };
constexpr std::array<std::uint8_t, 256> make_lead_class() {
  std::array<std::uint8_t, 256> t{};
  for (unsigned char c : std::string_view(" \t\n\v\f\r;|&`<>($")) t[c] = kLeadStop;
  for (unsigned char c : std::string_view("='\"\\/")) t[c] = kLeadOther;
  return t;
}
constexpr std::array<std::uint8_t, 256> kLeadClass = make_lead_class();

// The leading word of the value could name a command (quotes and escapes removed), or the value
// starts with an assignment that a later command may run.
bool leading_command(std::string_view v) {
  std::size_t b = 0;
  while (b < v.size() && (v[b] == ' ' || v[b] == '\t' || v[b] == '\n')) ++b;
  if (b == v.size()) return false;
  char first = v[b];
  if (!(is_alpha(first) || first == '/' || first == '.' || first == '\\' || first == '\'' ||
        first == '"' || first == '~' || first == '{' || first == '^'))
    return false;
  std::size_t e = b;
  bool quotes = false, backslash = false, slash = false;
  for (; e < v.size() && e - b < kFieldBytes; ++e) {
    std::uint8_t cls = kLeadClass[static_cast<unsigned char>(v[e])];
    if (cls == 0) continue;
    char ch = v[e];
    // An expansion inside the first word (who$@ami, wh``oami): only the tokenizer can say.
    if ((ch == '$' || ch == '`') && e > b) return true;
    if (cls & kLeadStop) break;
    if (ch == '=') {
      // NAME=...; a later command may run $NAME.
      std::string_view name = v.substr(b, e - b);
      bool ok = !name.empty() && (is_alpha(name[0]) || name[0] == '_') &&
                std::all_of(name.begin(), name.end(), [](char x) { return is_alnum(x) || x == '_'; });
      return ok && common::find_any(v, ";|&\n", e) != std::string_view::npos;
    }
    quotes |= ch == '\'' || ch == '"';
    backslash |= ch == '\\';
    slash |= ch == '/';
  }
  std::string_view w = v.substr(b, e - b);
  if (first == '{') {  // {cat,/etc/passwd}
    std::size_t comma = w.find(',');
    if (comma == std::string_view::npos) return false;
    w = w.substr(1, comma - 1);
    CommandName brace;
    return command_name(w, &brace);
  }
  CommandName name;
  if (w.find('^') != std::string_view::npos) {
    char caret_buf[kCaretBytes];
    return command_name(strip_carets(w, caret_buf), &name);
  }
  if (!quotes && !backslash && !slash) return find_command(strip_exe(w)) != nullptr;
  if (!quotes && command_name(w, &name)) return true;
  if (!quotes && !backslash) return false;
  // Quote removal, and escape removal too (w\hoami; a Windows path keeps its backslashes).
  char word[kFieldBytes];
  std::size_t n = 0;
  for (char ch : w)
    if (ch != '\'' && ch != '"') word[n++] = ch;
  if (quotes && command_name(std::string_view(word, n), &name)) return true;
  if (!backslash) return false;
  std::size_t m = 0;
  for (std::size_t k = 0; k < n; ++k)
    if (word[k] != '\\') word[m++] = word[k];
  return command_name(std::string_view(word, m), &name);
}

// Bytes that make a word's text differ from what the shell sees (quotes, escapes, expansions,
// globs, paths): only the tokenizer can tell what such a word names.
bool rewritten(char c) {
  return c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`' || c == '{' || c == '/' ||
         c == '~' || c == '*' || c == '?' || c == '[';
}

// Whether a command may start at v[i]: after blanks (and further operators), a table name, a
// path, or a word the shell rewrites.
bool command_may_start(std::string_view v, std::size_t i) {
  while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r' ||
                          v[i] == ';' || v[i] == '&' || v[i] == '|' || v[i] == '(' || v[i] == '!'))
    ++i;
  if (i >= v.size()) return false;
  if (rewritten(v[i]) || v[i] == '.') return true;
  if (!is_alpha(v[i])) return false;
  std::size_t e = i;
  while (e < v.size() && (is_alnum(v[e]) || v[e] == '_' || v[e] == '-' || v[e] == '.')) ++e;
  if (e < v.size()) {
    if (rewritten(v[e]) || (v[e] == '^' && e + 1 < v.size() && is_alpha(v[e + 1]))) return true;
    // C:\Windows\System32\cmd.exe, C:/tools/nc.exe: a path from a drive letter.
    if (e == i + 1 && v[e] == ':' && e + 1 < v.size() && (v[e + 1] == '\\' || v[e + 1] == '/'))
      return true;
    // NAME=$'...' or NAME="...": an assignment a later $NAME may run.
    if (v[e] == '=' && e + 1 < v.size() && (v[e + 1] == '$' || v[e + 1] == '\'' || v[e + 1] == '"'))
      return true;
  }
  return find_command(strip_exe(v.substr(i, e - i))) != nullptr;
}

// Whether a redirection at v[i] could name a file the redirection rule accepts: an absolute path
// or a file with an extension.
bool file_may_follow(std::string_view v, std::size_t i) {
  while (i < v.size() && (v[i] == '<' || v[i] == '>' || v[i] == '&' || v[i] == '|' || v[i] == ' '))
    ++i;
  if (i < v.size() && (v[i] == '/' || v[i] == '~' || v[i] == '"' || v[i] == '\'' || v[i] == '$'))
    return true;
  std::size_t e = i;
  while (e < v.size() && e < i + 256 && !common::is_space(v[e]) && !is_shell_meta(v[e])) ++e;
  return has_file_extension(v.substr(i, e - i));
}

// Whether the value could add a command in an argument position: a control operator before a
// possible command, a command substitution, or a redirection to a file. A byte scan, no
// allocation: most values with '&' or ';' (prose, URLs, user agents) stop here.
constexpr std::array<bool, 256> make_chain_bytes() {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view(";&|\n\r`(<>")) t[c] = true;
  return t;
}
constexpr std::array<bool, 256> kChainByte = make_chain_bytes();

bool chain_possible(std::string_view v) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(v.data());
  std::size_t n = v.size();
  bool backtick = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!kChainByte[p[i]]) continue;
    switch (v[i]) {
      case '`':
        if (backtick) return true;  // a closed pair
        backtick = true;
        break;
      case '(':
        if (i > 0 && (v[i - 1] == '$' || v[i - 1] == '<' || v[i - 1] == '>')) return true;
        break;
      case '<':
      case '>':
        if (file_may_follow(v, i)) return true;
        break;
      default:  // ; & | newline
        if (command_may_start(v, i + 1)) return true;
        break;
    }
  }
  return false;
}

// Literal "\n" escapes at the start of a value are newlines to a program that interprets C
// escapes (echo -e, printf, a JSON or YAML layer); terminal control sequences (\033[2A) vanish.
bool c_escape_start(std::string_view v) {
  std::size_t lead = 0;
  while (lead < v.size() && (v[lead] == '\'' || v[lead] == '"' || v[lead] == ' ')) ++lead;
  return v.substr(lead, 2) == "\\n" || v.substr(lead, 2) == "\\r";
}

bool c_escape_view(std::string_view v, std::string* out) {
  if (!c_escape_start(v)) return false;
  out->clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      char n = v[i + 1];
      if (n == 'n' || n == 'r') {
        out->push_back('\n');
        ++i;
        continue;
      }
      std::size_t esc = 0;
      if (v.substr(i, 4) == "\\033") esc = 4;
      else if (v.substr(i, 4) == "\\x1b") esc = 4;
      else if (v.substr(i, 2) == "\\e") esc = 2;
      if (esc != 0) {
        std::size_t j = i + esc;
        if (j < v.size() && v[j] == '[') {
          ++j;
          while (j < v.size() && (is_digit(v[j]) || v[j] == ';')) ++j;
          if (j < v.size() && v[j] >= 'A' && v[j] <= 'Z') ++j;
        }
        i = j - 1;
        continue;
      }
    }
    out->push_back(v[i]);
  }
  return true;
}

// ---- other interpreters ----

// "() {" : a bash function definition in a variable (Shellshock, CVE-2014-6271).
bool shellshock(std::string_view v) {
  v = common::trim(v);
  if (v.substr(0, 2) != "()") return false;
  std::size_t i = 2;
  while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
  return i < v.size() && v[i] == '{';
}

constexpr std::string_view kExecCalls[] = {
    "system", "exec", "shell_exec", "passthru", "popen", "proc_open", "pcntl_exec", "eval",
    "assert", "execsync", "spawn", "spawnsync", "execfile"};

struct CodeCall {
  std::string_view function;
  std::string_view argument;
  std::size_t begin = 0;
};

// A call of a code-execution function whose argument is a shell command (system('id'),
// exec("cat /etc/passwd")) or request data ($_GET[...]); phpinfo(); PHP's {${f()}} and ${@f()}.
bool code_call(std::string_view v, CodeCall* out) {
  for (std::size_t p = v.find('('); p != std::string_view::npos; p = v.find('(', p + 1)) {
    std::size_t b = p;
    while (b > 0 && (is_alnum(v[b - 1]) || v[b - 1] == '_')) --b;
    if (b == p || p - b > 16) continue;
    std::string_view fn = v.substr(b, p - b);
    bool dollar_brace = b >= 2 && v[b - 1] == '@' && v[b - 2] == '{' ? b >= 3 && v[b - 3] == '$'
                        : b >= 3 && v.substr(b - 3, 3) == "{${";
    if (dollar_brace) {
      out->function = fn;
      out->argument = {};
      out->begin = b;
      return true;
    }
    if (common::iequals(fn, "phpinfo")) {
      std::size_t q = p + 1;
      while (q < v.size() && v[q] == ' ') ++q;
      if (q < v.size() && v[q] == ')') {
        out->function = fn;
        out->argument = {};
        out->begin = b;
        return true;
      }
      continue;
    }
    bool known = false;
    for (std::string_view f : kExecCalls)
      if (common::iequals(fn, f)) known = true;
    if (!known) continue;
    std::size_t q = p + 1;
    while (q < v.size() && v[q] == ' ') ++q;
    if (q >= v.size()) continue;
    if (v.substr(q, 2) == "$_") {
      out->function = fn;
      out->argument = v.substr(q, std::min<std::size_t>(v.size() - q, 40));
      out->begin = b;
      return true;
    }
    char quote = v[q];
    if (quote != '\'' && quote != '"' && quote != '`') continue;
    std::size_t close = v.find(quote, q + 1);
    std::string_view arg = v.substr(q + 1, (close == std::string_view::npos ? v.size() : close) -
                                               (q + 1));
    std::size_t w = 0;
    while (w < arg.size() && arg[w] != ' ' && arg[w] != ';' && arg[w] != '|' && arg[w] != '&')
      ++w;
    CommandName n;
    if (!command_name(arg.substr(0, w), &n)) continue;
    out->function = fn;
    out->argument = arg;
    out->begin = b;
    return true;
  }
  return false;
}

// ---- reasons ----

std::string quoted_span(std::string_view s) {
  std::string out = "`";
  out += common::truncate_utf8(s, 60);
  out += '`';
  return out;
}

std::string operator_words(std::string_view op) {
  if (op == "\n") return "a newline";
  std::string out = "'";
  out += op;
  out += "'";
  return out;
}

std::string describe(const Finding& f, std::string_view view) {
  std::string cmd = quoted_span(view.substr(f.begin, f.end - f.begin));
  std::string lead;
  switch (f.reading) {
    case Reading::kDouble: lead = "closes a double-quoted shell argument and, "; break;
    case Reading::kSingle: lead = "closes a single-quoted shell argument and, "; break;
    default: break;
  }
  switch (f.how) {
    case How::kOperator:
      if (lead.empty()) return "ends a shell argument with " + operator_words(f.op) +
                               " and runs the command " + cmd;
      return lead + "after " + operator_words(f.op) + " runs the command " + cmd;
    case How::kSubstitution: {
      std::string kind = f.op == "`" ? "a backquoted command substitution"
                         : (f.op == "<(" || f.op == ">(") ? "a process substitution"
                                                          : "a $(...) command substitution";
      return lead + "runs the command " + cmd + " in " + kind +
             ", which the shell executes while building the argument";
    }
    case How::kRedirect:
      return lead + "adds the redirection " + operator_words(f.op) + " so that the command " +
             (f.op.find('<') != std::string_view::npos ? "reads from " : "writes to ") +
             "the file " + cmd;
    case How::kWhole:
      return "is a shell command line, " + cmd + ", that runs where the application executes "
             "the value";
  }
  return {};
}

bool convict_reading(std::string_view view, bool chain, bool whole, Hit* hit) {
  Scratch& s = scratch();
  Reader reader(view, &s);
  Finding f;
  bool found = (chain && reader.read(Reading::kUnquoted, &f)) ||
               (chain &&
                (closing_quote(view, '"') ||
                 (view.find('\'') != std::string_view::npos &&
                  (view.find("$(") != std::string_view::npos ||
                   view.find('`') != std::string_view::npos))) &&
                reader.read(Reading::kDouble, &f)) ||
               (chain && closing_quote(view, '\'') && reader.read(Reading::kSingle, &f)) ||
               (whole && reader.read(Reading::kWhole, &f));
  if (!found) return false;
  hit->reason = describe(f, view);
  hit->evidence = evidence(view.substr(f.brk, f.end - f.brk));
  return true;
}

bool detect_value(std::string_view v, std::uint32_t features, Hit* hit);

// "<cat /etc/passwd", "<id": a value that is '<' and a command line, as command-injection lists
// write probes for applications that hand the value to a command interpreter after a
// redirection. The command line is judged as a whole value; a lone table command the value ends
// with (trailing blanks and line breaks aside) counts when it runs usefully alone (id, ls, pwd).
bool input_redirect_probe(std::string_view v, Hit* hit) {
  std::size_t b = 0;
  while (b < v.size() && (v[b] == ' ' || v[b] == '\t')) ++b;
  if (b + 2 >= v.size() || v[b] != '<' || !is_alpha(v[b + 1])) return false;
  std::string_view rest = v.substr(b + 1);
  while (!rest.empty() && static_cast<unsigned char>(rest.back()) <= 0x20) rest.remove_suffix(1);
  if (rest.empty() || rest.back() == '>') return false;  // "<command args>": a placeholder
  // Only the first word matters for the quick test: a table command written in lower case.
  std::size_t e = 0;
  while (e < rest.size() && (is_alnum(rest[e]) || rest[e] == '_')) ++e;
  const Command* cmd = find_command(rest.substr(0, e));
  if (cmd == nullptr || has_upper(rest.substr(0, e))) return false;
  if (e == rest.size() && (cmd->flags & (kBare | kAny))) {
    hit->reason = "is '<' and the command " + quoted_span(rest) +
                  ", a command-injection probe for values handed to a command interpreter";
    hit->evidence = evidence(v.substr(b));
    return true;
  }
  if (e == rest.size() || (rest[e] != ' ' && rest[e] != '\t')) return false;
  Hit inner;
  if (!detect_value(rest, features_of(rest), &inner)) return false;
  hit->reason = "is '<' followed by a command line: the rest " + inner.reason;
  hit->evidence = evidence(v.substr(b));
  return true;
}

// "|", "|| ", "85|", "entrar|": a value that ends with a pipe or an and/or list operator with
// no command after it. Appended to a command line it leaves the shell waiting for a command it
// never gets (a syntax error an attacker reads as proof that the value reaches a shell), and
// Perl's two-argument open() runs a value ending in '|' as a command. Only short values count
// (the operator alone or after a value of a few words, glued to it); anything with other shell
// syntax is left to the readings.
bool dangling_operator(std::string_view v, Hit* hit) {
  std::size_t b = 0, e = v.size();
  while (b < e && static_cast<unsigned char>(v[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(v[e - 1]) <= 0x20) --e;
  const std::string_view t = v.substr(b, e - b);
  std::string_view op;
  if (t.ends_with("||") || t.ends_with("&&")) op = t.substr(t.size() - 2);
  else if (t.ends_with("|")) op = t.substr(t.size() - 1);
  else return false;
  const std::string_view body = t.substr(0, t.size() - op.size());
  if (body.size() > 80 || common::find_any(body, "|&;`$<>(){}\n\r") != std::string_view::npos)
    return false;
  if (!body.empty()) {
    const unsigned char last = static_cast<unsigned char>(body.back());
    if (!(is_alnum(static_cast<char>(last)) || last >= 0x80)) return false;
    if (std::count(body.begin(), body.end(), ' ') > 3) return false;
  }
  hit->reason = body.empty()
                    ? "is only the shell operator " + operator_words(op) +
                          ": in a command line it leaves the shell waiting for a command, a "
                          "probe for command injection"
                    : "ends with the shell operator " + operator_words(op) +
                          " and no command after it: in a command line a syntax error that "
                          "shows the value reaches a shell" +
                          (op == "|" ? std::string(", and Perl's open() runs such a value") : "");
  hit->evidence = evidence(t);
  return true;
}

// The readings of one value with character features `features` (features_of(v)).
bool detect_value(std::string_view v, std::uint32_t features, Hit* hit) {
  if (v.size() > (1u << 30)) return false;
  if (v.size() < 2) return v == "|" && dangling_operator(v, hit);

  if ((features & kParen) && shellshock(v)) {
    hit->reason = "a Shellshock function definition \"() {\" (CVE-2014-6271): bash runs the "
                  "commands after it when it imports the value from the environment";
    hit->evidence = evidence(common::trim(v));
    return true;
  }
  if (features & kParen) {
    CodeCall call;
    if (code_call(v, &call)) {
      if (call.argument.empty()) {
        hit->reason = "calls " + std::string(call.function) +
                      "() through code evaluation, a probe for remote code execution";
      } else {
        hit->reason = "calls " + std::string(call.function) + "(), which runs " +
                      quoted_span(call.argument) + " as a command or code";
      }
      hit->evidence = evidence(v.substr(call.begin));
      return true;
    }
  }

  if ((features & kLt) && input_redirect_probe(v, hit)) return true;
  if ((features & (kPipe | kAmp)) && dangling_operator(v, hit)) return true;

  // Which readings are possible at all.
  constexpr std::uint32_t kChain = kSemicolon | kAmp | kPipe | kCrLf | kBacktick | kParen | kLt | kGt;
  bool chain = (features & kChain) && chain_possible(v);
  bool whole = leading_command(v);
  bool escapes = (features & kBackslash) && c_escape_start(v);
  if (!chain && !whole && !escapes) return false;

  Scratch& s = scratch();
  // Carriage returns end lines for some shells and for the attacker's intent; the tokenizer
  // (like mvdan/sh) reads them as blanks, so the view turns them into newlines.
  std::string_view view = v;
  if ((features & kCrLf) && v.find('\r') != std::string_view::npos) {
    s.view.assign(v);
    std::replace(s.view.begin(), s.view.end(), '\r', '\n');
    view = s.view;
  }
  if ((chain || whole) && convict_reading(view, chain, whole, hit)) return true;
  if (escapes) {
    std::string decoded;
    if (c_escape_view(v, &decoded))
      return convict_reading(decoded, chain_possible(decoded), leading_command(decoded), hit);
  }
  return false;
}


// A URL's query parameters are values too (a Referer carries the query of the page the request
// came from): each one is read on its own, split on the URL as written and then decoded (once,
// and again when it was encoded twice). A decoded URL cannot be split: its parameters' own '&'
// and '#' would cut them.
bool query_parameter_command(std::string_view v, Hit* hit) {
  if (!common::istarts_with(v, "http://") && !common::istarts_with(v, "https://")) return false;
  std::size_t q = v.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view query = v.substr(q + 1);
  query = query.substr(0, query.find('#'));
  Scratch& s = scratch();
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view value = pair.substr(eq + 1);
    if (decode::url_decode(value, true, &s.param)) value = s.param;
    bool found = detect_value(value, features_of(value), hit);
    if (!found && common::find_any(value, "%+") != std::string_view::npos &&
        decode::url_decode(value, true, &s.param2))
      found = detect_value(s.param2, features_of(s.param2), hit);
    if (!found) continue;
    hit->reason = "its query parameter " + quoted_span(pair.substr(0, eq)) + " " + hit->reason;
    return true;
  }
  return false;
}

}  // namespace

bool detect_cmdi(const Candidate& c, Hit* hit) {
  if (detect_value(c.value, c.features, hit)) return true;
  return c.form == Form::kRaw && query_parameter_command(c.value, hit);
}

// A plain word reaches no reading in detect_value but the whole-value one, which needs
// leading_command(); for such a word that is find_command() of the word (no blank or operator
// ends it early, no quote, slash or backslash, and strip_exe() needs a dot). The URL reading of
// query_parameter_command() needs "http://".
bool cmdi_may_fire_on_word(std::string_view word) noexcept {
  return find_command(word) != nullptr;
}

}  // namespace vigil::detect::input
