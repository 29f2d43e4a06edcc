/* Token buckets (see ratelimit.h). Loop thread. */
#include "ratelimit.h"

void tbucket_init(struct tbucket *b, int burst, int64_t now_ms)
{
    b->tokens = burst;
    b->last_ms = now_ms;
}

bool tbucket_take(struct tbucket *b, int per_sec, int burst, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * per_sec / 1000.0;
        if (b->tokens > burst)
            b->tokens = burst;
        b->last_ms = now_ms;
    }
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

void tbucket_refund(struct tbucket *b, int burst)
{
    b->tokens += 1.0;
    if (b->tokens > burst)
        b->tokens = burst;
}
