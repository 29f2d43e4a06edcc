/*
 * The libwebsockets transport (see ws.h). Everything here runs on the service thread, except
 * ws_wake(). Each connection's per-session data is a pointer to its struct session; the session
 * holds the wsi back, and both are cut on LWS_CALLBACK_CLOSED.
 */
#include "ws.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/ssl.h>

#include "admin.h"
#include "chat.h"
#include "handshake.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "sdnotify.h"
#include "session.h"

#define WS_CLOSE_GRACE_SECS  5  /* a closing client that does not read is dropped after this */
#define WS_CLOSE_LINGER_SECS 2  /* after the close frame, how long the client has to answer it */
#define WS_DRAIN_SECS        3  /* at shutdown, time for close frames to go out */
#define WS_WRITES_PER_TURN   64 /* fairness: one busy client cannot hog a writeable turn */

struct pss {
    struct session *s;
    char addr[64]; /* the peer, counted in per_addr while connected */
    bool counted;
    bool live; /* counted in nsockets until lws frees the connection */
    /* the close is lws's now: it sends the frame, then reads and discards until the client's
     * close frame (or its timeout); a writeable callback must not close again meanwhile */
    bool close_handed;
    struct lws *wsi;
    lws_sorted_usec_list_t linger; /* from the hand-over: the client's time to answer */
};

/* Security headers on everything served over HTTP: the client's own files only, no framing,
 * no sniffing, no referrer leaks. */
#define CSP                                                                                        \
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "             \
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "              \
    "form-action 'self'"
#define HSTS "max-age=31536000"

static int addr_count(struct ws *t, const char *addr)
{
    return (int)(intptr_t)hmap_get(&t->per_addr, addr, strlen(addr));
}

static void addr_adjust(struct ws *t, const char *addr, int delta)
{
    int n = addr_count(t, addr) + delta;

    if (n > 0)
        hmap_put(&t->per_addr, addr, strlen(addr), (void *)(intptr_t)n);
    else
        hmap_del(&t->per_addr, addr, strlen(addr));
}

/* True for a connection of the operator's console protocol. */
static bool is_admin(struct lws *wsi)
{
    const struct lws_protocols *p = lws_get_protocol(wsi);

    return p && !strcmp(p->name, WS_ADMIN_PROTOCOL);
}

static struct ws *ws_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* What handshake.c may read of the transport. */
static struct handshake_view view_of(struct lws *wsi)
{
    struct ws *t = ws_of(wsi);

    return (struct handshake_view){t->srv, t->nconns, &t->per_addr, t->headers};
}

static int filter_handshake(struct lws *wsi)
{
    struct handshake_view v = view_of(wsi);

    return handshake_filter(&v, wsi, is_admin(wsi));
}

static int confirm_handshake(struct lws *wsi)
{
    struct handshake_view v = view_of(wsi);

    return handshake_confirm(&v, wsi);
}

static void want_write(void *transport, void *conn)
{
    struct ws *t = transport;
    struct pss *pss = lws_wsi_user(conn);

    /* written at the end of the loop turn (flush_queued) */
    if (pss && pss->s && lws_dll2_is_detached(&pss->s->flush))
        lws_dll2_add_tail(&pss->s->flush, &t->flush);
}

static void request_close(void *transport, void *conn)
{
    /* the close frame goes out from the writeable callback; a client that stops reading
     * never makes us writeable, so a timeout backs it up */
    lws_callback_on_writable(conn);
    lws_set_timeout(conn, PENDING_TIMEOUT_USER_OK, WS_CLOSE_GRACE_SECS);
}

static void pause_reading(void *transport, void *conn, bool pause)
{
    /* lws keeps what it has read already and hands it over when reading resumes */
    lws_rx_flow_control(conn, !pause);
}

static void schedule(void *transport, lws_sorted_usec_list_t *sul,
                     void (*cb)(lws_sorted_usec_list_t *), int64_t us)
{
    struct ws *t = transport;

    lws_sul_schedule(t->ctx, 0, sul, cb, (lws_usec_t)us);
}

static void cancel(void *transport, lws_sorted_usec_list_t *sul)
{
    lws_sul_cancel(sul);
}

const struct transport_ops ws_transport_ops = {
    .want_write = want_write,
    .close = request_close,
    .pause_reading = pause_reading,
    .schedule = schedule,
    .cancel = cancel,
};

void ws_wake(void *arg)
{
    lws_cancel_service(arg);
}

static bool keepalive_due(struct keepalive_entry *e, enum keepalive_action what, void *arg)
{
    struct session *s = lws_container_of(e, struct session, ka);

    switch (what) {
    case KEEPALIVE_SIGNIN_EXPIRED:
        if (s->signed_in || s->admin_authed)
            return false;
        if (s->auth_pending) /* its register or login waits its turn on the pool */
            return true;
        session_close(s, PROTO_CLOSE_POLICY, "sign-in timeout");
        return false;
    case KEEPALIVE_PING:
        if (s->conn && !s->closing) {
            s->ping_due = true;
            lws_callback_on_writable(s->conn);
        }
        return false;
    case KEEPALIVE_DROP: /* no frame, not even a pong: the peer is gone, no close frame */
        if (s->conn)
            lws_set_timeout(s->conn, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return false;
    }
    return false;
}

static void keepalive_tick(lws_sorted_usec_list_t *sul);

/* Arms the one keepalive timer for the earliest deadline, if there is one. */
static void arm_keepalive(struct ws *t)
{
    int64_t next = keepalive_next(&t->ka), us;

    t->ka_armed = next >= 0;
    if (!t->ka_armed)
        return;
    t->ka_at = next;
    us = (next - server_mono_ms()) * 1000;
    lws_sul_schedule(t->ctx, 0, &t->ka_sul, keepalive_tick, us > 0 ? us : 0);
}

/* A frame came from `s`: its silence starts again. A pinged connection becomes active
 * again, with a deadline that may come before the timer (armed for a drop). */
static void heard_from(struct ws *t, struct session *s)
{
    keepalive_heard(&t->ka, &s->ka, server_mono_ms());
    if (t->ka_armed && keepalive_next(&t->ka) < t->ka_at)
        arm_keepalive(t);
}

static void keepalive_tick(lws_sorted_usec_list_t *sul)
{
    struct ws *t = lws_container_of(sul, struct ws, ka_sul);

    keepalive_expire(&t->ka, server_mono_ms(), keepalive_due, t);
    arm_keepalive(t);
}

static int close_with(struct lws *wsi, enum proto_close code, const char *reason)
{
    lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)reason, strlen(reason));
    return -1;
}

/* The server ends a session for what the client sent: it leaves at once (not kept for a
 * rejoin, as a dropped connection would be). Not `return -1` from the receive callback: lws
 * would drop the rest of the bytes it read, lose its place in the frames that follow, and
 * reset the connection before the client reads the close frame. The close goes out from the
 * writeable callback like every other; what arrives meanwhile is discarded. */
static int close_session(struct lws *wsi, struct session *s, enum proto_close code,
                         const char *reason)
{
    session_close(s, code, reason);
    return 0;
}

/* A whole message: players' to the chat service, operators' to the admin protocol. */
static void dispatch(struct server *srv, struct session *s, const char *buf, size_t len)
{
    if (s->admin)
        admin_handle(srv, s, buf, len);
    else
        chat_handle(srv, s, buf, len);
}

/* Appends a piece of a message; dispatches when the message is complete. Returns -1 to close. */
static int receive(struct ws *t, struct lws *wsi, struct session *s, const char *in, size_t len)
{
    size_t max = (size_t)t->srv->cfg.max_message;
    bool final = lws_is_final_fragment(wsi);

    heard_from(t, s); /* any traffic proves the peer alive */
    if (lws_frame_is_binary(wsi))
        return close_session(wsi, s, PROTO_CLOSE_UNSUPPORTED, "binary frames not accepted");
    if (s->rx_len + len > max)
        return close_session(wsi, s, PROTO_CLOSE_TOO_BIG, "message too big");

    if (final && !s->rx_len) { /* the common case: a whole message in one piece */
        if (!proto_utf8_valid(in, len))
            return close_session(wsi, s, PROTO_CLOSE_BAD_DATA, "invalid UTF-8");
        dispatch(t->srv, s, in, len);
        return 0;
    }
    if (!s->rx) {
        s->rx = malloc(max);
        if (!s->rx)
            return close_session(wsi, s, PROTO_CLOSE_INTERNAL, "out of memory");
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (final) {
        size_t n = s->rx_len;
        s->rx_len = 0;
        if (!proto_utf8_valid((const char *)s->rx, n))
            return close_session(wsi, s, PROTO_CLOSE_BAD_DATA, "invalid UTF-8");
        dispatch(t->srv, s, (const char *)s->rx, n);
        free(s->rx); /* long requests are rare: don't hold max_message per connection */
        s->rx = NULL;
    }
    return 0;
}

/* Writes up to WS_WRITES_PER_TURN queued messages, fewer if the socket fills. -1: the write
 * failed, close. */
static int write_queue(struct lws *wsi, struct session *s)
{
    struct msgbuf *m;
    int budget = WS_WRITES_PER_TURN;

    while (budget-- && (m = session_out_peek(s))) {
        if (lws_write(wsi, msgbuf_payload(m), m->len, LWS_WRITE_TEXT) < (int)m->len) {
            log_info("session %llu: write failed, closing", (unsigned long long)s->id);
            return -1;
        }
        s->srv->stats.bytes_out += m->len;
        session_out_pop(s);
        /* a poll() of the socket: only worth it when there is more to write */
        if (session_out_peek(s) && lws_send_pipe_choked(wsi))
            break;
    }
    return 0;
}

/* The client neither answered our close frame nor closed its end in time. lws would wait 5 s
 * for the answer, then longer for the end of its input (on poll()); a closing connection is
 * not worth holding that long. */
static void linger_over(lws_sorted_usec_list_t *sul)
{
    struct pss *pss = lws_container_of(sul, struct pss, linger);

    lws_set_timeout(pss->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Writes queued messages until the queue is empty or the socket is full. Returns -1 to close. */
static int writeable(struct lws *wsi, struct pss *pss, struct session *s)
{
    if (s->ping_due) {
        /* lws 4.1 passes on no empty pong (RECEIVE_PONG needs a payload): one byte */
        unsigned char ping[LWS_PRE + 1] = {[LWS_PRE] = 'p'};
        s->ping_due = false;
        if (lws_write(wsi, ping + LWS_PRE, 1, LWS_WRITE_PING) < 1)
            return -1;
    }
    if (s->closing && !session_out_peek(s)) {
        pss->close_handed = true;
        lws_sul_schedule(lws_get_context(wsi), 0, &pss->linger, linger_over,
                         (lws_usec_t)WS_CLOSE_LINGER_SECS * LWS_US_PER_SEC);
        if (!ws_of(wsi)->uv)
            return close_with(wsi, (enum proto_close)s->close_code, s->close_reason);
        /* On libuv, not `return -1`: Debian's lws 4.1.6 is a _DEBUG build, which then closes
         * the connection a second time ("uv repeat test"), killing it before its close frame
         * goes out. One close from here sends the frame on the next writeable (on poll() it
         * crashes lws's forced service instead). It calls CLOSED, which frees `s`. */
        lws_close_reason(wsi, (enum lws_close_status)s->close_code,
                         (unsigned char *)s->close_reason, strlen(s->close_reason));
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
        return 0;
    }
    if (write_queue(wsi, s))
        return -1;
    if (session_out_peek(s) || s->closing) /* more to write, or the close frame */
        lws_callback_on_writable(wsi);
    return 0;
}

/* Writes what this loop turn queued at once, where the socket can take it. Asking lws for a
 * writeable callback instead turns the socket's POLLOUT interest on and off again for every
 * message: on libuv two epoll_ctl calls per delivery, which halved broadcast throughput. lws
 * 4.1 accepts writes outside the callback; a connection whose last write lws had to buffer
 * (the kernel's send buffer was full) waits for its writeable callback as before. */
static void flush_queued(struct ws *t)
{
    lws_dll2_t *d;

    while ((d = lws_dll2_get_head(&t->flush))) {
        struct session *s = lws_container_of(d, struct session, flush);
        struct lws *wsi = s->conn;

        lws_dll2_remove(d);
        if (!wsi)
            continue;
        /* closing (either side), a ping to send first, or a full socket: the callback's job */
        if (s->closing || s->peer_closed || s->ping_due || lws_partial_buffered(wsi)) {
            lws_callback_on_writable(wsi);
            continue;
        }
        if (write_queue(wsi, s)) {
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            continue;
        }
        if (session_out_peek(s))
            lws_callback_on_writable(wsi);
    }
}

static int cb_parlor(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    struct pss *pss = user;
    struct ws *t;
    struct session *s;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter_handshake(wsi);

    case LWS_CALLBACK_ESTABLISHED:
        t = ws_of(wsi);
        s = session_new(t->srv, wsi);
        if (!s)
            return close_with(wsi, PROTO_CLOSE_INTERNAL, "out of memory");
        pss->s = s;
        pss->wsi = wsi;
        s->admin = is_admin(wsi);
        t->nconns++;
        t->srv->connections++;
        pss->counted = true;
        t->nsockets++;
        pss->live = true;
        lws_get_peer_simple(wsi, pss->addr, sizeof(pss->addr));
        /* an IPv4 peer on the dual-stack socket reads ::ffff:a.b.c.d: show a.b.c.d */
        snprintf(s->addr, sizeof(s->addr), "%s",
                 strncmp(pss->addr, "::ffff:", 7) || !strchr(pss->addr, '.') ? pss->addr
                                                                             : pss->addr + 7);
        addr_adjust(t, pss->addr, 1);
        keepalive_add(&t->ka, &s->ka, server_mono_ms());
        /* its sign-in deadline may come before the timer (armed for a ping, say) */
        if (!t->ka_armed || keepalive_next(&t->ka) < t->ka_at)
            arm_keepalive(t);
        chat_session_opened(t->srv, s);
        return 0;

    case LWS_CALLBACK_RECEIVE:
        s = pss->s;
        if (!s || s->closing)
            return 0;
        return receive(ws_of(wsi), wsi, s, in, len);

    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (pss->close_handed) /* a request from before the close: the frame is lws's job */
            return 0;
        if (!pss->s)
            return -1;
        return writeable(wsi, pss, pss->s);

    case LWS_CALLBACK_RECEIVE_PONG:
        if (pss->s)
            heard_from(ws_of(wsi), pss->s);
        return 0;

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (pss->s)
            pss->s->peer_closed = true; /* a close frame: the client left on purpose */
        return 0;

    case LWS_CALLBACK_CLOSED:
        t = ws_of(wsi);
        if (pss->counted) {
            t->nconns--;
            t->srv->connections--;
            addr_adjust(t, pss->addr, -1);
            pss->counted = false;
        }
        s = pss->s;
        if (!s)
            return 0;
        pss->s = NULL;
        keepalive_remove(&s->ka);
        lws_dll2_remove(&s->flush);
        if (chat_session_dropped(t->srv, s))
            return 0; /* kept for a rejoin; its seats wait */
        chat_session_closed(t->srv, s);
        session_free(s);
        return 0;

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* delivered to every protocol: only this one drains, and it takes everything */
        t = lws_context_user(lws_get_context(wsi));
        if (t->pool)
            pool_drain(t->pool, t->srv);
        return 0;

    default:
        return 0;
    }
}

/* The HTTP side serves files from the mount, and answers every WebSocket upgrade that is
 * refused (handshake_confirm) before lws binds it to a protocol. */
static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    /* every upgrade asks here first, on the protocol of the HTTP request */
    if (reason == LWS_CALLBACK_HTTP_CONFIRM_UPGRADE && in && !strcasecmp(in, "websocket"))
        return confirm_handshake(wsi);
    if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION) { /* bound to "http": never ours */
        log_debug("refused a WebSocket handshake for subprotocol 'http'");
        return 1;
    }
    /* lws tells only the first protocol when it frees a connection: a WebSocket's comes here
     * with its pss, after its close frame went out */
    if (reason == LWS_CALLBACK_WSI_DESTROY && user && lws_get_protocol(wsi) &&
        lws_get_protocol(wsi)->callback == cb_parlor) {
        struct pss *pss = user;
        lws_sul_cancel(&pss->linger);
        if (pss->live) {
            pss->live = false;
            ws_of(wsi)->nsockets--;
        }
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols static_http = {"http", cb_http, 0, 0, 0, NULL, 0};
/* lws gives each connection a receive buffer of this size (4096 when 0), most of a connection's
 * memory; it also caps each read. Requests are small; longer ones arrive in pieces that
 * receive() joins. */
#define WS_RX_BUFFER 1024

static const struct lws_protocols parlor_protocol = {
    PROTO_SUBPROTOCOL, cb_parlor, sizeof(struct pss), WS_RX_BUFFER, 0, NULL, 0};

static const struct lws_protocol_vhost_options mime_mjs = {NULL, NULL, ".mjs", "text/javascript"};

int ws_start(struct ws *t, struct server *srv, char *err, size_t errlen)
{
    struct lws_context_creation_info info;

    memset(t, 0, sizeof(*t));
    t->srv = srv;
    if (!realpath(srv->cfg.www, t->www)) {
        snprintf(err, errlen, "--www '%s': %s", srv->cfg.www, strerror(errno));
        return -1;
    }
    t->mount = (struct lws_http_mount){
        .mountpoint = "/",
        .mountpoint_len = 1,
        .origin = t->www,
        .def = "index.html",
        .origin_protocol = LWSMPRO_FILE,
        .extra_mimetypes = &mime_mjs,
    };
    /* all zero: lws arms no validity timer per connection; keepalive.c pings and drops */
    t->idle_policy = (lws_retry_bo_t){0};
    keepalive_init(&t->ka, srv->cfg.signin_timeout, srv->cfg.ping_interval, srv->cfg.idle_timeout);

    memset(&info, 0, sizeof(info));
    info.port = srv->cfg.port;
    info.iface = srv->cfg.listen; /* a numeric address (main.c resolved it), or NULL: all */
    /* the first protocol also gets upgrades naming no known subprotocol: it refuses them */
    t->protocols[0] = static_http;
    t->protocols[1] = parlor_protocol;
    t->protocols[2] = http_protocol;
    t->protocols[2].user = srv; /* http.c's server_of() */
    t->protocols[3] = parlor_protocol;
    t->protocols[3].name = WS_ADMIN_PROTOCOL; /* the same callback; sessions flagged admin */
    t->protocols[4] = (struct lws_protocols){NULL, NULL, 0, 0, 0, NULL, 0};
    http_mounts_init(t->admin_mounts, &t->mount);
    info.protocols = t->protocols;
    info.mounts = t->admin_mounts;
    info.vhost_name = "parlor";
    info.user = t;
    info.retry_and_idle_policy = &t->idle_policy;
    /* half-open handshakes go: timeout_secs bounds network steps, timeout_secs_ah_idle a
     * request whose headers never finish (it holds one of lws's header buffers) */
    info.timeout_secs = (unsigned)srv->cfg.handshake_timeout;
    info.timeout_secs_ah_idle = (unsigned)srv->cfg.handshake_timeout;
    /* canned headers: lws adds them to every HTTP response, files and endpoints alike */
    t->headers[0] =
        (struct lws_protocol_vhost_options){NULL, NULL, "content-security-policy:", CSP};
    t->headers[1] =
        (struct lws_protocol_vhost_options){NULL, NULL, "x-content-type-options:", "nosniff"};
    t->headers[2] =
        (struct lws_protocol_vhost_options){NULL, NULL, "referrer-policy:", "no-referrer"};
    t->headers[3] = (struct lws_protocol_vhost_options){NULL, NULL, "x-frame-options:", "DENY"};
    t->headers[4] =
        (struct lws_protocol_vhost_options){NULL, NULL, "strict-transport-security:", HSTS};
    for (int i = 0; i < (srv->cfg.tls_cert ? 4 : 3); i++)
        t->headers[i].next = &t->headers[i + 1];
    info.headers = t->headers;
    /* no LWS_SERVER_OPTION_VALIDATE_UTF8: lws would close with 1007 itself, and the session
     * could not tell that close from a dropped connection (kept 30 s for a rejoin);
     * receive() checks whole messages instead */
    info.options = 0;
    /* lws 4.1 reads an IPv4 iface into the wrong place of its IPv6 address and binds every
     * interface: an IPv4 address gets an IPv4 socket */
    if (srv->cfg.listen && inet_pton(AF_INET, srv->cfg.listen, &(struct in_addr){0}) == 1)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (srv->cfg.reuse_port) {
        /* one process per core, the kernel spreading connections: the port is bound here */
        if (srv->cfg.event_lib != CONFIG_EVENT_UV) {
            snprintf(err, errlen, "--reuse-port needs --event-lib uv");
            return -1;
        }
        if (listener_open(&t->listener, srv->cfg.listen, srv->cfg.port, err, errlen))
            return -1;
        info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* a server vhost (TLS too), no listener */
    }
    if (srv->cfg.tls_cert) {
        /* TLS 1.2 and up, forward-secret AEAD suites only */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = srv->cfg.tls_cert;
        info.ssl_private_key_filepath = srv->cfg.tls_key;
        info.ssl_cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                               "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                               "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
        info.tls1_3_plus_cipher_list =
            "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
        info.ssl_options_set = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                               SSL_OP_NO_TLSv1_1 | SSL_OP_CIPHER_SERVER_PREFERENCE;
    }
    if (srv->cfg.event_lib == CONFIG_EVENT_UV) {
        if (uv_loop_init(&t->uv_loop)) {
            snprintf(err, errlen, "--event-lib uv: cannot create a libuv loop");
            return -1;
        }
        t->uv = true;
        t->foreign_loops[0] = &t->uv_loop;
        info.foreign_loops = t->foreign_loops;
        info.options |= LWS_SERVER_OPTION_LIBUV;
    }
    t->ctx = lws_create_context(&info);
    if (!t->ctx) {
        if (t->uv) {
            uv_loop_close(&t->uv_loop);
            t->uv = false;
            snprintf(err, errlen,
                     "cannot start lws on its libuv plugin (package libwebsockets-evlib-uv), or "
                     "listen on port %d",
                     srv->cfg.port);
        } else {
            snprintf(err, errlen, "cannot listen on %s port %d (in use, or not permitted)",
                     srv->cfg.listen ? srv->cfg.listen : "every interface", srv->cfg.port);
        }
        listener_close(&t->listener);
        return -1;
    }
    if (t->listener.open &&
        listener_start(&t->listener, &t->uv_loop, lws_get_vhost_by_name(t->ctx, "parlor"),
                       srv->cfg.tls_cert != NULL)) {
        snprintf(err, errlen, "--reuse-port: cannot watch the listening socket");
        return -1;
    }
    return 0;
}

/* One turn of the loop: waits for something to do (socket, timer, wake-up) and does it. */
static int service_once(struct ws *t)
{
    if (t->uv) {
        uv_run(&t->uv_loop, UV_RUN_ONCE);
        return 0;
    }
    return lws_service(t->ctx, 0);
}

static void stats_tick(lws_sorted_usec_list_t *sul)
{
    struct ws *t = lws_container_of(sul, struct ws, stats_sul);
    struct stats_counters c;

    server_read_counters(t->srv, &c);
    admin_push_stats(t->srv, stats_record(&t->srv->figures, &c, server_wall_ms()));
    lws_sul_schedule(t->ctx, 0, &t->stats_sul, stats_tick, LWS_US_PER_SEC);
}

static void drain_deadline(lws_sorted_usec_list_t *sul)
{
    /* nothing to do: firing wakes the loop so ws_run sees the deadline has passed */
}

/* True when the shutdown should close every connection now. */
static bool time_to_close(struct ws *t, const struct ws_signals *sig)
{
    struct server *srv = t->srv;

    if (sig->count && !srv->draining) {
        if (sig->last != SIGTERM || !srv->cfg.drain_seconds)
            return true; /* Ctrl-C: now */
        /* SIGTERM: no new sign-ins or games; running games may finish */
        chat_begin_drain(srv, srv->cfg.drain_seconds);
        return false;
    }
    if (!srv->draining) /* (an operator may start a drain too) */
        return false;
    /* a second signal, the last game over, or the deadline */
    return sig->count > 1 || !srv->games_running || srv->wall_ms() >= srv->drain_deadline_ms;
}

void ws_run(struct ws *t, const struct ws_signals *sig)
{
    int64_t deadline = 0;

    lws_sul_schedule(t->ctx, 0, &t->stats_sul, stats_tick, LWS_US_PER_SEC);
    for (;;) {
        if (service_once(t) < 0) {
            log_error("lws_service failed; stopping");
            break;
        }
        flush_queued(t);
        if (!t->draining && time_to_close(t, sig)) {
            t->draining = true;
            t->srv->stopping = true;
            log_info("stopping: closing %zu connections", t->srv->sessions_by_id.count);
            chat_close_all(t->srv, PROTO_CLOSE_GOING_AWAY, "server shutting down");
            deadline = server_mono_ms() + WS_DRAIN_SECS * 1000;
            lws_sul_schedule(t->ctx, 0, &t->drain_sul, drain_deadline,
                             (lws_usec_t)WS_DRAIN_SECS * LWS_US_PER_SEC);
        }
        if (t->srv->draining || t->draining)
            sdnotify_stopping(); /* once: systemd waits up to TimeoutStopSec from here */
        /* CLOSED comes before lws sends the close frame: wait until the sockets are gone.
         * Detached sessions have no connection to wait for: chat_end_detached ends them. */
        if (t->draining && (!t->nsockets || server_mono_ms() >= deadline))
            break;
    }
}

void ws_destroy(struct ws *t)
{
    hmap_destroy(&t->per_addr);
    listener_close(&t->listener);
    if (t->ctx) {
        lws_sul_cancel(&t->stats_sul);
        lws_sul_cancel(&t->ka_sul);
        lws_sul_cancel(&t->drain_sul);
        lws_context_destroy(t->ctx);
        if (t->uv) {
            /* on a foreign loop the first call only starts closing lws's libuv handles; once
             * the loop has run their close callbacks, a second call frees the context */
            uv_run(&t->uv_loop, UV_RUN_DEFAULT);
            lws_context_destroy(t->ctx);
        }
    }
    t->ctx = NULL;
    if (t->uv) {
        uv_run(&t->uv_loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&t->uv_loop))
            log_warn("the libuv loop still had handles open at exit");
        t->uv = false;
    }
}
