/* rowbinary: ClickHouse's RowBinary format, both ways, with no I/O. The
 * writer builds an INSERT's body in a growable buffer; the reader walks a
 * SELECT's answer (FORMAT RowBinary) column by column. The format carries
 * no types nor row marks: the reader must ask for exactly the SELECT's
 * column types in order, and every read is bounds-checked, so that a
 * truncated or mismatched answer is an error, never a read past its end.
 *
 * Encodings (the same in ClickHouse 18.16 and current releases): integers
 * and Float64 little-endian at their width; Date is a UInt16 (days),
 * DateTime a UInt32 (seconds); String and Array(T) are a LEB128 length,
 * then the bytes (the elements). */
#ifndef DROPSCOPE_ROWBINARY_H
#define DROPSCOPE_ROWBINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- writer --------------------------------------------------------------- */

typedef struct rbw rbw_t;

/* An empty writer; NULL without memory. */
rbw_t *rbw_new(void);
void rbw_destroy(rbw_t **self_p);

/* Empties the buffer (keeping its room) and clears a failure. */
void rbw_reset(rbw_t *self);

/* Appends one value. 0, or -1 without memory: the failure sticks (every
 * later append is refused too and rbw_failed says so), so a caller may
 * append a whole batch and check once before sending it. */
int rbw_u8(rbw_t *self, uint8_t v);
int rbw_u16(rbw_t *self, uint16_t v);
int rbw_u32(rbw_t *self, uint32_t v);
int rbw_u64(rbw_t *self, uint64_t v);
int rbw_i64(rbw_t *self, int64_t v);
int rbw_f64(rbw_t *self, double v);
/* A String: len bytes at s, any bytes (NUL and invalid UTF-8 included). */
int rbw_string(rbw_t *self, const void *s, size_t len);
/* An Array(T)'s element count; the n elements follow, each appended as T. */
int rbw_array_len(rbw_t *self, uint64_t n);

/* The bytes appended since the last reset; borrowed, valid until the next
 * append, reset or destroy. */
const uint8_t *rbw_data(const rbw_t *self);
size_t rbw_len(const rbw_t *self);
/* True once an append has failed (since the last reset). */
bool rbw_failed(const rbw_t *self);

/* --- reader --------------------------------------------------------------- */

/* A cursor over an answer that it does not own: a value on the caller's
 * stack, made by rbr_init, nothing to release. Fields are private. */
typedef struct {
    const uint8_t *buf; /* the answer, len bytes */
    size_t len;
    size_t pos;         /* the next byte to read */
    const char *failed; /* what could not be read (a static string), or NULL */
    size_t failed_at;   /* pos when it failed */
} rbr_t;

rbr_t rbr_init(const void *buf, size_t len);

/* Reads one value into *v. 0, or -1 when the answer ends before it (or, for
 * lengths, holds one that cannot be right): *v is then untouched and the
 * failure sticks, so a caller may read a whole row and check once. */
int rbr_u8(rbr_t *r, uint8_t *v);
int rbr_u16(rbr_t *r, uint16_t *v);
int rbr_u32(rbr_t *r, uint32_t *v);
int rbr_u64(rbr_t *r, uint64_t *v);
int rbr_i64(rbr_t *r, int64_t *v);
int rbr_f64(rbr_t *r, double *v);
/* A String: *s points into the answer (borrowed, not NUL-terminated), *len
 * bytes. */
int rbr_string(rbr_t *r, const char **s, size_t *len);
/* An Array(T)'s element count, refused when the answer has fewer bytes
 * left than that (every element takes at least one), so that a caller may
 * size an allocation by it. */
int rbr_array_len(rbr_t *r, uint64_t *n);

/* True while bytes are left and nothing has failed: the loop condition
 * over an answer's rows (after the loop, rbr_failed says how it ended). */
bool rbr_more(const rbr_t *r);
/* True once a read has failed. */
bool rbr_failed(const rbr_t *r);

/* Writes what went wrong into err: the value that could not be read, where,
 * and the likely cause. For a reader that has not failed, says so. */
void rbr_error(const rbr_t *r, char *err, size_t errsz);

#endif
