/*
 * Token bucket: holds up to `burst` tokens, refills at `per_sec` a second, a request takes one.
 * Pure arithmetic over a caller-supplied clock, so tests drive it with a fake one. Loop
 * thread (each session's buckets).
 */
#ifndef PARLOR_RATELIMIT_H
#define PARLOR_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct tbucket {
    double tokens;
    int64_t last_ms;
};

/* A full bucket at time `now_ms`. */
void tbucket_init(struct tbucket *b, int burst, int64_t now_ms);
/* True (and one token taken) when the bucket has a token at `now_ms`. */
bool tbucket_take(struct tbucket *b, int per_sec, int burst, int64_t now_ms);
/* Puts back a token taken by a request that another limit refused. */
void tbucket_refund(struct tbucket *b, int burst);

#endif
