/*
 * A minimal scanner for the JSON objects a parlor.v1 server sends. The load tester reads
 * hundreds of thousands of events a second; building a jansson tree for each would cost more
 * than the server spends sending them. This walks one object's top-level members and hands
 * back each key and raw value span, without allocating. It checks structure only as far as it
 * needs to find the spans (strings, nesting); it is not a validator.
 */
#ifndef PARLOR_LT_SCAN_H
#define PARLOR_LT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct span {
    const char *p;
    size_t n;
};

/* One member of an object: `key` without quotes (escapes left as they are); `val` the raw
 * value text (a string keeps its quotes). */
struct member {
    struct span key, val;
};

/* Walks the object in buf[0..len). Fills up to `max` members and returns how many the object
 * has (possibly more than max), or -1 when the text is not an object it can walk. */
int scan_object(const char *buf, size_t len, struct member *out, int max);

/* The member named `key` among `m[0..n)`, or NULL. */
const struct member *scan_find(const struct member *m, int n, const char *key);

/* True when `v` is the string literal equal to `s` (no escapes considered). */
bool scan_str_eq(struct span v, const char *s);
/* The contents of a string literal without quotes; false if `v` is not a string. */
bool scan_str(struct span v, struct span *out);
/* The number of elements of the array literal `v`, or -1 when it is not an array it can walk. */
int scan_array_len(struct span v);
/* A JSON integer; false if `v` is not one. */
bool scan_int(struct span v, int64_t *out);

#endif
