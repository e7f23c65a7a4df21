// HTTP/2 on a connection the program accepted (h2c with prior knowledge, or h2 whose TLS the
// program terminates with the system's OpenSSL): the client's frames are turned into the
// HTTP/1.1 requests they carry, one per stream, so that the agent's HTTP reading (request
// context, input analysis, sink attribution) serves HTTP/2 unchanged. The program's frames are
// followed only as far as their headers: where each stream's response ends, so that its
// request stops being in flight. Response bodies are not read (their header blocks are HPACK of
// the program's own encoder): the response checks (XSS, header injection, redirects) do not
// cover HTTP/2.
//
// A stream becomes "METHOD :path HTTP/1.1", a Host line from :authority (unless the request
// has a host field), its fields in order (cookie fields joined with "; ", RFC 9113 section
// 8.2.3), a Content-Length of the body kept, and the body. A request the specification calls
// malformed (a CR, LF or NUL in a field, an upper-case or connection-specific field name, a
// missing :method or :path: RFC 9113 section 8.2) is not produced but counted: servers refuse
// it. Every bound below is a count of what is read, so time is linear in the bytes fed.
#ifndef VIGIL_AGENT_HTTP2_HPP_
#define VIGIL_AGENT_HTTP2_HPP_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::agent {

// True when the first bytes of a connection are (the start of) HTTP/2's client preface.
bool looks_like_h2(std::string_view first_bytes) noexcept;

// HPACK (RFC 7541), the decoding side: one per connection and direction, fed the header blocks
// in the order they were sent (its dynamic table depends on every one of them).
class HpackDecoder {
 public:
  // The largest dynamic table accepted (a size update above it ends the reading). Servers
  // advertise 4,096 bytes unless configured otherwise.
  static constexpr std::size_t kMaxTableSize = 64 * 1024;
  // The most field bytes (names and values) kept of one block: an indexed reference is one byte
  // that may stand for a large table entry, so a block's fields may be far larger than it.
  static constexpr std::size_t kMaxFieldBytes = 256 * 1024;

  struct Field {
    std::string name, value;
  };

  // Decodes one whole header block into *fields (cleared first). False when the block is not
  // valid HPACK: the table no longer matches the sender's, decode nothing more. *over_budget
  // says whether fields past kMaxFieldBytes were left out (the table is still kept right).
  bool decode(std::string_view block, std::vector<Field>* fields, bool* over_budget);

  // The dynamic table's size as RFC 7541 counts it (each entry: name + value + 32).
  std::size_t table_size() const noexcept { return size_; }

 private:
  bool add(std::string name, std::string value);
  void evict_to(std::size_t limit);
  bool entry(std::uint32_t index, std::string_view* name, std::string_view* value) const;
  std::deque<Field> table_;   // newest first
  std::string name_, value_;  // a literal field being read
  std::size_t size_ = 0;
  std::size_t max_size_ = 4096;
};

// HPACK's Huffman code: decodes `in` onto *out. False on invalid code (the EOS symbol, or
// padding longer than 7 bits or not all ones).
bool hpack_huffman_decode(std::string_view in, std::string* out);

// A frame's 9-byte header (RFC 9113 section 4.1), gathered over feeds.
struct H2FrameHeader {
  std::uint32_t length = 0, stream = 0;
  std::uint8_t type = 0, flags = 0;
  // Takes bytes of `data` from *at on until the header is whole: true once it is, with the
  // fields set (clear() before the next frame's).
  bool gather(std::string_view data, std::size_t* at);
  bool empty() const noexcept { return size == 0; }
  void clear() noexcept { size = 0; }
  unsigned char bytes[9] = {};
  std::size_t size = 0;
};

// Where the data of one DATA frame is in its payload, read piece by piece (padding removed).
struct H2DataCursor {
  std::uint32_t length = 0, at = 0, pad = 0;
  bool padded = false;
  bool bad = false;  // its padding length passes its end: no data in it
  void start(std::uint32_t frame_length, bool frame_padded) {
    length = frame_length;
    padded = frame_padded;
    at = pad = 0;
    bad = false;
  }
  // The data among the payload's next bytes `piece`; false on (and after) a padding length past
  // the frame's end.
  bool next(std::string_view piece, std::string_view* data);
};

// Client -> program: the HTTP/1.1 text of the requests its streams complete.
class H2RequestReader {
 public:
  static constexpr std::size_t kMaxHeaderBlock = 64 * 1024;  // a block's fragments, gathered
  static constexpr std::size_t kMaxHead = 60 * 1024;         // a request's HTTP/1.1 head
  static constexpr std::size_t kMaxStreams = 128;            // open streams followed at once
  static constexpr std::size_t kMaxBodyBytes = 4 << 20;      // bodies kept at once, all streams

  struct Output {
    std::string http;                    // requests, whole, in the order their streams ended
    std::vector<std::uint32_t> streams;  // the stream of each request in `http`
    std::vector<std::uint32_t> reset;    // streams the client cancelled (RST_STREAM)
    // Requests not read or read in part: malformed or too large a head (not produced), a body
    // past the bounds, a stream handed out early because kMaxStreams others were open.
    std::size_t unread = 0;
  };

  // Bodies are kept up to max_body bytes each (the rest is counted in `unread`).
  explicit H2RequestReader(std::size_t max_body = 1 << 20) : max_body_(max_body) {}

  // Appends to *out what `data` completes. False when the bytes are not HTTP/2 (a wrong
  // preface, a broken frame sequence) or a header block could not be decoded: read no more.
  bool feed(std::string_view data, Output* out);

  // The highest stream the client opened: what a GOAWAY names as possibly processed.
  std::uint32_t last_stream() const noexcept { return last_stream_; }

 private:
  struct Stream {
    std::uint32_t id = 0;
    bool produce = true;  // false: malformed or beyond a bound, followed only to its end
    bool headers_done = false;
    std::string head;  // the HTTP/1.1 head without Content-Length and the blank line
    std::string body;
    bool body_cut = false;
  };
  bool frame_start();
  bool payload(std::string_view bytes, Output* out);
  bool frame_end(Output* out);
  bool header_block_end(Output* out);
  void request_head(Stream* s, const std::vector<HpackDecoder::Field>& fields);
  void finish(Stream* s, Output* out);
  Stream* find(std::uint32_t id);
  void erase(std::uint32_t id);

  std::size_t max_body_;
  std::size_t preface_seen_ = 0;
  H2FrameHeader head_;      // of the frame being read
  std::uint32_t left_ = 0;  // payload bytes still to come
  std::string frame_;       // a gathered payload (HEADERS, CONTINUATION)
  H2DataCursor data_;       // DATA, read as it comes
  // A header block waiting for CONTINUATION frames.
  std::uint32_t block_stream_ = 0;
  bool block_end_stream_ = false;
  std::string block_;
  HpackDecoder hpack_;
  std::vector<HpackDecoder::Field> fields_;
  std::string lines_, cookie_;  // request_head's, kept with their memory
  std::vector<Stream> streams_;
  std::size_t body_bytes_ = 0;  // kept in streams_
  std::uint32_t last_stream_ = 0;
  bool dead_ = false;
};

// Program -> client: each stream's response head (decoded: the program's HPACK table is
// followed), its data, and its end. The agent checks them as it checks an HTTP/1.1 response.
class H2ResponseReader {
 public:
  static constexpr std::size_t kMaxHeaderBlock = 64 * 1024;
  struct Piece {
    enum Kind : std::uint8_t { kHead, kData, kEnd } kind;
    std::uint32_t stream;
    // kHead: "HTTP/1.1 STATUS \r\n", the fields as lines, a blank line (a block without
    // :status, trailers, is not handed out); kData: the data (a view into the bytes fed).
    std::string_view bytes;
  };
  // Feeds written bytes; *pieces (cleared first) gets what they hold, in order, valid until the
  // next feed. Ends (END_STREAM on HEADERS or DATA, RST_STREAM) are always read; heads stop
  // being read when one could not be decoded (heads_lost()).
  void feed(std::string_view data, std::vector<Piece>* pieces);
  // Between two frames: bytes of the agent's own go in without cutting one of the program's.
  bool at_frame_boundary() const noexcept { return head_.empty() && left_ == 0; }
  // The program wrote a frame (its SETTINGS, which must be the first the client gets).
  bool wrote_any() const noexcept { return wrote_; }
  bool heads_lost() const noexcept { return hpack_dead_; }

 private:
  void frame_end(std::vector<Piece>* pieces);
  H2FrameHeader head_;
  std::uint32_t left_ = 0;
  bool wrote_ = false;
  H2DataCursor data_;
  std::string frame_, block_;
  std::uint32_t block_stream_ = 0;
  bool block_end_stream_ = false;
  bool block_push_ = false;  // the block is a PUSH_PROMISE's
  bool hpack_dead_ = false;
  HpackDecoder hpack_;
  std::vector<HpackDecoder::Field> fields_;
  std::deque<std::string> heads_;  // of the last feed (a deque: views stay put)
};

// The frames the agent writes to answer a blocked request on `stream`: an empty SETTINGS first
// when the program has written nothing yet (the client expects the server's SETTINGS first),
// then a 403 (HEADERS with only literal fields, which leave the client's HPACK table as it was,
// and DATA ending the stream), or RST_STREAM when the program already sent the stream's
// headers, then GOAWAY naming last_stream: the connection is closed.
std::string h2_block_frames(bool settings_first, std::uint32_t stream, bool stream_started,
                            std::uint32_t last_stream, std::string_view content_type,
                            std::string_view event_id, std::string_view body);

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_HTTP2_HPP_
