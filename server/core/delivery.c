/* The one delivery path (see delivery.h). Loop thread only. */
#include "delivery.h"

#include <stdlib.h>

#include "directory.h"
#include "log.h"
#include "room.h"
#include "server.h"
#include "session.h"

static void local_chat(struct server *srv, struct room *r, struct delivery_chat *c)
{
    uint64_t seq = directory_next_seq(srv, r);

    json_object_set_new(c->event, "seq", json_integer((json_int_t)seq));
    delivery_local_chat(srv, r, c->event);
    delivery_chat_published(srv, c, seq, NULL);
}

const struct delivery_ops delivery_local_ops = {
    .room = delivery_local_room,
    .audience = delivery_local_audience,
    .chat = local_chat,
};

static const struct delivery_ops *delivery_ops_of(const struct server *srv)
{
    return srv->delivery ? srv->delivery : &delivery_local_ops;
}

int delivery_room(struct server *srv, struct room *r, json_t *event, const struct session *skip)
{
    struct msgbuf *m = msgbuf_from_json(event);
    int n;

    json_decref(event);
    if (!m) {
        log_error("delivery to room %s: out of memory", r->id);
        return 0;
    }
    n = delivery_ops_of(srv)->room(srv, r, m, skip);
    msgbuf_unref(m);
    return n;
}

int delivery_audience(struct server *srv, enum delivery_audience audience, json_t *event)
{
    struct msgbuf *m = msgbuf_from_json(event);
    int n;

    json_decref(event);
    if (!m) {
        log_error("delivery to everyone: out of memory");
        return 0;
    }
    n = delivery_ops_of(srv)->audience(srv, audience, m);
    msgbuf_unref(m);
    return n;
}

void delivery_chat(struct server *srv, struct room *r, struct delivery_chat *c)
{
    delivery_ops_of(srv)->chat(srv, r, c);
}

void delivery_chat_published(struct server *srv, struct delivery_chat *c, uint64_t seq,
                             const char *error)
{
    c->done(srv, c, seq, error);
    json_decref(c->event);
    free(c);
}

void delivery_to_name(struct server *srv, struct delivery_named *d)
{
    const struct delivery_ops *ops = delivery_ops_of(srv);

    if (ops->to_name)
        ops->to_name(srv, d);
    else
        delivery_named_sent(srv, d, NULL);
}

void delivery_named_sent(struct server *srv, struct delivery_named *d, const char *to)
{
    d->done(srv, d, to);
    json_decref(d->event);
    free(d);
}

void delivery_when_ready(struct server *srv, struct room *r, struct delivery_waiter *w)
{
    const struct delivery_ops *ops = delivery_ops_of(srv);

    if (ops->when_ready)
        ops->when_ready(srv, r, w);
    else
        delivery_ready(srv, w);
}

void delivery_ready(struct server *srv, struct delivery_waiter *w)
{
    w->done(srv, w);
    free(w);
}

void delivery_members_changed(struct server *srv, struct room *r, const struct session *who,
                              bool joined)
{
    const struct delivery_ops *ops = delivery_ops_of(srv);

    if (ops->members_changed)
        ops->members_changed(srv, r, who, joined);
}

void delivery_room_created(struct server *srv, struct room *r)
{
    const struct delivery_ops *ops = delivery_ops_of(srv);

    if (ops->room_created)
        ops->room_created(srv, r);
}

void delivery_room_freed(struct server *srv, struct room *r)
{
    const struct delivery_ops *ops = delivery_ops_of(srv);

    if (ops->room_freed)
        ops->room_freed(srv, r);
}

void delivery_local_chat(struct server *srv, struct room *r, json_t *event)
{
    struct msgbuf *m;

    room_history_push(r, event); /* the ring takes its own reference */
    m = msgbuf_from_json(event);
    if (!m) {
        log_error("delivery to room %s: out of memory", r->id);
        return;
    }
    delivery_local_room(srv, r, m, NULL);
    msgbuf_unref(m);
}

int delivery_local_room(struct server *srv, struct room *r, struct msgbuf *m,
                        const struct session *skip)
{
    int n = 0;

    /* session_send may close a slow member; closing does not change membership, so the
     * array is stable while we walk it */
    for (int i = 0; i < r->nmembers; i++)
        if (r->members[i] != skip && session_send(r->members[i], m) == 0)
            n++;
    return n;
}

static bool in_audience(const struct session *s, enum delivery_audience audience)
{
    switch (audience) {
    case DELIVER_PLAYERS:
        return !s->admin && s->signed_in && !s->detached;
    case DELIVER_CONNECTIONS:
        return !s->admin;
    case DELIVER_CONSOLES:
        return s->admin && s->admin_authed;
    }
    return false;
}

int delivery_local_audience(struct server *srv, enum delivery_audience audience, struct msgbuf *m)
{
    const struct hmap *all = &srv->sessions_by_id;
    int n = 0;

    for (size_t i = 0; i < all->cap; i++) {
        struct session *s = all->slots[i].key ? all->slots[i].val : NULL;
        if (s && in_audience(s, audience) && session_send(s, m) == 0)
            n++;
    }
    return n;
}
