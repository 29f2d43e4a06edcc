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

#include <stdint.h>

#include <jansson.h>

#include "msgbuf.h"
#include "proto.h"
#include "room.h"
#include "session.h"

struct server;
struct session;
struct room;

/* Who gets a message that is not for one room. */
enum delivery_audience {
    DELIVER_PLAYERS,     /* every signed-in player (an announcement) */
    DELIVER_CONNECTIONS, /* every player connection, signed in or not (the shutdown notice) */
    DELIVER_CONSOLES,    /* every authenticated operator console */
};

struct delivery_chat;

/* What happens once a chat message has its seq (or could not get one: `error` says why, and
 * nobody received it): the chat service saves it and replies. */
typedef void delivery_chat_done_fn(struct server *srv, struct delivery_chat *c, uint64_t seq,
                                   const char *error);

/* A chat message on its way: it needs the room's next seq, which only the delivery knows how
 * to get (this process's counter, or a cluster's shared one), before it is delivered, saved
 * and acknowledged. */
struct delivery_chat {
    uint64_t session_id; /* who said it: the reply goes there if it is still connected */
    struct proto_re re;
    json_t *event; /* the chat event; its `seq` is set when the message is published */
    delivery_chat_done_fn *done;
};

struct delivery_named;

/* What became of a message for a name not connected here: `to` is the name as its owner
 * spells it, or NULL when nobody of that name is online anywhere. */
typedef void delivery_named_done_fn(struct server *srv, struct delivery_named *d, const char *to);

/* A message (a whisper) for whoever holds a name on another node. */
struct delivery_named {
    uint64_t session_id; /* the sender, for the reply */
    struct proto_re re;
    char name[SESSION_NAME_MAX + 1];
    json_t *event;
    delivery_named_done_fn *done;
};

struct delivery_waiter;

/* The room a waiter waited for is ready (or gone: look it up again by `room`). */
typedef void delivery_ready_fn(struct server *srv, struct delivery_waiter *w);

/* A reply that needs the room's recent chat to be what every node has (a join). */
struct delivery_waiter {
    uint64_t session_id;
    struct proto_re re;
    char room[ROOM_ID_LEN];
    delivery_ready_fn *done;
    struct delivery_waiter *next; /* the delivery's list */
};

struct delivery_ops {
    /* Queues `m` to every member of `r` but `skip` (NULL: none). Returns how many got it. */
    int (*room)(struct server *srv, struct room *r, struct msgbuf *m, const struct session *skip);
    /* Queues `m` to everyone in `audience`. Returns how many got it. */
    int (*audience)(struct server *srv, enum delivery_audience audience, struct msgbuf *m);
    /* Gives c->event the room's next seq, keeps it in the room's history and delivers it to
     * every member, then calls delivery_chat_published(); at once, or later. */
    void (*chat)(struct server *srv, struct room *r, struct delivery_chat *c);
    /* The members of `r` connected here changed (r->nmembers is the new count): `who` joined
     * or left, or several left at once (who NULL: the room closed). Optional. */
    void (*members_changed)(struct server *srv, struct room *r, const struct session *who,
                            bool joined);
    /* A player created `r` here (and is its first member). Optional. */
    void (*room_created)(struct server *srv, struct room *r);
    /* `r` is about to be freed. Optional. */
    void (*room_freed)(struct server *srv, struct room *r);
    /* Calls w->done once `r`'s history here holds what was said in it anywhere (a cluster
     * catching up a room it just started listening to), then frees `w`. Optional: at once. */
    void (*when_ready)(struct server *srv, struct room *r, struct delivery_waiter *w);
    /* Sends d->event to the holder of d->name on another node, then calls
     * delivery_named_sent(). Optional: alone, nobody is online under a name not found here. */
    void (*to_name)(struct server *srv, struct delivery_named *d);
};

/* Delivers `event` (stolen) to the members of `r` but `skip`. Returns how many got it. */
int delivery_room(struct server *srv, struct room *r, json_t *event, const struct session *skip);
/* Delivers `event` (stolen) to everyone in `audience`. Returns how many got it. */
int delivery_audience(struct server *srv, enum delivery_audience audience, json_t *event);

/* Publishes a chat message (c and its event are the delivery's from here on): see
 * delivery_ops.chat. */
void delivery_chat(struct server *srv, struct room *r, struct delivery_chat *c);
/* The delivery's answer for `c`, which it frees afterwards. */
void delivery_chat_published(struct server *srv, struct delivery_chat *c, uint64_t seq,
                             const char *error);
/* Sends a message to a name held on another node (d and its event are the delivery's). */
void delivery_to_name(struct server *srv, struct delivery_named *d);
/* The delivery's answer for `d`, which it frees afterwards. */
void delivery_named_sent(struct server *srv, struct delivery_named *d, const char *to);
/* See delivery_ops.when_ready; `w` is the delivery's from here on. */
void delivery_when_ready(struct server *srv, struct room *r, struct delivery_waiter *w);
/* Calls w->done and frees it (for a delivery's when_ready). */
void delivery_ready(struct server *srv, struct delivery_waiter *w);
void delivery_members_changed(struct server *srv, struct room *r, const struct session *who,
                              bool joined);
void delivery_room_freed(struct server *srv, struct room *r);
void delivery_room_created(struct server *srv, struct room *r);

/* This process's sessions: the only implementation without a cluster, and what a cluster's ops call
 * for the part of an audience that is connected here. */
extern const struct delivery_ops delivery_local_ops;
int delivery_local_room(struct server *srv, struct room *r, struct msgbuf *m,
                        const struct session *skip);
int delivery_local_audience(struct server *srv, enum delivery_audience audience, struct msgbuf *m);
/* Keeps a chat event that has its seq in the room's history and queues it to the members here:
 * what every delivery does with a published message. */
void delivery_local_chat(struct server *srv, struct room *r, json_t *event);

#endif
