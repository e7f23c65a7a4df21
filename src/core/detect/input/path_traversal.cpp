// Path traversal and local file inclusion attempts.
//
// The value is read the way a file API behind a sloppy decoder would read it: every layer of
// percent-encoding (%2e, %252e, %%32%65, %u002e), overlong UTF-8 (%c0%ae, %e0%80%af ...),
// look-alike dots and slashes (U+FF0E, U+2215 ...) and hex literals (0x2e) are resolved, both
// '/' and '\\' separate, and bytes that cannot be characters (U+FFFD, invalid escapes, control
// bytes, NUL) are "junk" that a payload uses as a separator or filler. The decoded text is then
// split into path words, each word into segments, and walked:
//
//  - ".." segments (also "....", "..;" and dots with junk between them) that climb above where
//    the word starts: two levels anywhere a path is plausible, one level when the whole value is
//    a path, and in running prose only three levels or a climb that reaches a sensitive file;
//  - an absolute path (a root, a drive letter, or a lead of junk and dots) that names a
//    sensitive file or system directory (/etc/..., /proc/self/environ, C:\windows\win.ini,
//    /var/log/apache2/access.log, WEB-INF/web.xml, .htaccess, id_rsa ...) when the value is that
//    path;
//  - PHP stream wrappers that read local files (php://filter, phar://, zip://, expect://,
//    data://) and file:// URLs;
//  - the same, base64-encoded ("Li4vLi4v..." is "../../").
//
// Prose that mentions a path ("look at /etc/fstab", "-include ../../x.h") stays clean: a
// sentence is not a path. Linear: the value is decoded in fixed windows (no allocation), each
// byte is looked at a bounded number of times.
#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>

#include "core/common/ascii.hpp"
#include "core/decode/decode.hpp"
#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

using common::to_lower;

// Decoding works on windows of the value: a window of kWindow raw bytes every kStride bytes,
// so any pattern written in up to kWindow - kStride raw bytes lies wholly inside one window.
constexpr std::size_t kWindow = 4096;
constexpr std::size_t kStride = 2048;
constexpr int kMaxPasses = 6;
constexpr char kJunk = '\x01';  // a byte that stands for no character (U+FFFD, invalid escape)

// What the decoder had to undo (for the reason).
enum Decoding : unsigned {
  kDecPercent = 1u << 0,    // %2e
  kDecMulti = 1u << 1,      // a second layer (%252e, %%32%65)
  kDecOverlong = 1u << 2,   // overlong UTF-8
  kDecUnicode = 1u << 3,    // %u escapes or look-alike characters
  kDecHex = 1u << 4,        // 0x2e
  kDecBase64 = 1u << 5,     // the value was base64
};

bool is_sep(char c) { return c == '/' || c == '\\'; }
// Junk: bytes that stand for no character of a path. '?' (a character lost on the way) and a
// '%' that starts no escape only fill; the others also separate.
bool is_filler(char c) { return c == '?' || c == '%'; }
bool is_junk(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7F || is_filler(c);
}

// Appends the UTF-8 form of `cp` (or a look-alike ASCII character, or junk) at out[*w].
// Returns the decodings involved. At most 3 bytes are written for a BMP code point.
unsigned put_code_point(std::uint32_t cp, char* out, std::size_t* w) {
  switch (cp) {
    case 0x2024: case 0xFE52: case 0xFF0E:
      out[(*w)++] = '.';
      return kDecUnicode;
    case 0x2215: case 0x2044: case 0xFF0F: case 0x29F8:
      out[(*w)++] = '/';
      return kDecUnicode;
    case 0x2216: case 0xFF3C: case 0xFE68: case 0x29F9:
      out[(*w)++] = '\\';
      return kDecUnicode;
    default:
      break;
  }
  if (cp < 0x80) {
    out[(*w)++] = static_cast<char>(cp);
    return 0;
  }
  if (cp == 0xFFFD || (cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xD800 && cp <= 0xDFFF)) {
    out[(*w)++] = kJunk;  // replacement character, private use, lone surrogate
    return kDecUnicode;
  }
  if (cp < 0x800) {
    out[(*w)++] = static_cast<char>(0xC0 | (cp >> 6));
    out[(*w)++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out[(*w)++] = static_cast<char>(0xE0 | (cp >> 12));
    out[(*w)++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[(*w)++] = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return 0;
}

// One pass of escape decoding, in place (the output never outgrows what was read).
// Returns true when something changed.
bool percent_pass(char* b, std::size_t* n, unsigned* notes) {
  std::size_t r = 0, w = 0, size = *n;
  bool changed = false;
  auto hex = [&](std::size_t i) { return i < size && common::is_xdigit(b[i]); };
  while (r < size) {
    char ch = b[r];
    if (ch == '%') {
      if (r + 5 < size && (b[r + 1] == 'u' || b[r + 1] == 'U') && hex(r + 2) && hex(r + 3) &&
          hex(r + 4) && hex(r + 5)) {
        std::uint32_t cp = 0;
        for (int k = 2; k < 6; ++k) cp = cp * 16 + common::hex_value(b[r + k]);
        *notes |= kDecUnicode | put_code_point(cp, b, &w);
        r += 6;
        changed = true;
        continue;
      }
      if (hex(r + 1) && hex(r + 2)) {
        b[w++] = static_cast<char>(common::hex_value(b[r + 1]) * 16 + common::hex_value(b[r + 2]));
        *notes |= (*notes & kDecPercent) ? kDecMulti : kDecPercent;
        r += 3;
        changed = true;
        continue;
      }
      // "%2%e": each hex digit of an escape encoded on its own ("%%32%%65" after one layer).
      if (hex(r + 1) && r + 3 < size && b[r + 2] == '%' && hex(r + 3)) {
        b[w++] = static_cast<char>(common::hex_value(b[r + 1]) * 16 + common::hex_value(b[r + 3]));
        *notes |= kDecMulti;
        r += 4;
        changed = true;
        continue;
      }
      // An escape that is no escape ("%c0%9v", "%pc", "%qf"): the bytes stand for nothing.
      if (r + 2 < size && common::is_alnum(b[r + 1]) && common::is_alnum(b[r + 2])) {
        b[w++] = kJunk;
        r += 3;
        changed = true;
        continue;
      }
    } else if (ch == '0' && r + 3 < size && (b[r + 1] == 'x' || b[r + 1] == 'X')) {
      char h = b[r + 2], l = to_lower(b[r + 3]);
      char out = (h == '2' && l == 'e') ? '.' : (h == '2' && l == 'f') ? '/'
               : (h == '5' && l == 'c') ? '\\' : 0;
      if (out != 0) {
        b[w++] = out;
        *notes |= kDecHex;
        r += 4;
        changed = true;
        continue;
      }
    } else if ((ch == '2' || ch == '5') && w >= 2 && b[w - 1] == '.' && b[w - 2] == '.' &&
               r + 1 < size) {
      // "..2f" / "..5c": an escape whose '%' a filter removed, right after a "..".
      char l = to_lower(b[r + 1]);
      if ((ch == '2' && l == 'f') || (ch == '5' && l == 'c')) {
        b[w++] = ch == '2' ? '/' : '\\';
        *notes |= kDecPercent;
        r += 2;
        changed = true;
        continue;
      }
    }
    if (ch == '+') {  // a space in form encoding: prose stays prose
      b[w++] = ' ';
      ++r;
      changed = true;
      continue;
    }
    b[w++] = ch;
    ++r;
  }
  *n = w;
  return changed;
}

// One pass over the bytes >= 0x80, in place: overlong forms of ASCII become the character they
// spell (when it matters to a path) or junk, look-alikes become ASCII, invalid bytes junk.
bool utf8_pass(char* b, std::size_t* n, unsigned* notes) {
  std::size_t r = 0, w = 0, size = *n;
  bool changed = false;
  auto cont = [&](std::size_t i) {
    return i < size && (static_cast<unsigned char>(b[i]) & 0xC0) == 0x80;
  };
  while (r < size) {
    unsigned char u = static_cast<unsigned char>(b[r]);
    if (u < 0x80) {
      b[w++] = b[r++];
      continue;
    }
    // Lead bytes and the number of continuation bytes they announce.
    int len = u >= 0xFC ? 5 : u >= 0xF8 ? 4 : u >= 0xF0 ? 3 : u >= 0xE0 ? 2 : u >= 0xC0 ? 1 : -1;
    if (len < 0) {  // a stray continuation byte
      b[w++] = kJunk;
      ++r;
      changed = true;
      continue;
    }
    if (u == 0xC0 || u == 0xC1) {
      // Two-byte overlong ASCII. Payloads also pair C0 with a non-continuation byte ("%c0%2e"),
      // which lenient decoders read the same way.
      if (r + 1 < size) {
        char ascii = static_cast<char>(((u & 0x1F) << 6 | (static_cast<unsigned char>(b[r + 1]) & 0x3F)) & 0x7F);
        b[w++] = (ascii == '.' || ascii == '/' || ascii == '\\') ? ascii : kJunk;
        r += 2;
      } else {
        b[w++] = kJunk;
        ++r;
      }
      *notes |= kDecOverlong;
      changed = true;
      continue;
    }
    bool complete = true;
    for (int k = 1; k <= len; ++k) complete = complete && cont(r + k);
    if (!complete) {
      b[w++] = kJunk;
      ++r;
      changed = true;
      continue;
    }
    std::uint32_t cp = u & (0x3F >> len);
    for (int k = 1; k <= len; ++k) cp = cp << 6 | (static_cast<unsigned char>(b[r + k]) & 0x3F);
    bool overlong = (len == 2 && cp < 0x800) || (len == 3 && cp < 0x10000) || len >= 4;
    if (overlong) {
      char ascii = static_cast<char>(cp & 0x7F);
      b[w++] = (cp < 0x80 && (ascii == '.' || ascii == '/' || ascii == '\\')) ? ascii : kJunk;
      *notes |= kDecOverlong;
      r += len + 1;
      changed = true;
      continue;
    }
    if (cp > 0xFFFF) {  // astral characters are ordinary text
      for (int k = 0; k <= len; ++k) b[w++] = b[r + k];
      r += len + 1;
      continue;
    }
    std::size_t before = w;
    unsigned note = put_code_point(cp, b, &w);
    if (note != 0 || w - before != static_cast<std::size_t>(len + 1)) changed = true;
    *notes |= note;
    r += len + 1;
  }
  *n = w;
  return changed;
}

// Decodes b[0, *n) in place until nothing changes. `features`: the value's (Feature bits).
void decode(char* b, std::size_t* n, unsigned* notes, std::uint32_t features) {
  // Most values hold nothing to decode: skip the passes that cannot change them.
  std::string_view v(b, *n);
  bool percent = (features & (kPercent | kPlus)) || v.find("0x") != std::string_view::npos ||
                 v.find("0X") != std::string_view::npos || v.find("..") != std::string_view::npos;
  bool high = (features & kHigh) != 0;
  for (int pass = 0; pass < kMaxPasses && (percent || high); ++pass) {
    bool changed = percent && percent_pass(b, n, notes);
    changed = utf8_pass(b, n, notes) || changed;
    if (!changed) break;
    percent = high = true;
  }
}

// ---------------------------------------------------------------------------------------------
// What path names mean.

enum NameWeight : std::uint8_t { kPlain = 0, kWeak = 1, kStrong = 2 };

bool name_is(std::string_view name, std::string_view word) { return common::iequals(name, word); }

// Files whose name alone says what the reader is after.
constexpr std::string_view kSensitiveFiles[] = {
    "passwd", "shadow", "master.passwd", "gshadow", "boot.ini", "win.ini", "system.ini",
    "php.ini", "httpd.conf", "apache2.conf", "nginx.conf", "my.cnf", "my.ini", "access_log",
    "error_log", "access.log", "error.log", ".htaccess", ".htpasswd", ".passwd", ".bash_history",
    ".bashrc", ".bash_profile", ".cshrc", ".ksh_history", ".sh_history", ".zsh_history", ".netrc",
    ".xauthority", ".shosts", ".rhosts", ".pgpass", ".my.cnf", "id_rsa", "id_dsa", "id_ecdsa",
    "id_ed25519", "authorized_keys", "known_hosts", "environ", "web.xml", "web-inf", "meta-inf",
    "web.config", "global.asa", "winnt", "system32", "inetpub", "wwwroot", "xampp", "lampp",
    "wamp", "appserv", "ntuser.dat", "ntuser.ini", "sysprep.inf", "sysprep.xml", "unattend.xml",
    "unattended.xml", "unattend.txt", "applicationhost.config", "metabase.xml", "phpinfo.php",
    "wp-config.php", "configuration.php", "localsettings.php", "config.inc.php", "sudoers",
    "crontab", "fstab", "tomcat-users.xml", "server.xml", "context.xml", "htpasswd", "htaccess",
    "php5.ini", "php4.ini", "apache.conf", "proftpd.conf", "vsftpd.conf", "sshd_config",
    "ssh_config", "nsswitch.conf", "hosts.allow", "hosts.deny", "hosts.equiv", "resolv.conf",
    "lastlog", "wtmp", "utmp", "btmp", "xferlog", "mysql.log", "mysql.err", "auth.log", "syslog",
    "messages", "secure", "maillog", "dmesg", "boot.log", "cmdline", "cpuinfo", "meminfo",
    ".env", ".git", ".svn", "docker-compose.yml", "database.yml", "settings.py",
    "program files", "program files (x86)", "programfiles", "documents and settings", "sam",
    "repair", "regback", "panther", "system volume information", "minint", "unattended.txt",
    "config.php", "config.inc", "_config.php", "config.asp", "config.aspx", "config.js",
    "config.json", "config.yml", "config.yaml", "database.php", "database.js", "db.php",
    "dbase.php", "mysql.php", "settings.php", "install.php", "data.php", ".pass", "pass.dat",
    "credentials", "credentials.xml", "secrets.yml", "parameters.yml", "wp-config.bak"};

// Names that point at system or server configuration when two of them meet.
constexpr std::string_view kSystemNames[] = {
    "etc", "var", "usr", "opt", "root", "home", "log", "logs", "conf", "config", "apache",
    "apache2", "apache22", "httpd", "nginx", "lighttpd", "mysql", "php", "php4", "php5", "php7",
    "www", "htdocs", "adm", "spool", "mail", "cron", "local", "lib", "private", "volumes",
    "windows", "proc", "sys", "dev", "boot", "srv", "tomcat", "tmp", "sbin", "bin", "users",
    "administrator", "apache group", "apachegroup", "apache software foundation", "filezilla",
    "mercurymail", "phpmyadmin", "ssh", ".ssh", "security", "default", "sites-available",
    "sites-enabled", "conf.d", "mysql server 5.0", "mysql server 5.1", "cpanel", "webalizer",
    "proftpd", "vsftpd", "exim", "postfix", "qmail", "sendmail", "self", "fd", "run",
    "sessions", "pureftpd", "pure-ftpd", "webserver", "library", "inc", "include", "includes",
    "documents", "desktop"};

// System names (above) of the trees where programs and people keep their own files: the paths a
// program sends about itself (a log record's source file "/usr/lib/python3.11/...", a stack
// trace, an upload field's "C:\\Users\\alice\\Documents\\cv.docx"). Two of them alone do not make an
// absolute path sensitive; one beside a configuration, log or system name does ("/var/log",
// "/usr/local/etc").
constexpr std::string_view kTreeNames[] = {
    "usr", "lib", "local", "bin", "sbin", "opt", "home", "users", "documents", "desktop",
    "library", "include", "includes", "inc", "volumes", "default", "tmp"};

constexpr std::string_view kSensitiveExtensions[] = {".log", ".ini", ".conf", ".cnf", ".err",
                                                     ".inf", ".pdb", ".passwd", ".htpasswd",
                                                     ".pid", ".dat", ".bak", ".key", ".pem"};

// Files that say what they are even as a bare relative value ("boot.ini", ".htaccess").
constexpr std::string_view kBareFiles[] = {
    "boot.ini",  "win.ini",   "system.ini", ".htaccess", ".htpasswd", "web.config",
    "id_rsa",    "id_dsa",    ".bash_history", "wp-config.php", "php.ini", "httpd.conf",
    "my.cnf",    "global.asa", ".passwd",  "ntuser.dat", "tomcat-users.xml", "sysprep.inf",
    "unattend.xml", "configuration.php", "localsettings.php", "config.php", "config.inc.php",
    "_config.php", "config.asp", "database.php", "db.php", "dbase.php", "mysql.php", ".pass",
    "pass.dat", "database.js", "install.php", "data.php"};

// The part of a name that a file API sees: ";jsessionid" path parameters and trailing dots or
// spaces (which Windows drops) are cut.
std::string_view core_name(std::string_view name) {
  std::size_t semi = name.find(';');
  if (semi != std::string_view::npos) name = name.substr(0, semi);
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.remove_suffix(1);
  return name;
}

bool is_tree_name(std::string_view raw) {
  const std::string_view name = core_name(raw);
  for (std::string_view t : kTreeNames)
    if (common::iequals(name, t)) return true;
  return false;
}

// All the names above in one sorted table, looked up by binary search on the lower-cased name.
struct NameEntry {
  std::string_view name;
  NameWeight weight;
};
constexpr std::size_t kNameCount = std::size(kSensitiveFiles) + std::size(kSystemNames);
constexpr std::array<NameEntry, kNameCount> kNameTable = [] {
  std::array<NameEntry, kNameCount> t{};
  std::size_t k = 0;
  for (std::string_view f : kSensitiveFiles) t[k++] = {f, kStrong};
  for (std::string_view f : kSystemNames) t[k++] = {f, kWeak};
  std::sort(t.begin(), t.end(), [](const NameEntry& a, const NameEntry& b) {
    return a.name < b.name;
  });
  return t;
}();

// For each first byte, bit n set when some name of the table has that first byte and n bytes
// (names are shorter than 64): most path segments are rejected without a search.
constexpr std::array<std::uint64_t, 256> kNameShapes = [] {
  std::array<std::uint64_t, 256> t{};
  for (const NameEntry& e : kNameTable)
    t[static_cast<unsigned char>(e.name[0])] |= std::uint64_t{1} << e.name.size();
  return t;
}();

NameWeight lookup(std::string_view lower) {
  if (lower.empty() || lower.size() >= 64 ||
      !(kNameShapes[static_cast<unsigned char>(lower[0])] & (std::uint64_t{1} << lower.size())))
    return kPlain;
  const NameEntry* it = std::lower_bound(
      kNameTable.begin(), kNameTable.end(), lower,
      [](const NameEntry& e, std::string_view key) { return e.name < key; });
  return it != kNameTable.end() && it->name == lower ? it->weight : kPlain;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

NameWeight weigh(std::string_view raw, std::size_t index, std::string_view previous) {
  std::string_view name = core_name(raw);
  if (name.empty() || name.size() > 64) return kPlain;
  char buf[64];
  for (std::size_t i = 0; i < name.size(); ++i) buf[i] = to_lower(name[i]);
  std::string_view lower(buf, name.size());
  NameWeight w = lookup(lower);
  if (w == kStrong) return w;
  if (index == 0 && (lower == "etc" || lower == "proc")) return kStrong;
  if (name_is(previous, "etc") || name_is(previous, "proc")) return kStrong;  // /etc/x
  if (index <= 1 && lower == "windows") return kStrong;
  // "httpd.conf.default", "php.ini-development", "error_log.1": a sensitive file's variant.
  std::size_t cut = lower.find_last_of(".-");
  if (cut != std::string_view::npos && cut > 0 && lookup(lower.substr(0, cut)) == kStrong &&
      lower.substr(0, cut).find('.') != std::string_view::npos)
    return kStrong;
  if (w == kWeak) return w;
  if (cut != std::string_view::npos && lower.find('.') != std::string_view::npos) {
    for (std::string_view e : kSensitiveExtensions)
      if (ends_with(lower, e)) return kWeak;
  }
  if (ends_with(lower, "_log") || ends_with(lower, "log.txt") ||
      lower.substr(0, std::min<std::size_t>(lower.size(), 9)) == "hostname." ||
      lower.substr(0, std::min<std::size_t>(lower.size(), 3)) == "php" ||
      lower.substr(0, std::min<std::size_t>(lower.size(), 5)) == "sess_")
    return kWeak;
  return kPlain;
}

// Bit n set: some bare file's name is n bytes long (all are shorter than 64).
constexpr std::uint64_t kBareFileLengths = [] {
  std::uint64_t m = 0;
  for (std::string_view f : kBareFiles) m |= std::uint64_t{1} << f.size();
  return m;
}();

bool is_bare_file(std::string_view raw) {
  std::string_view name = core_name(raw);
  if (name.size() >= 64 || !(kBareFileLengths & (std::uint64_t{1} << name.size()))) return false;
  for (std::string_view f : kBareFiles)
    if (name_is(name, f)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Walking a word.

// What one path word does.
struct WordFacts {
  std::size_t begin = 0, end = 0;  // the word in the decoded buffer
  std::uint32_t climbs = 0;        // ".." segments
  std::uint32_t above = 0;         // most levels above the word's start
  std::uint32_t separators = 0;
  std::uint32_t junk_runs = 0;     // runs of junk that separate
  std::uint32_t dot_segments = 0;  // "." segments
  std::uint32_t names = 0;
  std::uint32_t strong = 0, weak = 0;
  std::uint32_t tree = 0;  // weak names that are kTreeNames
  bool root = false;       // starts with a separator
  bool drive = false;      // starts with a drive letter and a separator ("C:\")
  bool junk_lead = false;  // junk or dots before the first name
  bool bare_file = false;  // a single name that is a well-known sensitive file
  std::string_view first_strong;  // the first sensitive name (for the reason)
  std::string_view target;        // from the first name after the last climb to the end
};

// Splits word b[begin, end) into segments and walks them.
// Names are weighed only when `weigh` is set, and only the first kMaxWeighed of them.
constexpr std::uint32_t kMaxWeighed = 32;
WordFacts walk_word(const char* b, std::size_t begin, std::size_t end, bool weigh_names) {
  WordFacts f;
  f.begin = begin;
  f.end = end;
  std::uint32_t depth = 0;
  std::string_view previous;
  bool seen_name = false;
  std::size_t i = begin;
  if (i < end && is_sep(b[i])) f.root = true;
  if (i + 2 < end && common::is_alpha(b[i]) && b[i + 1] == ':' && is_sep(b[i + 2])) {
    f.drive = true;
    i += 2;
  }
  while (i < end) {
    char ch = b[i];
    if (is_sep(ch)) {
      ++f.separators;
      ++i;
      continue;
    }
    if (is_junk(ch)) {  // junk that is not between two dots separates ('?' only fills)
      if (!seen_name) f.junk_lead = true;
      bool counts = false;
      for (; i < end && is_junk(b[i]); ++i) counts = counts || !is_filler(b[i]);
      if (counts) {
        ++f.separators;
        ++f.junk_runs;
      }
      continue;
    }
    // A piece: up to the next separator, or the next junk run that is not between dots.
    std::size_t s = i;
    std::uint32_t dots = 0;
    bool only_dots = true;
    while (i < end && !is_sep(b[i])) {
      if (is_junk(b[i])) {
        std::size_t q = i;
        while (q < end && is_junk(b[q])) ++q;
        bool between_dots = i > s && b[i - 1] == '.' && q < end && b[q] == '.';
        if (!between_dots) break;
        i = q;
        continue;
      }
      if (b[i] == '.') ++dots;
      else if (b[i] == ';' && only_dots) {  // "..;" (a path parameter after the dots)
        while (i < end && !is_sep(b[i]) && !is_junk(b[i])) ++i;
        break;
      } else only_dots = false;
      ++i;
    }
    std::string_view piece(b + s, i - s);
    if (only_dots) {
      if (dots >= 2) {
        ++f.climbs;
        if (depth > 0) {
          --depth;
        } else {
          ++f.above;
        }
        f.target = std::string_view();
        if (!seen_name) f.junk_lead = true;
      } else {
        if (dots == 1) ++f.dot_segments;
        if (!seen_name) f.junk_lead = true;
      }
      continue;
    }
    NameWeight weight =
        weigh_names && f.names < kMaxWeighed ? weigh(piece, f.names, previous) : kPlain;
    if (weight == kStrong) {
      ++f.strong;
      if (f.first_strong.empty()) f.first_strong = core_name(piece);
    } else if (weight == kWeak) {
      ++f.weak;
      if (is_tree_name(piece)) ++f.tree;
    }
    if (f.target.empty()) f.target = std::string_view(b + s, end - s);
    f.bare_file = weigh_names && f.names == 0 && is_bare_file(piece);
    ++f.names;
    ++depth;
    if (weigh_names) previous = core_name(piece);  // only weigh() reads it
    seen_name = true;
  }
  if (f.names > 1) f.bare_file = false;
  return f;
}

bool sensitive(const WordFacts& f) { return f.strong > 0 || f.weak >= 2; }
// An absolute path: one strong name, or two weak ones not both of the trees (kTreeNames).
bool sensitive_absolute(const WordFacts& f) {
  return f.strong > 0 || (f.weak >= 2 && f.weak > f.tree);
}

// ---------------------------------------------------------------------------------------------
// Stream wrappers and URL schemes.

struct Scheme {
  std::string_view name;  // as written, without "://"
  std::size_t length = 0;  // of "name://" (or "name:" for data:)
};

// "php://", "phar://", "compress.zlib://", "file:" at b[i].
bool read_scheme(const char* b, std::size_t i, std::size_t end, Scheme* out) {
  std::size_t j = i;
  if (j >= end || !common::is_alpha(b[j])) return false;
  while (j < end && j - i < 20 &&
         (common::is_alnum(b[j]) || b[j] == '.' || b[j] == '+' || b[j] == '-'))
    ++j;
  if (j + 2 < end && b[j] == ':' && is_sep(b[j + 1]) && is_sep(b[j + 2])) {
    out->name = std::string_view(b + i, j - i);
    out->length = j - i + 3;
    return true;
  }
  return false;
}

// A stream wrapper that reads local files or runs code, by name.
std::string_view wrapper_kind(std::string_view scheme) {
  static constexpr struct {
    std::string_view name, kind;
  } kWrappers[] = {
      {"php", "a PHP I/O stream (php://filter, php://input) that include() reads from"},
      {"phar", "a PHAR archive stream, which unserializes attacker metadata"},
      {"zip", "a ZIP archive stream that include() reads a file from"},
      {"expect", "the expect:// wrapper, which runs a command"},
      {"glob", "a glob:// stream that lists local files"},
      {"data", "a data:// stream whose content include() runs as code"},
      {"compress.zlib", "a compressed stream over a local file"},
      {"compress.bzip2", "a compressed stream over a local file"},
      {"ssh2.exec", "an SSH2 stream that runs a command"},
      {"jar", "a jar: archive URL read from the local file system"},
      {"netdoc", "a netdoc: URL read from the local file system"},
  };
  for (const auto& w : kWrappers)
    if (name_is(scheme, w.name)) return w.kind;
  return {};
}

// ---------------------------------------------------------------------------------------------
// The verdict over a decoded buffer.

struct Finding {
  std::string reason;
  bool found = false;
};

std::string decoding_note(unsigned notes) {
  std::string s;
  auto add = [&](std::string_view what) {
    s += s.empty() ? " (written with " : ", ";
    s += what;
  };
  if (notes & kDecBase64) add("base64");
  if (notes & kDecMulti) add("several layers of percent-encoding");
  else if (notes & kDecPercent) add("percent-encoding");
  if (notes & kDecOverlong) add("overlong UTF-8");
  if (notes & kDecUnicode) add("Unicode look-alikes or %u escapes");
  if (notes & kDecHex) add("0x hex escapes");
  if (!s.empty()) s += ")";
  return s;
}

// A decoded path as a person reads it: separators as '/', separating junk as one '/', filler
// and control bytes dropped.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) {
    if (is_filler(c)) continue;
    if (is_junk(c) || c == '\\') c = '/';
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

// Bit 0: always a word delimiter; bit 1: a delimiter when spaces delimit.
constexpr std::array<std::uint8_t, 256> kWordDelims = [] {
  std::array<std::uint8_t, 256> t{};
  for (char c : std::string_view("\"'`<>|&=(),{}[]")) t[static_cast<unsigned char>(c)] = 1;
  for (char c : std::string_view(" \t\n\r\f\v")) t[static_cast<unsigned char>(c)] = 2;
  return t;
}();

bool is_word_delim(char c, bool spaces_delimit) {
  const std::uint8_t k = kWordDelims[static_cast<unsigned char>(c)];
  return (k & 1) || (spaces_delimit && (k & 2));
}

// A value that is a path as a whole, spaces included ("C:/program files/apache group/...").
bool path_shaped(const char* b, std::size_t n) {
  std::size_t i = 0;
  while (i < n && common::is_space(b[i])) ++i;
  if (i >= n) return false;
  bool starts = is_sep(b[i]) || b[i] == '.' || is_junk(b[i]) ||
                (i + 2 < n && common::is_alpha(b[i]) && b[i + 1] == ':' && is_sep(b[i + 2]));
  if (!starts) return false;
  std::size_t seps = 0, spaces = 0;
  for (std::size_t k = i; k < n; ++k) {
    if (is_sep(b[k])) ++seps;
    else if (common::is_space(b[k]) && (k == 0 || !common::is_space(b[k - 1]))) ++spaces;
  }
  return spaces == 0 || seps >= spaces;
}

enum class WordVerdict { kClean, kClimb, kDotPadding, kJunkPath, kAbsolute, kRelative, kBareFile };

WordVerdict judge_word(const WordFacts& f, bool compact, bool prose) {
  if (f.above > 0 && f.separators > 0) {
    bool reaches = sensitive(f);
    bool convict = prose ? (f.above >= 3 || (f.above >= 2 && reaches))
                         : (f.above >= 2 || compact || reaches);
    if (convict) return WordVerdict::kClimb;
  }
  if (prose || !compact) return WordVerdict::kClean;
  if (f.names == 0 && f.climbs == 0 && f.junk_runs == 0 && f.dot_segments >= 2)
    return WordVerdict::kDotPadding;
  if (f.names == 0 && f.climbs == 0 && f.junk_runs > 0 && f.separators > f.junk_runs)
    return WordVerdict::kJunkPath;
  if ((f.root || f.drive || f.junk_lead) && sensitive_absolute(f)) return WordVerdict::kAbsolute;
  if (!f.root && !f.drive && f.names >= 2 && f.strong > 0 && f.separators > 0)
    return WordVerdict::kRelative;
  if (f.bare_file && f.climbs == 0) return WordVerdict::kBareFile;
  return WordVerdict::kClean;
}

std::string explain_word(const WordFacts& f, WordVerdict verdict, unsigned notes) {
  std::string dec = decoding_note(notes);
  std::string target = shown(f.target);
  switch (verdict) {
    case WordVerdict::kClimb: {
      std::string r = "\"..\" segments" + dec + " climb " + std::to_string(f.above) +
                      (f.above == 1 ? " directory" : " directories") +
                      " above where the value is joined";
      if (!target.empty())
        r += sensitive(f) ? " to reach the sensitive file " + target : " to open " + target;
      return r;
    }
    case WordVerdict::kDotPadding:
      return "a path made only of \"./\" segments" + dec +
             ", padding that hides a traversal from filters that match \"../\"";
    case WordVerdict::kJunkPath:
      return "a path made only of separators and undecodable bytes" + dec +
             ", the remains of overlong UTF-8 \"../\" sequences";
    case WordVerdict::kAbsolute:
      if (!f.root && !f.drive)
        return "a path" + dec + " that reaches the sensitive system file " + target +
               " after a lead of dots and undecodable bytes (a mangled \"../\" sequence)";
      return std::string(f.drive ? "an absolute Windows path" : "an absolute path") + dec +
             " to the sensitive system file or directory " + target +
             ", which a file API opens in place of the application's own";
    case WordVerdict::kRelative:
      return "a relative path" + dec + " to the sensitive file " + target;
    case WordVerdict::kBareFile:
      return "names the sensitive file " +
             shown(f.first_strong.empty() ? f.target : f.first_strong) + dec +
             ", a local file inclusion target";
    case WordVerdict::kClean:
      break;
  }
  return {};
}

// Walks word b[begin, end) and judges it. Names are weighed only when that can change the
// verdict or the reason: a second walk, so that the common clean word costs one cheap walk.
bool convict_word(const char* b, std::size_t begin, std::size_t end, bool compact, bool prose,
                  unsigned notes, Finding* out) {
  WordFacts f = walk_word(b, begin, end, false);
  WordVerdict verdict = judge_word(f, compact, prose);
  bool may_weigh = f.names > 0 && (compact || (f.separators > 0 && f.above >= (prose ? 2 : 1)));
  if (verdict == WordVerdict::kClean && !may_weigh) return false;
  f = walk_word(b, begin, end, true);
  if (verdict == WordVerdict::kClean) verdict = judge_word(f, compact, prose);
  if (verdict == WordVerdict::kClean) return false;
  out->reason = explain_word(f, verdict, notes);
  out->found = true;
  return true;
}

bool analyse(const char* b, std::size_t n, bool whole_value, bool nested, unsigned notes,
             Finding* out);

// The filters of php://filter chains ("convert.iconv.UTF8.CSISO2022KR", "convert.base64-decode").
bool is_php_filter(std::string_view word) {
  static constexpr std::string_view kFilters[] = {
      "convert.iconv.", "convert.base64-", "convert.quoted-printable-", "string.rot13",
      "string.toupper", "string.tolower", "zlib.deflate", "zlib.inflate", "bzip2.compress",
      "bzip2.decompress", "convert.uuencode"};
  // Every filter name starts with one of these letters and has a dot by its sixth byte.
  if (word.size() < 11) return false;
  const char first = to_lower(word[0]);
  if (first != 'c' && first != 's' && first != 'z' && first != 'b') return false;
  if (word.substr(0, 8).find('.') == std::string_view::npos) return false;
  for (std::string_view f : kFilters)
    if (common::istarts_with(word, f)) return true;
  return false;
}

using decode::base64_value;

// Base64 whose first byte is a path's first byte ('.', '/', '\\'): "Li4v" is "../".
bool base64_path_start(std::string_view v) {
  if (v.size() < 8) return false;
  int a = base64_value(v[0]), b = base64_value(v[1]);
  if (a < 0 || b < 0) return false;
  char first = static_cast<char>(a << 2 | b >> 4);
  return first == '.' || first == '/' || first == '\\' || common::is_alpha(first);
}

// "Li4vLi4v..." (base64 of "../../"): decoded into a small buffer and analysed once more.
bool analyse_base64(std::string_view v, Finding* out) {
  std::string_view t = common::trim(v);
  if (t.size() < 8 || t.size() > 3000) return false;
  std::size_t pad = 0, body = t.size();
  while (body > 0 && t[body - 1] == '=') --body, ++pad;
  if (pad > 2 || (pad > 0 && t.size() % 4 != 0) || body % 4 == 1) return false;
  for (std::size_t i = 0; i < body; ++i)
    if (base64_value(t[i]) < 0) return false;
  if (!base64_path_start(t)) return false;
  std::array<char, 2300> buf;
  std::size_t n = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < body; ++i) {
    acc = acc << 6 | static_cast<std::uint32_t>(base64_value(t[i]));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      char byte = static_cast<char>((acc >> bits) & 0xFF);
      unsigned char u = static_cast<unsigned char>(byte);
      if (u < 0x20 || u >= 0x7F) return false;  // binary, not a path
      buf[n++] = byte;
    }
  }
  unsigned notes = kDecBase64;
  decode(buf.data(), &n, &notes, features_of(std::string_view(buf.data(), n)));
  return analyse(buf.data(), n, true, true, notes, out);
}

// Splits the decoded buffer into words and judges each.
// `nested`: b is already the decoding of a base64 value (no base64 inside it is tried).
bool analyse(const char* b, std::size_t n, bool whole_value, bool nested, unsigned notes,
             Finding* out) {
  bool shaped = whole_value && path_shaped(b, n);
  std::string_view trimmed = common::trim(std::string_view(b, n));
  bool has_space = false;
  for (char ch : trimmed) has_space = has_space || common::is_space(ch);
  bool compact = whole_value && (!has_space || shaped);
  bool prose = has_space && !shaped;
  std::size_t i = 0;
  while (i < n) {
    while (i < n && is_word_delim(b[i], !shaped)) ++i;
    std::size_t s = i;
    while (i < n && !is_word_delim(b[i], !shaped)) ++i;
    if (i == s) continue;
    std::size_t ws = s;
    Scheme scheme;
    if (read_scheme(b, s, i, &scheme)) {
      std::string_view kind = wrapper_kind(scheme.name);
      if (!kind.empty() && i - s > scheme.length) {
        out->reason = "uses " + std::string(kind) + ": " + shown(std::string_view(b + s, i - s));
        out->found = true;
        return true;
      }
      if (name_is(scheme.name, "file")) {
        std::string_view rest(b + s + scheme.length, i - s - scheme.length);
        if (!rest.empty()) {
          out->reason = "a file:// URL" + decoding_note(notes) + " that reads the local file " +
                        shown(rest);
          out->found = true;
          return true;
        }
      }
      // A remote URL: only its path can climb, and only ".." counts there.
      ws = s + scheme.length;
      while (ws < i && !is_sep(b[ws])) ++ws;
      if (convict_word(b, ws, i, false, prose, notes, out)) return true;
      continue;
    }
    // A base64 word inside a larger value ("?q=Li4vLi4v...").
    if (!nested && compact && i - s >= 8 && (s > 0 || i < n) &&
        base64_path_start(std::string_view(b + s, i - s)) &&
        analyse_base64(std::string_view(b + s, i - s), out))
      return true;
    if (compact && is_php_filter(std::string_view(b + s, i - s))) {
      out->reason = "names the PHP stream filter " + shown(std::string_view(b + s, i - s)) +
                    ", a link of a php://filter chain that reads or rewrites local files";
      out->found = true;
      return true;
    }
    if (convict_word(b, ws, i, compact, prose, notes, out)) return true;
  }
  return false;
}

bool path_start(std::string_view v) {
  std::string_view t = common::trim(v);
  return !t.empty() && (is_sep(t[0]) || t[0] == '.' || is_junk(t[0]) ||
                        (t.size() > 2 && common::is_alpha(t[0]) && t[1] == ':'));
}

// UTF-8 that can decode to a dot, a separator or junk: overlong forms, invalid bytes, U+FFFD,
// look-alikes. Ordinary letters of any script are not.
bool dot_like_bytes(std::string_view v) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(v.data());
  std::size_t n = v.size();
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char u = p[i];
    if (u < 0x80) continue;
    unsigned char next = i + 1 < n ? p[i + 1] : 0;
    switch (u) {
      case 0xC0: case 0xC1: case 0xF8: case 0xF9: case 0xFA: case 0xFB: case 0xFC: case 0xFD:
      case 0xFE: case 0xFF:
        return true;
      case 0xE0: if (next < 0xA0) return true; break;
      case 0xF0: if (next < 0x90) return true; break;
      case 0xE2: {  // U+2024, U+2044, U+2215, U+2216, U+29F8, U+29F9
        unsigned char third = i + 2 < n ? p[i + 2] : 0;
        if ((next == 0x80 && third == 0xA4) || (next == 0x81 && third == 0x84) ||
            (next == 0x88 && (third == 0x95 || third == 0x96)) ||
            (next == 0xA7 && (third == 0xB8 || third == 0xB9)))
          return true;
        break;
      }
      case 0xEE: return true;  // private use
      case 0xEF: if (next <= 0xA3 || next == 0xB9 || next == 0xBC || next == 0xBF) return true;
                 break;
      default: break;
    }
  }
  return false;
}

}  // namespace

bool detect_path_traversal(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  constexpr std::uint32_t kPathish = kDot | kSlash | kBackslash | kPercent | kHigh | kControl;
  Finding finding;
  if ((c.features & ~(kPlus | kEquals | kDash | kSlash)) == 0 && base64_path_start(v) &&
      analyse_base64(v, &finding)) {
    hit->reason = std::move(finding.reason);
    hit->evidence = evidence(v);
    return true;
  }
  bool hex_escapes =
      v.find("0x") != std::string_view::npos || v.find("0X") != std::string_view::npos;
  if (!(c.features & kPathish) && !hex_escapes) return false;
  if (!(c.features & (kPercent | kControl)) && !hex_escapes && (c.features & kSpace) &&
      !path_start(v) && v.find("..") == std::string_view::npos &&
      !((c.features & kHigh) && dot_like_bytes(v))) {
    // Prose without escapes: only a literal ".." (or a dot written in UTF-8 tricks) can climb,
    // and only a value that starts like a path ("C:/program files/...") is one path.
    return false;
  }
  std::array<char, kWindow> buf;
  for (std::size_t off = 0; off < v.size(); off += kStride) {
    std::size_t len = std::min(kWindow, v.size() - off);
    std::memcpy(buf.data(), v.data() + off, len);
    std::size_t n = len;
    unsigned notes = 0;
    decode(buf.data(), &n, &notes, c.features);
    bool whole = off == 0 && len == v.size();
    if (analyse(buf.data(), n, whole, false, notes, &finding)) break;
    if (off + len >= v.size()) break;
  }
  if (!finding.found) return false;
  hit->reason = std::move(finding.reason);
  hit->evidence = evidence(v);
  return true;
}

}  // namespace vigil::detect::input
