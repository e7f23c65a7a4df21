<?php
// A deliberately vulnerable shop in PHP (PHP-FPM behind nginx, FastCGI between them): the demo
// shop's routes, each building its operation by string concatenation. PDO SQLite, shell_exec and
// system, file_get_contents, unlink, scandir, header(). The data folder comes from nginx
// (fastcgi_param SHOP_DATA); tests/e2e/phpshop/run.py creates it. Loopback only: the fetcher
// refuses every destination that is not loopback.
$data = $_SERVER['SHOP_DATA'];
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$q = $_GET;

function reply(int $code, string $body, string $type = 'text/plain; charset=utf-8'): void {
  http_response_code($code);
  header('Content-Type: ' . $type);
  echo $body;
}

function rows(string $sql): array {
  global $data;
  $db = new PDO('sqlite:' . $data . '/shop.db');
  $db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
  return $db->query($sql)->fetchAll(PDO::FETCH_NUM);
}

try {
  switch ($path) {
    case '/':
      // The C++ shop's home page: its links and form are where a crawler (wapiti) starts.
      reply(200, '<!DOCTYPE html><html><head><title>Vigil demo shop</title></head><body>' .
        '<h1>Vigil demo shop (PHP)</h1><p>Deliberately vulnerable. Try: ' .
        '<a href="/search?q=lamp">search</a>, <a href="/product?id=1">product</a>, ' .
        '<a href="/hello?name=Ada">hello</a>, <a href="/ping?host=127.0.0.1">ping</a>, ' .
        '<a href="/download?file=manual.txt">download</a>, <a href="/go?to=/">go</a>.</p>' .
        '<form method="post" action="/login"><input name="user"><input name="pass" ' .
        "type=\"password\"><button>log in</button></form></body></html>\n", 'text/html; charset=utf-8');
      break;
    case '/search':
      try {
        $r = rows("SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%" . ($q['q'] ?? '') . "%' ORDER BY id");
      } catch (PDOException $e) {
        reply(500, "search failed\n");
        break;
      }
      reply(200, json_encode($r) . "\n", 'application/json');
      break;
    case '/product':
      try {
        $r = rows("SELECT name, price FROM products WHERE visible = 1 AND id = " . ($q['id'] ?? ''));
      } catch (PDOException $e) {
        reply(500, "lookup failed\n");
        break;
      }
      if (!$r) reply(404, "no such product\n");
      else reply(200, json_encode($r) . "\n", 'application/json');
      break;
    case '/login':
      try {
        $r = rows("SELECT name FROM users WHERE name = '" . ($_POST['user'] ?? '') . "' AND password = '" . ($_POST['pass'] ?? '') . "'");
      } catch (PDOException $e) {
        reply(500, "login failed\n");
        break;
      }
      if (!$r) reply(401, "invalid credentials\n");
      else reply(200, 'welcome ' . json_encode($r) . "\n");
      break;
    case '/ping':
      $host = $q['host'] ?? '127.0.0.1';
      if (($q['mode'] ?? '') === 'quiet') {
        system('ping -c 1 -W 1 -q ' . $host . ' >/dev/null 2>&1', $rc);
        reply(200, $host . ($rc === 0 ? " is up\n" : " did not answer\n"));
        break;
      }
      $out = (string) shell_exec('ping -c 1 -W 1 -q ' . $host . ' 2>&1');
      // Timings differ run to run: the answer keeps what ping found, not how fast.
      $lines = array_filter(explode("\n", $out), fn($l) => strncmp($l, 'rtt ', 4) !== 0);
      reply(200, preg_replace('/, time .*/', '', implode("\n", $lines)));
      break;
    case '/download':
      $body = @file_get_contents($data . '/files/' . ($q['file'] ?? ''));
      if ($body === false) reply(404, "cannot open file\n");
      else reply(200, $body, 'application/octet-stream');
      break;
    case '/fetch':
      $url = $q['url'] ?? '';
      if ($url === '') { reply(400, "give a url\n"); break; }
      if (strncmp($url, 'http://', 7) === 0) {
        $host = parse_url($url, PHP_URL_HOST) ?? '';
        $ips = gethostbynamel($host) ?: [];
        if (!$ips || array_filter($ips, fn($ip) => strncmp($ip, '127.', 4) !== 0)) {
          reply(400, "this demo fetches loopback addresses only\n");
          break;
        }
      } elseif (strncmp($url, 'file://', 7) !== 0) {
        reply(400, "http: and file: URLs only\n");
        break;
      }
      $body = @file_get_contents($url, false, stream_context_create(['http' => ['timeout' => 2]]));
      if ($body === false) reply(502, "cannot fetch\n");
      else reply(200, $body);
      break;
    case '/hello':
      reply(200, '<!DOCTYPE html><html><body><p>Hello, ' . ($q['name'] ?? 'guest') . "!</p></body></html>\n", 'text/html; charset=utf-8');
      break;
    case '/go':
      header('Location: ' . ($q['to'] ?? '/'));
      http_response_code(302);
      break;
    case '/lang':
      // PHP's header() refuses a line break: the header-injection attack fails here.
      @header('Set-Cookie: lang=' . ($q['set'] ?? 'en') . '; Path=/');
      reply(200, "language set\n");
      break;
    case '/internal/config':
      reply(200, "db_password=hunter2\napi_key=demo-internal-key\n");
      break;
    case '/delete':
      if (@unlink($data . '/files/' . ($q['file'] ?? ''))) reply(200, "deleted\n");
      else reply(404, "cannot delete\n");
      break;
    case '/list':
      $names = @scandir($data . '/files/' . ($q['dir'] ?? '.'));
      if ($names === false) { reply(404, "cannot list\n"); break; }
      $names = array_values(array_filter($names, fn($n) => $n !== '.' && $n !== '..'));
      reply(200, implode('', array_map(fn($n) => $n . "\n", $names)));
      break;
    // The database routes of tests/e2e/dbwire_test.py (nginx passes SHOP_DB, SHOP_DB_PORT and
    // SHOP_DB_NAME): MySQL through mysqli and PDO, both on mysqlnd, which speaks the protocol
    // itself; PostgreSQL through PDO, on libpq.
    case '/db/search':
    case '/db/product':
    case '/db/legacy':
      $kind = $_SERVER['SHOP_DB'] ?? '';
      $port = (int) ($_SERVER['SHOP_DB_PORT'] ?? 0);
      $name = $_SERVER['SHOP_DB_NAME'] ?? '';
      $price = $kind === 'pg' ? 'price::text' : 'CAST(price AS CHAR)';
      $sql = match ($path) {
        '/db/search' => "SELECT name, $price FROM products WHERE visible AND " .
                        ($kind === 'pg' ? "strpos(name, '" . ($q['q'] ?? '') . "') > 0" : "LOCATE('" . ($q['q'] ?? '') . "', name) > 0") .
                        ' ORDER BY id',
        '/db/product' => "SELECT name, $price FROM products WHERE visible AND id = " . ($q['id'] ?? '0'),
        default => "SELECT name FROM products WHERE visible AND name = '" . ($q['name'] ?? '') . "'",
      };
      try {
        if ($kind === 'mysql' && $path !== '/db/legacy') {
          $db = new mysqli('127.0.0.1', 'root', '', $name, $port);
          $r = $db->query($sql)->fetch_all(MYSQLI_NUM);
        } else {
          $dsn = $kind === 'pg' ? "pgsql:host=127.0.0.1;port=$port;dbname=$name;sslmode=disable"
                                : "mysql:host=127.0.0.1;port=$port;dbname=$name";
          $db = new PDO($dsn, $kind === 'pg' ? 'vigil' : 'root', '');
          $db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
          $r = $db->query($sql)->fetchAll(PDO::FETCH_NUM);
        }
      } catch (Throwable $e) {
        reply(500, 'error: ' . get_class($e) . "\n");
        break;
      }
      $r = array_map(fn($row) => array_map('strval', $row), $r);
      reply($path === '/db/product' && !$r ? 404 : 200, json_encode($r) . "\n", 'application/json');
      break;
    default:
      reply(404, "not found\n");
  }
} catch (Throwable $e) {  // the application's own error handling
  reply(500, 'error: ' . get_class($e) . "\n");
}
