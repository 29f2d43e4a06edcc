/*
 * The checks a WebSocket handshake must pass before a session exists, and the answer to one
 * that fails: a complete HTTP/1.1 response with the status and a one-line body (PROTOCOL.md
 * section 1). Loop thread.
 */
#ifndef PARLOR_HANDSHAKE_H
#define PARLOR_HANDSHAKE_H

#include <stdbool.h>

#include <libwebsockets.h>

#include "hmap.h"

struct server;

#define WS_PATH           "/ws"
#define WS_ADMIN_PATH     "/admin/ws"
#define WS_ADMIN_PROTOCOL "parlor-admin.v1"

/* What the checks read from the transport, which fills it in for each handshake. */
struct handshake_view {
    struct server *srv;
    int connections;             /* WebSocket connections open now */
    const struct hmap *per_addr; /* address -> connections from it (intptr_t) */
    /* the headers every response carries, refusals included */
    const struct lws_protocol_vhost_options *headers;
};

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE of a WebSocket upgrade, while it can still be answered:
 * 0 lets it go on; -1 after writing the refusal (lws then closes the connection). */
int handshake_confirm(const struct handshake_view *t, struct lws *wsi);
/* LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, once lws has bound the protocol (`admin`: the
 * console's): the same checks again for upgrades that did not come through
 * handshake_confirm(). 0 accepts; 1 refuses, without a response. */
int handshake_filter(const struct handshake_view *t, struct lws *wsi, bool admin);

#endif
