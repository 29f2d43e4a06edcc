/* Log-linear histogram (see histo.h). Any thread; the caller locks. */
#include "histo.h"

/* Values below HISTO_SUB get a bucket each; above, bucket = (exponent, top mantissa bits). */
static unsigned bucket_of(uint64_t v)
{
    unsigned e;

    if (v < HISTO_SUB)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v); /* v in [2^e, 2^(e+1)) */
    return (e - HISTO_SUB_BITS + 1) * HISTO_SUB +
           (unsigned)((v >> (e - HISTO_SUB_BITS)) & (HISTO_SUB - 1));
}

/* The largest value that falls in bucket `b`. */
static uint64_t bucket_top(unsigned b)
{
    unsigned e, m;

    if (b < HISTO_SUB)
        return b;
    e = b / HISTO_SUB + HISTO_SUB_BITS - 1;
    m = b % HISTO_SUB;
    return ((uint64_t)(HISTO_SUB + m) << (e - HISTO_SUB_BITS)) +
           ((uint64_t)1 << (e - HISTO_SUB_BITS)) - 1;
}

void histo_add(struct histo *h, uint64_t value)
{
    h->buckets[bucket_of(value)]++;
    h->count++;
    h->sum += value;
    if (value > h->max)
        h->max = value;
}

uint64_t histo_percentile(const struct histo *h, double p)
{
    uint64_t rank, seen = 0;

    if (!h->count)
        return 0;
    rank = (uint64_t)(p / 100.0 * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    for (unsigned b = 0; b < HISTO_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            uint64_t top = bucket_top(b);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}

uint64_t histo_count_at_most(const struct histo *h, uint64_t value)
{
    uint64_t n = 0;

    for (unsigned b = 0; b < HISTO_BUCKETS && bucket_top(b) <= value; b++)
        n += h->buckets[b];
    return n;
}
