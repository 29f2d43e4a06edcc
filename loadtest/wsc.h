/*
 * A lean WebSocket client transport (RFC 6455, client side, text messages only) over
 * non-blocking sockets and one epoll set, for holding thousands of connections in one thread.
 * It does the TCP connect, the HTTP upgrade (key, accept check, subprotocol), masking, frame
 * parsing with fragment reassembly, ping/pong and the close handshake; the caller decides what
 * to send and when. No threads, no timers: the caller's loop calls wsc_poll().
 *
 * Each connection is a `struct wsc_conn` that the caller embeds in its own structure and keeps
 * at a stable address while the connection lives.
 */
#ifndef PARLOR_LT_WSC_H
#define PARLOR_LT_WSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum wsc_state {
    WSC_IDLE = 0,   /* no socket */
    WSC_CONNECTING, /* TCP connect in progress */
    WSC_HANDSHAKE,  /* upgrade request sent, waiting for 101 */
    WSC_OPEN,       /* messages flow */
    WSC_CLOSING,    /* a close frame was sent or received; waiting for the server to hang up */
};

/* Why a connection ended, as far as the transport can tell. */
enum wsc_end {
    WSC_END_CLOSED = 0,    /* close frames exchanged (the code says which) */
    WSC_END_CONNECT,       /* TCP connect failed (err is the errno) */
    WSC_END_HTTP,          /* the server answered the upgrade with another HTTP status */
    WSC_END_BAD_HANDSHAKE, /* 101 but a wrong Sec-WebSocket-Accept or subprotocol */
    WSC_END_PROTOCOL,      /* a malformed frame from the server */
    WSC_END_IO,            /* read/write error or EOF without a close frame (code 1006) */
    WSC_END_ABORTED,       /* the caller gave up on it (wsc_abort) */
    WSC_END_COUNT
};

struct wsc_conn {
    int fd;
    uint8_t state;
    bool sent_close;  /* we sent a close frame */
    bool got_close;   /* the server sent one */
    bool out_armed;   /* EPOLLOUT is in the interest set */
    bool initiated;   /* the close handshake was ours (wsc_close) */
    uint8_t endpoint; /* which of the wsc's endpoints it connects to: set before wsc_connect */
    uint16_t close_code;
    char key[28]; /* Sec-WebSocket-Key we sent */
    unsigned char *in;
    uint32_t in_len, in_cap; /* unparsed bytes kept between reads */
    unsigned char *out;
    uint32_t out_off, out_len, out_cap; /* bytes the socket did not take yet */
    unsigned char *frag;
    uint32_t frag_len, frag_cap; /* a fragmented message being reassembled */
};

struct wsc_end_info {
    enum wsc_end why;
    int code;   /* close code from the server's close frame; 1006 when there was none */
    int err;    /* errno for WSC_END_CONNECT / WSC_END_IO, else 0 */
    int http;   /* HTTP status for WSC_END_HTTP */
    bool by_us; /* we started the close handshake */
};

struct wsc_ops {
    void (*on_open)(void *ud, struct wsc_conn *c);
    void (*on_message)(void *ud, struct wsc_conn *c, const char *text, size_t len);
    /* The socket is closed and its buffers freed; `c` may be reused (wsc_connect) from here. */
    void (*on_end)(void *ud, struct wsc_conn *c, const struct wsc_end_info *info);
    /* Optional: called every WSC_BETWEEN_EVENTS events while a large batch is handled, so the
     * caller's send schedule does not wait for the whole batch. It must not start connections
     * (a later event of the batch could belong to a descriptor just closed). */
    void (*between)(void *ud);
};

#define WSC_BETWEEN_EVENTS 32

#define WSC_MAX_ENDPOINTS 16

/* One server address and the upgrade request for it. */
struct wsc_endpoint {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char request_head[1024]; /* the upgrade request before the key */
};

struct wsc {
    int epfd;
    struct wsc_endpoint ep[WSC_MAX_ENDPOINTS];
    int nep;
    char request_tail[256]; /* and after it */
    char subprotocol[64];   /* the one the server must choose */
    const struct wsc_ops *ops;
    void *ud;
    uint64_t rng;
    unsigned char *rbuf; /* shared read buffer */
    size_t rbuf_cap;
    unsigned char *sbuf; /* shared frame-building buffer */
    size_t sbuf_cap;
    uint64_t frames_in, frames_out, bytes_in, bytes_out, pings, binary_in;
};

/* Sets up the epoll set, with `addr` as endpoint 0. `host` is the Host header (host:port),
 * `path` and `subprotocol` go in the upgrade request. Returns 0, or -1 with errno. */
int wsc_init(struct wsc *w, const struct sockaddr *addr, socklen_t addrlen, const char *host,
             const char *path, const char *subprotocol, const struct wsc_ops *ops, void *ud);
/* Adds another server a connection may go to (its wsc_conn.endpoint). Returns the endpoint's
 * index, or -1 with errno (EINVAL: too many, or too long a host or path). */
int wsc_add_endpoint(struct wsc *w, const struct sockaddr *addr, socklen_t addrlen,
                     const char *host, const char *path);
void wsc_free(struct wsc *w);

/* Starts connecting `c` (which must be WSC_IDLE). On failure on_end runs before it returns,
 * and it returns -1. */
int wsc_connect(struct wsc *w, struct wsc_conn *c);
/* Queues one text message. Returns 0, or -1 when the connection is not open. */
int wsc_send_text(struct wsc *w, struct wsc_conn *c, const void *text, size_t len);
/* Starts the close handshake with `code` (no-op unless open). */
void wsc_close(struct wsc *w, struct wsc_conn *c, int code);
/* Drops the connection now; on_end runs with WSC_END_ABORTED (no-op when idle). */
void wsc_abort(struct wsc *w, struct wsc_conn *c);
/* Waits up to timeout_ns (0: do not wait, <0: forever) and handles what is ready. Returns the
 * number of events handled, or -1 with errno (EINTR included). */
int wsc_poll(struct wsc *w, int64_t timeout_ns);

/* Frame helpers, exposed for the tests. */
/* Builds a masked client frame of `opcode` around payload[0..len) into out (which must hold
 * len + 14 bytes). Returns the frame's length. */
size_t wsc_build_frame(unsigned char *out, int opcode, const void *payload, size_t len,
                       uint32_t mask);
/* The Sec-WebSocket-Accept value for `key` (29 bytes with the NUL). */
void wsc_accept_for(const char *key, char out[29]);

#endif
