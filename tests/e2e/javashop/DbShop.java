// A deliberately vulnerable shop on PostgreSQL or MariaDB, in Java: its SQL goes through JDBC
// drivers that speak the database's protocol themselves (pgjdbc, MariaDB Connector/J: Debian's
// libpostgresql-jdbc-java, libmariadb-java), as tests/e2e/dbshop.py's pg8000 and PyMySQL do.
// Every query is built by string concatenation. Listens on 127.0.0.1 only.
//
//   /search?q=    one connection opened at startup, before the first request (the agent starts
//                 at the first accepted connection: it joins that stream late); a broken
//                 connection is replaced and the query tried once more, as a pool does
//   /product?id=  a connection per request (followed from its first bytes)
//   /user?name=   on the shared connection, through a PreparedStatement whose text is built by
//                 concatenation: pgjdbc keeps a text it ran five times as a named statement on
//                 the server, and then sends only Bind to run it again
//
// Serves and answers through Shop's helpers (compiled with it).
//
// usage: java -cp CLASSES:postgresql.jar:mariadb-java-client.jar DbShop PORT pg|mysql DB_PORT DATABASE
import com.sun.net.httpserver.HttpExchange;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

public class DbShop {
  static String url;
  static String search;
  static String price;
  static Connection shared;

  static Connection connect() throws SQLException {
    return DriverManager.getConnection(url);
  }

  static String run(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      return rows(rs);
    }
  }

  static synchronized String runPrepared(String sql) throws SQLException {
    try (PreparedStatement st = shared.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
      return rows(rs);
    }
  }

  static String rows(ResultSet rs) throws SQLException {
    List<String> rows = new ArrayList<>();
    int n = rs.getMetaData().getColumnCount();
    while (rs.next()) {
      List<String> row = new ArrayList<>();
      for (int i = 1; i <= n; ++i) row.add("\"" + rs.getString(i).replace("\"", "\\\"") + "\"");
      rows.add("[" + String.join(", ", row) + "]");
    }
    return "[" + String.join(", ", rows) + "]\n";
  }

  static synchronized String runShared(String sql) throws SQLException {
    for (int attempt = 1; ; ++attempt) {
      try {
        return run(shared, sql);
      } catch (SQLException e) {
        // The server refused the statement on a working connection: the application's error.
        if (shared.isValid(2) || attempt == 2) throw e;
        try {
          shared.close();
        } catch (SQLException ignored) {
        }
        shared = connect();
      }
    }
  }

  static void handle(HttpExchange ex) throws Exception {
    Map<String, String> q = Shop.params(ex.getRequestURI().getRawQuery());
    switch (ex.getRequestURI().getPath()) {
      case "/search":
        Shop.reply(ex, 200, runShared(String.format(search, price, q.getOrDefault("q", ""))),
            "application/json");
        return;
      case "/user":
        Shop.reply(ex, 200, runPrepared("SELECT name FROM users WHERE name = '" + q.getOrDefault("name", "") + "'"),
            "application/json");
        return;
      case "/product":
        try (Connection c = connect()) {
          String rows = run(c, "SELECT name, " + price + " FROM products WHERE visible AND id = "
              + q.getOrDefault("id", "0"));
          Shop.reply(ex, rows.equals("[]\n") ? 404 : 200, rows, "application/json");
        }
        return;
      default:
        Shop.text(ex, 404, "not found\n");
    }
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String kind = args[1], dbPort = args[2], database = args[3];
    if (kind.equals("pg")) {
      url = "jdbc:postgresql://127.0.0.1:" + dbPort + "/" + database + "?user=vigil&sslmode=disable";
      price = "price::text";
      search = "SELECT name, %s FROM products WHERE visible AND strpos(name, '%s') > 0 ORDER BY id";
    } else {
      url = "jdbc:mariadb://127.0.0.1:" + dbPort + "/" + database + "?user=root";
      price = "CAST(price AS CHAR)";
      search = "SELECT name, %s FROM products WHERE visible AND LOCATE('%s', name) > 0 ORDER BY id";
    }
    shared = connect();
    Shop.serve(port, DbShop::handle);
    System.out.println("javadbshop: listening on http://127.0.0.1:" + port + "/ (" + kind + ")");
  }
}
