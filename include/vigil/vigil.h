/*
 * vigil.h: the stable C API of the Vigil detection engine (libvigil.so).
 *
 * C99, opaque handles, status codes; no function longjmps or lets a C++ exception escape.
 * Strings are passed as pointer + length and need not be NUL-terminated; they are borrowed
 * for the duration of the call only.
 *
 * Thread safety: a vigil_engine is immutable after creation and may be used by any number of
 * threads at once. A vigil_verdict belongs to the thread that received it until destroyed.
 *
 * Typical use:
 *   vigil_engine* engine;
 *   if (vigil_engine_create(&engine) != VIGIL_OK) ...;
 *   vigil_input in = {VIGIL_SOURCE_QUERY, "q", 1, value, value_len};
 *   vigil_sink sink = {0};
 *   sink.type = VIGIL_SINK_SQL; sink.dialect = "sqlite"; sink.value = sql; sink.value_len = n;
 *   vigil_verdict* v;
 *   if (vigil_sink_check(engine, &sink, &in, 1, &v) == VIGIL_OK) {
 *     if (vigil_verdict_is_attack(v)) puts(vigil_verdict_explanation(v));
 *     vigil_verdict_destroy(v);
 *   }
 *   vigil_engine_destroy(engine);
 */
#ifndef VIGIL_VIGIL_H_
#define VIGIL_VIGIL_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIGIL_API __attribute__((visibility("default")))

typedef enum vigil_status {
  VIGIL_OK = 0,
  VIGIL_ERR_INVALID_ARGUMENT = 1, /* a required pointer is NULL or a value is out of range */
  VIGIL_ERR_NO_MEMORY = 2,
  VIGIL_ERR_INTERNAL = 3 /* unexpected failure inside the engine; the check failed open */
} vigil_status;

/* Where an input came from. */
typedef enum vigil_source {
  VIGIL_SOURCE_QUERY = 0,
  VIGIL_SOURCE_BODY = 1,
  VIGIL_SOURCE_JSON = 2,
  VIGIL_SOURCE_HEADER = 3,
  VIGIL_SOURCE_COOKIE = 4,
  VIGIL_SOURCE_PATH = 5,
  VIGIL_SOURCE_MULTIPART = 6,
  VIGIL_SOURCE_OTHER = 7
} vigil_source;

/* The kind of dangerous operation. */
typedef enum vigil_sink_type {
  VIGIL_SINK_SQL = 0,
  VIGIL_SINK_SHELL = 1,
  VIGIL_SINK_EXEC = 2,
  VIGIL_SINK_PATH = 3,
  VIGIL_SINK_URL = 4,
  VIGIL_SINK_HTML = 5,
  VIGIL_SINK_HEADER = 6,
  VIGIL_SINK_REDIRECT = 7
} vigil_sink_type;

/* One request input, as the application received it. `name` may be NULL when name_len is 0. */
typedef struct vigil_input {
  vigil_source source;
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
} vigil_input;

/*
 * A dangerous operation. Zero-initialise, then set:
 *   type;
 *   dialect: for VIGIL_SINK_SQL, a NUL-terminated name ("sqlite", "mysql", "postgres",
 *            "mssql", "oracle"); NULL or unknown means the generic SQL lexer;
 *   value/value_len: the operation text (all types but VIGIL_SINK_EXEC);
 *   argv/argv_lens/argc: VIGIL_SINK_EXEC's argument vector (argv[0] is the program);
 *   base/base_len: optional; the directory a path must stay in (VIGIL_SINK_PATH) or the page
 *                  URL a redirect target resolves against (VIGIL_SINK_REDIRECT).
 */
typedef struct vigil_sink {
  vigil_sink_type type;
  const char* dialect;
  const char* value;
  size_t value_len;
  const char* const* argv;
  const size_t* argv_lens;
  size_t argc;
  const char* base;
  size_t base_len;
} vigil_sink;

typedef struct vigil_engine vigil_engine;
typedef struct vigil_verdict vigil_verdict;

/* The library version, e.g. "0.1.0". Static storage. */
VIGIL_API const char* vigil_version(void);

/* Creates an engine with default options. On success *out owns it (vigil_engine_destroy). */
VIGIL_API vigil_status vigil_engine_create(vigil_engine** out);

/* Destroys an engine. NULL is allowed. No verdict depends on the engine after it is made. */
VIGIL_API void vigil_engine_destroy(vigil_engine* engine);

/*
 * Sink analysis: do any of `inputs` (n of them; NULL allowed when n is 0) occur in the
 * operation and change its meaning? On VIGIL_OK, *out receives a verdict the caller owns.
 * A check that hit a limit or an internal error fails open: the verdict is clean and
 * vigil_verdict_failed_open() says so. Other statuses leave *out NULL.
 */
VIGIL_API vigil_status vigil_sink_check(const vigil_engine* engine, const vigil_sink* sink,
                                        const vigil_input* inputs, size_t n,
                                        vigil_verdict** out);

/* 1 when the verdict holds at least one detection, else 0. NULL gives 0. */
VIGIL_API int vigil_verdict_is_attack(const vigil_verdict* verdict);

/* 1 when the check could not be completed (a limit or an internal error) and let the
 * operation through; the host should count it. */
VIGIL_API int vigil_verdict_failed_open(const vigil_verdict* verdict);

/* Number of detections (one per convicted input). */
VIGIL_API size_t vigil_verdict_count(const vigil_verdict* verdict);

/*
 * Detection i's rule ("sql-injection"...), CWE ("CWE-89"), and reason (one sentence).
 * NUL-terminated strings owned by the verdict; NULL when i is out of range.
 */
VIGIL_API const char* vigil_verdict_rule(const vigil_verdict* verdict, size_t i);
VIGIL_API const char* vigil_verdict_cwe(const vigil_verdict* verdict, size_t i);
VIGIL_API const char* vigil_verdict_reason(const vigil_verdict* verdict, size_t i);

/* Detection i's input (index into the inputs given) and its byte span in the operation (for
 * VIGIL_SINK_EXEC, in argv[*element]). Any out pointer may be NULL. Returns VIGIL_ERR_INVALID_ARGUMENT
 * when i is out of range. */
VIGIL_API vigil_status vigil_verdict_span(const vigil_verdict* verdict, size_t i, size_t* input,
                                          size_t* element, size_t* begin, size_t* end);

/* A multi-line account for a person: the operation with the input marked, and the tokens it
 * created or crossed. Owned by the verdict. Never NULL for a valid verdict. */
VIGIL_API const char* vigil_verdict_explanation(const vigil_verdict* verdict);

/* Destroys a verdict. NULL is allowed. */
VIGIL_API void vigil_verdict_destroy(vigil_verdict* verdict);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_VIGIL_H_ */
