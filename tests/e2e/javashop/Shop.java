// A deliberately vulnerable shop in plain Java (com.sun.net.httpserver, JDBC through Debian's
// xerial sqlite-jdbc, ProcessBuilder, java.nio.file, HttpURLConnection): the "any runtime" proof
// for the agent on the JVM. Same routes as the Python shop (tests/agent/pyshop.py); every
// handler builds its operation by string concatenation. Listens on 127.0.0.1 only; its fetcher
// refuses every destination that is not loopback.
//
// The JVM starts every process through a launcher (posix_spawn of jspawnhelper, which reads the
// command from a pipe): the agent hands its requests to the launcher's agent, which checks the
// command there (src/agent/handoff.hpp).
//
// usage: java -cp CLASSES:sqlite-jdbc.jar Shop PORT DATA_DIR
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

public class Shop {
  static String data;
  static String db;

  static Map<String, String> params(String raw) {
    Map<String, String> m = new HashMap<>();
    if (raw == null || raw.isEmpty()) return m;
    for (String kv : raw.split("&")) {
      int i = kv.indexOf('=');
      String k = i < 0 ? kv : kv.substring(0, i);
      String v = i < 0 ? "" : kv.substring(i + 1);
      m.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return m;
  }

  static void reply(HttpExchange ex, int code, byte[] body, String type, String... headers) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    for (int i = 0; i + 1 < headers.length; i += 2) ex.getResponseHeaders().add(headers[i], headers[i + 1]);
    ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
    try (OutputStream o = ex.getResponseBody()) {
      o.write(body);
    }
  }

  static void reply(HttpExchange ex, int code, String body, String type, String... headers) throws IOException {
    reply(ex, code, body.getBytes(StandardCharsets.UTF_8), type, headers);
  }

  static void text(HttpExchange ex, int code, String body) throws IOException {
    reply(ex, code, body, "text/plain; charset=utf-8");
  }

  static String json(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  static List<List<String>> query(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
         Statement st = c.createStatement();
         ResultSet rs = st.executeQuery(sql)) {
      List<List<String>> rows = new ArrayList<>();
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= n; ++i) {
          Object o = rs.getObject(i);
          row.add(o instanceof String ? json((String) o) : String.valueOf(o));
        }
        rows.add(row);
      }
      return rows;
    }
  }

  static String rowsJson(List<List<String>> rows) {
    List<String> out = new ArrayList<>();
    for (List<String> r : rows) out.add("[" + String.join(",", r) + "]");
    return "[" + String.join(",", out) + "]\n";
  }

  static void initDb() throws Exception {
    Files.createDirectories(Paths.get(data, "files"));
    Files.deleteIfExists(Paths.get(db));
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
         Statement st = c.createStatement()) {
      st.executeUpdate("CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL, visible INTEGER)");
      st.executeUpdate("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, password TEXT)");
      st.executeUpdate("INSERT INTO products(name, price, visible) VALUES ('desk lamp', 29.9, 1), "
          + "('chair', 79.0, 1), ('lamp shade', 9.5, 1), ('secret prototype', 999.0, 0)");
      st.executeUpdate("INSERT INTO users(name, password) VALUES ('alice', 'wonderland'), ('bob', 'builder')");
    }
    Files.writeString(Paths.get(data, "files", "manual.txt"), "How to assemble the desk lamp: screw the shade on.\n");
    Files.writeString(Paths.get(data, "files", "terms.txt"), "Terms: be nice.\n");
  }

  // Runs `sh -c command` and returns what it printed and its exit status.
  static String[] shell(String command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new String[] {out, String.valueOf(p.waitFor())};
  }

  static void fetch(HttpExchange ex, String target) throws IOException {
    if (target.startsWith("file://")) {
      try {
        reply(ex, 200, Files.readAllBytes(Paths.get(target.substring(7))), "text/plain; charset=utf-8");
      } catch (IOException e) {
        text(ex, 404, "cannot open: " + e.getClass().getSimpleName() + "\n");
      }
      return;
    }
    if (!target.startsWith("http://")) {
      text(ex, 400, "http: and file: URLs only\n");
      return;
    }
    URL url;
    try {
      url = new URI(target).toURL();
    } catch (Exception e) {
      text(ex, 400, "bad url\n");
      return;
    }
    String host = url.getHost().replaceAll("^\\[|\\]$", "");
    try {
      for (InetAddress a : InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          text(ex, 400, "this demo fetches loopback addresses only\n");
          return;
        }
      }
    } catch (IOException e) {
      text(ex, 502, "cannot resolve " + host + "\n");
      return;
    }
    try {
      HttpURLConnection c = (HttpURLConnection) url.openConnection();
      c.setConnectTimeout(2000);
      c.setReadTimeout(2000);
      try (InputStream in = c.getInputStream()) {
        reply(ex, 200, in.readNBytes(65536), "text/plain; charset=utf-8");
      }
    } catch (IOException e) {
      text(ex, 502, "cannot fetch: " + e.getClass().getSimpleName() + "\n");
    }
  }

  static void handle(HttpExchange ex) throws Exception {
    URI uri = ex.getRequestURI();
    String path = uri.getPath();
    if (ex.getRequestMethod().equals("POST")) {
      Map<String, String> form = params(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      if (!path.equals("/login")) {
        text(ex, 404, "not found\n");
        return;
      }
      List<List<String>> rows;
      try {
        rows = query("SELECT name FROM users WHERE name = '" + form.getOrDefault("user", "")
            + "' AND password = '" + form.getOrDefault("pass", "") + "'");
      } catch (SQLException e) {
        text(ex, 500, "login failed\n");
        return;
      }
      if (rows.isEmpty()) text(ex, 401, "invalid credentials\n");
      else text(ex, 200, "welcome " + rowsJson(rows));
      return;
    }
    Map<String, String> q = params(uri.getRawQuery());
    switch (path) {
      case "/": {
        // Links to the routes, as the C++ and PHP shops have: what a crawler (wapiti) follows.
        reply(ex, 200, "<!DOCTYPE html><html><head><title>Vigil demo shop</title></head><body>"
            + "<h1>Vigil demo shop (Java)</h1><p>Deliberately vulnerable. Try: "
            + "<a href=\"/search?q=lamp\">search</a>, <a href=\"/product?id=1\">product</a>, "
            + "<a href=\"/hello?name=Ada\">hello</a>, <a href=\"/ping?host=127.0.0.1\">ping</a>, "
            + "<a href=\"/download?file=manual.txt\">download</a>, <a href=\"/go?to=/\">go</a>.</p>"
            + "<form method=\"post\" action=\"/login\"><input name=\"user\"><input name=\"pass\" "
            + "type=\"password\"><button>log in</button></form></body></html>\n", "text/html; charset=utf-8");
        return;
      }
      case "/search": {
        try {
          reply(ex, 200, rowsJson(query("SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%"
              + q.getOrDefault("q", "") + "%' ORDER BY id")), "application/json");
        } catch (SQLException e) {
          text(ex, 500, "search failed\n");
        }
        return;
      }
      case "/product": {
        List<List<String>> rows;
        try {
          rows = query("SELECT name, price FROM products WHERE visible = 1 AND id = " + q.getOrDefault("id", ""));
        } catch (SQLException e) {
          text(ex, 500, "lookup failed\n");
          return;
        }
        if (rows.isEmpty()) text(ex, 404, "no such product\n");
        else reply(ex, 200, rowsJson(rows), "application/json");
        return;
      }
      case "/ping": {
        String host = q.getOrDefault("host", "127.0.0.1");
        if ("quiet".equals(q.get("mode"))) {
          String[] r = shell("ping -c 1 -W 1 -q " + host + " >/dev/null 2>&1");
          text(ex, 200, host + (r[1].equals("0") ? " is up\n" : " did not answer\n"));
          return;
        }
        String[] r = shell("ping -c 1 -W 1 -q " + host + " 2>&1");
        // Timings differ run to run: the answer keeps what ping found, not how fast.
        StringBuilder kept = new StringBuilder();
        for (String line : r[0].split("(?<=\n)")) {
          if (!line.startsWith("rtt ")) kept.append(line.replaceAll(", time .*", ""));
        }
        text(ex, 200, kept.toString());
        return;
      }
      case "/download": {
        try {
          reply(ex, 200, Files.readAllBytes(Paths.get(data + "/files/" + q.getOrDefault("file", ""))),
              "application/octet-stream");
        } catch (IOException e) {
          text(ex, 404, "cannot open file: " + e.getClass().getSimpleName() + "\n");
        }
        return;
      }
      case "/delete": {
        try {
          Files.delete(Paths.get(data + "/files/" + q.getOrDefault("file", "")));
          text(ex, 200, "deleted\n");
        } catch (IOException e) {
          text(ex, 404, "cannot delete: " + e.getClass().getSimpleName() + "\n");
        }
        return;
      }
      case "/list": {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Paths.get(data + "/files/" + q.getOrDefault("dir", ".")))) {
          for (Path p : dir) names.add(p.getFileName().toString());
        } catch (IOException e) {
          text(ex, 404, "cannot list: " + e.getClass().getSimpleName() + "\n");
          return;
        }
        Collections.sort(names);
        StringBuilder out = new StringBuilder();
        for (String n : names) out.append(n).append('\n');
        text(ex, 200, out.toString());
        return;
      }
      case "/fetch": {
        String target = q.getOrDefault("url", "");
        if (target.isEmpty()) text(ex, 400, "give a url\n");
        else fetch(ex, target);
        return;
      }
      case "/hello": {
        reply(ex, 200, "<!DOCTYPE html><html><body><p>Hello, " + q.getOrDefault("name", "guest")
            + "!</p></body></html>\n", "text/html; charset=utf-8");
        return;
      }
      case "/go": {
        ex.getResponseHeaders().set("Location", q.getOrDefault("to", "/"));
        ex.sendResponseHeaders(302, -1);
        ex.close();
        return;
      }
      case "/lang": {
        // The JDK refuses CR/LF in header values (IllegalArgumentException): answered 500 below.
        reply(ex, 200, "language set\n", "text/plain; charset=utf-8", "Set-Cookie",
            "lang=" + q.getOrDefault("set", "en") + "; Path=/");
        return;
      }
      case "/internal/config": {
        text(ex, 200, "db_password=hunter2\napi_key=demo-internal-key\n");
        return;
      }
      default:
        text(ex, 404, "not found\n");
    }
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    data = args[1];
    db = data + "/shop.db";
    initDb();
    serve(port, Shop::handle);
    System.out.println("javashop: listening on http://127.0.0.1:" + port + "/");
  }

  interface Handler {
    void handle(HttpExchange ex) throws Exception;
  }

  // Serves `handler` on 127.0.0.1:port from eight threads; what it throws is the application's
  // own error answer, a 500 (DbShop serves through it too).
  static void serve(int port, Handler handler) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
    server.createContext("/", ex -> {
      try {
        handler.handle(ex);
      } catch (Exception e) {
        try {
          text(ex, 500, "error: " + e.getClass().getSimpleName() + ": " + e.getMessage() + "\n");
        } catch (IOException ignored) {
          ex.close();
        }
      }
    });
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.start();
  }
}
