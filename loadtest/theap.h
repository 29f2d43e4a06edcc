/*
 * The load generator's timer heap: a binary min-heap of (time, client, kind) events, the send
 * schedule of an open-loop run, churn restarts and quiz answers. Plain data, no I/O, no clock:
 * the caller pops what is due. Used by the one thread that runs everything (see lt.h).
 */
#ifndef PARLOR_LT_THEAP_H
#define PARLOR_LT_THEAP_H

#include <stddef.h>
#include <stdint.h>

/* One timer: at `at` (CLOCK_MONOTONIC ns), do `kind` for client `client`. */
struct tev {
    int64_t at;
    uint32_t client;
    uint8_t kind;
    uint16_t round; /* quiz answers: the round to answer */
};

/* Zeroed = empty. */
struct theap {
    struct tev *v;
    size_t len, cap;
};

/* Adds `ev`. Returns 0, or -1 when out of memory (the heap is unchanged). */
int theap_push(struct theap *h, struct tev ev);
/* Removes and returns the earliest event; the heap must not be empty. Events due at the same
 * time come out in no promised order. */
struct tev theap_pop(struct theap *h);
/* The earliest event, or NULL when the heap is empty. */
static inline const struct tev *theap_top(const struct theap *h)
{
    return h->len ? &h->v[0] : NULL;
}
/* Drops every event (the memory is kept for reuse). */
void theap_clear(struct theap *h);
/* Frees the memory; the heap is empty and usable again. Safe on a zeroed heap. */
void theap_free(struct theap *h);

#endif
