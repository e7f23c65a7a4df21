# frozen_string_literal: true

# A deliberately vulnerable shop in plain Ruby (WEBrick, the sqlite3 gem, system and backticks,
# File, Net::HTTP): the "any runtime" proof for a Ruby program, as a Rack or Rails application
# runs on the same interpreter and library calls. Same routes and answers as the Python shop
# (tests/agent/pyshop.py). Every handler builds its operation by string concatenation. Listens on
# 127.0.0.1 only; its fetcher refuses every destination that is not loopback.
#
# usage: ruby rubyshop.rb PORT DATA_DIR
require 'fileutils'
require 'ipaddr'
require 'json'
require 'net/http'
require 'socket'
require 'sqlite3'
require 'uri'
require 'webrick'

PORT = Integer(ARGV.fetch(0))
DATA = ARGV.fetch(1)
DB = File.join(DATA, 'shop.db')

def init_db
  FileUtils.mkdir_p(File.join(DATA, 'files'))
  db = SQLite3::Database.new(DB)
  db.execute_batch(<<~SQL)
    DROP TABLE IF EXISTS products; DROP TABLE IF EXISTS users;
    CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL, visible INTEGER);
    CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, password TEXT);
    INSERT INTO products(name, price, visible) VALUES ('desk lamp', 29.9, 1), ('chair', 79.0, 1),
      ('lamp shade', 9.5, 1), ('secret prototype', 999.0, 0);
    INSERT INTO users(name, password) VALUES ('alice', 'wonderland'), ('bob', 'builder');
  SQL
  db.close
  File.write(File.join(DATA, 'files', 'manual.txt'), "How to assemble the desk lamp: screw the shade on.\n")
  File.write(File.join(DATA, 'files', 'terms.txt'), "Terms: be nice.\n")
end

def query(sql)
  db = SQLite3::Database.new(DB)
  db.execute(sql)
ensure
  db&.close
end

def rows_json(rows)
  "#{JSON.generate(rows)}\n"
end

def reply(res, code, body, type = 'text/plain; charset=utf-8', headers = {})
  res.status = code
  res['Content-Type'] = type
  headers.each { |k, v| res[k] = v }
  res.body = body
end

# The parameters of the query string (and of a form body for POST), each its first value.
def params(req)
  out = {}
  req.query.each { |k, v| out[k] = v.to_s }
  out
end

def ping(res, q)
  host = q.fetch('host', '127.0.0.1')
  if q['mode'] == 'quiet'
    up = system('ping -c 1 -W 1 -q ' + host + ' >/dev/null 2>&1')
    return reply(res, 200, host + (up ? " is up\n" : " did not answer\n"))
  end
  out = `ping -c 1 -W 1 -q #{host} 2>&1`
  # Timings differ run to run: the answer keeps what ping found, not how fast.
  lines = out.lines.reject { |l| l.start_with?('rtt ') }.map { |l| l.sub(/, time .*/m, "\n") }
  reply(res, 200, lines.join)
end

def fetch(res, q)
  target = q.fetch('url', '')
  return reply(res, 400, "give a url\n") if target.empty?

  if target.start_with?('http://')
    uri = URI(target)
    addrs = Addrinfo.getaddrinfo(uri.host.to_s, nil, nil, :STREAM).map(&:ip_address)
    unless addrs.all? { |a| IPAddr.new(a).loopback? }
      return reply(res, 400, "this demo fetches loopback addresses only\n")
    end

    body = Net::HTTP.start(uri.host, uri.port, open_timeout: 2, read_timeout: 2) do |http|
      http.get(uri.request_uri).body.to_s
    end
    reply(res, 200, body.byteslice(0, 65_536))
  elsif target.start_with?('file://')
    reply(res, 200, File.binread(URI(target).path, 65_536).to_s)
  else
    reply(res, 400, "http: and file: URLs only\n")
  end
rescue StandardError => e
  reply(res, 502, "cannot fetch: #{e.class.name.split('::').last}\n")
end

def get(req, res)
  q = params(req)
  case req.path
  when '/search'
    begin
      rows = query("SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%" +
                   q.fetch('q', '') + "%' ORDER BY id")
    rescue SQLite3::Exception => e
      return reply(res, 500, "search failed: #{e.message}\n")
    end
    reply(res, 200, rows_json(rows), 'application/json')
  when '/product'
    begin
      rows = query('SELECT name, price FROM products WHERE visible = 1 AND id = ' + q.fetch('id', ''))
    rescue SQLite3::Exception => e
      return reply(res, 500, "lookup failed: #{e.message}\n")
    end
    return reply(res, 404, "no such product\n") if rows.empty?

    reply(res, 200, rows_json(rows), 'application/json')
  when '/ping'
    ping(res, q)
  when '/download'
    begin
      reply(res, 200, File.binread(File.join(DATA, 'files') + '/' + q.fetch('file', '')),
            'application/octet-stream')
    rescue SystemCallError => e
      reply(res, 404, "cannot open file: #{e.message.split(' @ ').first.split(' - ').first}\n")
    end
  when '/fetch'
    fetch(res, q)
  when '/delete'
    begin
      File.delete(File.join(DATA, 'files') + '/' + q.fetch('file', ''))
      reply(res, 200, "deleted\n")
    rescue SystemCallError => e
      reply(res, 404, "cannot delete: #{e.message.split(' @ ').first.split(' - ').first}\n")
    end
  when '/list'
    begin
      names = Dir.children(File.join(DATA, 'files') + '/' + q.fetch('dir', '.')).sort
      reply(res, 200, names.map { |n| "#{n}\n" }.join)
    rescue SystemCallError => e
      reply(res, 404, "cannot list: #{e.message.split(' @ ').first.split(' - ').first}\n")
    end
  when '/hello'
    reply(res, 200, '<!DOCTYPE html><html><body><p>Hello, ' + q.fetch('name', 'guest') +
                    "!</p></body></html>\n", 'text/html; charset=utf-8')
  when '/go'
    res.status = 302
    res['Location'] = q.fetch('to', '/')
  when '/lang'
    reply(res, 200, "language set\n", 'text/plain; charset=utf-8',
          'Set-Cookie' => 'lang=' + q.fetch('set', 'en') + '; Path=/')
  when '/internal/config'
    reply(res, 200, "db_password=hunter2\napi_key=demo-internal-key\n")
  when '/'
    # Links to the routes, as the C++, PHP and Java shops have: what a crawler (wapiti) follows.
    reply(res, 200, '<!DOCTYPE html><html><head><title>Vigil demo shop</title></head><body>' \
                    '<h1>Vigil demo shop (Ruby)</h1><p>Deliberately vulnerable. Try: ' \
                    '<a href="/search?q=lamp">search</a>, <a href="/product?id=1">product</a>, ' \
                    '<a href="/hello?name=Ada">hello</a>, <a href="/ping?host=127.0.0.1">ping</a>, ' \
                    '<a href="/download?file=manual.txt">download</a>, <a href="/go?to=/">go</a>.</p>' \
                    '<form method="post" action="/login"><input name="user"><input name="pass" ' \
                    "type=\"password\"><button>log in</button></form></body></html>\n",
          'text/html; charset=utf-8')
  else
    reply(res, 404, "not found\n")
  end
end

def post(req, res)
  return reply(res, 404, "not found\n") unless req.path == '/login'

  form = params(req)
  begin
    rows = query("SELECT name FROM users WHERE name = '" + form.fetch('user', '') +
                 "' AND password = '" + form.fetch('pass', '') + "'")
  rescue SQLite3::Exception => e
    return reply(res, 500, "login failed: #{e.message}\n")
  end
  return reply(res, 401, "invalid credentials\n") if rows.empty?

  reply(res, 200, "welcome #{rows_json(rows)}")
end

init_db
server = WEBrick::HTTPServer.new(BindAddress: '127.0.0.1', Port: PORT, AccessLog: [],
                                 Logger: WEBrick::Log.new(File::NULL))
server.mount_proc('/') do |req, res|
  req.request_method == 'POST' ? post(req, res) : get(req, res)
rescue StandardError => e # the application's own error handling
  reply(res, 500, "error: #{e.class.name.split('::').last}\n")
end
trap('INT') { server.shutdown }
trap('TERM') { server.shutdown }
$stdout.puts "rubyshop: listening on http://127.0.0.1:#{PORT}/"
$stdout.flush
server.start
