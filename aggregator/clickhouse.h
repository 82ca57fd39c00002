/* clickhouse: a client of ClickHouse's HTTP interface, the foundation of a
 * ClickHouse store. Statements go as POST bodies, INSERT data as RowBinary
 * bodies (rowbinary.h builds and reads it); answers come back whole into a
 * buffer the object reuses. It speaks only what ClickHouse 18.16 (Debian
 * 12's) and current releases both accept.
 *
 * One object keeps one libcurl handle, so consecutive requests reuse one
 * kept-alive connection; an object is used by one thread at a time (each
 * thread that talks to ClickHouse makes its own).
 *
 * Credentials travel as the X-ClickHouse-User and X-ClickHouse-Key headers,
 * never in a URL: no URL this module builds, logs or writes into an error
 * holds them, and a URL given with user:password@ in it is refused.
 *
 * 18.16's HTTP interface binds no parameters: every string that reaches SQL
 * text must go through clickhouse_quote (or clickhouse_quote_dup), and
 * identifiers must be checked with clickhouse_is_identifier. Values of
 * bulk rows go through RowBinary instead, which needs no quoting. */
#ifndef DROPSCOPE_CLICKHOUSE_H
#define DROPSCOPE_CLICKHOUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct clickhouse clickhouse_t;

/* The oldest server accepted: Debian 12's clickhouse-server. */
#define CLICKHOUSE_MIN_MAJOR 18
#define CLICKHOUSE_MIN_MINOR 16

#define CLICKHOUSE_CONNECT_TIMEOUT_MS 2000L  /* default: a server that is up answers in far less */
#define CLICKHOUSE_REQUEST_TIMEOUT_MS 30000L /* default, per request, connection included */
#define CLICKHOUSE_MAX_ANSWER (256u << 20)   /* bytes of an answer at most: narrow the query */

/* A client of the server at url, of the form
 *   http://HOST:PORT/?database=NAME   (or https://; PORT defaults to 8123,
 *                                      8443 for https)
 * where NAME is a plain identifier ([A-Za-z_][A-Za-z0-9_]*, 128 characters
 * at most). user and password may be NULL (ClickHouse's `default` user,
 * without a password). Nothing is sent yet: a server that is down shows at
 * the first request. NULL with the reason in err (naming the URL, what is
 * wrong and the form expected; never the password). */
clickhouse_t *clickhouse_new(const char *url, const char *user, const char *password, char *err,
                             size_t errsz);
void clickhouse_destroy(clickhouse_t **self_p);

/* Sets the connect timeout and the whole request's (connection included),
 * in ms; 0 keeps a value as it is. */
void clickhouse_set_timeout_ms(clickhouse_t *self, long connect_ms, long request_ms);

/* The database the URL named; borrowed from self. */
const char *clickhouse_database(const clickhouse_t *self);

/* Runs a statement whose answer is not needed (DDL, ALTER TABLE ... DROP
 * PARTITION ...) in the URL's database. 0, or -1 with err naming the
 * statement, the server and its exception (or why it could not be
 * reached). */
int clickhouse_exec(clickhouse_t *self, const char *sql, char *err, size_t errsz);

/* clickhouse_exec without the URL's database as the default, for the
 * statements that come before it exists (CREATE DATABASE IF NOT EXISTS);
 * tables named there need their database named too. */
int clickhouse_exec_nodb(clickhouse_t *self, const char *sql, char *err, size_t errsz);

/* Runs a query and sets *answer and *len to its answer's bytes, in the
 * FORMAT the SQL names (RowBinary for rowbinary.h's reader, TabSeparated,
 * ...), followed by a NUL byte that len does not count (a text answer reads
 * as a string). *answer is borrowed from self and valid until the next
 * request on it. The server finishes the query before answering (wait_end_of_query),
 * so an error part-way is an HTTP error, not the tail of an answer that
 * looked complete. 0, or -1 with err as clickhouse_exec's (and for an
 * answer over CLICKHOUSE_MAX_ANSWER). */
int clickhouse_query(clickhouse_t *self, const char *sql, const uint8_t **answer, size_t *len,
                     char *err, size_t errsz);

/* ClickHouse settings sent with every request from now on, as further URL
 * parameters: "name=value" joined by '&' (e.g. "insert_quorum=2"), names
 * identifiers and values of letters, digits and "._:-"; NULL or "" for
 * none. A setting the server does not know fails the next request. 0, or
 * -1 with err (malformed: nothing changes). */
int clickhouse_set_settings(clickhouse_t *self, const char *settings, char *err, size_t errsz);

/* Inserts len bytes of RowBinary rows (rowbinary.h's writer) into
 * table_and_columns, e.g. "drops (ts, host, value)": the statement goes in
 * the URL (INSERT INTO ... FORMAT RowBinary), the rows as the body. 0, or
 * -1 with err as clickhouse_exec's; rows are stored all or none (one
 * block). */
int clickhouse_insert(clickhouse_t *self, const char *table_and_columns, const uint8_t *rowbinary,
                      size_t len, char *err, size_t errsz);

/* The server's version (SELECT version(), asked without the database, which
 * may not exist yet): its first two numbers. 0, or -1 with the reason in
 * err. */
int clickhouse_version(clickhouse_t *self, int *major, int *minor, char *err, size_t errsz);

/* 0 when version major.minor is CLICKHOUSE_MIN_MAJOR.MINOR or newer; else
 * -1 with err naming the version found, the one needed and the fix. Pure:
 * clickhouse_check_version's judgement. */
int clickhouse_version_ok(int major, int minor, char *err, size_t errsz);

/* Asks the server its version and refuses one older than 18.16 (the check
 * at start). 0, or -1 with the reason in err. */
int clickhouse_check_version(clickhouse_t *self, char *err, size_t errsz);

/* --- SQL text ---------------------------------------------------------------- */

/* Writes s as a ClickHouse string literal into out: in single quotes, with
 * backslash and quote escaped, and every control byte (NUL included) as
 * \xHH, so that the literal stands for s byte for byte; other bytes
 * (UTF-8) as they are. 0, or -1 when out (outsz bytes) is too small: out
 * is then "", never a literal cut open. At most 4 * strlen(s) + 3 bytes. */
int clickhouse_quote(const char *s, char *out, size_t outsz);

/* clickhouse_quote into a new string, the caller's to free; NULL without
 * memory. */
char *clickhouse_quote_dup(const char *s);

/* True when s is a plain identifier, [A-Za-z_][A-Za-z0-9_]*, which SQL text
 * may hold as it is (database, table and column names). */
bool clickhouse_is_identifier(const char *s);

#endif
