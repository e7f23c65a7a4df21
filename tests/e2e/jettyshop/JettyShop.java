// A product page on Jetty (Debian's libjetty9-java), a servlet container: the product id is the
// request's path info, which Jetty hands over with each segment's path parameters (";x=1") taken
// off, spliced into SQL (SQLite through JDBC: Debian's libxerial-sqlite-jdbc-java, whose JNI
// library calls the system's libsqlite3). Listens on 127.0.0.1 only.
//
//   /product/ID   SELECT id, name FROM products WHERE id = ID; the rows as JSON arrays
//
// usage: java -cp CLASSES:JARS JettyShop PORT DATABASE_FILE
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

public class JettyShop {
  static String url;

  public static class Product extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      String id = req.getPathInfo() == null ? "" : req.getPathInfo().substring(1);
      resp.setContentType("application/json");
      try (Connection c = DriverManager.getConnection(url);
           Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT id, name FROM products WHERE id = " + id)) {
        List<String> rows = new ArrayList<>();
        while (rs.next()) rows.add("[" + rs.getInt(1) + ", \"" + rs.getString(2) + "\"]");
        resp.getWriter().print("[" + String.join(", ", rows) + "]");
      } catch (SQLException e) {
        resp.setStatus(500);
        resp.getWriter().print("{\"error\": \"database\"}");
      }
    }
  }

  public static void main(String[] args) throws Exception {
    url = "jdbc:sqlite:" + args[1];
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
      st.executeUpdate("CREATE TABLE IF NOT EXISTS products(id INTEGER PRIMARY KEY, name TEXT)");
      st.executeUpdate("INSERT OR REPLACE INTO products VALUES (1, 'lamp'), (2, 'desk'), (3, 'chair')");
    }
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(Integer.parseInt(args[0]));
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(new ServletHolder(new Product()), "/product/*");
    server.setHandler(context);
    server.start();
    System.out.println("jettyshop: listening on http://127.0.0.1:" + args[0] + "/");
    server.join();
  }
}
