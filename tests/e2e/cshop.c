/* A deliberately vulnerable shop in plain C (sockets, SQLite, popen/system, open, connect): the
 * "any runtime" proof for a program built as Debian builds its packages. CMake compiles it with
 * -O2 -D_FORTIFY_SOURCE=2 -D_FILE_OFFSET_BITS=64, so that it reads requests through __recv_chk
 * and __read_chk and opens files through __open64_2 (the C library's checked entry points), not
 * read, recv and open. Same routes and answers as the Python shop (tests/agent/pyshop.py), and /fs,
 * which calls each file function the agent checks; every
 * handler builds its operation by string concatenation. One connection at a time, each closed
 * after its answer. Listens on 127.0.0.1 only; its fetcher refuses every destination that is not
 * loopback. With CERT and KEY it serves HTTPS through OpenSSL's SSL_read and SSL_write.
 *
 * usage: vigil-e2e-cshop PORT DATA_DIR [CERT KEY]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

enum { kHead = 16384, kBody = 65536, kOut = 131072 };

static char g_data[1024];
static char g_db[1200];
/* Set at run time (as servers read them from their configuration), so that the compiler cannot
 * prove them safe: recv() and read() into a buffer of known size with g_read_size are then
 * __recv_chk and __read_chk, open() with g_open_flags is __open64_2. */
enum { kChunk = 4096 };
static size_t g_read_size = kChunk;
static int g_open_flags = O_RDONLY;
static volatile sig_atomic_t g_stop = 0;
static SSL* g_tls = NULL; /* the connection's TLS session, when serving HTTPS */

static void on_term(int sig) {
  (void)sig;
  g_stop = 1;
}

/* A growing text, bounded (a longer answer is cut). */
struct text {
  char bytes[kOut];
  size_t size;
};

static void add(struct text* t, const char* s, size_t n) {
  if (n > sizeof t->bytes - t->size) n = sizeof t->bytes - t->size;
  memcpy(t->bytes + t->size, s, n);
  t->size += n;
}

static void adds(struct text* t, const char* s) { add(t, s, strlen(s)); }

static void addf(struct text* t, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  int n = vsnprintf(t->bytes + t->size, sizeof t->bytes - t->size, format, ap);
  va_end(ap);
  if (n > 0) t->size += (size_t)n < sizeof t->bytes - t->size ? (size_t)n : sizeof t->bytes - t->size - 1;
}

/* The header block with send(), the body with write(), as many servers do. */
static void reply_with(int fd, int code, const char* type, const char* extra, const char* body,
                       size_t n) {
  struct text* head = malloc(sizeof *head);
  if (head == NULL) return;
  head->size = 0;
  const char* reason = code == 200 ? "OK" : code == 302 ? "Found" : code == 400 ? "Bad Request"
                     : code == 401 ? "Unauthorized" : code == 404 ? "Not Found"
                     : code == 502 ? "Bad Gateway" : "Internal Server Error";
  addf(head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n",
       code, reason, type, n);
  if (extra != NULL) adds(head, extra); /* no CR/LF check: header injection on purpose */
  adds(head, "\r\n");
  if (g_tls != NULL) {
    if (SSL_write(g_tls, head->bytes, (int)head->size) > 0 && n > 0) SSL_write(g_tls, body, (int)n);
  } else if (send(fd, head->bytes, head->size, MSG_NOSIGNAL) >= 0 && n > 0) {
    ssize_t w = write(fd, body, n);
    (void)w;
  }
  free(head);
}

static void reply(int fd, int code, const char* body) {
  reply_with(fd, code, "text/plain; charset=utf-8", NULL, body, strlen(body));
}

/* Percent-decoding, '+' as a space (a query or a form). */
static void url_decode(const char* in, size_t n, char* out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < cap; ++i) {
    if (in[i] == '+') {
      out[o++] = ' ';
    } else if (in[i] == '%' && i + 2 < n && isxdigit((unsigned char)in[i + 1]) &&
               isxdigit((unsigned char)in[i + 2])) {
      char hex[3] = {in[i + 1], in[i + 2], 0};
      out[o++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      out[o++] = in[i];
    }
  }
  out[o] = 0;
}

/* The decoded value of `name` in a query or form, or `fallback` when absent. */
static const char* param(const char* query, const char* name, const char* fallback, char* out,
                         size_t cap) {
  size_t len = strlen(name);
  for (const char* p = query; p != NULL && *p;) {
    const char* end = strchr(p, '&');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n >= len && strncmp(p, name, len) == 0 && (n == len || p[len] == '=')) {
      const char* v = n == len ? p + n : p + len + 1;
      url_decode(v, (size_t)(p + n - v), out, cap);
      return out;
    }
    p = end ? end + 1 : NULL;
  }
  snprintf(out, cap, "%s", fallback);
  return out;
}

/* Runs a query; its rows as JSON arrays of strings. False (and the error) on failure. */
static int query_json(const char* sql, struct text* out, char* error, size_t cap) {
  sqlite3* db = NULL;
  if (sqlite3_open(g_db, &db) != SQLITE_OK) {
    snprintf(error, cap, "%s", db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return 0;
  }
  sqlite3_stmt* stmt = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    snprintf(error, cap, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return 0;
  }
  adds(out, "[");
  int rows = 0, rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    adds(out, rows++ ? ",[" : "[");
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const unsigned char* v = sqlite3_column_text(stmt, c);
      addf(out, "%s\"%s\"", c ? "," : "", v ? (const char*)v : "");
    }
    adds(out, "]");
  }
  adds(out, "]\n");
  int ok = rc == SQLITE_DONE;
  if (!ok) snprintf(error, cap, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return ok ? (rows ? 1 : 2) : 0;
}

static void rows_route(int fd, const char* sql, const char* failed, const char* none) {
  struct text* out = malloc(sizeof *out);
  if (out == NULL) return reply(fd, 500, "out of memory\n");
  out->size = 0;
  char error[512], msg[700];
  int r = query_json(sql, out, error, sizeof error);
  if (r == 0) {
    snprintf(msg, sizeof msg, "%s failed: %s\n", failed, error);
    reply(fd, 500, msg);
  } else if (r == 2 && none != NULL) {
    reply(fd, 404, none);
  } else {
    reply_with(fd, 200, "application/json", NULL, out->bytes, out->size);
  }
  free(out);
}

static void ping(int fd, const char* query) {
  char host[2048], mode[64], cmd[4096];
  param(query, "host", "127.0.0.1", host, sizeof host);
  param(query, "mode", "", mode, sizeof mode);
  if (strcmp(mode, "quiet") == 0) {
    snprintf(cmd, sizeof cmd, "ping -c 1 -W 1 -q %s >/dev/null 2>&1", host);
    int rc = system(cmd);
    char msg[2100];
    snprintf(msg, sizeof msg, "%s%s", host, rc == 0 ? " is up\n" : " did not answer\n");
    return reply(fd, 200, msg);
  }
  snprintf(cmd, sizeof cmd, "ping -c 1 -W 1 -q %s 2>&1", host);
  FILE* p = popen(cmd, "r");
  if (p == NULL) return reply(fd, 500, "cannot run ping\n");
  struct text* out = malloc(sizeof *out);
  if (out == NULL) {
    pclose(p);
    return reply(fd, 500, "out of memory\n");
  }
  out->size = 0;
  char line[1024];
  /* Timings differ run to run: the answer keeps what ping found, not how fast. */
  while (fgets(line, sizeof line, p) != NULL) {
    if (strncmp(line, "rtt ", 4) == 0) continue;
    char* t = strstr(line, ", time ");
    if (t != NULL) strcpy(t, "\n");
    adds(out, line);
  }
  pclose(p);
  reply_with(fd, 200, "text/plain; charset=utf-8", NULL, out->bytes, out->size);
  free(out);
}

/* A file's bytes as the answer (open: __open64_2 in this build). */
static void send_file(int fd, const char* path, int code_missing, const char* prefix) {
  int f = open(path, g_open_flags);
  if (f < 0) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s%s\n", prefix, strerror(errno));
    return reply(fd, code_missing, msg);
  }
  struct text* out = malloc(sizeof *out);
  if (out == NULL) {
    close(f);
    return reply(fd, 500, "out of memory\n");
  }
  out->size = 0;
  ssize_t r;
  char chunk[4096];
  while ((r = read(f, chunk, sizeof chunk)) > 0) add(out, chunk, (size_t)r);
  close(f);
  reply_with(fd, 200, "application/octet-stream", NULL, out->bytes, out->size);
  free(out);
}

/* GET http://host[:port]/path on loopback only; the body of the answer. */
static void fetch(int fd, const char* query) {
  char url[2048];
  param(query, "url", "", url, sizeof url);
  if (url[0] == 0) return reply(fd, 400, "give a url\n");
  if (strncmp(url, "file://", 7) == 0) return send_file(fd, url + 7, 502, "cannot fetch: ");
  if (strncmp(url, "http://", 7) != 0) return reply(fd, 400, "http: and file: URLs only\n");
  char host[256] = "", port[16] = "80";
  const char* h = url + 7;
  size_t hn = strcspn(h, ":/?#");
  if (hn >= sizeof host) return reply(fd, 400, "bad url\n");
  memcpy(host, h, hn);
  host[hn] = 0;
  const char* rest = h + hn;
  if (*rest == ':') {
    size_t pn = strcspn(rest + 1, "/?#");
    if (pn >= sizeof port) return reply(fd, 400, "bad url\n");
    memcpy(port, rest + 1, pn);
    port[pn] = 0;
    rest += 1 + pn;
  }
  const char* path = *rest ? rest : "/";
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
    return reply(fd, 502, "cannot fetch: no such host\n");
  for (struct addrinfo* a = res; a != NULL; a = a->ai_next) {
    int loopback = (a->ai_family == AF_INET &&
                    (ntohl(((struct sockaddr_in*)a->ai_addr)->sin_addr.s_addr) >> 24) == 127) ||
                   (a->ai_family == AF_INET6 &&
                    IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6*)a->ai_addr)->sin6_addr));
    if (!loopback) {
      freeaddrinfo(res);
      return reply(fd, 400, "this demo fetches loopback addresses only\n");
    }
  }
  int s = socket(res->ai_family, SOCK_STREAM, 0);
  struct timeval tv = {2, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (s < 0 || connect(s, res->ai_addr, res->ai_addrlen) != 0) {
    if (s >= 0) close(s);
    freeaddrinfo(res);
    return reply(fd, 502, "cannot fetch: connection failed\n");
  }
  freeaddrinfo(res);
  char request[2600];
  int rn = snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
  struct text* out = malloc(sizeof *out);
  if (out == NULL || send(s, request, (size_t)rn, MSG_NOSIGNAL) < 0) {
    free(out);
    close(s);
    return reply(fd, 502, "cannot fetch: send failed\n");
  }
  out->size = 0;
  ssize_t r;
  char chunk[4096];
  while ((r = recv(s, chunk, sizeof chunk, 0)) > 0) add(out, chunk, (size_t)r);
  close(s);
  char* body = memmem(out->bytes, out->size, "\r\n\r\n", 4);
  size_t skip = body ? (size_t)(body - out->bytes) + 4 : out->size;
  reply_with(fd, 200, "text/plain; charset=utf-8", NULL, out->bytes + skip, out->size - skip);
  free(out);
}

static int by_name(const void* x, const void* y) {
  return strcmp(*(const char* const*)x, *(const char* const*)y);
}

/* The names in a folder, sorted, one per line (opendir). */
static void list(int fd, const char* dir) {
  DIR* d = opendir(dir);
  if (d == NULL) {
    char msg[300];
    snprintf(msg, sizeof msg, "cannot list: %s\n", strerror(errno));
    return reply(fd, 404, msg);
  }
  char* names[512];
  size_t n = 0;
  for (struct dirent* e; n < 512 && (e = readdir(d)) != NULL;)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], by_name);
  struct text* out = malloc(sizeof *out);
  if (out != NULL) {
    out->size = 0;
    for (size_t i = 0; i < n; ++i) {
      adds(out, names[i]);
      adds(out, "\n");
    }
    reply_with(fd, 200, "text/plain; charset=utf-8", NULL, out->bytes, out->size);
    free(out);
  }
  for (size_t i = 0; i < n; ++i) free(names[i]);
}

/* /fs?op=NAME&file=F: the file function NAME on files/F, so that the battery reaches every path
 * function the agent checks (open, remove, rename...; /download, /delete and /list reach open,
 * unlink and opendir). Answers "ok" or the error. A function of two paths gets F in one of them
 * and a file that does not exist in the other. */
static void fs_op(int fd, const char* query) {
  char a[2048], op[32], p[3200], none[1100], b[3400];
  snprintf(p, sizeof p, "%s/files/%s", g_data, param(query, "file", "", a, sizeof a));
  snprintf(none, sizeof none, "%s/files/vigil-no-such-file", g_data);
  param(query, "op", "", op, sizeof op);
  int r = -1, fd2 = -1;
  FILE* f = NULL;
  if (strcmp(op, "open") == 0) fd2 = open(p, O_RDONLY);
  else if (strcmp(op, "openat") == 0) fd2 = openat(AT_FDCWD, p, O_RDONLY);
  else if (strcmp(op, "creat") == 0) fd2 = creat(p, 0600);
  else if (strcmp(op, "fopen") == 0) r = (f = fopen(p, "r")) != NULL ? 0 : -1;
  else if (strcmp(op, "unlinkat") == 0) r = unlinkat(AT_FDCWD, p, 0);
  else if (strcmp(op, "remove") == 0) r = remove(p);
  else if (strcmp(op, "mkdir") == 0) r = mkdir(p, 0700);
  else if (strcmp(op, "mkdirat") == 0) r = mkdirat(AT_FDCWD, p, 0700);
  else if (strcmp(op, "rmdir") == 0) r = rmdir(p);
  else if (strcmp(op, "truncate") == 0) r = truncate(p, 0);
  else if (strcmp(op, "rename") == 0) r = rename(none, p);
  else if (strcmp(op, "renameat") == 0) r = renameat(AT_FDCWD, p, AT_FDCWD, none);
  else if (strcmp(op, "renameat2") == 0) r = renameat2(AT_FDCWD, none, AT_FDCWD, p, 0);
  else if (strcmp(op, "link") == 0) r = link(none, p);
  else if (strcmp(op, "symlink") == 0) r = symlink("vigil-no-such-file", p);
  else return reply(fd, 404, "no such operation\n");
  if (fd2 >= 0) close(fd2), r = 0;
  if (f != NULL) fclose(f);
  if (r == 0) return reply(fd, 200, "ok\n");
  snprintf(b, sizeof b, "%s: %s\n", op, strerror(errno));
  reply(fd, 404, b);
}

static void route_get(int fd, const char* path, const char* query) {
  char a[2048], b[2048], text[4600];
  if (strcmp(path, "/search") == 0) {
    snprintf(text, sizeof text,
             "SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%%%s%%' ORDER BY id",
             param(query, "q", "", a, sizeof a));
    rows_route(fd, text, "search", NULL);
  } else if (strcmp(path, "/product") == 0) {
    snprintf(text, sizeof text, "SELECT name, price FROM products WHERE visible = 1 AND id = %s",
             param(query, "id", "", a, sizeof a));
    rows_route(fd, text, "lookup", "no such product\n");
  } else if (strcmp(path, "/ping") == 0) {
    ping(fd, query);
  } else if (strcmp(path, "/download") == 0) {
    snprintf(text, sizeof text, "%s/files/%s", g_data, param(query, "file", "", a, sizeof a));
    send_file(fd, text, 404, "cannot open file: ");
  } else if (strcmp(path, "/fetch") == 0) {
    fetch(fd, query);
  } else if (strcmp(path, "/delete") == 0) {
    snprintf(text, sizeof text, "%s/files/%s", g_data, param(query, "file", "", a, sizeof a));
    if (unlink(text) == 0) return reply(fd, 200, "deleted\n");
    snprintf(b, sizeof b, "cannot delete: %s\n", strerror(errno));
    reply(fd, 404, b);
  } else if (strcmp(path, "/fs") == 0) {
    fs_op(fd, query);
  } else if (strcmp(path, "/list") == 0) {
    snprintf(text, sizeof text, "%s/files/%s", g_data, param(query, "dir", ".", a, sizeof a));
    list(fd, text);
  } else if (strcmp(path, "/hello") == 0) {
    snprintf(text, sizeof text, "<!DOCTYPE html><html><body><p>Hello, %s!</p></body></html>\n",
             param(query, "name", "guest", a, sizeof a));
    reply_with(fd, 200, "text/html; charset=utf-8", NULL, text, strlen(text));
  } else if (strcmp(path, "/go") == 0) {
    snprintf(b, sizeof b, "Location: %s\r\n", param(query, "to", "/", a, sizeof a));
    reply_with(fd, 302, "text/plain; charset=utf-8", b, "", 0);
  } else if (strcmp(path, "/lang") == 0) {
    snprintf(b, sizeof b, "Set-Cookie: lang=%s; Path=/\r\n", param(query, "set", "en", a, sizeof a));
    reply_with(fd, 200, "text/plain; charset=utf-8", b, "language set\n", 13);
  } else if (strcmp(path, "/internal/config") == 0) {
    reply(fd, 200, "db_password=hunter2\napi_key=demo-internal-key\n");
  } else if (strcmp(path, "/") == 0) {
    const char* home = "<!DOCTYPE html><html><body><h1>Vigil demo shop (C)</h1></body></html>\n";
    reply_with(fd, 200, "text/html; charset=utf-8", NULL, home, strlen(home));
  } else {
    reply(fd, 404, "not found\n");
  }
}

static void route_post(int fd, const char* path, const char* form) {
  if (strcmp(path, "/login") != 0) return reply(fd, 404, "not found\n");
  char user[2048], pass[2048], sql[4300];
  snprintf(sql, sizeof sql, "SELECT name FROM users WHERE name = '%s' AND password = '%s'",
           param(form, "user", "", user, sizeof user), param(form, "pass", "", pass, sizeof pass));
  struct text* out = malloc(sizeof *out);
  if (out == NULL) return reply(fd, 500, "out of memory\n");
  out->size = 0;
  adds(out, "welcome ");
  char error[512], msg[700];
  int r = query_json(sql, out, error, sizeof error);
  if (r == 0) {
    snprintf(msg, sizeof msg, "login failed: %s\n", error);
    reply(fd, 500, msg);
  } else if (r == 2) {
    reply(fd, 401, "invalid credentials\n");
  } else {
    reply_with(fd, 200, "text/plain; charset=utf-8", NULL, out->bytes, out->size);
  }
  free(out);
}

/* One connection: the request head with recv() (__recv_chk: the buffer's size is known, the
 * length is not), a body with read() (__read_chk), the answer, then close. */
static void serve(int fd) {
  char head[kHead], chunk[kChunk];
  size_t used = 0;
  char* end = NULL;
  while (end == NULL && used < sizeof head - 1) {
    ssize_t r = g_tls ? SSL_read(g_tls, chunk, (int)g_read_size) : recv(fd, chunk, g_read_size, 0);
    if (r <= 0) return;
    if ((size_t)r > sizeof head - 1 - used) return reply(fd, 400, "request head too large\n");
    memcpy(head + used, chunk, (size_t)r);
    used += (size_t)r;
    head[used] = 0;
    end = strstr(head, "\r\n\r\n");
  }
  if (end == NULL) return reply(fd, 400, "request head too large\n");
  size_t head_size = (size_t)(end - head) + 4;
  char method[16], target[8192];
  if (sscanf(head, "%15s %8191s", method, target) != 2) return reply(fd, 400, "bad request\n");
  static char body[kBody + 1];
  size_t body_size = used - head_size, want = 0;
  memcpy(body, head + head_size, body_size);
  const char* cl = strcasestr(head, "\r\nContent-Length:");
  if (cl != NULL && cl < end) want = strtoul(cl + 17, NULL, 10);
  if (want > kBody) return reply(fd, 400, "body too large\n");
  while (body_size < want) {
    ssize_t r = g_tls ? SSL_read(g_tls, chunk, (int)g_read_size) : read(fd, chunk, g_read_size);
    if (r <= 0) return;
    if ((size_t)r > want - body_size) return reply(fd, 400, "body longer than its length\n");
    memcpy(body + body_size, chunk, (size_t)r);
    body_size += (size_t)r;
  }
  body[body_size < want ? body_size : want] = 0;
  char* query = strchr(target, '?');
  if (query != NULL) *query++ = 0;
  if (strcmp(method, "POST") == 0) return route_post(fd, target, body);
  route_get(fd, target, query ? query : "");
}

static int init(const char* data) {
  snprintf(g_data, sizeof g_data, "%s", data);
  snprintf(g_db, sizeof g_db, "%s/shop.db", data);
  char dir[1100];
  snprintf(dir, sizeof dir, "%s/files", data);
  mkdir(data, 0755);
  mkdir(dir, 0755);
  sqlite3* db = NULL;
  if (sqlite3_open(g_db, &db) != SQLITE_OK) return 0;
  int ok = sqlite3_exec(db,
      "DROP TABLE IF EXISTS products; DROP TABLE IF EXISTS users;"
      "CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL, visible INTEGER);"
      "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, password TEXT);"
      "INSERT INTO products(name, price, visible) VALUES ('desk lamp', 29.9, 1), ('chair', 79.0, 1),"
      "  ('lamp shade', 9.5, 1), ('secret prototype', 999.0, 0);"
      "INSERT INTO users(name, password) VALUES ('alice', 'wonderland'), ('bob', 'builder');",
      NULL, NULL, NULL) == SQLITE_OK;
  sqlite3_close(db);
  const char* files[][2] = {{"manual.txt", "How to assemble the desk lamp: screw the shade on.\n"},
                            {"terms.txt", "Terms: be nice.\n"}};
  for (int i = 0; i < 2 && ok; ++i) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
    FILE* f = fopen(path, "w");
    ok = f != NULL && fputs(files[i][1], f) >= 0;
    if (f != NULL) fclose(f);
  }
  return ok;
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    fprintf(stderr, "usage: %s PORT DATA_DIR [CERT KEY]\n", argv[0]);
    return 2;
  }
  SSL_CTX* tls = NULL;
  if (argc == 5) {
    tls = SSL_CTX_new(TLS_server_method());
    if (tls == NULL || SSL_CTX_use_certificate_chain_file(tls, argv[3]) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls, argv[4], SSL_FILETYPE_PEM) != 1) {
      fprintf(stderr, "cshop: cannot load %s and %s\n", argv[3], argv[4]);
      return 1;
    }
  }
  if (!init(argv[2])) {
    fprintf(stderr, "cshop: cannot set up %s\n", argv[2]);
    return 1;
  }
  g_open_flags = O_RDONLY | (getenv("CSHOP_NOFOLLOW") ? O_NOFOLLOW : 0);
  const char* size = getenv("CSHOP_READ_SIZE");
  if (size != NULL && atoi(size) > 0 && (size_t)atoi(size) <= kChunk) g_read_size = (size_t)atoi(size);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term; /* no SA_RESTART: accept() returns EINTR and the loop ends */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(s, 64) != 0) {
    perror("cshop: listen");
    return 1;
  }
  printf("cshop: listening on %s://127.0.0.1:%s/\n", tls ? "https" : "http", argv[1]);
  fflush(stdout);
  while (!g_stop) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    struct timeval tv = {5, 0}; /* a client that stalls does not stall the shop */
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (tls != NULL) {
      g_tls = SSL_new(tls);
      if (g_tls != NULL && SSL_set_fd(g_tls, c) == 1 && SSL_accept(g_tls) == 1) {
        serve(c);
        SSL_shutdown(g_tls);
      }
      SSL_free(g_tls);
      g_tls = NULL;
    } else {
      serve(c);
    }
    close(c);
  }
  close(s);
  SSL_CTX_free(tls);
  return 0;
}
