/* The shared listening socket (see listener.h). Loop thread only. */
#define _DEFAULT_SOURCE /* SO_REUSEPORT, accept4 */
#define _GNU_SOURCE
#include "listener.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "log.h"

/* connections taken per wake-up, so a flood of connects cannot hold the loop */
#define ACCEPT_BATCH 64

int listener_open(struct listener *l, const char *addr, int port, char *err, size_t errlen)
{
    struct sockaddr_in6 a6 = {
        .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = in6addr_any};
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr *sa = (struct sockaddr *)&a6;
    socklen_t salen = sizeof(a6);
    int one = 1, zero = 0, family = AF_INET6;

    *l = (struct listener){.fd = -1};
    if (addr && inet_pton(AF_INET, addr, &a4.sin_addr) == 1) {
        family = AF_INET;
        sa = (struct sockaddr *)&a4;
        salen = sizeof(a4);
    } else if (addr && inet_pton(AF_INET6, addr, &a6.sin6_addr) != 1) {
        snprintf(err, errlen, "--listen %s: not an IP address", addr);
        return -1;
    }
    l->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
        snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(l->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (family == AF_INET6)
        setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(l->fd, sa, salen) || listen(l->fd, SOMAXCONN)) {
        snprintf(err, errlen, "cannot share port %d: %s (every process on it needs --reuse-port)",
                 port, strerror(errno));
        close(l->fd);
        l->fd = -1;
        return -1;
    }
    l->open = true;
    return 0;
}

static void on_readable(uv_poll_t *handle, int status, int events)
{
    struct listener *l = handle->data;
    int one = 1;

    (void)events;
    if (status < 0)
        return;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        lws_sock_file_fd_type desc;
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_warn("accept: %s", strerror(errno)); /* EMFILE: the connection waits */
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        desc.sockfd = fd;
        if (!lws_adopt_descriptor_vhost(
                l->vhost, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | (l->tls ? LWS_ADOPT_ALLOW_SSL : 0),
                desc, NULL, NULL)) {
            /* lws closes the descriptor itself when adoption fails */
            l->adopt_failures++;
            continue;
        }
        l->accepted++;
    }
}

int listener_start(struct listener *l, uv_loop_t *loop, struct lws_vhost *vhost, bool tls)
{
    l->vhost = vhost;
    l->tls = tls;
    if (uv_poll_init(loop, &l->poll, l->fd))
        return -1;
    l->poll.data = l;
    if (uv_poll_start(&l->poll, UV_READABLE, on_readable)) {
        uv_close((uv_handle_t *)&l->poll, NULL);
        return -1;
    }
    l->polling = true;
    return 0;
}

void listener_close(struct listener *l)
{
    if (l->polling) {
        uv_poll_stop(&l->poll);
        uv_close((uv_handle_t *)&l->poll, NULL); /* the loop finishes closing it */
        l->polling = false;
    }
    if (l->open)
        close(l->fd);
    l->open = false;
    l->fd = -1;
}
