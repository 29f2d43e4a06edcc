/*
 * The one delivery path: every event that goes to more than one connection (a room's chat,
 * presence and game events, an announcement, the shutdown notice, the consoles' feed) leaves
 * through here, serialized once and handed to the server's delivery_ops. Today's only
 * implementation (delivery_local_ops) queues it to the sessions of this process; a cluster
 * puts its own ops in front (publish to the other nodes, and deliver what they publish through
 * the local functions below) without touching chat, games or the console. Loop thread only.
 */
#ifndef PARLOR_DELIVERY_H
#define PARLOR_DELIVERY_H

#include <jansson.h>

#include "msgbuf.h"

struct server;
struct session;
struct room;

/* Who gets a message that is not for one room. */
enum delivery_audience {
    DELIVER_PLAYERS,     /* every signed-in player (an announcement) */
    DELIVER_CONNECTIONS, /* every player connection, signed in or not (the shutdown notice) */
    DELIVER_CONSOLES,    /* every authenticated operator console */
};

struct delivery_ops {
    /* Queues `m` to every member of `r` but `skip` (NULL: none). Returns how many got it. */
    int (*room)(struct server *srv, struct room *r, struct msgbuf *m, const struct session *skip);
    /* Queues `m` to everyone in `audience`. Returns how many got it. */
    int (*audience)(struct server *srv, enum delivery_audience audience, struct msgbuf *m);
};

/* Delivers `event` (stolen) to the members of `r` but `skip`. Returns how many got it. */
int delivery_room(struct server *srv, struct room *r, json_t *event, const struct session *skip);
/* Delivers `event` (stolen) to everyone in `audience`. Returns how many got it. */
int delivery_audience(struct server *srv, enum delivery_audience audience, json_t *event);

/* This process's sessions: the only implementation today, and what a cluster's ops call for
 * the part of an audience that is connected here. */
extern const struct delivery_ops delivery_local_ops;
int delivery_local_room(struct server *srv, struct room *r, struct msgbuf *m,
                        const struct session *skip);
int delivery_local_audience(struct server *srv, enum delivery_audience audience, struct msgbuf *m);

#endif
