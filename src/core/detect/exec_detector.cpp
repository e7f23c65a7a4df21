// Exec sinks: an argument vector run without a shell. Only the programs' own argument parsers
// give elements meaning, so the detector models how each program reads its argv:
//   * argv[0] (and the command a wrapper such as env or timeout runs) is the program: an input
//     that is the whole program name chooses what runs;
//   * options: an element that starts with '-' (or a find / ImageMagick expression token) where
//     the program parses options. An input that begins such an element injects an option
//     (argument injection, CWE-88), unless the element is an option's value (git log --author X,
//     find -name X, -n 20) or follows `--` / git's --end-of-options;
//   * interpreter code (sh -c, bash -c, ssh's remote command, su -c, python -c, perl -e,
//     ruby -e, node -e, php -r): the input must stay inside one string literal of that code
//     (shell code is analysed with the shell detector's logic);
//   * everything else is data.
// Known programs have option tables (which options take a value, whether options are parsed
// after operands); unknown programs get a GNU-style generic reading in which a bare option may
// take the next element as its value.
#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ascii.hpp"
#include "core/detect/detector.hpp"
#include "core/detect/shell_detector.hpp"
#include "core/tokenize/python/python_tokenizer.hpp"

namespace vigil::detect {
namespace {

using Argv = std::span<const std::string_view>;
using Names = std::span<const std::string_view>;

enum class Role : std::uint8_t {
  kData,     // operand, option value, anything after `--`: read as data
  kProgram,  // the program to run
  kOption,   // parsed as an option or an expression token
  kCode,     // interpreter code (ElementRole::lang says which)
};

enum class Lang : std::uint8_t { kNone, kPosixShell, kBash, kPython, kPerl, kRuby, kJs, kPhp };

// clang-format off
enum class Family : std::uint8_t {
  kGeneric, kGit, kCurl, kWget, kSsh, kScp, kRsync, kFind, kImageMagick, kGraphicsMagick, kTar,
  kZip, kSendmail, kShell, kPython, kPerl, kRuby, kNode, kPhp, kEnv, kTimeout, kNice, kPlainWrapper,
  kSudo, kDoas, kStdbuf, kIonice, kChroot, kTime, kXargs, kSu, kWatch, kFlock, kBusybox,
};
// clang-format on

struct ElementRole {
  Role role = Role::kData;
  Lang lang = Lang::kNone;
  Family family = Family::kGeneric;  // the program reading this element
  std::uint32_t value_at = 0;        // kOption/kCode: where an attached value / the code begins
  std::uint32_t program = 0;         // argv index of that program's name
};

// ---- option tables ----

// clang-format off

constexpr std::string_view kGitGlobalLong[] = {"git-dir", "work-tree", "namespace",
                                               "super-prefix", "config-env"};
constexpr std::string_view kGitLogLong[] = {
    "author", "committer", "grep", "grep-reflog", "max-count", "skip", "since", "after", "until",
    "before", "max-age", "min-age", "since-as-filter", "exclude", "exclude-hidden", "date",
    "output", "output-indicator-new", "output-indicator-old", "output-indicator-context",
    "src-prefix", "dst-prefix", "line-prefix", "unified", "inter-hunk-context", "find-object",
    "diff-filter", "word-diff-regex", "anchored", "ignore-matching-lines", "rotate-to",
    "skip-to", "stat-width", "stat-name-width", "stat-graph-width", "stat-count",
    "decorate-refs", "decorate-refs-exclude", "color-moved-ws", "ws-error-highlight",
    "submodule-prefix", "orderfile", "base", "subject-prefix", "output-directory", "to", "cc",
    "in-reply-to", "signature", "signature-file", "suffix", "reroll-count", "range-diff",
    "interdiff", "creation-factor", "notes", "contents", "ignore-rev", "ignore-revs-file"};
constexpr std::string_view kGitCloneLong[] = {
    "origin", "branch", "upload-pack", "template", "reference", "reference-if-able", "depth",
    "shallow-since", "shallow-exclude", "separate-git-dir", "config", "server-option", "jobs",
    "filter", "bundle-uri", "revision", "ref-format", "deepen", "refmap", "negotiation-tip",
    "recurse-submodules-default", "submodule-prefix", "receive-pack", "exec", "push-option",
    "repo", "strategy", "strategy-option", "message", "file", "reuse-message", "reedit-message",
    "fixup", "squash", "author", "date", "cleanup", "trailer", "pathspec-from-file", "orphan",
    "conflict", "output", "format", "prefix", "remote", "add-file", "add-virtual-file", "mtime",
    "max-depth", "context", "before-context", "after-context", "threads", "max-count",
    "set-upstream-to", "track", "contains", "no-contains", "merged", "no-merged", "points-at",
    "sort", "type", "default", "blob", "local-user", "gpg-sign", "onto", "exec-path"};

constexpr std::string_view kCurlLong[] = {
    "url", "data", "data-ascii", "data-binary", "data-raw", "data-urlencode", "json", "form",
    "form-string", "header", "proxy-header", "output", "output-dir", "user", "proxy",
    "proxy-user", "request", "user-agent", "referer", "cookie", "cookie-jar", "upload-file",
    "config", "write-out", "max-time", "connect-timeout", "range", "cert", "cert-type", "key",
    "key-type", "pass", "cacert", "capath", "crlfile", "continue-at", "dump-header", "resolve",
    "connect-to", "retry", "retry-delay", "retry-max-time", "limit-rate", "interface",
    "local-port", "max-filesize", "max-redirs", "proto", "proto-redir", "proto-default", "quote",
    "stderr", "trace", "trace-ascii", "trace-config", "telnet-option", "ftp-port", "noproxy",
    "variable", "aws-sigv4", "oauth2-bearer", "dns-servers", "dns-interface", "dns-ipv4-addr",
    "dns-ipv6-addr", "doh-url", "expect100-timeout", "happy-eyeballs-timeout-ms", "hostpubmd5",
    "hostpubsha256", "hsts", "alt-svc", "keepalive-time", "krb", "login-options", "mail-from",
    "mail-rcpt", "mail-auth", "netrc-file", "pinnedpubkey", "preproxy", "proxy-cacert",
    "proxy-capath", "proxy-cert", "proxy-key", "proxy-pass", "proxy-service-name", "pubkey",
    "random-file", "rate", "request-target", "sasl-authzid", "service-name", "socks4",
    "socks4a", "socks5", "socks5-hostname", "socks5-gssapi-service", "speed-limit",
    "speed-time", "time-cond", "tls-max", "tlsuser", "tlspassword", "tlsauthtype",
    "unix-socket", "abstract-unix-socket", "ciphers", "curves", "engine", "egd-file",
    "ftp-account", "ftp-alternative-to-user", "ftp-method", "ftp-ssl-ccc-mode", "etag-compare",
    "etag-save", "create-file-mode", "parallel-max", "tftp-blksize", "url-query", "libcurl",
    "delegation", "ip-tos", "vlan-priority", "local-port", "tls13-ciphers", "proxy-ciphers"};
constexpr std::string_view kWgetLong[] = {
    "output-file", "append-output", "execute", "output-document", "tries", "timeout",
    "dns-timeout", "connect-timeout", "read-timeout", "wait", "waitretry", "user-agent",
    "header", "post-data", "post-file", "body-data", "body-file", "method", "directory-prefix",
    "user", "password", "http-user", "http-password", "proxy-user", "proxy-password", "referer",
    "load-cookies", "save-cookies", "ca-certificate", "ca-directory", "certificate",
    "private-key", "level", "accept", "reject", "accept-regex", "reject-regex", "domains",
    "exclude-domains", "include-directories", "exclude-directories", "base", "input-file",
    "limit-rate", "bind-address", "quota", "restrict-file-names", "use-askpass", "config",
    "rejected-log", "default-page", "ftp-user", "ftp-password", "local-encoding",
    "remote-encoding", "secure-protocol", "ciphers", "crl-file", "hsts-file", "warc-file"};
constexpr std::string_view kRsyncLong[] = {
    "rsh", "rsync-path", "filter", "exclude", "include", "files-from", "exclude-from",
    "include-from", "log-file", "log-file-format", "temp-dir", "compare-dest", "copy-dest",
    "link-dest", "partial-dir", "backup-dir", "suffix", "chmod", "chown", "timeout",
    "contimeout", "port", "sockopts", "out-format", "password-file", "bwlimit", "max-size",
    "min-size", "max-delete", "modify-window", "block-size", "checksum-choice",
    "compress-choice", "compress-level", "skip-compress", "usermap", "groupmap", "info",
    "debug", "stop-after", "stop-at", "iconv", "protocol", "address", "remote-option", "outbuf",
    "write-batch", "read-batch", "only-write-batch", "checksum-seed", "early-input"};
constexpr std::string_view kTarLong[] = {
    "file", "directory", "files-from", "exclude", "exclude-from", "to-command",
    "checkpoint-action", "use-compress-program", "rsh-command", "info-script",
    "new-volume-script", "owner", "group", "mode", "mtime", "format", "label", "transform",
    "xform", "strip-components", "index-file", "newer", "after-date", "blocking-factor",
    "record-size", "tape-length", "volno-file", "listed-incremental", "warning", "suffix",
    "sort", "newer-mtime", "starting-file", "exclude-tag", "exclude-tag-all",
    "exclude-tag-under", "occurrence", "quoting-style", "quote-chars", "no-quote-chars"};
constexpr std::string_view kZipLong[] = {"unzip-command", "temp-path", "suffixes", "password",
                                         "compression-method", "output-file", "archive-comment"};
constexpr std::string_view kNodeLong[] = {"require", "import", "input-type", "loader",
                                          "experimental-loader", "conditions", "inspect-port",
                                          "title", "env-file", "redirect-warnings"};
constexpr std::string_view kNodeCode[] = {"eval", "print"};
constexpr std::string_view kCommandCode[] = {"command"};
constexpr std::string_view kShellLong[] = {"rcfile", "init-file"};
constexpr std::string_view kSudoLong[] = {"user", "group", "close-from", "chdir", "host",
                                          "prompt", "role", "type", "other-user",
                                          "command-timeout", "chroot"};
constexpr Names kNoNames{};

// ImageMagick options that take one or two values (from the `convert` usage).
constexpr std::string_view kMagickOne[] = {
    "adaptive-blur", "adaptive-resize", "adaptive-sharpen", "affine", "alpha", "attenuate",
    "authenticate", "auto-threshold", "background", "bench", "bias", "black-point-compensation",
    "black-threshold", "blue-primary", "blue-shift", "blur", "border", "bordercolor",
    "brightness-contrast", "canny", "caption", "cdl", "channel", "channel-fx", "charcoal", "chop",
    "clip-path", "clut", "colorize", "colors", "colorspace", "color-matrix", "comment", "compose",
    "compress", "connected-components", "contrast-stretch", "convolve", "crop", "cycle",
    "debug", "decipher", "define", "delay", "density", "depth", "deskew", "direction", "display",
    "dispose", "dither", "draw", "duplicate", "edge", "emboss", "encipher", "encoding", "endian",
    "evaluate-sequence", "extent", "extract", "family", "features", "fill", "filter", "font",
    "format", "frame", "fuzz", "fx", "gamma", "gaussian-blur", "geometry", "gravity",
    "green-primary", "hough-lines", "implode", "intensity", "intent", "interlace",
    "interline-spacing", "interpolate", "interword-spacing", "kerning", "kuwahara", "label",
    "lat", "layers", "level", "level-colors", "linear-stretch", "liquid-rescale",
    "local-contrast", "log", "loop", "mattecolor", "median", "mean-shift", "metric", "mode",
    "modulate", "monitor", "morph", "motion-blur", "noise", "ordered-dither", "orient", "page",
    "paint", "path", "perceptible", "ping", "pointsize", "polaroid", "poly", "posterize",
    "precision", "preview", "print", "process", "profile", "quality", "quantize", "radial-blur",
    "raise", "random-threshold", "range-threshold", "read-mask", "red-primary", "region",
    "remap", "render", "repage", "resample", "resize", "roll", "rotate", "rotational-blur",
    "sample", "sampling-factor", "scale", "scene", "seed", "segment", "selective-blur",
    "separate", "sepia-tone", "shade", "shadow", "sharpen", "shave", "shear",
    "sigmoidal-contrast", "size", "sketch", "smush", "solarize", "splice", "spread",
    "statistic", "stretch", "stroke", "strokewidth", "style", "swap", "swirl", "texture",
    "threshold", "thumbnail", "tile", "tile-offset", "tint", "title", "transparent",
    "transparent-color", "treedepth", "type", "undercolor", "unique-colors", "units",
    "unsharp", "vignette", "virtual-pixel", "wave", "wavelet-denoise", "weight", "white-point",
    "white-threshold", "write", "write-mask", "kernel", "limit", "opaque", "floodfill",
    "gradient", "mask", "sparse-color", "stegano", "clamp", "quiet"};
constexpr std::string_view kMagickTwo[] = {"annotate", "distort", "evaluate", "function",
                                           "morphology", "set", "limit", "sparse-color",
                                           "floodfill", "statistic", "fx"};
constexpr std::string_view kMagickTools[] = {"convert", "identify", "mogrify", "composite",
                                             "montage", "compare", "stream", "conjure",
                                             "import", "animate", "display", "magick"};

// find primaries that take one value.
constexpr std::string_view kFindOne[] = {
    "name", "iname", "path", "ipath", "wholename", "iwholename", "regex", "iregex", "lname",
    "ilname", "type", "xtype", "user", "group", "uid", "gid", "perm", "size", "mtime", "atime",
    "ctime", "mmin", "amin", "cmin", "newer", "anewer", "cnewer", "samefile", "inum", "links",
    "maxdepth", "mindepth", "fstype", "used", "printf", "fprint", "fprint0", "fls", "context",
    "files0-from", "regextype", "D"};

// clang-format on

bool contains(Names names, std::string_view s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

std::string_view basename(std::string_view path) {
  std::size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "python3.11" -> true for prefix "python".
bool versioned(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return false;
  for (char c : name.substr(prefix.size()))
    if (!common::is_digit(c) && c != '.') return false;
  return true;
}

Family family_of(std::string_view program) {
  std::string_view n = basename(program);
  struct Entry {
    std::string_view name;
    Family family;
  };
  // clang-format off
  static constexpr Entry kTable[] = {
      {"git", Family::kGit},          {"curl", Family::kCurl},       {"wget", Family::kWget},
      {"ssh", Family::kSsh},          {"scp", Family::kScp},         {"sftp", Family::kScp},
      {"rsync", Family::kRsync},      {"find", Family::kFind},       {"gfind", Family::kFind},
      {"gm", Family::kGraphicsMagick},                               {"tar", Family::kTar},
      {"gtar", Family::kTar},         {"bsdtar", Family::kTar},      {"zip", Family::kZip},
      {"sendmail", Family::kSendmail}, {"exim", Family::kSendmail},  {"exim4", Family::kSendmail},
      {"postfix", Family::kSendmail}, {"sh", Family::kShell},        {"bash", Family::kShell},
      {"dash", Family::kShell},       {"zsh", Family::kShell},       {"ksh", Family::kShell},
      {"mksh", Family::kShell},       {"ash", Family::kShell},       {"posh", Family::kShell},
      {"yash", Family::kShell},       {"rbash", Family::kShell},     {"nodejs", Family::kNode},
      {"env", Family::kEnv},          {"timeout", Family::kTimeout}, {"nice", Family::kNice},
      {"nohup", Family::kPlainWrapper},   {"setsid", Family::kPlainWrapper},
      {"exec", Family::kPlainWrapper},    {"command", Family::kPlainWrapper},
      {"builtin", Family::kPlainWrapper}, {"sudo", Family::kSudo},   {"doas", Family::kDoas},
      {"stdbuf", Family::kStdbuf},    {"ionice", Family::kIonice},   {"chroot", Family::kChroot},
      {"time", Family::kTime},        {"xargs", Family::kXargs},     {"su", Family::kSu},
      {"runuser", Family::kSu},       {"watch", Family::kWatch},     {"flock", Family::kFlock},
      {"busybox", Family::kBusybox},
  };

  // clang-format on
  for (const Entry& e : kTable)
    if (n == e.name) return e.family;
  if (contains(kMagickTools, n)) return Family::kImageMagick;
  if (versioned(n, "python") || versioned(n, "pypy")) return Family::kPython;
  if (versioned(n, "perl")) return Family::kPerl;
  if (versioned(n, "ruby")) return Family::kRuby;
  if (versioned(n, "node")) return Family::kNode;
  if (versioned(n, "php")) return Family::kPhp;
  return Family::kGeneric;
}

// How one program reads its options.
struct OptionSpec {
  explicit OptionSpec(std::string_view short_value_letters, Names long_value_names = {})
      : short_values(short_value_letters), long_values(long_value_names) {}
  // Declares the options whose value is interpreter code.
  OptionSpec& code(std::string_view letters, Names names, Lang lang) {
    short_code = letters;
    long_code = names;
    code_lang = lang;
    return *this;
  }

  std::string_view short_values;  // option letters that take a value
  Names long_values;              // long option names that take a value
  std::string_view short_code;    // letters whose value is code (python -c, perl -e, ...)
  Names long_code;
  Lang code_lang = Lang::kNone;
  bool permute = true;             // options are recognised after operands (until `--`)
  bool end_of_options = false;     // git's --end-of-options
  bool guess_values = false;       // unknown program: a bare option may take the next element
  bool code_ends_options = false;  // python: everything after -c CODE is the code's argv
};

bool option_like(std::string_view e) { return e.size() >= 2 && e[0] == '-'; }

class Classifier {
 public:
  Classifier(Argv argv, std::vector<ElementRole>* roles) : argv_(argv), roles_(*roles) {
    roles_.assign(argv.size(), ElementRole{});
  }

  void run() { program(0, argv_.size(), 0); }

 private:
  void set(std::size_t k, Role role, std::uint32_t value_at = 0, Lang lang = Lang::kNone) {
    if (k >= roles_.size()) return;
    roles_[k].role = role;
    roles_[k].value_at = value_at;
    roles_[k].lang = lang;
    roles_[k].family = family_;
    roles_[k].program = program_;
  }
  void data(std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k) set(k, Role::kData);
  }

  // argv[k] is a program name; [k+1, to) are its arguments.
  void program(std::size_t k, std::size_t to, int depth) {
    if (k >= to) return;
    family_ = family_of(argv_[k]);
    program_ = static_cast<std::uint32_t>(k);
    set(k, Role::kProgram);
    if (depth > 6) {
      data(k + 1, to);
      return;
    }
    const std::size_t a = k + 1;
    switch (family_) {
      case Family::kGit:
        git(a, to);
        break;
      case Family::kCurl: {
        OptionSpec s("AbcCdDeEFHKmoPQrtTuUwxXyYz", kCurlLong);
        parse(a, to, s);
        break;
      }
      case Family::kWget: {
        OptionSpec s("oaOetTwQPUlARDXIBi", kWgetLong);
        parse(a, to, s);
        break;
      }
      case Family::kSsh:
        ssh(a, to);
        break;
      case Family::kScp: {
        OptionSpec s("cFiJloPSXDs", kNoNames);
        s.permute = false;
        data(parse(a, to, s), to);
        break;
      }
      case Family::kRsync: {
        OptionSpec s("eBfTMm", kRsyncLong);
        parse(a, to, s);
        break;
      }
      case Family::kTar: {
        OptionSpec s("fCTXbgKLNVHIF", kTarLong);
        parse(a, to, s);
        break;
      }
      case Family::kZip: {
        OptionSpec s("bntOPZ", kZipLong);
        parse(a, to, s);
        break;
      }
      case Family::kSendmail: {
        OptionSpec s("fFOXCBNRVLhpqo", kNoNames);
        parse(a, to, s);
        break;
      }
      case Family::kFind:
        find(a, to, depth);
        break;
      case Family::kImageMagick: {
        std::size_t b = a;
        if (basename(argv_[k]) == "magick" && b < to && contains(kMagickTools, argv_[b])) {
          set(b, Role::kData);
          ++b;
        }
        magick(b, to);
        break;
      }
      case Family::kGraphicsMagick:
        if (a < to) set(a, Role::kData);
        magick(a + 1, to);
        break;
      case Family::kShell:
        shell(a, to);
        break;
      case Family::kPython: {
        OptionSpec s("WX", kNoNames);
        s.code("c", kNoNames, Lang::kPython);
        s.permute = false;
        s.code_ends_options = true;
        interpreter(a, to, s);
        break;
      }
      case Family::kPerl: {
        OptionSpec s("IMm", kNoNames);
        s.code("eE", kNoNames, Lang::kPerl);
        s.permute = false;
        interpreter(a, to, s);
        break;
      }
      case Family::kRuby: {
        OptionSpec s("IrCE", kNoNames);
        s.code("e", kNoNames, Lang::kRuby);
        s.permute = false;
        interpreter(a, to, s);
        break;
      }
      case Family::kNode: {
        OptionSpec s("rC", kNodeLong);
        s.code("ep", kNodeCode, Lang::kJs);
        s.permute = false;
        interpreter(a, to, s);
        break;
      }
      case Family::kPhp: {
        OptionSpec s("fdcztS", kNoNames);
        s.code("rBRE", kNoNames, Lang::kPhp);
        s.permute = false;
        interpreter(a, to, s);
        break;
      }
      case Family::kEnv:
        env(a, to, depth);
        break;
      case Family::kTimeout:
        wrapper(a, to, depth, "sk", 1);
        break;
      case Family::kNice:
        wrapper(a, to, depth, "n", 0);
        break;
      case Family::kPlainWrapper:
        wrapper(a, to, depth, "", 0);
        break;
      case Family::kSudo:
        wrapper(a, to, depth, "ugCDhprtUTR", 0, kSudoLong);
        break;
      case Family::kDoas:
        wrapper(a, to, depth, "uC", 0);
        break;
      case Family::kStdbuf:
        wrapper(a, to, depth, "ioe", 0);
        break;
      case Family::kIonice:
        wrapper(a, to, depth, "cnpPu", 0);
        break;
      case Family::kChroot:
        wrapper(a, to, depth, "", 1);
        break;
      case Family::kTime:
        wrapper(a, to, depth, "fo", 0);
        break;
      case Family::kXargs:
        wrapper(a, to, depth, "adEeIiLlnPs", 0);
        break;
      case Family::kSu: {
        OptionSpec s("sgGw", kNoNames);
        s.code("c", kCommandCode, Lang::kPosixShell);
        parse(a, to, s);
        break;
      }
      case Family::kWatch: {
        // watch joins its arguments and runs them with sh -c.
        OptionSpec s("nqd", kNoNames);
        s.permute = false;
        std::size_t c = parse(a, to, s);
        for (std::size_t i = c; i < to; ++i) set(i, Role::kCode, 0, Lang::kPosixShell);
        break;
      }
      case Family::kFlock: {
        OptionSpec s("wEn", kNoNames);
        s.code("c", kCommandCode, Lang::kPosixShell);
        s.permute = false;
        std::size_t f = parse(a, to, s);
        if (f < to) {
          set(f, Role::kData);  // the lock file
          if (f + 1 < to && argv_[f + 1] != "-c" && argv_[f + 1] != "--command") {
            program(f + 1, to, depth + 1);
          } else {
            parse(f + 1, to, s);
          }
        }
        break;
      }
      case Family::kBusybox:
        program(a, to, depth + 1);
        break;
      case Family::kGeneric: {
        OptionSpec s("", kNoNames);
        s.guess_values = true;
        parse(a, to, s);
        break;
      }
    }
  }

  // Generic getopt / getopt_long reading of [from, to). Without `permute`, stops at the first
  // operand and returns its index (everything before it is classified); otherwise classifies
  // everything and returns `to`.
  std::size_t parse(std::size_t from, std::size_t to, const OptionSpec& s) {
    bool after_end = false;
    for (std::size_t k = from; k < to; ++k) {
      std::string_view e = argv_[k];
      if (after_end) {
        set(k, Role::kData);
        continue;
      }
      if (e == "--" || (s.end_of_options && e == "--end-of-options")) {
        set(k, Role::kOption, static_cast<std::uint32_t>(e.size()));
        if (!s.permute) return k + 1;
        after_end = true;
        continue;
      }
      if (!option_like(e)) {
        if (!s.permute) return k;
        set(k, Role::kData);
        continue;
      }
      set(k, Role::kOption, static_cast<std::uint32_t>(e.size()));
      bool takes_next = false;
      bool code = false;
      if (e.starts_with("--")) {
        std::size_t eq = e.find('=');
        std::string_view name = e.substr(2, eq == std::string_view::npos ? e.npos : eq - 2);
        code = contains(s.long_code, name);
        if (eq != std::string_view::npos) {
          if (code) {
            set(k, Role::kCode, static_cast<std::uint32_t>(eq + 1), s.code_lang);
          } else {
            roles_[k].value_at = static_cast<std::uint32_t>(eq + 1);
          }
        } else {
          takes_next = code || contains(s.long_values, name) ||
                       (s.guess_values && k + 1 < to && option_like(argv_[k + 1]));
        }
      } else {
        for (std::size_t i = 1; i < e.size(); ++i) {
          char c = e[i];
          bool is_code = s.short_code.find(c) != std::string_view::npos;
          if (is_code || s.short_values.find(c) != std::string_view::npos) {
            code = is_code;
            if (i + 1 < e.size()) {
              if (is_code) {
                set(k, Role::kCode, static_cast<std::uint32_t>(i + 1), s.code_lang);
              } else {
                roles_[k].value_at = static_cast<std::uint32_t>(i + 1);
              }
            } else {
              takes_next = true;
            }
            break;
          }
        }
        if (!takes_next && s.guess_values && e.size() == 2 && k + 1 < to &&
            option_like(argv_[k + 1]))
          takes_next = true;
      }
      if (takes_next && k + 1 < to) {
        ++k;
        if (code) {
          set(k, Role::kCode, 0, s.code_lang);
        } else {
          set(k, Role::kData);
        }
      }
      if (code && s.code_ends_options) {
        data(k + 1, to);
        return to;
      }
    }
    return to;
  }

  void git(std::size_t from, std::size_t to) {
    OptionSpec global("Cc", kGitGlobalLong);
    global.permute = false;
    std::size_t sub = parse(from, to, global);
    if (sub >= to) return;
    set(sub, Role::kData);
    std::string_view name = argv_[sub];
    OptionSpec s("", kGitCloneLong);
    s.end_of_options = true;
    static constexpr std::string_view kRevCommands[] = {
        "log",        "show",         "whatchanged", "reflog",    "rev-list",
        "shortlog",   "format-patch", "diff",        "diff-tree", "diff-index",
        "diff-files", "range-diff",   "cherry",      "blame",     "annotate"};
    if (contains(kRevCommands, name)) {
      s.short_values = "nSGOLUlI";
      s.long_values = kGitLogLong;
    } else if (name == "clone" || name == "fetch" || name == "pull" || name == "push") {
      s.short_values = "objuosX";
    } else if (name == "grep") {
      s.short_values = "efABCm";
    } else if (name == "commit" || name == "tag" || name == "notes") {
      s.short_values = "mFcCtu";
    } else if (name == "checkout" || name == "switch" || name == "branch" || name == "worktree") {
      s.short_values = "bBcCu";
    } else if (name == "archive") {
      s.short_values = "o";
    } else if (name == "config") {
      s.short_values = "f";
    }
    parse(sub + 1, to, s);
  }

  void ssh(std::size_t from, std::size_t to) {
    OptionSpec s("BbcDEeFIiJLlmOoPpQRSWw", kNoNames);
    s.permute = false;
    std::size_t dest = parse(from, to, s);
    if (dest >= to) return;
    set(dest, Role::kData);
    // OpenSSH reads options again after the destination, up to the command.
    std::size_t cmd = (dest > from && argv_[dest - 1] == "--") ? dest + 1 : parse(dest + 1, to, s);
    for (std::size_t k = cmd; k < to; ++k) set(k, Role::kCode, 0, Lang::kPosixShell);
  }

  // GNU find: global options, start points, then the expression.
  void find(std::size_t from, std::size_t to, int depth) {
    std::size_t k = from;
    while (k < to) {
      std::string_view e = argv_[k];
      if (e == "-H" || e == "-L" || e == "-P" || (e.starts_with("-O") && e.size() <= 3)) {
        set(k++, Role::kOption, static_cast<std::uint32_t>(e.size()));
      } else if (e == "-D" && k + 1 < to) {
        set(k++, Role::kOption, 2);
        set(k++, Role::kData);
      } else {
        break;
      }
    }
    if (k < to && argv_[k] == "--") set(k++, Role::kOption, 2);
    while (k < to && !option_like(argv_[k]) && argv_[k] != "(" && argv_[k] != "!")
      set(k++, Role::kData);
    while (k < to) {
      std::string_view e = argv_[k];
      bool token = option_like(e) || e == "(" || e == ")" || e == "!" || e == ",";
      if (!token) {
        set(k++, Role::kData);
        continue;
      }
      set(k, Role::kOption, static_cast<std::uint32_t>(e.size()));
      std::string_view name = e.substr(1);
      if (name == "exec" || name == "execdir" || name == "ok" || name == "okdir") {
        std::size_t t = k + 1;
        while (t < to && argv_[t] != ";" && argv_[t] != "+") ++t;
        Family saved = family_;
        std::uint32_t saved_program = program_;
        program(k + 1, t, depth + 1);
        family_ = saved;
        program_ = saved_program;
        if (t < to) set(t, Role::kData);
        k = t + 1;
        continue;
      }
      std::size_t values = 0;
      if (name == "fprintf") {
        values = 2;
      } else if (contains(kFindOne, name) || (name.starts_with("newer") && name.size() == 7)) {
        values = 1;
      }
      ++k;
      for (std::size_t v = 0; v < values && k < to; ++v) set(k++, Role::kData);
    }
  }

  // ImageMagick: options are [-+] and a letter, anywhere; some take one or two values.
  void magick(std::size_t from, std::size_t to) {
    bool after_end = false;
    for (std::size_t k = from; k < to; ++k) {
      std::string_view e = argv_[k];
      if (after_end) {
        set(k, Role::kData);
        continue;
      }
      if (e == "--") {
        set(k, Role::kOption, 2);
        after_end = true;
        continue;
      }
      if (e.size() >= 2 && (e[0] == '-' || e[0] == '+') && common::is_alpha(e[1])) {
        set(k, Role::kOption, static_cast<std::uint32_t>(e.size()));
        if (e[0] == '-') {
          std::string_view name = e.substr(1);
          std::size_t values = contains(kMagickTwo, name) ? 2 : contains(kMagickOne, name) ? 1 : 0;
          for (std::size_t v = 0; v < values && k + 1 < to; ++v) set(++k, Role::kData);
        }
        continue;
      }
      set(k, Role::kData);
    }
  }

  // sh/bash/dash: options, then with -c the command string, else a script; then its arguments.
  void shell(std::size_t from, std::size_t to) {
    std::string_view n = basename(argv_[program_]);
    Lang lang = (n == "bash" || n == "rbash" || n == "zsh" || n == "ksh" || n == "mksh")
                    ? Lang::kBash
                    : Lang::kPosixShell;
    bool has_c = false;
    std::size_t k = from;
    for (; k < to; ++k) {
      std::string_view e = argv_[k];
      if (e == "--" || e == "-") {
        set(k++, Role::kOption, static_cast<std::uint32_t>(e.size()));
        break;
      }
      if (e.size() < 2 || (e[0] != '-' && e[0] != '+')) break;
      set(k, Role::kOption, static_cast<std::uint32_t>(e.size()));
      if (e.starts_with("--")) {
        if (contains(kShellLong, e.substr(2)) && k + 1 < to) set(++k, Role::kData);
        continue;
      }
      has_c |= e.find('c') != std::string_view::npos;
      if (e.find('o') != std::string_view::npos && k + 1 < to) set(++k, Role::kData);
    }
    if (k >= to) return;
    if (has_c) {
      set(k, Role::kCode, 0, lang);
    } else {
      set(k, Role::kData);
    }
    data(k + 1, to);
  }

  // python / perl / ruby / node / php: options (code options among them), then a script or,
  // after code, the code's arguments.
  void interpreter(std::size_t from, std::size_t to, const OptionSpec& s) {
    data(parse(from, to, s), to);  // the script (or the code's arguments) and its arguments
  }

  // env [-i] [-u NAME] [-C DIR] [-S STRING] [NAME=VALUE]... PROGRAM ARGS
  void env(std::size_t from, std::size_t to, int depth) {
    std::size_t k = from;
    for (; k < to; ++k) {
      std::string_view e = argv_[k];
      if (e == "--") {
        set(k++, Role::kOption, 2);
        break;
      }
      if (option_like(e)) {
        set(k, Role::kOption, static_cast<std::uint32_t>(e.size()));
        if (e == "-S" || e.starts_with("--split-string")) {
          if (e == "-S" && k + 1 < to) set(++k, Role::kCode, 0, Lang::kPosixShell);
          continue;
        }
        if ((e == "-u" || e == "-C" || e == "--unset" || e == "--chdir") && k + 1 < to)
          set(++k, Role::kData);
        continue;
      }
      if (e.find('=') != std::string_view::npos) {
        set(k, Role::kData);
        continue;
      }
      break;
    }
    while (k < to && argv_[k].find('=') != std::string_view::npos) set(k++, Role::kData);
    program(k, to, depth + 1);
  }

  // A wrapper that takes options (letters in `values` take a value), `operands` leading
  // operands (timeout's duration, chroot's new root), then runs a program.
  void wrapper(std::size_t from, std::size_t to, int depth, std::string_view values,
               std::size_t operands, Names long_values = kNoNames) {
    OptionSpec s(values, long_values);
    s.permute = false;
    std::size_t k = parse(from, to, s);
    for (std::size_t i = 0; i < operands && k < to; ++i) set(k++, Role::kData);
    program(k, to, depth + 1);
  }

  Argv argv_;
  std::vector<ElementRole>& roles_;
  Family family_ = Family::kGeneric;
  std::uint32_t program_ = 0;
};

// ---- code analysis (python and other interpreters) ----

struct CodeFinding {
  std::string reason;
  std::vector<TokenNote> tokens;
};

// Number of consecutive backslashes ending right before `pos`, not looking before `floor`.
std::size_t backslashes_before(std::string_view s, std::size_t pos, std::size_t floor) {
  std::size_t n = 0;
  while (pos > floor && s[pos - 1] == '\\') {
    --pos;
    ++n;
  }
  return n;
}

bool unpaired_brace(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '{' && s[i] != '}') continue;
    if (i + 1 < s.size() && s[i + 1] == s[i]) {
      ++i;
      continue;
    }
    return true;
  }
  return false;
}

// An escape sequence the input wrote that Python rejects at compile time (\x without two hex
// digits, \u / \U without four / eight, \N without {name}): the code no longer parses.
bool bad_python_escape(std::string_view code, std::uint32_t b, std::uint32_t e,
                       std::uint32_t content_begin, std::uint8_t flags) {
  if (flags & tokenize::python::kStringRaw) return false;
  bool bytes = (flags & tokenize::python::kStringBytes) != 0;
  auto hex_run = [&](std::size_t at, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k)
      if (at + k >= code.size() || !common::is_xdigit(code[at + k])) return false;
    return true;
  };
  std::size_t i = b;
  if (backslashes_before(code, b, content_begin) % 2 == 1) ++i;  // the app's escape
  for (; i < e; ++i) {
    if (code[i] != '\\') continue;
    if (i + 1 >= code.size()) return false;
    char c = code[i + 1];
    bool bad = (c == 'x' && !hex_run(i + 2, 2)) || (!bytes && c == 'u' && !hex_run(i + 2, 4)) ||
               (!bytes && c == 'U' && !hex_run(i + 2, 8)) ||
               (!bytes && c == 'N' &&
                (i + 2 >= code.size() || code[i + 2] != '{' ||
                 code.find('}', i + 3) == std::string_view::npos));
    if (bad) return true;
    ++i;  // skip the escaped byte
  }
  return false;
}

bool word_like(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return common::is_alnum(c) || c == '_' || c == '.' || static_cast<unsigned char>(c) >= 0x80;
  });
}

// Python: the input must stay inside one string literal (or be one whole name or number).
bool python_span_is_data(std::string_view code, const std::vector<tokenize::python::Token>& toks,
                         std::uint32_t b, std::uint32_t e, CodeFinding* f) {
  using tokenize::python::TokenKind;
  std::size_t t = tokenize::python::token_at(toks, b);
  if (t < toks.size()) {
    const auto& tok = toks[t];
    if (tok.kind == TokenKind::kString && b >= tok.content_begin && e <= tok.content_end &&
        !(tok.flags & tokenize::python::kStringUnterminated)) {
      // A trailing backslash escapes the application's next byte. Harmless only when that byte
      // is the second backslash of a doubled one and the literal ends right after it (careful
      // escaping); a backslash before the input's first byte is the application's escape.
      bool mid_end = backslashes_before(code, e, tok.content_begin) % 2 == 1 &&
                     !(code[e] == '\\' && tok.content_end == e + 1);
      bool fields =
          (tok.flags & tokenize::python::kStringFormat) && unpaired_brace(code.substr(b, e - b));
      bool bad_escape = bad_python_escape(code, b, e, tok.content_begin, tok.flags);
      if (!mid_end && !fields && !bad_escape) return true;
      f->reason = fields       ? "added a replacement field to the Python f-string"
                  : bad_escape ? "wrote an escape sequence Python rejects; the code no longer "
                                 "parses"
                               : "broke an escape sequence of the Python string literal";
      f->tokens.push_back(
          note_token("string", code.substr(tok.begin, tok.end - tok.begin), tok.begin, tok.end));
      return false;
    }
    if ((tok.kind == TokenKind::kName || tok.kind == TokenKind::kNumber) && b == tok.begin &&
        e == tok.end)
      return true;  // one whole name or number: the application's own code
    if (tok.kind == TokenKind::kComment && e <= tok.end) return true;
  }
  // The input crossed token boundaries: say what it did.
  bool in_string = t < toks.size() && toks[t].kind == TokenKind::kString;
  std::size_t k = t < toks.size() ? t + 1 : tokenize::python::token_at(toks, b);
  if (t >= toks.size()) {
    k = 0;
    while (k < toks.size() && toks[k].end <= b) ++k;
  }
  std::string added;
  std::size_t shown = 0;
  bool unterminated = false, extra_string = false;
  for (; k < toks.size() && toks[k].begin < e; ++k) {
    const auto& tok = toks[k];
    unterminated |= (tok.flags & tokenize::python::kStringUnterminated) != 0;
    extra_string |= tok.kind == TokenKind::kString;
    if (shown < 6) {
      std::string_view text = code.substr(tok.begin, std::min(tok.end, e) - tok.begin);
      if (tok.kind != TokenKind::kNewline) {
        if (!added.empty()) added += " ";
        added += std::string(text.substr(0, 30));
      }
      f->tokens.push_back(note_token(tok.kind == TokenKind::kString    ? "string"
                                     : tok.kind == TokenKind::kName    ? "name"
                                     : tok.kind == TokenKind::kNumber  ? "number"
                                     : tok.kind == TokenKind::kComment ? "comment"
                                     : tok.kind == TokenKind::kNewline ? "newline"
                                                                       : "operator",
                                     text, tok.begin, std::min(tok.end, e)));
      ++shown;
    }
  }
  if (t < toks.size() && (toks[t].flags & tokenize::python::kStringUnterminated))
    unterminated = true;
  std::string r = in_string ? "closed the Python string literal" : "added Python code";
  std::uint32_t from = in_string ? std::min(toks[t].end, e) : b;
  std::string shown_code = common::truncate_utf8(code.substr(from, e - from), 48);
  if (!added.empty() && !shown_code.empty())
    r += (in_string ? " and added the code '" : " '") + shown_code + "'";
  if (unterminated) {
    r += "; the code no longer parses (an unterminated string)";
  } else if (extra_string && added.empty()) {
    r += " and started another string literal";
  }
  f->reason = std::move(r);
  return false;
}

// A string literal of perl / ruby / js / php code.
struct CodeString {
  std::uint32_t begin, content_begin, content_end, end;
  char quote;
  bool terminated;
};

// Finds string literals (', ", `) and skips comments; enough to tell whether an input stays
// inside one literal. Linear.
void scan_strings(std::string_view s, Lang lang, std::vector<CodeString>* out) {
  out->clear();
  const std::uint32_t n = static_cast<std::uint32_t>(s.size());
  bool hash_comments = lang == Lang::kPerl || lang == Lang::kRuby || lang == Lang::kPhp;
  bool slash_comments = lang == Lang::kJs || lang == Lang::kPhp;
  std::uint32_t i = 0;
  while (i < n) {
    char c = s[i];
    if ((c == '#' && hash_comments) ||
        (c == '/' && slash_comments && i + 1 < n && s[i + 1] == '/')) {
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && slash_comments && i + 1 < n && s[i + 1] == '*') {
      std::size_t close = s.find("*/", i + 2);
      i = close == std::string_view::npos ? n : static_cast<std::uint32_t>(close + 2);
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      std::uint32_t j = i + 1;
      bool closed = false;
      while (j < n) {
        if (s[j] == '\\') {
          j += 2;
          continue;
        }
        if (s[j] == c) {
          closed = true;
          break;
        }
        ++j;
      }
      if (j > n) j = n;
      out->push_back(CodeString{i, i + 1, j, closed ? j + 1 : n, c, closed});
      i = closed ? j + 1 : n;
      continue;
    }
    ++i;
  }
}

// Interpolation an input would add inside a double-quoted (or backquoted) literal.
bool interpolates(std::string_view in, Lang lang, char quote) {
  if (quote == '\'') return false;
  for (std::size_t i = 0; i + 1 <= in.size(); ++i) {
    char c = in[i];
    char d = i + 1 < in.size() ? in[i + 1] : '\0';
    switch (lang) {
      case Lang::kPerl:
        if ((c == '$' || c == '@') && (common::is_alpha(d) || d == '_' || d == '{' || d == ':'))
          return true;
        break;
      case Lang::kRuby:
        if (c == '#' && (d == '{' || d == '$' || d == '@')) return true;
        break;
      case Lang::kPhp:
        if (c == '$' && (common::is_alpha(d) || d == '_' || d == '{')) return true;
        if (c == '{' && d == '$') return true;
        break;
      case Lang::kJs:
        if (quote == '`' && c == '$' && d == '{') return true;
        break;
      default:
        break;
    }
    // Backquotes run a shell command in perl, ruby and php.
    if (quote == '`' && lang != Lang::kJs &&
        std::string_view(";|&$`<>()\n").find(c) != std::string_view::npos)
      return true;
  }
  return false;
}

bool script_span_is_data(std::string_view code, Lang lang, const std::vector<CodeString>& strs,
                         std::uint32_t b, std::uint32_t e, CodeFinding* f) {
  auto it = std::upper_bound(strs.begin(), strs.end(), b,
                             [](std::uint32_t off, const CodeString& s) { return off < s.begin; });
  if (it != strs.begin()) {
    const CodeString& s = *(it - 1);
    if (b >= s.content_begin && b < s.end) {
      bool mid_end = backslashes_before(code, e, s.content_begin) % 2 == 1 &&
                     !(code[e] == '\\' && s.content_end == e + 1);
      if (s.terminated && e <= s.content_end && !mid_end) {
        if (!interpolates(code.substr(b, e - b), lang, s.quote)) return true;
        f->reason = "added interpolated code to the string literal";
        f->tokens.push_back(
            note_token("string", code.substr(s.begin, s.end - s.begin), s.begin, s.end));
        return false;
      }
      f->reason = s.terminated ? "closed the string literal and added code"
                               : "left the string literal unterminated";
      f->tokens.push_back(note_token("code", code.substr(b, e - b), b, e));
      return false;
    }
  }
  // Outside strings: one whole word of the application's code is a coincidence.
  bool left_edge = b == 0 || !(common::is_alnum(code[b - 1]) || code[b - 1] == '_');
  bool right_edge = e >= code.size() || !(common::is_alnum(code[e]) || code[e] == '_');
  if (word_like(code.substr(b, e - b)) && left_edge && right_edge) return true;
  f->reason = "added code outside any string literal";
  f->tokens.push_back(note_token("code", code.substr(b, e - b), b, e));
  return false;
}

// ---- reasons ----

struct OptionEffect {
  Family family;
  std::string_view option;  // prefix of the element
  std::string_view effect;
};
// clang-format off
constexpr OptionEffect kEffects[] = {
    {Family::kGit, "--output", "which writes its output to a file of the attacker's choosing"},
    {Family::kGit, "--upload-pack", "which runs a program"},
    {Family::kGit, "--receive-pack", "which runs a program"},
    {Family::kGit, "--exec", "which runs a program"},
    {Family::kGit, "-c", "which sets configuration such as core.sshCommand"},
    {Family::kGit, "--config", "which sets configuration such as core.sshCommand"},
    {Family::kGit, "--open-files-in-pager", "which runs a program"},
    {Family::kGit, "-O", "which runs a program"},
    {Family::kCurl, "--output", "which writes a file"},
    {Family::kCurl, "-o", "which writes a file"},
    {Family::kCurl, "-O", "which writes a file"},
    {Family::kCurl, "--config", "which reads further options from a file"},
    {Family::kCurl, "-K", "which reads further options from a file"},
    {Family::kCurl, "-T", "which uploads a local file"},
    {Family::kCurl, "--upload-file", "which uploads a local file"},
    {Family::kCurl, "-d", "which sends data (@file sends a local file)"},
    {Family::kWget, "-O", "which writes a file"},
    {Family::kWget, "--output-document", "which writes a file"},
    {Family::kWget, "-e", "which runs a wgetrc command"},
    {Family::kWget, "--execute", "which runs a wgetrc command"},
    {Family::kSsh, "-o", "which sets a client option (ProxyCommand runs a command)"},
    {Family::kSsh, "-F", "which reads a configuration file"},
    {Family::kFind, "-exec", "which runs a command"},
    {Family::kFind, "-execdir", "which runs a command"},
    {Family::kFind, "-ok", "which runs a command"},
    {Family::kFind, "-delete", "which deletes files"},
    {Family::kFind, "-fprint", "which writes a file"},
    {Family::kFind, "-fls", "which writes a file"},
    {Family::kImageMagick, "-write", "which writes a file"},
    {Family::kRsync, "-e", "which runs a program"},
    {Family::kRsync, "--rsh", "which runs a program"},
    {Family::kRsync, "--rsync-path", "which runs a program"},
    {Family::kTar, "--to-command", "which runs a program"},
    {Family::kTar, "--checkpoint-action", "which runs a program"},
    {Family::kTar, "--use-compress-program", "which runs a program"},
    {Family::kZip, "-TT", "which runs a program"},
    {Family::kZip, "--unzip-command", "which runs a program"},
    {Family::kSendmail, "-X", "which writes a log file"},
    {Family::kSendmail, "-C", "which reads another configuration"},
};
// clang-format on

std::string option_reason(Family family, std::string_view program, std::string_view element) {
  std::string_view name = element;
  std::size_t eq = name.find('=');
  if (eq != std::string_view::npos) name = name.substr(0, eq);
  if (name.size() > 40) name = name.substr(0, 40);
  std::string r;
  if (element == "--" || element == "--end-of-options") {
    r = "input is the end-of-options marker '" + std::string(element) + "', so " +
        std::string(program) + " reads the following arguments differently";
    return r;
  }
  bool expression = family == Family::kFind;
  if (element[0] == '-' || element[0] == '+') {
    r = "input begins the argument with '" + std::string(1, element[0]) + "', so " +
        std::string(program) + " parses it as " +
        (expression ? "the expression '" : "the option '") + std::string(name) + "'";
  } else {
    r = "input is the " + std::string(program) + " expression operator '" + std::string(name) + "'";
  }
  for (const OptionEffect& fx : kEffects) {
    if (fx.family != family || !name.starts_with(fx.option)) continue;
    // "-o" must not match "-oneline"; short options match as a prefix only when one letter.
    if (fx.option.size() == 2 && fx.option[1] != '-' && name.size() > 2 && name[1] != '-' &&
        family != Family::kSsh && family != Family::kCurl && family != Family::kGit)
      continue;
    r += ", " + std::string(fx.effect);
    break;
  }
  return r;
}

std::string_view lang_name(Lang lang) {
  switch (lang) {
    case Lang::kPosixShell:
    case Lang::kBash:
      return "shell command";
    case Lang::kPython:
      return "Python code";
    case Lang::kPerl:
      return "Perl code";
    case Lang::kRuby:
      return "Ruby code";
    case Lang::kJs:
      return "JavaScript code";
    case Lang::kPhp:
      return "PHP code";
    case Lang::kNone:
      break;
  }
  return "code";
}

// Per-call analysis state, reused across calls on a thread.
struct ExecScratch {
  std::vector<ElementRole> roles;
  ShellAnalysis shell;
  std::vector<tokenize::python::Token> python;
  std::vector<CodeString> strings;
  std::uint32_t analysed_element = UINT32_MAX;  // which element the code caches hold
};

}  // namespace

void detect_exec(const SinkCheck& check, std::vector<Detection>* out) {
  Argv argv = check.sink->argv;
  if (argv.empty()) return;
  thread_local ExecScratch scratch;
  scratch.analysed_element = UINT32_MAX;
  Classifier(argv, &scratch.roles).run();
  const std::size_t first_out = out->size();
  CleanSpans clean;
  for (const Occurrence& occ : check.occurrences) {
    if (occ.element >= argv.size()) continue;
    bool done = false;
    for (std::size_t k = first_out; k < out->size(); ++k) done |= (*out)[k].input == occ.input;
    std::string_view text = argv[occ.element];
    if (done || occ.end <= occ.begin || occ.end > text.size() || clean.covers(occ)) continue;
    const ElementRole& role = scratch.roles[occ.element];
    std::string_view program = basename(argv[role.program]);

    Detection d;
    d.input = occ.input;
    d.form = occ.form;
    d.element = occ.element;
    d.begin = occ.begin;
    d.end = occ.end;
    bool attack = false;

    auto option_check = [&]() {
      // The input supplies the element's first byte, which makes it an option.
      if (occ.begin != 0) return;
      attack = true;
      d.rule = "argument-injection";
      d.cwe = "CWE-88";
      d.reason = option_reason(role.family, program, text);
      d.tokens.push_back(note_token(role.family == Family::kFind ? "expression" : "option",
                                    text.substr(0, role.value_at), 0, role.value_at));
    };

    switch (role.role) {
      case Role::kData:
        break;
      case Role::kProgram: {
        bool whole = occ.begin == 0 && occ.end == text.size();
        std::string_view in = text.substr(occ.begin, occ.end - occ.begin);
        bool path_suffix = occ.end == text.size() && occ.begin > 0 && text[occ.begin - 1] == '/' &&
                           (in.find('/') != std::string_view::npos);
        if (whole || path_suffix) {
          attack = true;
          d.reason =
              "input is the program that is executed ('" + common::truncate_utf8(text, 60) + "')";
          d.tokens.push_back(
              note_token("program", text, 0, static_cast<std::uint32_t>(text.size())));
        }
        break;
      }
      case Role::kOption:
        option_check();
        break;
      case Role::kCode: {
        if (occ.begin < role.value_at) {
          option_check();
          break;
        }
        std::string_view code = text.substr(role.value_at);
        std::uint32_t b = occ.begin - role.value_at;
        std::uint32_t e = occ.end - role.value_at;
        std::string where = "input in the " + std::string(lang_name(role.lang)) + " that " +
                            std::string(program) + " runs ";
        if (role.lang == Lang::kPosixShell || role.lang == Lang::kBash) {
          if (scratch.analysed_element != occ.element) {
            scratch.shell.reset(code, role.lang == Lang::kBash ? tokenize::shell::Dialect::kBash
                                                               : tokenize::shell::Dialect::kPosix);
            scratch.analysed_element = occ.element;
          }
          ShellFinding f;
          if (!scratch.shell.span_is_data(b, e, &f)) {
            attack = true;
            d.reason = where + f.reason;
            for (auto& t : f.tokens) {
              t.begin += role.value_at;
              t.end += role.value_at;
            }
            d.tokens = std::move(f.tokens);
          }
        } else {
          CodeFinding f;
          bool data = true;
          if (role.lang == Lang::kPython) {
            if (scratch.analysed_element != occ.element) {
              tokenize::python::tokenize(code, &scratch.python);
              scratch.analysed_element = occ.element;
            }
            data = python_span_is_data(code, scratch.python, b, e, &f);
          } else {
            if (scratch.analysed_element != occ.element) {
              scan_strings(code, role.lang, &scratch.strings);
              scratch.analysed_element = occ.element;
            }
            data = script_span_is_data(code, role.lang, scratch.strings, b, e, &f);
          }
          if (!data) {
            attack = true;
            d.rule = "code-injection";
            d.cwe = "CWE-94";
            d.reason = where + f.reason;
            for (auto& t : f.tokens) {
              t.begin += role.value_at;
              t.end += role.value_at;
            }
            d.tokens = std::move(f.tokens);
          }
        }
        break;
      }
    }
    if (attack) {
      out->push_back(std::move(d));
    } else {
      clean.add(occ);
    }
  }
}

}  // namespace vigil::detect
