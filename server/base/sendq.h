/*
 * A connection's bounded queue of outgoing messages, drained when the socket is writable.
 * Bounded by both count and bytes: a client that stops reading is closed instead of growing
 * the server's memory. Loop thread only.
 */
#ifndef PARLOR_SENDQ_H
#define PARLOR_SENDQ_H

#include <stddef.h>

#include "msgbuf.h"

struct sendq {
    struct msgbuf **ring; /* grows by doubling up to max_messages */
    size_t cap, head, count;
    size_t bytes;        /* payload bytes queued */
    size_t max_messages; /* limits; a push past either fails */
    size_t max_bytes;
};

void sendq_init(struct sendq *q, size_t max_messages, size_t max_bytes);
/* Queues a new reference to `m`. Returns 0, or -1 when a limit would be passed or memory ran
 * out (then nothing is queued and `m` is untouched). */
int sendq_push(struct sendq *q, struct msgbuf *m);
/* The oldest message, still queued; NULL when empty. */
struct msgbuf *sendq_peek(const struct sendq *q);
/* Removes the oldest message and drops its reference. */
void sendq_pop(struct sendq *q);
/* Drops every queued message and frees the ring; the queue stays usable. */
void sendq_clear(struct sendq *q);

#endif
