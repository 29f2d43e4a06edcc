/* Refcounted outgoing messages (see msgbuf.h). Loop thread only. */
#include "msgbuf.h"

#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

static struct msgbuf *msgbuf_alloc(size_t cap)
{
    struct msgbuf *m = malloc(sizeof(*m) + LWS_PRE + cap);

    if (!m)
        return NULL;
    m->refs = 1;
    m->len = 0;
    m->cap = cap;
    return m;
}

struct dump_ctx {
    struct msgbuf *m;
};

/* jansson calls this with pieces of the text; grow geometrically so a dump is O(n). */
static int dump_piece(const char *piece, size_t size, void *data)
{
    struct dump_ctx *ctx = data;
    struct msgbuf *m = ctx->m;

    if (m->len + size > m->cap) {
        size_t cap = m->cap * 2;
        while (cap < m->len + size)
            cap *= 2;
        struct msgbuf *grown = realloc(m, sizeof(*m) + LWS_PRE + cap);
        if (!grown)
            return -1;
        grown->cap = cap;
        ctx->m = m = grown;
    }
    memcpy(m->data + LWS_PRE + m->len, piece, size);
    m->len += size;
    return 0;
}

struct msgbuf *msgbuf_from_json(const json_t *json)
{
    struct dump_ctx ctx = {msgbuf_alloc(256)};

    if (!ctx.m || !json)
        goto fail;
    if (json_dump_callback(json, dump_piece, &ctx, JSON_COMPACT))
        goto fail;
    return ctx.m;
fail:
    free(ctx.m);
    return NULL;
}

struct msgbuf *msgbuf_from_bytes(const void *bytes, size_t len)
{
    struct msgbuf *m = msgbuf_alloc(len ? len : 1);

    if (!m)
        return NULL;
    memcpy(m->data + LWS_PRE, bytes, len);
    m->len = len;
    return m;
}

void msgbuf_ref(struct msgbuf *m)
{
    m->refs++;
}

void msgbuf_unref(struct msgbuf *m)
{
    if (m && --m->refs == 0)
        free(m);
}

unsigned char *msgbuf_payload(struct msgbuf *m)
{
    return m->data + LWS_PRE;
}
