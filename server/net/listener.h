/*
 * The listening socket for --reuse-port. lws 4.1 sets SO_REUSEPORT on its own listener only
 * when it runs several service threads, so with --reuse-port parlor binds the port itself
 * (SO_REUSEPORT before bind, as every process sharing the port must), watches it on the libuv
 * loop, and hands each accepted connection to the vhost (lws_adopt_descriptor_vhost), where it
 * goes through the same handshake checks as any other. Loop thread only.
 */
#ifndef PARLOR_LISTENER_H
#define PARLOR_LISTENER_H

#include <stdbool.h>

#include <libwebsockets.h>
#include <uv.h>

struct listener {
    int fd;
    bool open; /* fd is ours to close (a zeroed struct holds nothing) */
    bool tls;
    bool polling;
    uv_poll_t poll;
    struct lws_vhost *vhost;
    unsigned long accepted, adopt_failures;
};

/* Binds `addr` (NULL: every interface, IPv6 and IPv4) and `port` with SO_REUSEPORT and
 * listens. 0, or -1 with `err`. */
int listener_open(struct listener *l, const char *addr, int port, char *err, size_t errlen);
/* Starts accepting into `vhost`. 0, or -1. */
int listener_start(struct listener *l, uv_loop_t *loop, struct lws_vhost *vhost, bool tls);
/* Stops accepting and closes the socket; connections already adopted are lws's. */
void listener_close(struct listener *l);

#endif
