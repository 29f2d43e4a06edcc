/* What an operator's action does to this node (see actions.h). Loop thread only. */
#include "actions.h"

#include <stdio.h>
#include <string.h>

#include "chat.h"
#include "delivery.h"
#include "directory.h"
#include "log.h"
#include "moderation.h"
#include "oplog.h"
#include "room.h"
#include "server.h"
#include "session.h"

static const char *const kind_names[BAN_KINDS] = {"name", "address", "mute"};

/* A mute starts or ends: the player hears it at once (`muted {until, reason?}` or `unmuted`),
 * so the page can close the composer rather than lose what they type. */
static void tell_mute_change(struct server *srv, const char *name, bool muted)
{
    struct session *u = directory_find_name(srv, name);

    if (!u || u->admin || u->detached || u->closing)
        return;
    if (muted)
        moderation_tell_muted(srv, u);
    else
        session_send_json(u, json_pack("{s:s}", "type", "unmuted"));
}

void actions_end_player(struct server *srv, struct session *u, const char *reason)
{
    if (u->detached) {
        srv->ops->cancel(srv->transport, &u->grace_sul);
        chat_session_closed(srv, u);
        session_free(u);
        return;
    }
    session_close(u, PROTO_CLOSE_POLICY, reason);
}

int actions_ban(struct server *srv, enum ban_kind kind, const char *target, int64_t until,
                const char *reason)
{
    struct hmap *m = &srv->sessions_by_id;

    if (bans_add(&srv->bans, kind, target, until))
        return -1;
    bans_set_reason(&srv->bans, kind, target, reason);
    if (kind == BAN_MUTE) {
        tell_mute_change(srv, target, true);
        return 0;
    }
    /* restart the scan after each end: ending a session changes the map */
    for (size_t i = 0; i < m->cap; i++) {
        struct session *u = m->slots[i].key ? m->slots[i].val : NULL;
        bool match =
            u && !u->admin && !u->closing &&
            (kind == BAN_NAME ? u->signed_in && directory_find_name(srv, target) == u
                              : bans_until(&srv->bans, BAN_ADDRESS, u->addr, srv->wall_ms()) != 0);
        if (match) {
            /* the close reason alone ("banned") says neither until when nor why */
            if (!u->detached)
                session_send_json(
                    u, moderation_restriction_json(srv, "banned", (int)kind, target, until));
            actions_end_player(srv, u, "banned");
            i = (size_t)-1;
        }
    }
    return 0;
}

bool actions_unban(struct server *srv, enum ban_kind kind, const char *target)
{
    bool lifted = bans_remove(&srv->bans, kind, target);

    bans_set_reason(&srv->bans, (int)kind, target, NULL);
    if (kind == BAN_MUTE && lifted)
        tell_mute_change(srv, target, false);
    return lifted;
}

bool actions_kick(struct server *srv, const char *name, const char *reason)
{
    struct session *u = directory_find_name(srv, name);
    char why[128];

    if (!u)
        return false;
    snprintf(why, sizeof(why), "kicked%s%.100s", *reason ? ": " : "", reason);
    actions_end_player(srv, u, why);
    return true;
}

int actions_announce(struct server *srv, const char *text)
{
    return delivery_audience(srv, DELIVER_PLAYERS,
                             json_pack("{s:s, s:s}", "type", "announce", "text", text));
}

bool actions_close_room(struct server *srv, const char *id)
{
    struct room *r = room_find(&srv->rooms, id);

    if (!r || r->permanent)
        return false;
    chat_close_room(srv, r);
    return true;
}

void actions_tell_deleted(struct server *srv, const char *id, uint64_t seq)
{
    struct room *r = room_find(&srv->rooms, id);
    json_t *ev;

    if (!r)
        return;
    ev =
        json_pack("{s:s, s:s, s:I}", "type", "chat_deleted", "room", r->id, "seq", (json_int_t)seq);
    for (int i = 0; i < r->nmembers; i++)
        session_send_json(r->members[i], json_incref(ev));
    json_decref(ev);
}

json_t *actions_ban_json(enum ban_kind kind, const char *target, int64_t until, const char *reason)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:s}", "op", "ban", "kind", kind_names[kind], "target",
                     target, "until", until == BAN_FOREVER ? json_null() : json_integer(until),
                     "reason", reason ? reason : "");
}

void actions_publish(struct server *srv, json_t *action)
{
    if (action && srv->moderation_publish)
        srv->moderation_publish(srv, action);
    json_decref(action);
}

/* ---- actions from other nodes */

static const char *str_of(json_t *action, const char *field)
{
    return json_string_value(json_object_get(action, field));
}

int actions_apply(struct server *srv, json_t *action)
{
    const char *op = str_of(action, "op"), *kind_name = str_of(action, "kind");
    const char *target = str_of(action, "target"), *reason = str_of(action, "reason");
    const char *text = str_of(action, "text"), *room = str_of(action, "room");
    const char *name = str_of(action, "name");
    json_t *until = json_object_get(action, "until"), *seq = json_object_get(action, "seq");
    int kind = kind_name ? bans_kind_parse(kind_name) : -1;

    if (!reason)
        reason = "";
    if (!op)
        goto bad;
    if (!strcmp(op, "ban") && kind >= 0 && target &&
        (json_is_null(until) || json_is_integer(until))) {
        int64_t end = json_is_null(until) ? BAN_FOREVER : (int64_t)json_integer_value(until);
        if (actions_ban(srv, (enum ban_kind)kind, target, end, reason))
            oplog_add(&srv->oplog, LOG_ERROR, "out of memory applying another node's ban");
        else
            oplog_add(&srv->oplog, LOG_INFO, "%s%s %s (from another node)%s%s",
                      kind == BAN_MUTE ? "mute" : "ban ", kind == BAN_MUTE ? "" : kind_names[kind],
                      target, *reason ? ": " : "", reason);
    } else if (!strcmp(op, "unban") && kind >= 0 && target) {
        bool lifted = actions_unban(srv, (enum ban_kind)kind, target);
        oplog_add(&srv->oplog, LOG_INFO, "unban %s %s (from another node)%s", kind_names[kind],
                  target, lifted ? "" : ", none was in force here");
    } else if (!strcmp(op, "kick") && name) {
        if (actions_kick(srv, name, reason))
            oplog_add(&srv->oplog, LOG_INFO, "kick %s (from another node)%s%s", name,
                      *reason ? ": " : "", reason);
    } else if (!strcmp(op, "announce") && text) {
        int n = actions_announce(srv, text);
        oplog_add(&srv->oplog, LOG_INFO, "announce to %d players (from another node): %s", n, text);
    } else if (!strcmp(op, "close_room") && room) {
        if (actions_close_room(srv, room))
            oplog_add(&srv->oplog, LOG_INFO, "close room %s (from another node)", room);
    } else if (!strcmp(op, "delete_message") && room && json_is_integer(seq) &&
               json_integer_value(seq) > 0) {
        struct room *r = room_find(&srv->rooms, room);
        /* the database has lost it already: the node that was asked deleted it there */
        if (r) {
            room_history_delete(r, (uint64_t)json_integer_value(seq));
            actions_tell_deleted(srv, room, (uint64_t)json_integer_value(seq));
        }
    } else {
        goto bad;
    }
    return 0;
bad:
    log_warn("actions_apply: an action this node does not understand (op %s)", op ? op : "none");
    return -1;
}
