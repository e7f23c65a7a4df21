# frozen_string_literal: true

# A deliberately vulnerable shop in plain Ruby: a Rack application (the interface Rails and
# Sinatra applications are served through) using the sqlite3 gem, system and backticks, File,
# Dir and Net::HTTP, served by WEBrick or by Puma (a threaded server that reads requests in its
# reactor thread and runs them on a pool of threads). The "any runtime" proof for Ruby. Same
# routes and answers as the Python shop (tests/agent/pyshop.py). Every handler builds its
# operation by string concatenation. Listens on 127.0.0.1 only; its fetcher refuses every
# destination that is not loopback.
#
# usage: ruby rubyshop.rb PORT DATA_DIR [webrick|puma]
require 'fileutils'
require 'ipaddr'
require 'json'
require 'net/http'
require 'socket'
require 'sqlite3'
require 'uri'
require 'rack'

PORT = Integer(ARGV.fetch(0))
DATA = ARGV.fetch(1)
DB = File.join(DATA, 'shop.db')

def init_db
  FileUtils.mkdir_p(File.join(DATA, 'files'))
  db = SQLite3::Database.new(DB)
  db.execute_batch(File.read(File.join(__dir__, 'shop.sql')))
  db.close
  File.write(File.join(DATA, 'files', 'manual.txt'),
             "How to assemble the desk lamp: screw the shade on.\n")
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

# A Rack response; `headers` are set as given (no CR/LF check: header injection on purpose,
# left to the server).
def reply(code, body, type = 'text/plain; charset=utf-8', headers = {})
  [code, { 'Content-Type' => type, 'Content-Length' => body.bytesize.to_s }.merge(headers), [body]]
end

# The parameters of the query string (and of a form body for POST), each its first value.
def params(req)
  req.params.transform_values(&:to_s)
end

# A system call's error as C's strerror() says it ("No such file or directory"), without the
# path Ruby appends.
def strerror(error)
  error.message.split(' @ ').first.split(' - ').first
end

def ping(q)
  host = q.fetch('host', '127.0.0.1')
  if q['mode'] == 'quiet'
    up = system('ping -c 1 -W 1 -q ' + host + ' >/dev/null 2>&1')
    return reply(200, host + (up ? " is up\n" : " did not answer\n"))
  end
  out = `ping -c 1 -W 1 -q #{host} 2>&1`
  # Timings differ run to run: the answer keeps what ping found, not how fast.
  lines = out.lines.reject { |l| l.start_with?('rtt ') }.map { |l| l.sub(/, time .*/m, "\n") }
  reply(200, lines.join)
end

def fetch(q)
  target = q.fetch('url', '')
  return reply(400, "give a url\n") if target.empty?

  if target.start_with?('http://')
    uri = URI(target)
    addrs = Addrinfo.getaddrinfo(uri.host.to_s, nil, nil, :STREAM).map(&:ip_address)
    unless addrs.all? { |a| IPAddr.new(a).loopback? }
      return reply(400, "this demo fetches loopback addresses only\n")
    end

    body = Net::HTTP.start(uri.host, uri.port, open_timeout: 2, read_timeout: 2) do |http|
      http.get(uri.request_uri).body.to_s
    end
    reply(200, body.byteslice(0, 65_536))
  elsif target.start_with?('file://')
    reply(200, File.binread(URI(target).path, 65_536).to_s)
  else
    reply(400, "http: and file: URLs only\n")
  end
rescue StandardError => e
  reply(502, "cannot fetch: #{e.class.name.split('::').last}\n")
end

def get(req)
  q = params(req)
  case req.path
  when '/search'
    begin
      rows = query("SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%" +
                   q.fetch('q', '') + "%' ORDER BY id")
    rescue SQLite3::Exception => e
      return reply(500, "search failed: #{e.message}\n")
    end
    reply(200, rows_json(rows), 'application/json')
  when '/product'
    begin
      rows = query('SELECT name, price FROM products WHERE visible = 1 AND id = ' +
                   q.fetch('id', ''))
    rescue SQLite3::Exception => e
      return reply(500, "lookup failed: #{e.message}\n")
    end
    return reply(404, "no such product\n") if rows.empty?

    reply(200, rows_json(rows), 'application/json')
  when '/ping'
    ping(q)
  when '/download'
    begin
      reply(200, File.binread(File.join(DATA, 'files') + '/' + q.fetch('file', '')),
            'application/octet-stream')
    rescue SystemCallError => e
      reply(404, "cannot open file: #{strerror(e)}\n")
    end
  when '/fetch'
    fetch(q)
  when '/delete'
    begin
      File.delete(File.join(DATA, 'files') + '/' + q.fetch('file', ''))
      reply(200, "deleted\n")
    rescue SystemCallError => e
      reply(404, "cannot delete: #{strerror(e)}\n")
    end
  when '/list'
    begin
      names = Dir.children(File.join(DATA, 'files') + '/' + q.fetch('dir', '.')).sort
      reply(200, names.map { |n| "#{n}\n" }.join)
    rescue SystemCallError => e
      reply(404, "cannot list: #{strerror(e)}\n")
    end
  when '/hello'
    reply(200, '<!DOCTYPE html><html><body><p>Hello, ' + q.fetch('name', 'guest') +
                    "!</p></body></html>\n", 'text/html; charset=utf-8')
  when '/go'
    [302, { 'Location' => q.fetch('to', '/'), 'Content-Length' => '0' }, []]
  when '/lang'
    reply(200, "language set\n", 'text/plain; charset=utf-8',
          'Set-Cookie' => 'lang=' + q.fetch('set', 'en') + '; Path=/')
  when '/internal/config'
    reply(200, "db_password=hunter2\napi_key=demo-internal-key\n")
  when '/'
    # Links to the routes, as the C++, PHP and Java shops have: what a crawler (wapiti) follows.
    reply(200, '<!DOCTYPE html><html><head><title>Vigil demo shop</title></head><body>' \
                    '<h1>Vigil demo shop (Ruby)</h1><p>Deliberately vulnerable. Try: ' \
                    '<a href="/search?q=lamp">search</a>, <a href="/product?id=1">product</a>, ' \
                    '<a href="/hello?name=Ada">hello</a>, <a href="/ping?host=127.0.0.1">ping</a>, ' \
                    '<a href="/download?file=manual.txt">download</a>, <a href="/go?to=/">go</a>.</p>' \
                    '<form method="post" action="/login"><input name="user"><input name="pass" ' \
                    "type=\"password\"><button>log in</button></form></body></html>\n",
          'text/html; charset=utf-8')
  else
    reply(404, "not found\n")
  end
end

def post(req)
  return reply(404, "not found\n") unless req.path == '/login'

  form = params(req)
  begin
    rows = query("SELECT name FROM users WHERE name = '" + form.fetch('user', '') +
                 "' AND password = '" + form.fetch('pass', '') + "'")
  rescue SQLite3::Exception => e
    return reply(500, "login failed: #{e.message}\n")
  end
  return reply(401, "invalid credentials\n") if rows.empty?

  reply(200, "welcome #{rows_json(rows)}")
end

APP = lambda do |env|
  req = Rack::Request.new(env)
  req.post? ? post(req) : get(req)
rescue StandardError => e # the application's own error handling
  reply(500, "error: #{e.class.name.split('::').last}\n")
end

init_db
server = ARGV.fetch(2, 'webrick')
$stdout.puts "rubyshop: #{server} listening on http://127.0.0.1:#{PORT}/"
$stdout.flush
case server
when 'webrick'
  require 'rack/handler/webrick'
  require 'webrick'
  Rack::Handler::WEBrick.run(APP, Host: '127.0.0.1', Port: PORT, AccessLog: [],
                                  Logger: WEBrick::Log.new(File::NULL)) do |s|
    trap('INT') { s.shutdown }
    trap('TERM') { s.shutdown }
  end
when 'puma'
  require 'rack/handler/puma'
  Rack::Handler::Puma.run(APP, Host: '127.0.0.1', Port: PORT, Threads: '0:8', Silent: true)
else
  abort "rubyshop: no server #{server} (webrick or puma)"
end
