/* The C API, used from C: create, check, read, destroy. Exits non-zero on the first failure. */
#include <stdio.h>
#include <string.h>

#include "vigil/vigil.h"

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                      \
    }                                                                \
  } while (0)

int main(void) {
  vigil_engine* engine = NULL;
  CHECK(vigil_engine_create(&engine) == VIGIL_OK);
  CHECK(engine != NULL);

  const char* attack = "x' OR 1=1--";
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT * FROM users WHERE name = '%s'", attack);
  vigil_input in = {VIGIL_SOURCE_QUERY, "q", 1, attack, strlen(attack)};
  vigil_sink sink;
  memset(&sink, 0, sizeof sink);
  sink.type = VIGIL_SINK_SQL;
  sink.dialect = "sqlite";
  sink.value = sql;
  sink.value_len = strlen(sql);

  vigil_verdict* v = NULL;
  CHECK(vigil_sink_check(engine, &sink, &in, 1, &v) == VIGIL_OK);
  CHECK(vigil_verdict_is_attack(v) == 1);
  CHECK(vigil_verdict_count(v) == 1);
  CHECK(strcmp(vigil_verdict_rule(v, 0), "sql-injection") == 0);
  CHECK(strcmp(vigil_verdict_cwe(v, 0), "CWE-89") == 0);
  size_t input = 9, begin = 0, end = 0;
  CHECK(vigil_verdict_span(v, 0, &input, NULL, &begin, &end) == VIGIL_OK);
  CHECK(input == 0);
  CHECK(end - begin == strlen(attack));
  CHECK(strstr(vigil_verdict_explanation(v), "^^^") != NULL);
  CHECK(vigil_verdict_rule(v, 1) == NULL);
  CHECK(vigil_verdict_span(v, 1, NULL, NULL, NULL, NULL) == VIGIL_ERR_INVALID_ARGUMENT);
  vigil_verdict_destroy(v);

  /* The same input, quoted properly, is data. */
  const char* safe = "SELECT * FROM users WHERE name = 'x'' OR 1=1--'";
  sink.value = safe;
  sink.value_len = strlen(safe);
  CHECK(vigil_sink_check(engine, &sink, &in, 1, &v) == VIGIL_OK);
  CHECK(vigil_verdict_is_attack(v) == 0);
  CHECK(vigil_verdict_failed_open(v) == 0);
  vigil_verdict_destroy(v);

  /* An argv whose program is the input. */
  const char* prog = "/bin/sh";
  const char* argv[] = {prog, "-c", "id"};
  size_t lens[] = {7, 2, 2};
  vigil_input pin = {VIGIL_SOURCE_BODY, "tool", 4, prog, strlen(prog)};
  memset(&sink, 0, sizeof sink);
  sink.type = VIGIL_SINK_EXEC;
  sink.argv = argv;
  sink.argv_lens = lens;
  sink.argc = 3;
  CHECK(vigil_sink_check(engine, &sink, &pin, 1, &v) == VIGIL_OK);
  CHECK(vigil_verdict_is_attack(v) == 1);
  vigil_verdict_destroy(v);

  /* Bad arguments are refused, not crashed on. */
  CHECK(vigil_sink_check(NULL, &sink, &pin, 1, &v) == VIGIL_ERR_INVALID_ARGUMENT);
  CHECK(vigil_sink_check(engine, NULL, &pin, 1, &v) == VIGIL_ERR_INVALID_ARGUMENT);
  CHECK(vigil_sink_check(engine, &sink, NULL, 1, &v) == VIGIL_ERR_INVALID_ARGUMENT);
  sink.type = (vigil_sink_type)42;
  CHECK(vigil_sink_check(engine, &sink, &pin, 1, &v) == VIGIL_ERR_INVALID_ARGUMENT);
  vigil_verdict_destroy(NULL);
  vigil_engine_destroy(engine);
  vigil_engine_destroy(NULL);
  puts("capi ok");
  return 0;
}
