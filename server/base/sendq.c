/* Bounded per-connection send queue (see sendq.h). Loop thread only. */
#include "sendq.h"

#include <stdlib.h>

#define SENDQ_INITIAL_CAP 8

void sendq_init(struct sendq *q, size_t max_messages, size_t max_bytes)
{
    *q = (struct sendq){.max_messages = max_messages, .max_bytes = max_bytes};
}

static int grow(struct sendq *q)
{
    size_t cap = q->cap ? q->cap * 2 : SENDQ_INITIAL_CAP;
    struct msgbuf **ring;

    if (cap > q->max_messages)
        cap = q->max_messages;
    ring = malloc(cap * sizeof(*ring));
    if (!ring)
        return -1;
    for (size_t i = 0; i < q->count; i++)
        ring[i] = q->ring[(q->head + i) % q->cap];
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int sendq_push(struct sendq *q, struct msgbuf *m)
{
    if (q->count >= q->max_messages || q->bytes + m->len > q->max_bytes)
        return -1;
    if (q->count == q->cap && grow(q))
        return -1;
    msgbuf_ref(m);
    q->ring[(q->head + q->count) % q->cap] = m;
    q->count++;
    q->bytes += m->len;
    return 0;
}

struct msgbuf *sendq_peek(const struct sendq *q)
{
    return q->count ? q->ring[q->head] : NULL;
}

void sendq_pop(struct sendq *q)
{
    struct msgbuf *m;

    if (!q->count)
        return;
    m = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    q->bytes -= m->len;
    msgbuf_unref(m);
}

void sendq_clear(struct sendq *q)
{
    while (q->count)
        sendq_pop(q);
    free(q->ring);
    q->ring = NULL;
    q->cap = q->head = 0;
}
