/*
 * A log-linear histogram of durations: each power of two is split into HISTO_SUB buckets, so
 * a percentile is exact to within 1/HISTO_SUB (12.5%) at any scale, in constant memory and
 * time. The caller provides any locking.
 */
#ifndef PARLOR_HISTO_H
#define PARLOR_HISTO_H

#include <stdint.h>

#define HISTO_SUB_BITS 3
#define HISTO_SUB      (1 << HISTO_SUB_BITS)
#define HISTO_BUCKETS  (64 * HISTO_SUB)

struct histo {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t buckets[HISTO_BUCKETS];
};

void histo_add(struct histo *h, uint64_t value);
/* The value below which `p` percent (0-100) of the recorded values fall, rounded up to its
 * bucket's upper bound (never above the largest value seen); 0 when empty. */
uint64_t histo_percentile(const struct histo *h, double p);

/* How many recorded values are at most `value` (counted by bucket: a bucket straddling
 * `value` counts when its upper bound is within it). */
uint64_t histo_count_at_most(const struct histo *h, uint64_t value);

#endif
