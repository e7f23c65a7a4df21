#include "agent/http2.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace vigil::agent {
namespace {

#include "agent/hpack_tables.inc"

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Frame types and flags (RFC 9113 section 6).
enum FrameType : std::uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kPriority = 0x2,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPushPromise = 0x5,
  kPing = 0x6,
  kGoAway = 0x7,
  kWindowUpdate = 0x8,
  kContinuation = 0x9,
};
constexpr std::uint8_t kEndStream = 0x1;
constexpr std::uint8_t kEndHeaders = 0x4;
constexpr std::uint8_t kPadded = 0x8;
constexpr std::uint8_t kPriorityFlag = 0x20;

// The header block fragment of a HEADERS or PUSH_PROMISE frame's payload, without its padding
// and the fields before the fragment (HEADERS' priority, PUSH_PROMISE's promised stream). False
// when those do not fit in the payload.
bool header_fragment(std::string_view payload, std::uint8_t type, std::uint8_t flags,
                     std::string_view* fragment) {
  std::size_t pad = 0;
  if (flags & kPadded) {
    if (payload.empty()) return false;
    pad = static_cast<unsigned char>(payload[0]);
    payload.remove_prefix(1);
  }
  const std::size_t fixed = type == kPushPromise ? 4 : (flags & kPriorityFlag) ? 5 : 0;
  if (payload.size() < fixed + pad) return false;
  *fragment = payload.substr(fixed, payload.size() - fixed - pad);
  return true;
}

// The Huffman code as a tree: 256 inner nodes, children by bit; a child below zero is the leaf
// of symbol -child - 1, zero is no child (the root is never one).
struct HuffmanNode {
  std::int16_t child[2];
};
constexpr std::array<HuffmanNode, 256> kHuffmanTree = [] {
  std::array<HuffmanNode, 256> t{};
  int used = 1;
  for (int s = 0; s < 257; ++s) {
    int node = 0;
    for (int b = kHuffman[s].bits - 1; b >= 0; --b) {
      const int bit = static_cast<int>((kHuffman[s].code >> b) & 1u);
      if (b == 0) {
        t[node].child[bit] = static_cast<std::int16_t>(-(s + 1));
      } else {
        if (t[node].child[bit] == 0) t[node].child[bit] = static_cast<std::int16_t>(used++);
        node = t[node].child[bit];
      }
    }
  }
  return t;
}();

// The tree walked four bits at a time (as nghttp2 does): from each inner node, for each nibble,
// the node it ends on, the symbol it completes (none: -1; codes are five bits or more, so one at
// most), and whether it passes through EOS. A node is "accepting" when the bits from the root
// to it are at most seven ones: a string may end there (its padding is a prefix of EOS).
struct HuffmanStep {
  std::uint8_t next;
  bool fail;
  std::int16_t symbol;
};
struct HuffmanFsm {
  HuffmanStep step[256][16];
  bool accepting[256];
};
constexpr HuffmanFsm kHuffmanFsm = [] {
  HuffmanFsm f{};
  // Each inner node's depth and whether its path is all ones, by a walk from the root.
  int depth[256] = {};
  bool ones[256] = {};
  ones[0] = true;
  for (int node = 0; node < 256; ++node)  // parents come before their children (built so)
    for (int bit = 0; bit < 2; ++bit)
      if (const int c = kHuffmanTree[node].child[bit]; c > 0) {
        depth[c] = depth[node] + 1;
        ones[c] = ones[node] && bit == 1;
      }
  for (int node = 0; node < 256; ++node) {
    f.accepting[node] = ones[node] && depth[node] <= 7;
    for (int nibble = 0; nibble < 16; ++nibble) {
      HuffmanStep st{0, false, -1};
      int at = node;
      for (int b = 3; b >= 0; --b) {
        const int c = kHuffmanTree[at].child[(nibble >> b) & 1];
        if (c < 0) {
          if (c == -257) st.fail = true;  // EOS inside a string
          st.symbol = static_cast<std::int16_t>(-c - 1);
          at = 0;
        } else {
          at = c;
        }
      }
      st.next = static_cast<std::uint8_t>(at);
      f.step[node][nibble] = st;
    }
  }
  return f;
}();

// An HPACK integer with an N-bit prefix (RFC 7541 section 5.1), at most 2^28: longer ones are
// not sent by any encoder for sizes this reader accepts.
bool read_int(const unsigned char** p, const unsigned char* end, int prefix_bits,
              std::uint32_t* out) {
  if (*p == end) return false;
  const std::uint32_t mask = (1u << prefix_bits) - 1;
  std::uint32_t v = *(*p)++ & mask;
  if (v == mask) {
    for (int shift = 0;; shift += 7) {
      if (*p == end || shift > 21) return false;
      const unsigned char b = *(*p)++;
      v += static_cast<std::uint32_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) break;
    }
  }
  *out = v;
  return true;
}

// An HPACK string literal (section 5.2) onto *out (replaced), or skipped when out is null.
bool read_string(const unsigned char** p, const unsigned char* end, std::string* out) {
  if (*p == end) return false;
  const bool huffman = (**p & 0x80) != 0;
  std::uint32_t length;
  if (!read_int(p, end, 7, &length) || length > static_cast<std::size_t>(end - *p)) return false;
  std::string_view bytes(reinterpret_cast<const char*>(*p), length);
  *p += length;
  std::string scratch;
  std::string* to = out != nullptr ? out : &scratch;
  to->clear();
  if (!huffman) {
    to->assign(bytes);
    return true;
  }
  return hpack_huffman_decode(bytes, to);
}

void put_int(std::string* out, std::uint8_t first_bits, int prefix_bits, std::uint32_t v) {
  const std::uint32_t mask = (1u << prefix_bits) - 1;
  if (v < mask) {
    out->push_back(static_cast<char>(first_bits | v));
    return;
  }
  out->push_back(static_cast<char>(first_bits | mask));
  v -= mask;
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// A literal field without indexing: a static table name (index > 0) or a new one.
void put_literal(std::string* out, std::uint32_t name_index, std::string_view name,
                 std::string_view value) {
  put_int(out, 0x00, 4, name_index);
  if (name_index == 0) {
    put_int(out, 0x00, 7, static_cast<std::uint32_t>(name.size()));
    out->append(name);
  }
  put_int(out, 0x00, 7, static_cast<std::uint32_t>(value.size()));
  out->append(value);
}

void put_frame_header(std::string* out, std::uint32_t length, std::uint8_t type, std::uint8_t flags,
                      std::uint32_t stream) {
  const unsigned char h[9] = {static_cast<unsigned char>(length >> 16),
                              static_cast<unsigned char>(length >> 8),
                              static_cast<unsigned char>(length),
                              type,
                              flags,
                              static_cast<unsigned char>((stream >> 24) & 0x7F),
                              static_cast<unsigned char>(stream >> 16),
                              static_cast<unsigned char>(stream >> 8),
                              static_cast<unsigned char>(stream)};
  out->append(reinterpret_cast<const char*>(h), sizeof h);
}

void put_u32(std::string* out, std::uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v >> 24),
                              static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  out->append(reinterpret_cast<const char*>(b), sizeof b);
}

constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool is_tchar(unsigned char c) { return kTchar[c]; }

bool has_cr_lf_nul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Field names RFC 9113 section 8.2.2 forbids (connection-specific).
bool connection_specific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

}  // namespace

bool looks_like_h2(std::string_view first_bytes) noexcept {
  const std::size_t n = std::min(first_bytes.size(), kPreface.size());
  return n >= 4 && first_bytes.substr(0, n) == kPreface.substr(0, n);
}

bool hpack_huffman_decode(std::string_view in, std::string* out) {
  // At most 8/5 symbols a byte: written in place, then cut to what was decoded.
  const std::size_t start = out->size();
  out->resize(start + in.size() * 8 / 5 + 1);
  char* w = out->data() + start;
  std::uint8_t node = 0;
  for (char ch : in) {
    const auto byte = static_cast<unsigned char>(ch);
    const unsigned nibbles[2] = {static_cast<unsigned>(byte >> 4), byte & 15u};
    for (const unsigned nibble : nibbles) {
      const HuffmanStep& st = kHuffmanFsm.step[node][nibble];
      if (st.fail) {
        out->resize(start);
        return false;
      }
      if (st.symbol >= 0) *w++ = static_cast<char>(st.symbol);
      node = st.next;
    }
  }
  out->resize(static_cast<std::size_t>(w - out->data()));
  return kHuffmanFsm.accepting[node];
}

// ---- HpackDecoder --------------------------------------------------------------------------

bool HpackDecoder::entry(std::uint32_t index, std::string_view* name,
                         std::string_view* value) const {
  constexpr std::uint32_t kStatic = sizeof kStaticTable / sizeof kStaticTable[0];
  if (index == 0) return false;
  if (index <= kStatic) {
    *name = kStaticTable[index - 1].name;
    *value = kStaticTable[index - 1].value;
    return true;
  }
  const std::size_t d = index - kStatic - 1;
  if (d >= table_.size()) return false;
  *name = table_[d].name;
  *value = table_[d].value;
  return true;
}

void HpackDecoder::evict_to(std::size_t limit) {
  while (size_ > limit && !table_.empty()) {
    size_ -= table_.back().name.size() + table_.back().value.size() + 32;
    table_.pop_back();
  }
}

bool HpackDecoder::add(std::string name, std::string value) {
  const std::size_t size = name.size() + value.size() + 32;
  if (size > max_size_) {  // section 4.4: an entry larger than the table empties it
    evict_to(0);
    return true;
  }
  evict_to(max_size_ - size);
  table_.push_front(Field{std::move(name), std::move(value)});
  size_ += size;
  return true;
}

bool HpackDecoder::decode(std::string_view block, std::vector<Field>* fields, bool* over_budget) {
  *over_budget = false;
  std::size_t kept = 0, used = 0;
  // The fields of the last block are written over: their strings keep their memory.
  auto keep = [&](std::string_view name, std::string_view value) {
    if (*over_budget || kept + name.size() + value.size() > kMaxFieldBytes) {
      *over_budget = true;
      return;
    }
    kept += name.size() + value.size();
    if (used == fields->size()) fields->emplace_back();
    (*fields)[used].name.assign(name);
    (*fields)[used].value.assign(value);
    ++used;
  };
  const auto* p = reinterpret_cast<const unsigned char*>(block.data());
  const auto* end = p + block.size();
  std::string& name = name_;  // literals' scratch, kept between blocks
  std::string& value = value_;
  while (p < end) {
    const unsigned char b = *p;
    std::uint32_t index;
    if (b & 0x80) {  // indexed field
      std::string_view n, v;
      if (!read_int(&p, end, 7, &index) || !entry(index, &n, &v)) return false;
      keep(n, v);
      continue;
    }
    if ((b & 0xE0) == 0x20) {  // dynamic table size update
      if (!read_int(&p, end, 5, &index) || index > kMaxTableSize) return false;
      max_size_ = index;
      evict_to(max_size_);
      continue;
    }
    const bool indexing = (b & 0xC0) == 0x40;  // else without indexing, or never indexed
    if (!read_int(&p, end, indexing ? 6 : 4, &index)) return false;
    if (index != 0) {
      std::string_view n, v;
      if (!entry(index, &n, &v)) return false;
      name.assign(n);
    } else if (!read_string(&p, end, &name)) {
      return false;
    }
    if (!read_string(&p, end, &value)) return false;
    keep(name, value);
    if (indexing) add(std::move(name), std::move(value));
  }
  fields->resize(used);
  return true;
}

// ---- H2RequestReader -----------------------------------------------------------------------

H2RequestReader::Stream* H2RequestReader::find(std::uint32_t id) {
  for (Stream& s : streams_)
    if (s.id == id) return &s;
  return nullptr;
}

void H2RequestReader::erase(std::uint32_t id) {
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].id != id) continue;
    body_bytes_ -= streams_[i].body.size();
    streams_[i] = std::move(streams_.back());
    streams_.pop_back();
    return;
  }
}

bool H2RequestReader::feed(std::string_view data, Output* out) {
  if (dead_) return false;
  std::size_t i = 0;
  while (i < data.size()) {
    if (preface_seen_ < kPreface.size()) {
      const std::size_t take = std::min(kPreface.size() - preface_seen_, data.size() - i);
      if (data.substr(i, take) != kPreface.substr(preface_seen_, take)) {
        dead_ = true;
        return false;
      }
      preface_seen_ += take;
      i += take;
      continue;
    }
    if (head_.size < 9) {
      if (!head_.gather(data, &i)) break;
      if (!frame_start()) {
        dead_ = true;
        return false;
      }
      if (left_ > 0) continue;
    } else {
      const std::size_t take = std::min<std::size_t>(left_, data.size() - i);
      left_ -= static_cast<std::uint32_t>(take);
      const std::string_view piece = data.substr(i, take);
      i += take;
      if (!payload(piece, out)) {
        dead_ = true;
        return false;
      }
      if (left_ > 0) break;
    }
    head_.clear();
    if (!frame_end(out)) {
      dead_ = true;
      return false;
    }
  }
  return true;
}

bool H2RequestReader::frame_start() {
  left_ = head_.length;
  frame_.clear();
  data_.start(head_.length, (head_.flags & kPadded) != 0);
  // Section 6.10: a header block's frames follow one another on its stream.
  if (block_stream_ != 0 && (head_.type != kContinuation || head_.stream != block_stream_))
    return false;
  if (block_stream_ == 0 && head_.type == kContinuation) return false;
  switch (head_.type) {
    case kHeaders:
    case kContinuation:
      if (head_.stream == 0 || head_.length > kMaxHeaderBlock) return false;  // gathered whole
      return true;
    case kData:
      return head_.stream != 0;
    case kPushPromise:
      return false;  // only servers push
    default:
      return true;  // SETTINGS, PING, PRIORITY, WINDOW_UPDATE, GOAWAY, RST_STREAM, unknown
  }
}

bool H2RequestReader::payload(std::string_view bytes, Output* out) {
  (void)out;
  if (head_.type == kHeaders || head_.type == kContinuation) {
    frame_.append(bytes);
    return true;
  }
  if (head_.type != kData) return true;  // skipped
  std::string_view data;
  if (!data_.next(bytes, &data)) return false;
  Stream* s = find(head_.stream);
  if (data.empty() || s == nullptr || !s->produce) return true;
  const std::size_t room = std::min(max_body_ - std::min(max_body_, s->body.size()),
                                    kMaxBodyBytes - std::min(kMaxBodyBytes, body_bytes_));
  const std::size_t keep = std::min(room, data.size());
  s->body.append(data.substr(0, keep));
  body_bytes_ += keep;
  if (keep < data.size()) s->body_cut = true;
  return true;
}

bool H2RequestReader::frame_end(Output* out) {
  switch (head_.type) {
    case kHeaders: {
      std::string_view fragment;
      if (!header_fragment(frame_, head_.type, head_.flags, &fragment)) return false;
      block_.assign(fragment);
      block_stream_ = head_.stream;
      block_end_stream_ = (head_.flags & kEndStream) != 0;
      last_stream_ = std::max(last_stream_, head_.stream);
      if (head_.flags & kEndHeaders) return header_block_end(out);
      return true;
    }
    case kContinuation:
      if (block_.size() + frame_.size() > kMaxHeaderBlock) return false;
      block_.append(frame_);
      if (head_.flags & kEndHeaders) return header_block_end(out);
      return true;
    case kData:
      if (head_.flags & kEndStream) {
        if (Stream* s = find(head_.stream)) finish(s, out);
      }
      return true;
    case kRstStream:
      if (find(head_.stream) != nullptr) {
        erase(head_.stream);
        out->reset.push_back(head_.stream);
      }
      return true;
    default:
      return true;
  }
}

bool H2RequestReader::header_block_end(Output* out) {
  const std::uint32_t id = block_stream_;
  block_stream_ = 0;
  bool over_budget = false;
  if (!hpack_.decode(block_, &fields_, &over_budget)) return false;
  block_.clear();
  Stream* s = find(id);
  if (s == nullptr) {  // a new stream: the request's headers
    // Past the bound, the oldest open stream is handed out as it stands (its body so far).
    if (streams_.size() >= kMaxStreams) {
      streams_.front().body_cut = true;
      finish(&streams_.front(), out);
    }
    streams_.push_back(Stream{});
    s = &streams_.back();
    s->id = id;
    if (over_budget)
      s->produce = false;
    else
      request_head(s, fields_);
    s->headers_done = true;
    if (!s->produce) ++out->unread;
  }
  // A second block on a stream is its trailers: decoded for the table, not kept.
  if (block_end_stream_) finish(s, out);
  return true;
}

void H2RequestReader::request_head(Stream* s, const std::vector<HpackDecoder::Field>& fields) {
  std::string_view method, path, authority;
  bool regular = false, host = false, have_method = false, have_path = false,
       have_authority = false;
  std::string& lines = lines_;  // kept between requests, with their memory
  std::string& cookie = cookie_;
  lines.clear();
  cookie.clear();
  auto malformed = [&] { s->produce = false; };
  for (const auto& f : fields) {
    if (has_cr_lf_nul(f.name) || has_cr_lf_nul(f.value)) return malformed();
    if (!f.name.empty() && f.name[0] == ':') {
      if (regular) return malformed();  // pseudo-fields come first (section 8.3)
      // Each at most once: a server that took the first of two while the agent took the last
      // would see another request than the one checked.
      auto once = [&](bool* seen, std::string_view* to) {
        if (*seen) return false;
        *seen = true;
        *to = f.value;
        return true;
      };
      bool ok = true;
      if (f.name == ":method")
        ok = once(&have_method, &method);
      else if (f.name == ":path")
        ok = once(&have_path, &path);
      else if (f.name == ":authority")
        ok = once(&have_authority, &authority);
      else if (f.name != ":scheme" && f.name != ":protocol")
        ok = false;
      if (!ok) return malformed();
      continue;
    }
    regular = true;
    if (f.name.empty()) return malformed();
    for (char c : f.name)
      if (!is_tchar(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z')) return malformed();
    if (connection_specific(f.name) || (f.name == "te" && f.value != "trailers"))
      return malformed();
    if (f.name == "content-length") continue;  // the body kept is what counts
    if (f.name == "cookie") {
      if (!cookie.empty()) cookie += "; ";
      cookie += f.value;
      continue;
    }
    if (f.name == "host") host = true;
    lines.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  // The agent's HTTP/1.1 reader takes a method of at most 32 bytes for one (a longer first word
  // is how it tells other protocols): a longer one is not a request it would read.
  if (method.empty() || method.size() > 32) return malformed();
  for (char c : method)
    if (!is_tchar(static_cast<unsigned char>(c))) return malformed();
  if (path.empty()) {
    if (method != "CONNECT") return malformed();
    path = authority;
  }
  std::string& h = s->head;
  h.assign(method).push_back(' ');
  // The target as the request line carries it: a byte that would end the line or the target
  // is written as its %XX (the decoded inputs are the same).
  std::size_t plain = 0;  // the bytes since the last one written as %XX
  for (std::size_t k = 0; k < path.size(); ++k) {
    const auto u = static_cast<unsigned char>(path[k]);
    if (u > 0x20 && u != 0x7F) continue;
    static constexpr char kHex[] = "0123456789ABCDEF";
    const char escaped[3] = {'%', kHex[u >> 4], kHex[u & 15]};
    h.append(path.substr(plain, k - plain)).append(escaped, 3);
    plain = k + 1;
  }
  h.append(path.substr(plain));
  h.append(" HTTP/1.1\r\n");
  if (!host && !authority.empty()) h.append("host: ").append(authority).append("\r\n");
  h.append(lines);
  if (!cookie.empty()) h.append("cookie: ").append(cookie).append("\r\n");
  if (h.size() > kMaxHead) {
    h.clear();
    malformed();
  }
}

void H2RequestReader::finish(Stream* s, Output* out) {
  if (s->produce) {
    out->http.append(s->head);
    if (!s->body.empty()) {
      out->http.append("content-length: ").append(std::to_string(s->body.size())).append("\r\n");
    }
    out->http.append("\r\n").append(s->body);
    out->streams.push_back(s->id);
    if (s->body_cut) ++out->unread;  // read in part: the body beyond the bounds is not
  }
  erase(s->id);
}

// ---- H2FrameHeader ------------------------------------------------------------------------

bool H2FrameHeader::gather(std::string_view data, std::size_t* at) {
  const std::size_t take = std::min<std::size_t>(9 - size, data.size() - *at);
  std::memcpy(bytes + size, data.data() + *at, take);
  size += take;
  *at += take;
  if (size < 9) return false;
  length = (std::uint32_t{bytes[0]} << 16) | (std::uint32_t{bytes[1]} << 8) | bytes[2];
  type = bytes[3];
  flags = bytes[4];
  stream = ((std::uint32_t{bytes[5]} & 0x7F) << 24) | (std::uint32_t{bytes[6]} << 16) |
           (std::uint32_t{bytes[7]} << 8) | bytes[8];
  return true;
}

// ---- H2DataCursor ------------------------------------------------------------------------

bool H2DataCursor::next(std::string_view piece, std::string_view* data) {
  std::size_t k = 0;
  *data = {};
  if (bad) return false;
  if (padded && at == 0 && !piece.empty()) {
    pad = static_cast<unsigned char>(piece[0]);
    if (pad + 1 > length) {
      bad = true;
      return false;
    }
    at = k = 1;
  }
  const std::uint32_t end = length - pad;
  const std::size_t take = at < end ? std::min<std::size_t>(end - at, piece.size() - k) : 0;
  *data = piece.substr(k, take);
  at += static_cast<std::uint32_t>(piece.size() - k);  // the data, then padding
  return true;
}

// ---- H2ResponseReader ----------------------------------------------------------------------

void H2ResponseReader::feed(std::string_view data, std::vector<Piece>* pieces) {
  pieces->clear();
  heads_.clear();
  std::size_t i = 0;
  while (i < data.size()) {
    if (head_.size < 9) {
      if (!head_.gather(data, &i)) break;
      wrote_ = true;
      left_ = head_.length;
      frame_.clear();
      data_.start(head_.length, (head_.flags & kPadded) != 0);
      if (left_ > 0) continue;
    } else {
      const std::size_t take = std::min<std::size_t>(left_, data.size() - i);
      const std::string_view piece = data.substr(i, take);
      left_ -= static_cast<std::uint32_t>(take);
      i += take;
      if (head_.type == kData && head_.stream != 0) {
        std::string_view bytes;
        if (data_.next(piece, &bytes) && !bytes.empty())
          pieces->push_back(Piece{Piece::kData, head_.stream, bytes});
      } else if ((head_.type == kHeaders || head_.type == kContinuation ||
                  head_.type == kPushPromise) &&
                 !hpack_dead_) {
        if (frame_.size() + piece.size() > kMaxHeaderBlock)
          hpack_dead_ = true;
        else
          frame_.append(piece);
      }
      if (left_ > 0) break;
    }
    head_.clear();
    frame_end(pieces);
  }
}

void H2ResponseReader::frame_end(std::vector<Piece>* pieces) {
  if (head_.stream == 0) return;
  const bool end_stream = (head_.flags & kEndStream) != 0;
  if (head_.type == kRstStream || (head_.type == kData && end_stream)) {
    pieces->push_back(Piece{Piece::kEnd, head_.stream, {}});
    return;
  }
  if (head_.type != kHeaders && head_.type != kContinuation && head_.type != kPushPromise) return;
  if (head_.type != kContinuation) {
    // A PUSH_PROMISE's block (the request of a pushed response) changes the table too: decoded,
    // not handed out.
    block_push_ = head_.type == kPushPromise;
    block_end_stream_ = end_stream && !block_push_;
    block_stream_ = head_.stream;
    block_.clear();
    std::string_view fragment;
    if (!header_fragment(frame_, head_.type, head_.flags, &fragment))
      hpack_dead_ = true;
    else if (!hpack_dead_)
      block_.assign(fragment);
  } else if (!hpack_dead_) {
    if (block_.size() + frame_.size() > kMaxHeaderBlock)
      hpack_dead_ = true;
    else
      block_.append(frame_);
  }
  if (!(head_.flags & kEndHeaders)) return;
  bool over_budget = false;
  if (!hpack_dead_ && !hpack_.decode(block_, &fields_, &over_budget)) hpack_dead_ = true;
  if (!hpack_dead_ && !over_budget && !block_push_ && !fields_.empty() &&
      fields_[0].name == ":status" && fields_[0].value.size() == 3 &&
      fields_[0].value[0] != '1') {  // not a 1xx, not trailers
    std::string& head = heads_.emplace_back("HTTP/1.1 " + fields_[0].value + " \r\n");
    for (std::size_t k = 1; k < fields_.size(); ++k)
      if (fields_[k].name.empty() || fields_[k].name[0] != ':')
        head.append(fields_[k].name).append(": ").append(fields_[k].value).append("\r\n");
    head.append("\r\n");
    pieces->push_back(Piece{Piece::kHead, block_stream_, head});
  }
  block_.clear();
  if (block_end_stream_) pieces->push_back(Piece{Piece::kEnd, block_stream_, {}});
}

// ---- The agent's answer --------------------------------------------------------------------

std::string h2_block_frames(bool settings_first, std::uint32_t stream, bool stream_started,
                            std::uint32_t last_stream, std::string_view content_type,
                            std::string_view event_id, std::string_view body) {
  std::string out;
  if (settings_first) put_frame_header(&out, 0, kSettings, 0, 0);
  if (stream_started) {
    put_frame_header(&out, 4, kRstStream, 0, stream);
    put_u32(&out, 0x8);  // CANCEL
  } else {
    std::string block;
    put_literal(&block, 8, {}, "403");                         // :status (static 8's name)
    put_literal(&block, 31, {}, content_type);                 // content-type
    put_literal(&block, 28, {}, std::to_string(body.size()));  // content-length
    put_literal(&block, 0, "x-vigil-event", event_id);
    put_frame_header(&out, static_cast<std::uint32_t>(block.size()), kHeaders, kEndHeaders, stream);
    out.append(block);
    // DATA frames of at most 16,384 bytes, the size every peer accepts.
    std::size_t at = 0;
    do {
      const std::size_t n = std::min<std::size_t>(body.size() - at, 16384);
      const bool last = at + n == body.size();
      put_frame_header(&out, static_cast<std::uint32_t>(n), kData, last ? kEndStream : 0, stream);
      out.append(body.substr(at, n));
      at += n;
    } while (at < body.size());
  }
  put_frame_header(&out, 8, kGoAway, 0, 0);
  put_u32(&out, last_stream & 0x7FFFFFFF);
  put_u32(&out, 0x0);  // NO_ERROR: the client may retry the streams after last_stream
  return out;
}

}  // namespace vigil::agent
