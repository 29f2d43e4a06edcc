/* Connection deadlines in arrival-ordered lists (see keepalive.h). Loop thread only. */
#include "keepalive.h"

#define MS_PER_S 1000

void keepalive_init(struct keepalive *ka, int signin_s, int ping_s, int idle_s)
{
    *ka = (struct keepalive){
        .signin_ms = (int64_t)signin_s * MS_PER_S,
        .ping_ms = (int64_t)ping_s * MS_PER_S,
        .idle_ms = (int64_t)idle_s * MS_PER_S,
    };
}

void keepalive_add(struct keepalive *ka, struct keepalive_entry *e, int64_t now)
{
    *e = (struct keepalive_entry){.signin_at = now, .heard_at = now};
    lws_dll2_add_tail(&e->signin, &ka->signin);
    lws_dll2_add_tail(&e->live, &ka->active);
}

void keepalive_signed_in(struct keepalive_entry *e)
{
    lws_dll2_remove(&e->signin);
}

void keepalive_heard(struct keepalive *ka, struct keepalive_entry *e, int64_t now)
{
    if (lws_dll2_is_detached(&e->live))
        return; /* removed: the connection is going */
    e->heard_at = now;
    /* the newest silence goes last: both lists stay in deadline order */
    lws_dll2_remove(&e->live);
    lws_dll2_add_tail(&e->live, &ka->active);
}

void keepalive_remove(struct keepalive_entry *e)
{
    lws_dll2_remove(&e->signin);
    lws_dll2_remove(&e->live);
}

static struct keepalive_entry *head(lws_dll2_owner_t *list, bool signin)
{
    lws_dll2_t *d = lws_dll2_get_head(list);

    if (!d)
        return NULL;
    return signin ? lws_container_of(d, struct keepalive_entry, signin)
                  : lws_container_of(d, struct keepalive_entry, live);
}

void keepalive_expire(struct keepalive *ka, int64_t now, keepalive_act act, void *arg)
{
    struct keepalive_entry *e;

    while ((e = head(&ka->signin, true)) && now - e->signin_at >= ka->signin_ms) {
        lws_dll2_remove(&e->signin);
        if (act(e, KEEPALIVE_SIGNIN_EXPIRED, arg)) {
            e->signin_at = now;
            lws_dll2_add_tail(&e->signin, &ka->signin);
        }
    }
    /* pinged entries are older than active ones: drop before pinging */
    while ((e = head(&ka->pinged, false)) && now - e->heard_at >= ka->idle_ms) {
        lws_dll2_remove(&e->live);
        act(e, KEEPALIVE_DROP, arg);
    }
    while ((e = head(&ka->active, false)) && now - e->heard_at >= ka->ping_ms) {
        lws_dll2_remove(&e->live);
        lws_dll2_add_tail(&e->live, &ka->pinged);
        act(e, KEEPALIVE_PING, arg);
    }
}

static int64_t earliest(int64_t a, int64_t b)
{
    return a < 0 || (b >= 0 && b < a) ? b : a;
}

int64_t keepalive_next(const struct keepalive *ka)
{
    int64_t next = -1;
    struct keepalive_entry *e;

    if ((e = head((lws_dll2_owner_t *)&ka->signin, true)))
        next = earliest(next, e->signin_at + ka->signin_ms);
    if ((e = head((lws_dll2_owner_t *)&ka->active, false)))
        next = earliest(next, e->heard_at + ka->ping_ms);
    if ((e = head((lws_dll2_owner_t *)&ka->pinged, false)))
        next = earliest(next, e->heard_at + ka->idle_ms);
    return next;
}
