/*
 * Lean epoll WebSocket client (see wsc.h). Runs on the load tester's only thread: every
 * function here is called from its event loop.
 */
#include "wsc.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define WS_GUID       "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define RBUF_SIZE     (256 * 1024)
#define READ_CHUNK    (64 * 1024)
#define MAX_EVENTS    1024
#define MAX_HANDSHAKE 8192 /* bytes of HTTP response headers we accept */

enum {
    OP_CONT = 0x0,
    OP_TEXT = 0x1,
    OP_BINARY = 0x2,
    OP_CLOSE = 0x8,
    OP_PING = 0x9,
    OP_PONG = 0xA
};

static uint64_t rng_next(struct wsc *w)
{
    /* xorshift64*: masks and keys need to be unpredictable to caches, not to attackers */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 0x2545F4914F6CDD1DULL;
}

static void b64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

void wsc_accept_for(const char *key, char out[29])
{
    char buf[128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);

    if (n < 0 || (size_t)n >= sizeof(buf) ||
        !EVP_Digest(buf, (size_t)n, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20) {
        out[0] = '\0';
        return;
    }
    b64(md, 20, out);
}

size_t wsc_build_frame(unsigned char *out, int opcode, const void *payload, size_t len,
                       uint32_t mask)
{
    const unsigned char *p = payload;
    unsigned char m[4];
    size_t h = 0, i;

    out[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        out[h++] = (unsigned char)(0x80 | len);
    } else if (len <= 0xffff) {
        out[h++] = 0x80 | 126;
        out[h++] = (unsigned char)(len >> 8);
        out[h++] = (unsigned char)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int s = 56; s >= 0; s -= 8)
            out[h++] = (unsigned char)((uint64_t)len >> s);
    }
    memcpy(m, &mask, 4);
    memcpy(out + h, m, 4);
    h += 4;
    for (i = 0; i < len; i++)
        out[h + i] = p[i] ^ m[i & 3];
    return h + len;
}

static int grow(unsigned char **buf, uint32_t *cap, size_t need)
{
    size_t c = *cap ? *cap : 256;
    unsigned char *b;

    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    if (c > UINT32_MAX)
        return -1;
    b = realloc(*buf, c);
    if (!b)
        return -1;
    *buf = b;
    *cap = (uint32_t)c;
    return 0;
}

static void set_out_interest(struct wsc *w, struct wsc_conn *c, bool want)
{
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.ptr = c};

    if (c->out_armed == want)
        return;
    if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->out_armed = want;
}

static void end_conn(struct wsc *w, struct wsc_conn *c, enum wsc_end why, int err, int http)
{
    struct wsc_end_info info = {
        .why = why,
        .code = c->got_close ? c->close_code : 1006,
        .err = err,
        .http = http,
        .by_us = c->initiated,
    };

    if (c->fd >= 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    free(c->in);
    free(c->out);
    free(c->frag);
    *c = (struct wsc_conn){.fd = -1, .endpoint = c->endpoint};
    w->ops->on_end(w->ud, c, &info);
}

/* Writes what is queued. Returns 0, or -1 after ending the connection. */
static int flush_out(struct wsc *w, struct wsc_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_out_interest(w, c, true);
                return 0;
            }
            if (errno == EINTR)
                continue;
            end_conn(w, c, WSC_END_IO, errno, 0);
            return -1;
        }
        w->bytes_out += (uint64_t)n;
        c->out_off += (uint32_t)n;
    }
    c->out_off = c->out_len = 0;
    set_out_interest(w, c, false);
    return 0;
}

/* Sends bytes now if nothing is queued, queues the rest. Returns 0, or -1 after ending. */
static int send_bytes(struct wsc *w, struct wsc_conn *c, const unsigned char *p, size_t len)
{
    if (c->out_len == c->out_off) {
        c->out_off = c->out_len = 0;
        while (len) {
            ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                end_conn(w, c, WSC_END_IO, errno, 0);
                return -1;
            }
            w->bytes_out += (uint64_t)n;
            p += n;
            len -= (size_t)n;
        }
        if (!len)
            return 0;
    }
    if (grow(&c->out, &c->out_cap, (size_t)c->out_len + len)) {
        end_conn(w, c, WSC_END_IO, ENOMEM, 0);
        return -1;
    }
    memcpy(c->out + c->out_len, p, len);
    c->out_len += (uint32_t)len;
    set_out_interest(w, c, true);
    return 0;
}

static int send_frame(struct wsc *w, struct wsc_conn *c, int opcode, const void *p, size_t len)
{
    size_t need = len + 14, n;

    if (need > w->sbuf_cap) {
        unsigned char *b = realloc(w->sbuf, need);
        if (!b) {
            end_conn(w, c, WSC_END_IO, ENOMEM, 0);
            return -1;
        }
        w->sbuf = b;
        w->sbuf_cap = need;
    }
    n = wsc_build_frame(w->sbuf, opcode, p, len, (uint32_t)rng_next(w));
    w->frames_out++;
    return send_bytes(w, c, w->sbuf, n);
}

int wsc_init(struct wsc *w, const struct sockaddr *addr, socklen_t addrlen, const char *host,
             const char *path, const char *subprotocol, const struct wsc_ops *ops, void *ud)
{
    uint64_t seed = 0;
    int n;

    memset(w, 0, sizeof(*w));
    w->epfd = -1;
    n = snprintf(w->request_tail, sizeof(w->request_tail),
                 "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                 subprotocol);
    if (n < 0 || (size_t)n >= sizeof(w->request_tail) ||
        strlen(subprotocol) >= sizeof(w->subprotocol)) {
        errno = EINVAL;
        return -1;
    }
    strcpy(w->subprotocol, subprotocol);
    w->ops = ops;
    w->ud = ud;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
    w->rng = seed | 1;
    w->rbuf_cap = RBUF_SIZE;
    w->rbuf = malloc(w->rbuf_cap);
    w->sbuf_cap = 16384;
    w->sbuf = malloc(w->sbuf_cap);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!w->rbuf || !w->sbuf || w->epfd < 0) {
        wsc_free(w);
        return -1;
    }
    if (wsc_add_endpoint(w, addr, addrlen, host, path) < 0) {
        wsc_free(w);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int wsc_add_endpoint(struct wsc *w, const struct sockaddr *addr, socklen_t addrlen,
                     const char *host, const char *path)
{
    struct wsc_endpoint *ep = &w->ep[w->nep];
    int n;

    if (w->nep == WSC_MAX_ENDPOINTS || addrlen > sizeof(ep->addr)) {
        errno = EINVAL;
        return -1;
    }
    n = snprintf(ep->request_head, sizeof(ep->request_head),
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: ",
                 path, host);
    if (n < 0 || (size_t)n >= sizeof(ep->request_head)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(&ep->addr, addr, addrlen);
    ep->addrlen = addrlen;
    return w->nep++;
}

void wsc_free(struct wsc *w)
{
    if (w->epfd >= 0)
        close(w->epfd);
    free(w->rbuf);
    free(w->sbuf);
    w->epfd = -1;
    w->rbuf = w->sbuf = NULL;
}

int wsc_connect(struct wsc *w, struct wsc_conn *c)
{
    int one = 1, fd;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    const struct wsc_endpoint *ep = &w->ep[c->endpoint < w->nep ? c->endpoint : 0];

    *c = (struct wsc_conn){.fd = -1, .endpoint = c->endpoint};
    fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        end_conn(w, c, WSC_END_CONNECT, errno, 0);
        return -1;
    }
    c->fd = fd;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&ep->addr, ep->addrlen) && errno != EINPROGRESS) {
        end_conn(w, c, WSC_END_CONNECT, errno, 0);
        return -1;
    }
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
        end_conn(w, c, WSC_END_CONNECT, errno, 0);
        return -1;
    }
    c->out_armed = true;
    c->state = WSC_CONNECTING;
    return 0;
}

static void send_upgrade(struct wsc *w, struct wsc_conn *c)
{
    unsigned char raw[16];
    const struct wsc_endpoint *ep = &w->ep[c->endpoint < w->nep ? c->endpoint : 0];
    char req[sizeof(ep->request_head) + sizeof(w->request_tail) + sizeof(c->key)];
    uint64_t a = rng_next(w), b = rng_next(w);
    int n;

    memcpy(raw, &a, 8);
    memcpy(raw + 8, &b, 8);
    b64(raw, 16, c->key);
    n = snprintf(req, sizeof(req), "%s%s%s", ep->request_head, c->key, w->request_tail);
    c->state = WSC_HANDSHAKE;
    if (send_bytes(w, c, (unsigned char *)req, (size_t)n) == 0 && c->out_len == c->out_off)
        set_out_interest(w, c, false);
}

/* Value of header `name` in the response head, copied into out; false when absent. */
static bool header_value(const char *head, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = strstr(head, "\r\n");

    while (p && p[2] != '\r') {
        const char *line = p + 2, *end = strstr(line, "\r\n");
        if (!end)
            return false;
        if ((size_t)(end - line) > nlen && line[nlen] == ':' && !strncasecmp(line, name, nlen)) {
            const char *v = line + nlen + 1;
            size_t len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            len = (size_t)(end - v);
            while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            if (len >= outlen)
                len = outlen - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

/* Checks the upgrade response in buf[0..len). Returns bytes consumed (the head), 0 when more is
 * needed, or -1 after ending the connection. */
static long check_upgrade(struct wsc *w, struct wsc_conn *c, unsigned char *buf, size_t len)
{
    char head[MAX_HANDSHAKE + 1], val[128], want[29];
    const unsigned char *end = NULL;
    size_t hlen;
    int status = 0;

    for (size_t i = 0; i + 3 < len; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = buf + i + 4;
            break;
        }
    }
    if (!end) {
        if (len > MAX_HANDSHAKE) {
            end_conn(w, c, WSC_END_HTTP, 0, 0);
            return -1;
        }
        return 0;
    }
    hlen = (size_t)(end - buf);
    if (hlen > MAX_HANDSHAKE) {
        end_conn(w, c, WSC_END_HTTP, 0, 0);
        return -1;
    }
    memcpy(head, buf, hlen);
    head[hlen] = '\0';
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1 || status != 101) {
        end_conn(w, c, WSC_END_HTTP, 0, status);
        return -1;
    }
    wsc_accept_for(c->key, want);
    if (!header_value(head, "Sec-WebSocket-Accept", val, sizeof(val)) || strcmp(val, want) ||
        !header_value(head, "Sec-WebSocket-Protocol", val, sizeof(val)) ||
        strcmp(val, w->subprotocol)) {
        end_conn(w, c, WSC_END_BAD_HANDSHAKE, 0, 101);
        return -1;
    }
    c->state = WSC_OPEN;
    w->ops->on_open(w->ud, c);
    if (c->state == WSC_IDLE) /* the callback may abort */
        return -1;
    return (long)hlen;
}

static void handle_close_frame(struct wsc *w, struct wsc_conn *c, const unsigned char *p,
                               size_t len)
{
    c->got_close = true;
    c->close_code = len >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 1005;
    if (!c->sent_close) {
        unsigned char code[2] = {p && len >= 2 ? p[0] : 0x03, p && len >= 2 ? p[1] : 0xe8};
        c->sent_close = true;
        /* echo the code; then wait for the server to close the TCP connection */
        send_frame(w, c, OP_CLOSE, code, 2);
        if (c->state != WSC_IDLE)
            c->state = WSC_CLOSING;
    }
}

/* Parses whole frames in buf[0..len). Returns bytes consumed, or -1 after ending. */
static long parse_frames(struct wsc *w, struct wsc_conn *c, unsigned char *buf, size_t len)
{
    size_t off = 0;

    while (len - off >= 2) {
        unsigned char *f = buf + off;
        bool fin = f[0] & 0x80, masked = f[1] & 0x80;
        int op = f[0] & 0x0f;
        uint64_t plen = f[1] & 0x7f;
        size_t h = 2;
        unsigned char *p;

        if (plen == 126) {
            if (len - off < 4)
                break;
            plen = (uint64_t)f[2] << 8 | f[3];
            h = 4;
        } else if (plen == 127) {
            if (len - off < 10)
                break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | f[2 + i];
            h = 10;
        }
        if (masked)
            h += 4;
        if ((f[0] & 0x70) || plen > (1u << 30)) {
            end_conn(w, c, WSC_END_PROTOCOL, 0, 0);
            return -1;
        }
        if (len - off < h + plen)
            break;
        p = f + h;
        if (masked)
            for (uint64_t i = 0; i < plen; i++)
                p[i] ^= f[h - 4 + (i & 3)];
        off += h + (size_t)plen;
        w->frames_in++;

        switch (op) {
        case OP_TEXT:
        case OP_BINARY:
        case OP_CONT:
            if (op == OP_BINARY)
                w->binary_in++;
            if (op != OP_CONT && c->frag_len) { /* a new message inside a fragmented one */
                end_conn(w, c, WSC_END_PROTOCOL, 0, 0);
                return -1;
            }
            if (fin && !c->frag_len) {
                if (op == OP_TEXT && !c->got_close)
                    w->ops->on_message(w->ud, c, (const char *)p, (size_t)plen);
            } else {
                if (grow(&c->frag, &c->frag_cap, (size_t)c->frag_len + plen + 1)) {
                    end_conn(w, c, WSC_END_IO, ENOMEM, 0);
                    return -1;
                }
                memcpy(c->frag + c->frag_len, p, (size_t)plen);
                c->frag_len += (uint32_t)plen;
                if (fin) {
                    uint32_t n = c->frag_len;
                    c->frag_len = 0; /* the buffer stays valid during the callback */
                    if (!c->got_close)
                        w->ops->on_message(w->ud, c, (const char *)c->frag, n);
                }
            }
            break;
        case OP_CLOSE:
            handle_close_frame(w, c, p, (size_t)plen);
            break;
        case OP_PING:
            w->pings++;
            if (!c->sent_close)
                send_frame(w, c, OP_PONG, p, (size_t)plen);
            break;
        case OP_PONG:
            break;
        default:
            end_conn(w, c, WSC_END_PROTOCOL, 0, 0);
            return -1;
        }
        if (c->state == WSC_IDLE) /* ended by a callback or a failed send */
            return -1;
    }
    return (long)off;
}

/* Consumes buf[0..len): the upgrade response first, then frames. Returns bytes used or -1. */
static long consume(struct wsc *w, struct wsc_conn *c, unsigned char *buf, size_t len)
{
    long used = 0, n;

    if (c->state == WSC_HANDSHAKE) {
        used = check_upgrade(w, c, buf, len);
        if (used <= 0)
            return used;
    }
    n = parse_frames(w, c, buf + used, len - (size_t)used);
    return n < 0 ? -1 : used + n;
}

static void on_readable(struct wsc *w, struct wsc_conn *c)
{
    for (int rounds = 0; rounds < 4; rounds++) {
        unsigned char *buf;
        size_t room;
        ssize_t n;
        long used;

        if (c->in_len) {
            if (grow(&c->in, &c->in_cap, (size_t)c->in_len + READ_CHUNK)) {
                end_conn(w, c, WSC_END_IO, ENOMEM, 0);
                return;
            }
            buf = c->in;
            room = c->in_cap - c->in_len;
        } else {
            buf = w->rbuf;
            room = w->rbuf_cap;
        }
        n = recv(c->fd, buf + c->in_len, room, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                end_conn(w, c, c->got_close ? WSC_END_CLOSED : WSC_END_IO, errno, 0);
            return;
        }
        if (n == 0) {
            end_conn(w, c, c->got_close ? WSC_END_CLOSED : WSC_END_IO, 0, 0);
            return;
        }
        w->bytes_in += (uint64_t)n;
        {
            size_t total = c->in_len + (size_t)n;
            used = consume(w, c, buf, total);
            if (used < 0)
                return;
            if (buf == c->in) {
                memmove(c->in, c->in + used, total - (size_t)used);
                c->in_len = (uint32_t)(total - (size_t)used);
            } else if ((size_t)used < total) {
                if (grow(&c->in, &c->in_cap, total - (size_t)used)) {
                    end_conn(w, c, WSC_END_IO, ENOMEM, 0);
                    return;
                }
                memcpy(c->in, buf + used, total - (size_t)used);
                c->in_len = (uint32_t)(total - (size_t)used);
            }
        }
        if ((size_t)n < room) /* the socket is drained */
            return;
    }
}

static void on_connected(struct wsc *w, struct wsc_conn *c)
{
    int err = 0;
    socklen_t elen = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err) {
        end_conn(w, c, WSC_END_CONNECT, err ? err : errno, 0);
        return;
    }
    send_upgrade(w, c);
}

int wsc_send_text(struct wsc *w, struct wsc_conn *c, const void *text, size_t len)
{
    if (c->state != WSC_OPEN || c->sent_close)
        return -1;
    return send_frame(w, c, OP_TEXT, text, len);
}

void wsc_close(struct wsc *w, struct wsc_conn *c, int code)
{
    unsigned char b[2] = {(unsigned char)(code >> 8), (unsigned char)code};

    if (c->state != WSC_OPEN || c->sent_close)
        return;
    c->sent_close = true;
    c->initiated = true;
    c->state = WSC_CLOSING;
    send_frame(w, c, OP_CLOSE, b, 2);
}

void wsc_abort(struct wsc *w, struct wsc_conn *c)
{
    if (c->state != WSC_IDLE)
        end_conn(w, c, WSC_END_ABORTED, 0, 0);
}

int wsc_poll(struct wsc *w, int64_t timeout_ns)
{
    struct epoll_event ev[MAX_EVENTS];
    struct timespec ts, *tsp = NULL;
    int n;

    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    n = epoll_pwait2(w->epfd, ev, MAX_EVENTS, tsp, NULL);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        struct wsc_conn *c = ev[i].data.ptr;
        uint32_t e = ev[i].events;

        if (i && i % WSC_BETWEEN_EVENTS == 0 && w->ops->between)
            w->ops->between(w->ud);
        if (c->state == WSC_IDLE)
            continue;
        if (c->state == WSC_CONNECTING) {
            if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                on_connected(w, c);
            continue;
        }
        if ((e & EPOLLOUT) && c->out_len > c->out_off && flush_out(w, c))
            continue;
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
            on_readable(w, c);
    }
    return n;
}
