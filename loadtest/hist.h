/*
 * Log-linear latency histogram (HDR-style): values below 2^HIST_SUB_BITS are counted exactly,
 * every power of two above is split into 2^HIST_SUB_BITS equal buckets, so any value is
 * reported within 1/128 (0.8%) of itself. Fixed size, no allocation, O(1) record. Values are
 * nanoseconds in parlor-loadtest, but nothing here depends on the unit.
 */
#ifndef PARLOR_LT_HIST_H
#define PARLOR_LT_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS  7
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
#define HIST_MAX_BITS  42 /* values at or above 2^42 (73 minutes in ns) are clamped */
#define HIST_BUCKETS   ((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB_COUNT)

struct hist {
    uint64_t count;
    uint64_t min, max; /* exact; min is UINT64_MAX while empty */
    long double sum;   /* exact enough for the mean of any realistic run */
    uint64_t clamped;  /* values that were too large and were counted as the largest bucket */
    uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
/* Adds every value of `from` into `into`. */
void hist_merge(struct hist *into, const struct hist *from);
/* The value at quantile q (0..1): the smallest bucket upper bound at or below which at least
 * ceil(q * count) values lie, never above the exact max and never below the exact min. 0 when
 * empty. q = 1 gives the exact max. */
uint64_t hist_quantile(const struct hist *h, double q);
double hist_mean(const struct hist *h);

/* Bucket arithmetic, exposed for the tests. */
unsigned hist_bucket_of(uint64_t v);
uint64_t hist_bucket_low(unsigned b);  /* smallest value counted in bucket b */
uint64_t hist_bucket_high(unsigned b); /* largest value counted in bucket b */

#endif
