/*
 * The checks a WebSocket handshake must pass before a session exists (path, form,
 * subprotocol, then the server's state: drain, console token, origin, bans, connection caps),
 * and the HTTP/1.1 answer when one fails. Loop thread.
 */
#include "handshake.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bans.h"
#include "log.h"
#include "proto.h"
#include "server.h"

/* Why a WebSocket handshake is refused: an HTTP status and a one-line reason. */
struct refusal {
    unsigned status;
    const char *why;
};

static bool refused(struct refusal *r, unsigned status, const char *why)
{
    r->status = status;
    r->why = why;
    return true;
}

static const char *status_phrase(unsigned status)
{
    switch (status) {
    case HTTP_STATUS_BAD_REQUEST:
        return "Bad Request";
    case HTTP_STATUS_FORBIDDEN:
        return "Forbidden";
    case HTTP_STATUS_NOT_FOUND:
        return "Not Found";
    default:
        return "Service Unavailable";
    }
}

/* Answers a refused handshake with a complete HTTP/1.1 response, then the connection closes.
 * Not lws_return_http_status(): during an upgrade it writes an HTTP/1.0 status line and an
 * HTML page, which some clients cannot read (Python's websockets 10 sees no status at all). */
static int refuse(const struct handshake_view *t, struct lws *wsi, const struct refusal *r)
{
    unsigned char buf[LWS_PRE + 2048];
    char *start = (char *)buf + LWS_PRE, *p = start, *end = start + sizeof(buf) - LWS_PRE;

    log_debug("refused a WebSocket handshake: %u %s", r->status, r->why);
    p += snprintf(p, (size_t)(end - p), "HTTP/1.1 %u %s\r\n", r->status, status_phrase(r->status));
    /* the security headers every response carries */
    for (const struct lws_protocol_vhost_options *h = t->headers; h && p < end; h = h->next)
        p += snprintf(p, (size_t)(end - p), "%s %s\r\n", h->name, h->value);
    if (p < end)
        p += snprintf(p, (size_t)(end - p),
                      "content-type: text/plain; charset=utf-8\r\ncontent-length: %zu\r\n"
                      "connection: close\r\n\r\n%s\n",
                      strlen(r->why) + 1, r->why);
    if (p >= end) { /* cannot happen with our headers; never send half a response */
        log_error("refused handshake response too long (%u %s)", r->status, r->why);
        return -1;
    }
    lws_write(wsi, (unsigned char *)start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS);
    return -1; /* lws closes the connection once the response is out */
}

/* True when the Origin is absent (not a browser: no cross-site risk) or allowed. */
static bool origin_allowed(struct lws *wsi, const struct config_list *allowed)
{
    char origin[256];
    int n;

    if (!allowed->n)
        return true;
    n = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
    if (n <= 0)
        return lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) == 0;
    for (int i = 0; i < allowed->n; i++) {
        const char *p = allowed->items[i];
        while (*p) {
            size_t len = strcspn(p, ",");
            if (len == (size_t)n && !strncasecmp(p, origin, len))
                return true;
            p += len;
            if (*p == ',')
                p++;
        }
    }
    return false;
}

/* The checks that depend on the server's state rather than on the request's form; `admin` for
 * the console's protocol. True, with the reason in `r`, when the handshake is refused. */
static bool state_refused(const struct handshake_view *t, struct lws *wsi, bool admin,
                          struct refusal *r)
{
    const struct config *c = &t->srv->cfg;
    char addr[64] = "";

    /* a drain refuses players (a load balancer sends them elsewhere); operators may still
     * open the console to watch it, until the connections close */
    if (t->srv->stopping || (t->srv->draining && !admin))
        return refused(r, HTTP_STATUS_SERVICE_UNAVAILABLE, "the server is shutting down");
    if (admin && !c->admin_token)
        return refused(r, HTTP_STATUS_FORBIDDEN,
                       "the admin interface is disabled: start the server with --admin-token");
    if (!origin_allowed(wsi, &c->allowed_origins))
        return refused(r, HTTP_STATUS_FORBIDDEN, "origin not allowed");
    lws_get_peer_simple(wsi, addr, sizeof(addr));
    if (bans_until(&t->srv->bans, BAN_ADDRESS, addr, t->srv->wall_ms())) {
        log_info("refused a connection from banned address %s", addr);
        return refused(r, HTTP_STATUS_FORBIDDEN, "this address is banned");
    }
    if (t->connections >= c->max_connections)
        return refused(r, HTTP_STATUS_SERVICE_UNAVAILABLE, "too many connections");
    if (c->max_per_address &&
        (int)(intptr_t)hmap_get(t->per_addr, addr, strlen(addr)) >= c->max_per_address)
        return refused(r, HTTP_STATUS_SERVICE_UNAVAILABLE,
                       "too many connections from your address");
    return false;
}

/* The protocol lws will bind an upgrade to: the first offered subprotocol that names one of
 * the vhost's protocols, as lws_process_ws_upgrade() picks it, in `*out` (NULL: none). -1
 * when lws would drop the request without a word (a list or a name too long for it). */
static int offered_protocol(struct lws *wsi, const struct lws_protocols **out)
{
    char list[128], *tok, *save = NULL; /* lws's own limit on the list */
    int n = lws_hdr_copy(wsi, list, sizeof(list) - 1, WSI_TOKEN_PROTOCOL);

    *out = NULL;
    if (n < 0)
        return -1;
    list[n > 0 ? n : 0] = '\0';
    for (tok = strtok_r(list, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (strlen(tok) >= 64) /* lws's limit on one name */
            return -1;
        *out = lws_vhost_name_to_protocol(lws_get_vhost(wsi), tok);
        if (*out)
            return 0;
    }
    return 0;
}

/* True when the Connection header lists "upgrade" (lws drops the request silently otherwise). */
static bool connection_upgrade(struct lws *wsi)
{
    char v[128], *tok, *save = NULL;

    if (lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_CONNECTION) <= 0)
        return false;
    for (tok = strtok_r(v, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
        if (!strcasecmp(tok, "upgrade"))
            return true;
    return false;
}

/* Every check of a WebSocket upgrade, while it is still an HTTP request that can be answered:
 * path, form, subprotocol, then the server's state. lws would otherwise close the connection
 * without a response for an unknown subprotocol, and answer in HTTP/1.0 from the filter. */
static bool upgrade_refused(const struct handshake_view *t, struct lws *wsi, struct refusal *r)
{
    const struct lws_protocols *p;
    char uri[32];
    bool admin;

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
        (strcmp(uri, WS_PATH) && strcmp(uri, WS_ADMIN_PATH)))
        return refused(r, HTTP_STATUS_NOT_FOUND, "no WebSocket endpoint at this path");
    admin = !strcmp(uri, WS_ADMIN_PATH);
    if (!connection_upgrade(wsi) || !lws_hdr_total_length(wsi, WSI_TOKEN_KEY) ||
        !lws_hdr_total_length(wsi, WSI_TOKEN_HOST))
        return refused(r, HTTP_STATUS_BAD_REQUEST, "not a WebSocket handshake");
    if (offered_protocol(wsi, &p) || !p ||
        strcmp(p->name, admin ? WS_ADMIN_PROTOCOL : PROTO_SUBPROTOCOL))
        return refused(r, HTTP_STATUS_BAD_REQUEST,
                       admin ? "the subprotocol must be " WS_ADMIN_PROTOCOL
                             : "the subprotocol must be " PROTO_SUBPROTOCOL);
    return state_refused(t, wsi, admin, r);
}

/* The same checks once lws has bound the protocol. Over HTTP/1.1 they passed a moment ago in
 * upgrade_refused(); this is the gate for upgrades that come another way (a WebSocket over
 * HTTP/2), which get no HTTP response of ours. */
int handshake_filter(const struct handshake_view *t, struct lws *wsi, bool admin)
{
    struct refusal r;
    char uri[32];

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
        strcmp(uri, admin ? WS_ADMIN_PATH : WS_PATH))
        refused(&r, HTTP_STATUS_NOT_FOUND, "no WebSocket endpoint at this path");
    else if (!state_refused(t, wsi, admin, &r))
        return 0;
    log_debug("refused a WebSocket handshake: %u %s", r.status, r.why);
    return 1;
}

int handshake_confirm(const struct handshake_view *t, struct lws *wsi)
{
    struct refusal r;

    return upgrade_refused(t, wsi, &r) ? refuse(t, wsi, &r) : 0;
}
