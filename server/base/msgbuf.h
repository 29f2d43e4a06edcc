/*
 * A serialized outgoing message with LWS_PRE bytes of headroom, shared by reference between
 * every connection it is queued to: a chat event is serialized once for a whole room.
 * Loop thread only (the count is not atomic on purpose).
 */
#ifndef PARLOR_MSGBUF_H
#define PARLOR_MSGBUF_H

#include <stddef.h>

#include <jansson.h>

struct msgbuf {
    unsigned refs;
    size_t len; /* payload bytes, after the headroom */
    size_t cap; /* payload capacity */
    unsigned char data[];
};

/* Serializes `json` compactly into a new buffer holding one reference; NULL on failure. */
struct msgbuf *msgbuf_from_json(const json_t *json);
/* A buffer holding a copy of `len` bytes (tests and raw messages). */
struct msgbuf *msgbuf_from_bytes(const void *bytes, size_t len);
void msgbuf_ref(struct msgbuf *m);
/* Drops one reference, freeing on the last; NULL is a no-op. */
void msgbuf_unref(struct msgbuf *m);
/* The payload, which has LWS_PRE writable bytes before it. */
unsigned char *msgbuf_payload(struct msgbuf *m);

#endif
