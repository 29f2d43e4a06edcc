/* The one delivery path (see delivery.h). Loop thread only. */
#include "delivery.h"

#include "log.h"
#include "room.h"
#include "server.h"
#include "session.h"

const struct delivery_ops delivery_local_ops = {
    .room = delivery_local_room,
    .audience = delivery_local_audience,
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
