// Requests handed to a launcher: a program the host starts only to start the real one on its
// behalf, with the real command sent over a pipe where no hook reads it. The JVM starts every
// Process (ProcessBuilder, Runtime.exec) this way: posix_spawn of `jspawnhelper`, which reads
// the command and execs it. The agent in the host hands the requests in flight to the agent
// in the launcher (a memfd named by VIGIL_HANDOFF), which checks the exec against them as a
// fork()ed child checks its parent's requests: reported, and in block mode the exec fails
// with EACCES, which the JVM turns into an IOException; the parent's agent then answers the
// request with its 403 (LauncherReply).
//
// The encoding is this module's own (the two agents are the same library): a magic, then per
// request its serial and the salt of its id (events in both processes name it alike), whether
// it was the spawning thread's own, the peer and the request as the agent's HTTP/1.1 parser
// reads it back. Decoding treats the bytes as hostile: bounded
// counts and lengths, and anything malformed yields no request at all.
#ifndef VIGIL_AGENT_HANDOFF_HPP_
#define VIGIL_AGENT_HANDOFF_HPP_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/request.hpp"

namespace vigil::agent {

inline constexpr const char* kHandoffVariable = "VIGIL_HANDOFF";

// The launcher's answer, in the memfd's first kReplyBytes, which both agents map (the
// launcher's before the launcher closes its descriptors): whether its exec was blocked, and
// for which request, by which event, and what it counted (its counters die with it). The
// parent reads it at its thread's next response write, once the launcher has said something
// (the JVM waits for the exec's outcome before it goes on): it adds the counts to its own and
// answers a blocked request with the 403 as for a block of its own. The handoff's encoding
// follows these bytes.
inline constexpr std::size_t kReplyBytes = 128;
struct LauncherReply {
  std::atomic<std::uint32_t> state;       // kReplyNone, then kReplyAllowed or kReplyBlocked
  std::atomic<std::uint32_t> detections;  // reported there (one event each, written there)
  std::atomic<std::uint32_t> blocked;
  std::uint32_t reserved;
  std::uint64_t serial;                   // the blocked request's
  char event_id[40];                      // NUL-terminated
};
static_assert(sizeof(LauncherReply) <= kReplyBytes);
inline constexpr std::uint32_t kReplyNone = 0, kReplyAllowed = 1, kReplyBlocked = 2;
inline constexpr std::size_t kMaxHandedRequests = 16;
inline constexpr std::size_t kMaxHandoffBytes = 4u << 20;

// One request, as handed over: `http` is an HTTP/1.1 request (head, and the body framed by a
// Content-Length) that the agent's parser reads back into the same method, target, headers
// and body.
struct HandedRequest {
  std::uint64_t serial = 0;
  bool own = false;  // the request the spawning thread was serving
  std::string peer;
  std::string http;
  std::uint64_t id_salt = 0;  // its id is format_request_id's of `serial` under this salt
};

// Appends one request to `out` (started with begin_handoff). Returns false, leaving `out` as
// it was, when it would pass kMaxHandoffBytes or kMaxHandedRequests.
void begin_handoff(std::string* out);
bool append_handoff(std::string* out, const HandedRequest& request);

// The requests of `bytes`; false (and none) when they are not a whole, well-formed handoff.
bool decode_handoff(std::string_view bytes, std::vector<HandedRequest>* out);

// A request's parts as HTTP/1.1 text: the head with `headers` (name, value) less any
// Content-Length and Transfer-Encoding, then a Content-Length of `body` and the body. Header
// names and values holding CR or LF, or a method or target holding a space, CR or LF cannot be
// written faithfully: returns false.
bool http1_text(std::string_view method, std::string_view target,
                const std::vector<Header>& headers, std::string_view body, std::string* out);

// Whether the program `path` names is a launcher (by its file name: `jspawnhelper`).
bool is_launcher(const char* path) noexcept;

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_HANDOFF_HPP_
