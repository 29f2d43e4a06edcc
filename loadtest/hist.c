/* Log-linear latency histogram (see hist.h). Used by the load tester's single thread only. */
#include "hist.h"

#include <string.h>

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned hist_bucket_of(uint64_t v)
{
    unsigned msb;

    if (v < HIST_SUB_COUNT)
        return (unsigned)v;
    if (v >> HIST_MAX_BITS)
        return HIST_BUCKETS - 1;
    msb = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS */
    /* the top HIST_SUB_BITS + 1 bits of v: a mantissa in [SUB_COUNT, 2 * SUB_COUNT) */
    return (msb - HIST_SUB_BITS + 1) * HIST_SUB_COUNT + (unsigned)(v >> (msb - HIST_SUB_BITS)) -
           HIST_SUB_COUNT;
}

uint64_t hist_bucket_low(unsigned b)
{
    unsigned octave = b / HIST_SUB_COUNT, sub = b % HIST_SUB_COUNT;

    if (octave == 0)
        return b;
    return (uint64_t)(HIST_SUB_COUNT + sub) << (octave - 1);
}

uint64_t hist_bucket_high(unsigned b)
{
    if (b + 1 >= HIST_BUCKETS)
        return UINT64_MAX;
    return hist_bucket_low(b + 1) - 1;
}

void hist_record(struct hist *h, uint64_t v)
{
    if (v >> HIST_MAX_BITS)
        h->clamped++;
    h->buckets[hist_bucket_of(v)]++;
    h->count++;
    h->sum += (long double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    if (!from->count)
        return;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum += from->sum;
    into->clamped += from->clamped;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    uint64_t rank, seen = 0, v;

    if (!h->count)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++; /* ceil */
    if (rank < 1)
        rank = 1;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            v = hist_bucket_high(b);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

double hist_mean(const struct hist *h)
{
    return h->count ? (double)(h->sum / (long double)h->count) : 0.0;
}
