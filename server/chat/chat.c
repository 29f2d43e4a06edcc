/* The chat service (see chat.h). Loop thread only. */
#include "chat.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "chatlog.h"
#include "delivery.h"
#include "directory.h"
#include "game.h"
#include "log.h"
#include "moderation.h"
#include "proto.h"
#include "room.h"
#include "server.h"
#include "session.h"

#define RATE_RUN_GAP_MS       1000    /* a second without refusals ends a run of them */
#define HISTORY_DEFAULT_LIMIT 50      /* messages a history request gets without a limit */
#define PRESENCE_INTERVAL_US  1000000 /* a big room's `presence` comes a second after a change */

static void reply_ok(struct session *s, json_t *ok)
{
    session_send_json(s, ok);
}

static json_t *room_obj(const struct room *r);

/* The names of the first `limit` members, in order of joining. */
/* The members' names: those connected here in order of joining, then those on other nodes. */
static json_t *member_names(const struct room *r, int limit)
{
    json_t *names = json_array();

    for (int i = 0; i < r->nmembers && i < limit; i++)
        json_array_append_new(names, json_string(r->members[i]->name));
    for (int i = 0; i < r->nremote && r->nmembers + i < limit; i++)
        json_array_append_new(names, json_string(r->remote[i].name));
    return names;
}

static void presence_tick(loop_timer *sul)
{
    struct room *r = timer_owner(sul, struct room, presence_sul);
    int total = r->nmembers + r->remote_members; /* on every node */
    json_t *ev = json_pack("{s:s, s:s, s:i}", "type", "presence", "room", r->id, "members", total);

    r->presence_dirty = false;
    /* back at or below the threshold: the full list, so clients can follow joined/left again */
    if (total <= r->srv->cfg.presence_max)
        json_object_set_new(ev, "names", member_names(r, r->nmembers + r->nremote));
    delivery_room(r->srv, r, ev, NULL);
}

/* Tells the members of `r` that `who` joined or left (`type`); `before` is the member count
 * before the change. Announcing every arrival to every member costs n events a change and n²
 * to fill a room, so above presence_max the changes of a second are summed up in one
 * `presence` event instead. */
static void announce_member(struct server *srv, struct room *r, const char *type,
                            struct session *who, int before)
{
    int max = srv->cfg.presence_max;

    if (before <= max && r->nmembers <= max) {
        json_t *ev = proto_ev_member(type, r->id, who->name);
        delivery_room(srv, r, ev, who);
        return;
    }
    if (r->presence_dirty || srv->stopping)
        return;
    r->presence_dirty = true;
    r->srv = srv;
    srv->ops->schedule(srv->transport, &r->presence_sul, presence_tick, PRESENCE_INTERVAL_US);
}

/* Frees a room and its game (cancelling the game's and the presence timers). */
static void destroy_room(struct server *srv, struct room *r)
{
    if (r->presence_dirty)
        srv->ops->cancel(srv->transport, &r->presence_sul);
    if (r->kind)
        r->kind->free(r->game);
    r->kind = NULL;
    r->game = NULL;
    delivery_room_freed(srv, r);
    room_destroy(&srv->rooms, r);
}

/* Removes `s` from `r`, tells the others, and drops an emptied temporary room. */
static void leave_room(struct server *srv, struct session *s, struct room *r)
{
    bool was_host = r->nmembers && r->members[0] == s;

    room_remove_member(r, s);
    session_remove_room(s, r);
    delivery_members_changed(srv, r, s, false);
    /* even when nobody is left here: a cluster's room may have members on other nodes */
    announce_member(srv, r, "left", s, r->nmembers + 1);
    if (r->nmembers) {
        if (r->kind)
            r->kind->member_left(r->game, s, was_host);
    } else if (!r->permanent && !r->shared) {
        destroy_room(srv, r); /* a game in an emptied room stops with it */
    }
}

void chat_drop_room(struct server *srv, struct room *r)
{
    if (!r->nmembers && !r->permanent)
        destroy_room(srv, r);
}

json_t *chat_room_json(const struct room *r)
{
    return room_obj(r);
}

void chat_close_room(struct server *srv, struct room *r)
{
    json_t *ev = json_pack("{s:s, s:s}", "type", "room_closed", "room", r->id);

    delivery_room(srv, r, ev, NULL);
    while (r->nmembers) {
        struct session *s = r->members[r->nmembers - 1];
        room_remove_member(r, s);
        session_remove_room(s, r);
    }
    delivery_members_changed(srv, r, NULL, false);
    destroy_room(srv, r);
}

/* The protocol's room object, with the fields its kind adds (a quiz: its host). */
static json_t *room_obj(const struct room *r)
{
    json_t *o = room_json(r);

    if (o && r->kind)
        r->kind->describe(r->game, o);
    return o;
}

/* `since_ms`: when the player joined (a resume from another node keeps its first join's). */
static int join_room(struct server *srv, struct session *s, struct room *r, int64_t since_ms)
{
    if (room_add_member(r, s, since_ms))
        return -1;
    if (session_add_room(s, r)) {
        room_remove_member(r, s);
        return -1;
    }
    delivery_members_changed(srv, r, s, true);
    return 0;
}

/* Replies not_allowed when `target` is under a ban of `kind`; true if it did. */
static bool refuse_banned(struct server *srv, struct session *s, const struct proto_req *req,
                          enum ban_kind kind, const char *target)
{
    int64_t until = bans_until(&srv->bans, kind, target, srv->wall_ms());
    struct proto_error err = {.re = req->re};
    json_t *reply;
    char when[48];

    if (!until)
        return false;
    bans_describe_until(until, when, sizeof(when));
    if (kind == BAN_MUTE)
        proto_error_set(&err, PROTO_E_NOT_ALLOWED, NULL, "you are muted%s", when);
    else
        proto_error_set(&err, PROTO_E_NOT_ALLOWED, NULL, "the name '%s' is banned%s", target, when);
    /* until and reason as data, so a client can say them in the player's words */
    reply = proto_error_json(&err);
    if (reply)
        moderation_ban_details(srv, reply, kind, target, until);
    session_send_json(s, reply);
    return true;
}

static struct session *live_session(struct server *srv, uint64_t id);

/* A reply that may wait for another node (a cluster's hello, join, whisper, resume): what the
 * client sends meanwhile is not read until it is sent, so replies keep the order of requests
 * as PROTOCOL.md promises. Alone, the answer comes within the call and nothing is held. */
static void await_begin(struct session *s)
{
    s->awaiting++;
}

static void await_started(struct session *s)
{
    if (s->awaiting && !s->await_held) {
        s->await_held = true;
        session_hold_reading(s);
    }
}

static void await_end(struct session *s)
{
    if (s->awaiting)
        s->awaiting--;
    if (!s->awaiting && s->await_held) {
        s->await_held = false;
        session_release_reading(s);
    }
}

/* The end of a guest's hello, once the name is known to be free across the club. */
static void hello_confirmed(struct server *srv, uint64_t session_id, struct proto_re re, int result)
{
    struct proto_req req = {.re = re};
    struct session *s = live_session(srv, session_id);
    char token[AUTH_TOKEN_MAX];
    json_t *ok;

    if (!s)
        return;
    await_end(s);
    s->auth_pending = false;
    if (result) {
        session_reply_error(s, re, result == -1 ? PROTO_E_NAME_TAKEN : PROTO_E_SERVER_BUSY, NULL,
                            result == -1 ? "the name '%s' is in use, or one that looks like it"
                                         : "cannot check the name '%s' now; try again",
                            s->name);
        session_clear_name(s);
        return;
    }
    keepalive_signed_in(&s->ka);
    log_debug("session %llu signed in as %s", (unsigned long long)s->id, s->name);
    ok = proto_ok(&req);
    json_object_set_new(ok, "name", json_string(s->name));
    /* a guest's token resumes this session after a dropped connection */
    if (srv->accounts && !accounts_token(srv->accounts, -(int64_t)s->id, token))
        json_object_set_new(ok, "token", json_string(token));
    reply_ok(s, ok);
    moderation_tell_muted(srv, s);
}

static void handle_hello(struct server *srv, struct session *s, const struct proto_req *req)
{

    if (s->auth_pending) { /* no name yet: the account sign-in has not been answered */
        session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL, "a sign-in is in progress");
        return;
    }
    if (s->signed_in) {
        session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL, "already signed in as '%s'",
                            s->name);
        return;
    }
    if (refuse_banned(srv, s, req, BAN_NAME, req->name))
        return;
    if (srv->accounts && accounts_name_registered(srv->accounts, req->name)) {
        session_reply_error(s, req->re, PROTO_E_NAME_TAKEN, NULL,
                            "the name '%s' is registered: log in with it", req->name);
        return;
    }
    if (directory_name_confusable(srv, req->name) || directory_claim_name(srv, s, req->name)) {
        session_reply_error(s, req->re, PROTO_E_NAME_TAKEN, NULL,
                            "the name '%s' is in use, or one that looks like it", req->name);
        return;
    }
    s->auth_pending = true; /* until the other nodes, if any, agree the name is free */
    await_begin(s);
    directory_confirm_name(srv, s->id, s->name, false, hello_confirmed, req->re);
    await_started(s);
}

/* register, login and resume need the accounts service */
static void handle_account(struct server *srv, struct session *s, const struct proto_req *req)
{
    if (!srv->accounts) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL,
                            "accounts are not available on this server");
        return;
    }
    if (req->type == PROTO_REGISTER)
        accounts_register(srv->accounts, s, req);
    else if (req->type == PROTO_LOGIN)
        accounts_login(srv->accounts, s, req);
    else
        accounts_resume(srv->accounts, s, req);
}

static void handle_rooms(struct server *srv, struct session *s, const struct proto_req *req)
{
    json_t *ok = proto_ok(req), *list = json_array();

    for (struct room *r = srv->rooms.first; r; r = r->next)
        json_array_append_new(list, room_obj(r));
    json_object_set_new(ok, "rooms", list);
    reply_ok(s, ok);
}

/* Replies to a successful join/create: the room, and for join its members and history. */
static void reply_joined(struct session *s, const struct proto_req *req, struct room *r, bool full)
{
    json_t *ok = proto_ok(req);
    json_t *game = full && r->kind ? r->kind->snapshot(r->game) : NULL;

    json_object_set_new(ok, "room", room_obj(r));
    if (game)
        json_object_set_new(ok, "game", game);
    if (full) {
        /* a big room lists its first members only (room.members has the count): a full
         * list per join would again cost n² to fill it */
        int limit = s->srv->cfg.presence_max;
        json_object_set_new(ok, "members", member_names(r, limit));
        json_object_set_new(ok, "history", room_history_json(r, s->srv->cfg.history));
    }
    reply_ok(s, ok);
}

static bool too_many_rooms(struct server *srv, struct session *s, const struct proto_req *req)
{
    if (s->nrooms < srv->cfg.rooms_per_session)
        return false;
    session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL,
                        "you are already in the most rooms allowed");
    return true;
}

static void handle_create(struct server *srv, struct session *s, const struct proto_req *req)
{
    char id[ROOM_ID_LEN];
    struct room *r;
    int max;

    if (too_many_rooms(srv, s, req))
        return;
    if (srv->rooms.count >= srv->cfg.max_rooms) {
        session_reply_error(s, req->re, PROTO_E_SERVER_BUSY, NULL,
                            "the server has the most rooms it holds");
        return;
    }
    max = req->has_max ? req->max : srv->cfg.room_max_default;
    if (!req->has_max && req->game) /* a quiz table is smaller than a chat room */
        max =
            GAME_DEFAULT_MAX < srv->cfg.room_max_limit ? GAME_DEFAULT_MAX : srv->cfg.room_max_limit;
    r = directory_new_room_id(srv, id) ? NULL : room_create(&srv->rooms, id, req->name, max, false);
    if (r)
        r->created_ms = srv->wall_ms();
    if (!r ||
        (req->game && game_attach(srv, r, req->rounds ? req->rounds : GAME_DEFAULT_ROUNDS,
                                  req->seconds ? req->seconds : GAME_DEFAULT_SECONDS)) ||
        join_room(srv, s, r, r->created_ms)) {
        if (r)
            destroy_room(srv, r);
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "cannot create the room");
        return;
    }
    log_debug("%s created room %s", s->name, r->id);
    delivery_room_created(srv, r);
    reply_joined(s, req, r, false);
}

/* The room named by req->room, or NULL after replying no_such_room. */
static struct room *find_room(struct server *srv, struct session *s, const struct proto_req *req)
{
    struct room *r = NULL;

    if (strlen(req->room) <= PROTO_ROOM_ID_MAX)
        r = room_find(&srv->rooms, req->room);
    if (!r)
        session_reply_error(s, req->re, PROTO_E_NO_SUCH_ROOM, NULL, "no room '%.*s'",
                            proto_clip(req->room, 64), req->room);
    return r;
}

/* The room named by req->room, which the session must be in; NULL after replying an error. */
static struct room *find_member_room(struct server *srv, struct session *s,
                                     const struct proto_req *req)
{
    struct room *r = find_room(srv, s, req);

    if (r && !session_in_room(s, r)) {
        session_reply_error(s, req->re, PROTO_E_NOT_IN_ROOM, NULL, "you are not in room '%s'",
                            r->id);
        return NULL;
    }
    return r;
}

/* delivery_when_ready's answer for a join */
static void joined(struct server *srv, struct delivery_waiter *w)
{
    struct proto_req req = {.re = w->re};
    struct session *s = live_session(srv, w->session_id);
    struct room *r = room_find(&srv->rooms, w->room);

    if (!s)
        return;
    await_end(s);
    if (!r || !session_in_room(s, r)) {
        session_reply_error(s, w->re, PROTO_E_NO_SUCH_ROOM, NULL, "room '%s' is gone", w->room);
        return;
    }
    reply_joined(s, &req, r, true);
}

static void handle_join(struct server *srv, struct session *s, const struct proto_req *req)
{
    struct room *r = find_room(srv, s, req);
    struct delivery_waiter *w;

    if (!r)
        return;
    if (session_in_room(s, r)) {
        reply_joined(s, req, r, true);
        return;
    }
    if (too_many_rooms(srv, s, req))
        return;
    if (r->nmembers + r->remote_members >= r->max) {
        session_reply_error(s, req->re, PROTO_E_ROOM_FULL, NULL, "room '%s' is full", r->id);
        return;
    }
    if (join_room(srv, s, r, room_join_time(r, srv->wall_ms()))) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "cannot join room '%s'", r->id);
        return;
    }
    announce_member(srv, r, "joined", s, r->nmembers - 1);
    w = calloc(1, sizeof(*w));
    if (!w) {
        reply_joined(s, req, r, true);
        return;
    }
    *w = (struct delivery_waiter){.session_id = s->id, .re = req->re, .done = joined};
    snprintf(w->room, sizeof(w->room), "%s", r->id);
    await_begin(s);
    delivery_when_ready(srv, r, w); /* the history a joiner gets is the room's, not this node's */
    await_started(s);
}

static void handle_leave(struct server *srv, struct session *s, const struct proto_req *req)
{
    struct room *r = find_member_room(srv, s, req);

    if (!r)
        return;
    leave_room(srv, s, r);
    reply_ok(s, proto_ok(req));
}

/* delivery_chat's answer: the message has its seq and was delivered; save it, then say ok */
static void said(struct server *srv, struct delivery_chat *c, uint64_t seq, const char *error)
{
    struct proto_req req = {.re = c->re};
    struct session *s = live_session(srv, c->session_id);
    json_t *ok;

    if (error) {
        if (s) /* nobody received it: the sender may try again */
            session_reply_error(s, c->re, PROTO_E_SERVER_BUSY, NULL, "%s", error);
        return;
    }
    if (srv->chatlog) {
        /* the ok {seq} follows when the batch holding this message has committed; a sender
         * gone meanwhile still has the message saved */
        if (chatlog_append(srv->chatlog, c->session_id, c->re,
                           json_string_value(json_object_get(c->event, "room")), seq,
                           json_string_value(json_object_get(c->event, "from")),
                           json_string_value(json_object_get(c->event, "text")),
                           json_integer_value(json_object_get(c->event, "ts"))) &&
            s)
            session_reply_error(s, c->re, PROTO_E_INTERNAL, NULL, "the message could not be saved");
        return;
    }
    if (!s)
        return;
    ok = proto_ok(&req);
    json_object_set_new(ok, "seq", json_integer((json_int_t)seq));
    reply_ok(s, ok);
}

static void handle_say(struct server *srv, struct session *s, const struct proto_req *req)
{
    struct room *r = find_member_room(srv, s, req);
    struct delivery_chat *c;
    json_t *ev;

    if (!r)
        return;
    if (refuse_banned(srv, s, req, BAN_MUTE, s->name))
        return;
    if (srv->chatlog && chatlog_full(srv->chatlog)) {
        /* refused before any side effect: nobody sees a message that is not saved */
        session_reply_error(s, req->re, PROTO_E_SERVER_BUSY, NULL,
                            "too many messages waiting to be saved");
        return;
    }
    c = calloc(1, sizeof(*c));
    ev = c ? proto_ev_chat(r->id, s->name, req->text, srv->wall_ms(), 0) : NULL;
    if (!ev) {
        free(c);
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "out of memory");
        return;
    }
    s->messages_sent++;
    *c = (struct delivery_chat){.session_id = s->id, .re = req->re, .event = ev, .done = said};
    delivery_chat(srv, r, c);
}

/* The game room named by req->room, which the session is in; NULL after replying
 * an error. */
static struct room *find_game_room(struct server *srv, struct session *s,
                                   const struct proto_req *req)
{
    struct room *r = find_member_room(srv, s, req);

    if (!r)
        return NULL;
    if (!r->kind) {
        session_reply_error(s, req->re, PROTO_E_GAME_STATE, NULL, "room '%s' is a chat room",
                            r->id);
        return NULL;
    }
    return r;
}

/* start and answer: the room's kind handles them */
static void handle_game_request(struct server *srv, struct session *s, const struct proto_req *req)
{
    struct room *r = find_game_room(srv, s, req);

    if (r)
        r->kind->request(r->game, s, req);
}

static void handle_leaderboard(struct server *srv, struct session *s, const struct proto_req *req)
{
    game_leaderboard(srv, s, req);
}

static void handle_history(struct server *srv, struct session *s, const struct proto_req *req)
{
    struct room *r = find_member_room(srv, s, req);
    uint64_t before;
    int limit = req->limit ? req->limit : HISTORY_DEFAULT_LIMIT;
    json_t *ok, *page, *all;

    if (!r)
        return;
    before = req->has_before ? (uint64_t)req->before : r->last_seq + 1;
    if (srv->chatlog) {
        /* a page can be most of the queue's byte limit: read no more requests until it is
         * queued, so a client pipelining history gets its pages one after the other */
        if (chatlog_history(srv->chatlog, s->id, req->re, r->id, before, limit))
            session_reply_error(s, req->re, PROTO_E_SERVER_BUSY, NULL, "cannot read history now");
        else
            session_hold_reading(s);
        return;
    }
    /* no database: page through what memory holds */
    all = room_history_json(r, r->hist_cap);
    page = json_array();
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *ev = json_array_get(all, i);
        if ((uint64_t)json_integer_value(json_object_get(ev, "seq")) < before)
            json_array_append(page, ev);
    }
    while (json_array_size(page) > (size_t)limit)
        json_array_remove(page, 0);
    json_decref(all);
    ok = proto_ok(req);
    json_object_set_new(ok, "messages", page);
    reply_ok(s, ok);
}

/* delivery_to_name's answer for a whisper to another node */
static void whispered(struct server *srv, struct delivery_named *d, const char *to)
{
    struct proto_req req = {.re = d->re};
    struct session *s = live_session(srv, d->session_id);
    json_t *ok;

    if (!s)
        return;
    await_end(s);
    if (!to) {
        session_reply_error(s, d->re, PROTO_E_NO_SUCH_USER, NULL, "nobody called '%.*s' is online",
                            proto_clip(d->name, 64), d->name);
        return;
    }
    s->messages_sent++;
    ok = proto_ok(&req);
    json_object_set_new(ok, "to", json_string(to));
    reply_ok(s, ok);
}

static void handle_whisper(struct server *srv, struct session *s, const struct proto_req *req)
{
    struct session *to = NULL;
    struct delivery_named *d;
    json_t *ok;

    if (refuse_banned(srv, s, req, BAN_MUTE, s->name))
        return;
    if (!proto_valid_name(req->to, srv->cfg.name_max)) {
        session_reply_error(s, req->re, PROTO_E_NO_SUCH_USER, NULL,
                            "nobody called '%.*s' is online", proto_clip(req->to, 64), req->to);
        return;
    }
    to = directory_find_name(srv, req->to);
    if (!to) { /* perhaps on another node */
        d = calloc(1, sizeof(*d));
        if (d)
            *d = (struct delivery_named){.session_id = s->id,
                                         .re = req->re,
                                         .event =
                                             proto_ev_whisper(s->name, req->text, srv->wall_ms()),
                                         .done = whispered};
        if (!d || !d->event) {
            free(d);
            session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "out of memory");
            return;
        }
        snprintf(d->name, sizeof(d->name), "%s", req->to);
        await_begin(s);
        delivery_to_name(srv, d);
        await_started(s);
        return;
    }
    if (to == s) {
        session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL,
                            "you cannot whisper to yourself");
        return;
    }
    session_send_json(to, proto_ev_whisper(s->name, req->text, srv->wall_ms()));
    s->messages_sent++;
    ok = proto_ok(req);
    json_object_set_new(ok, "to", json_string(to->name)); /* the name as its owner spells it */
    reply_ok(s, ok);
}

static void handle_ping(struct server *srv, struct session *s, const struct proto_req *req)
{
    json_t *ok = proto_ok(req);

    json_object_set_new(ok, "time", json_integer((json_int_t)srv->wall_ms()));
    reply_ok(s, ok);
}

/* Applies the rate limits. Returns true when the request may go on. A client is "over the
 * limit" while it gets refused at least once a second; accepted requests in between do not
 * clear that, or a client sending at twice the rate would never be closed. */
static bool rate_allows(struct server *srv, struct session *s, bool is_say)
{
    const struct config *c = &srv->cfg;
    int64_t now = srv->mono_ms();
    bool ok = tbucket_take(&s->req_bucket, c->rate_per_sec, c->rate_burst, now);

    if (ok && is_say)
        ok = tbucket_take(&s->say_bucket, c->say_per_sec, c->say_burst, now);
    if (ok)
        return true;
    srv->stats.rate_limited++;
    if (!s->limited_since_ms || now - s->last_limited_ms > RATE_RUN_GAP_MS)
        s->limited_since_ms = now;
    s->last_limited_ms = now;
    if (now - s->limited_since_ms >= (int64_t)c->rate_close_after * 1000)
        session_close(s, PROTO_CLOSE_POLICY, "rate limit");
    return false;
}

typedef void (*handler_fn)(struct server *, struct session *, const struct proto_req *);

static const handler_fn handlers[PROTO_TYPE_COUNT] = {
    [PROTO_HELLO] = handle_hello,
    [PROTO_ROOMS] = handle_rooms,
    [PROTO_CREATE] = handle_create,
    [PROTO_JOIN] = handle_join,
    [PROTO_LEAVE] = handle_leave,
    [PROTO_SAY] = handle_say,
    [PROTO_WHISPER] = handle_whisper,
    [PROTO_PING] = handle_ping,
    [PROTO_HISTORY] = handle_history,
    [PROTO_REGISTER] = handle_account,
    [PROTO_LOGIN] = handle_account,
    [PROTO_RESUME] = handle_account,
    [PROTO_START] = handle_game_request,
    [PROTO_ANSWER] = handle_game_request,
    [PROTO_LEADERBOARD] = handle_leaderboard,
};

void chat_handle(struct server *srv, struct session *s, const char *buf, size_t len)
{
    struct proto_req req;
    struct proto_error err;
    bool decoded, is_say;

    if (s->closing)
        return;
    srv->stats.frames_in++;
    decoded = proto_decode(buf, len, &srv->lim, &req, &err) == 0;
    is_say = decoded && (req.type == PROTO_SAY || req.type == PROTO_WHISPER);

    /* malformed requests count against the rate too: errors are not free to produce */
    if (!rate_allows(srv, s, is_say)) {
        struct proto_error lim = {.re = decoded ? req.re : err.re};
        proto_error_set(&lim, PROTO_E_RATE_LIMITED, NULL, "too many requests; slow down");
        if (!s->closing)
            session_send_json(s, proto_error_json(&lim));
        goto out;
    }
    if (!decoded) {
        session_send_json(s, proto_error_json(&err));
        return;
    }
    if (srv->draining &&
        (req.type == PROTO_HELLO || req.type == PROTO_REGISTER || req.type == PROTO_LOGIN)) {
        session_reply_error(s, req.re, PROTO_E_SERVER_BUSY, NULL,
                            "the server is shutting down; try again in a minute");
        goto out;
    }
    if (!s->signed_in && req.type != PROTO_HELLO && req.type != PROTO_REGISTER &&
        req.type != PROTO_LOGIN && req.type != PROTO_RESUME) {
        /* a pending register/login may still fail: nothing waits for it */
        if (s->auth_pending)
            session_reply_error(s, req.re, PROTO_E_UNAUTHORIZED, NULL,
                                "not signed in yet: wait for the reply to your sign-in");
        else
            session_reply_error(s, req.re, PROTO_E_UNAUTHORIZED, NULL,
                                "sign in first (hello, register, login or resume)");
        goto out;
    }
    handlers[req.type](srv, s, &req);
out:
    if (decoded)
        proto_req_free(&req);
}

void chat_session_opened(struct server *srv, struct session *s)
{
    if (!s->admin) /* consoles get no player traffic, greeting included */
        session_send(s, srv->welcome);
}

/* Takes `s` out of its rooms without a `left`: its player goes on on another node. */
static void leave_all_silently(struct server *srv, struct session *s)
{
    s->handed_over = true; /* the other nodes keep it listed until it turns up */
    while (s->nrooms) {
        struct room *r = s->rooms[s->nrooms - 1];
        bool was_host = r->nmembers && r->members[0] == s;
        room_remove_member(r, s);
        session_remove_room(s, r);
        delivery_members_changed(srv, r, s, false);
        if (r->nmembers && r->kind) /* a game's seat cannot move between nodes */
            r->kind->member_left(r->game, s, was_host);
        else if (!r->nmembers && !r->permanent && !r->shared)
            destroy_room(srv, r);
    }
}

void chat_session_closed(struct server *srv, struct session *s)
{
    if (s->handed_over) {
        leave_all_silently(srv, s);
        return;
    }
    while (s->nrooms)
        leave_room(srv, s, s->rooms[s->nrooms - 1]);
}

static void grace_expired(loop_timer *sul)
{
    struct session *s = timer_owner(sul, struct session, grace_sul);
    struct server *srv = s->srv;

    log_debug("session %llu (%s): rejoin grace over", (unsigned long long)s->id, s->name);
    directory_forget_detached(srv, s);
    chat_session_closed(srv, s);
    session_free(s);
}

bool chat_session_dropped(struct server *srv, struct session *s)
{
    if (!s->signed_in || s->closing || s->peer_closed || !srv->cfg.rejoin_seconds)
        return false;
    s->conn = NULL;
    s->detached = true;
    session_drop_output(s);
    srv->ops->schedule(srv->transport, &s->grace_sul, grace_expired,
                       (int64_t)srv->cfg.rejoin_seconds * 1000000);
    directory_detach(srv, s); /* another node may take it over */
    log_debug("session %llu (%s): dropped, kept for %d s", (unsigned long long)s->id, s->name,
              srv->cfg.rejoin_seconds);
    return true;
}

/* What a resume replays of one room: how many chat events, the first and last seq, and
 * whether they are all the room's messages after the client's `seen`. */
static json_t *replay_report(json_t **events, int n, bool complete)
{
    json_t *o = json_pack("{s:i}", "count", n);

    if (n) {
        json_object_set(o, "from", json_object_get(events[0], "seq"));
        json_object_set(o, "to", json_object_get(events[n - 1], "seq"));
    }
    json_object_set_new(o, "recovered", json_boolean(complete));
    return o;
}

/* Replies `ok` to a rejoin, then what happened meanwhile in each room: the missed chat after
 * `seen` and each running game's state. The reply reports, per room named in `seen`, what
 * the replay holds. The replay goes out as the socket drains, outside the queue's limits: 16
 * rooms of missed chat would pass them, and a resume must never cost the player the session. */
static void replay_missed(struct server *srv, struct session *s, json_t *seen, json_t *ok)
{
    int per_room = srv->cfg.resume_replay, n = 0;
    json_t **events =
        malloc(((size_t)per_room + 1) * (size_t)(s->nrooms ? s->nrooms : 1) * sizeof(*events));
    json_t *report = json_object();

    for (int i = 0; events && i < s->nrooms; i++) {
        struct room *r = s->rooms[i];
        json_t *after = seen ? json_object_get(seen, r->id) : NULL;

        if (after) {
            bool complete;
            int k = room_history_after(r, (uint64_t)json_integer_value(after), per_room, events + n,
                                       &complete);
            json_object_set_new(report, r->id, replay_report(events + n, k, complete));
            n += k;
        }
        json_t *snap = r->kind ? r->kind->snapshot(r->game) : NULL;
        if (snap) {
            json_object_set_new(snap, "type", json_string("game"));
            json_object_set_new(snap, "room", json_string(r->id));
            events[n++] = snap;
        }
    }
    if (seen)
        json_object_set_new(ok, "replay", report);
    else
        json_decref(report);
    reply_ok(s, ok);
    if (!events)
        log_error("rejoin of %s: out of memory, nothing replayed", s->name);
    else
        session_replay(s, events, n);
}

void chat_rejoin(struct server *srv, struct session *s, struct session *old,
                 const struct proto_req *req, const char *token)
{
    json_t *ok, *rooms = json_array();

    /* the identity: name (the map now points at the live session), account */
    directory_forget_detached(srv, old);
    directory_take_name(srv, s, old);
    s->user_id = old->user_id;
    s->seat = old->seat; /* a game's player: the seat goes with the player */
    keepalive_signed_in(&s->ka);
    /* the seats: the same place in each room's member order, so a host stays host */
    for (int i = 0; i < old->nrooms; i++) {
        struct room *r = old->rooms[i];
        for (int k = 0; k < r->nmembers; k++)
            if (r->members[k] == old)
                r->members[k] = s;
        if (session_add_room(s, r))
            log_error("rejoin of %s: out of memory keeping room %s", s->name, r->id);
        json_array_append_new(rooms, room_obj(r));
    }
    old->nrooms = 0;
    old->signed_in = false; /* the name is no longer its to release */
    srv->ops->cancel(srv->transport, &old->grace_sul);
    session_free(old);

    ok = proto_ok(req);
    json_object_set_new(ok, "name", json_string(s->name));
    if (token)
        json_object_set_new(ok, "token", json_string(token));
    json_object_set_new(ok, "rooms", rooms);
    json_object_set_new(ok, "rejoined", json_true());
    replay_missed(srv, s, req->seen, ok);
}

void chat_signed_in(void *arg, struct session *s, struct session *kept, const struct proto_req *req,
                    const char *token)
{
    chat_rejoin(arg, s, kept, req, token);
}

void chat_session_moved(struct server *srv, struct session *s)
{
    /* its player goes on elsewhere: no `left` for its rooms, only the counts change */
    leave_all_silently(srv, s);
    srv->ops->cancel(srv->transport, &s->grace_sul);
    log_debug("session %llu (%s): resumed on another node", (unsigned long long)s->id, s->name);
    session_free(s);
}

/* A resume taken over from another node: the request's parts the answer needs. */
struct resume_elsewhere {
    struct proto_re re;
    int64_t user_id;
    char name[SESSION_NAME_MAX + 1]; /* the account's, or empty for a guest */
    json_t *seen;
};

/* The missed chat of one room, from its stream: parsed into `events`, with the report. */
static json_t *replay_from_stream(json_t *room_replay, uint64_t after, int per_room,
                                  json_t **events, int *n)
{
    json_t *texts = json_object_get(room_replay, "events");
    uint64_t last = (uint64_t)json_integer_value(json_object_get(room_replay, "last"));
    int first = *n;
    size_t i;
    json_t *t;

    json_array_foreach(texts, i, t)
    {
        json_t *ev = json_loads(json_string_value(t), 0, NULL);
        if (ev && *n - first < per_room)
            events[(*n)++] = ev;
        else
            json_decref(ev);
    }
    {
        int k = *n - first;
        uint64_t from = k ? (uint64_t)json_integer_value(json_object_get(events[first], "seq")) : 0;
        uint64_t to = k ? (uint64_t)json_integer_value(json_object_get(events[*n - 1], "seq")) : 0;
        /* all of them: the first follows `after` and the last is the room's newest */
        bool complete = k ? from == after + 1 && to >= last : last <= after;
        return replay_report(events + first, k, complete);
    }
}

static void resumed_elsewhere(struct server *srv, uint64_t session_id, void *arg, json_t *detached)
{
    struct resume_elsewhere *re = arg;
    struct proto_req req = {.re = re->re};
    struct session *s = live_session(srv, session_id);
    json_t *ok, *rooms, *report, *ids, *id, **events = NULL;
    const char *name = json_string_value(json_object_get(detached, "name"));
    char token[AUTH_TOKEN_MAX];
    int per_room = srv->cfg.resume_replay, n = 0;
    size_t i;

    if (!s)
        goto out;
    await_end(s);
    s->auth_pending = false;
    if (!detached || !name) {
        if (re->user_id > 0 && srv->accounts) /* an account: a sign-in of its own */
            accounts_sign_in(srv->accounts, s, re->re, re->user_id, re->name);
        else
            session_reply_error(s, re->re, PROTO_E_UNAUTHORIZED, NULL,
                                "that guest session has ended; sign in again");
        goto out;
    }
    if (directory_name_confusable(srv, name) || directory_claim_name(srv, s, name)) {
        session_reply_error(s, re->re, PROTO_E_NAME_TAKEN, NULL, "'%s' is in use here", name);
        goto out;
    }
    s->user_id = re->user_id > 0 ? re->user_id : 0;
    s->seat = (uint64_t)json_integer_value(json_object_get(detached, "seat"));
    if (!s->seat) /* a record from a node before seats */
        s->seat = s->id;
    directory_confirm_name(srv, s->id, name, true, NULL, re->re); /* it moved here */
    keepalive_signed_in(&s->ka);
    ids = json_object_get(detached, "rooms");
    rooms = json_array();
    report = json_object();
    events = malloc(((size_t)per_room + 1) * (json_array_size(ids) + 1) * sizeof(*events));
    json_array_foreach(ids, i, id)
    {
        struct room *r = room_find(&srv->rooms, json_string_value(id));
        json_t *after = re->seen ? json_object_get(re->seen, json_string_value(id)) : NULL;
        json_t *since = json_object_get(json_object_get(detached, "since"), json_string_value(id));
        json_t *snap;
        if (!r || session_in_room(s, r) ||
            join_room(srv, s, r, since ? json_integer_value(since) : srv->wall_ms()))
            continue; /* gone meanwhile */
        json_array_append_new(rooms, room_obj(r));
        if (after && events)
            json_object_set_new(
                report, r->id,
                replay_from_stream(json_object_get(json_object_get(detached, "replay"), r->id),
                                   (uint64_t)json_integer_value(after), per_room, events, &n));
        if (events && (snap = r->kind ? r->kind->snapshot(r->game) : NULL)) {
            json_object_set_new(snap, "type", json_string("game"));
            json_object_set_new(snap, "room", json_string(r->id));
            events[n++] = snap;
        }
    }
    ok = proto_ok(&req);
    json_object_set_new(ok, "name", json_string(s->name));
    if (srv->accounts &&
        !accounts_token(srv->accounts, s->user_id ? s->user_id : -(int64_t)s->id, token))
        json_object_set_new(ok, "token", json_string(token));
    json_object_set_new(ok, "rooms", rooms);
    json_object_set_new(ok, "rejoined", json_true());
    if (re->seen)
        json_object_set_new(ok, "replay", report);
    else
        json_decref(report);
    reply_ok(s, ok);
    if (events)
        session_replay(s, events, n); /* which keeps the array */
    events = NULL;
    log_debug("session %llu resumed %s from another node", (unsigned long long)s->id, s->name);
out:
    free(events);
    json_decref(re->seen);
    free(re);
}

void chat_resume_elsewhere(void *arg, struct session *s, const struct proto_req *req,
                           int64_t user_id, const char *name)
{
    struct server *srv = arg;
    struct resume_elsewhere *re = calloc(1, sizeof(*re));

    if (!re) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "out of memory");
        return;
    }
    *re = (struct resume_elsewhere){
        .re = req->re, .user_id = user_id, .seen = json_incref(req->seen)};
    snprintf(re->name, sizeof(re->name), "%s", name ? name : "");
    s->auth_pending = true;
    await_begin(s);
    directory_claim_detached(srv, s->id, user_id, req->seen, srv->cfg.resume_replay,
                             resumed_elsewhere, re);
    await_started(s);
}

static struct session *live_session(struct server *srv, uint64_t id)
{
    struct session *s = id ? session_by_id(srv, id) : NULL;

    return s && !s->closing ? s : NULL;
}

void chat_message_saved(struct server *srv, uint64_t session_id, struct proto_re re, uint64_t seq,
                        const char *error)
{
    struct proto_req req = {.re = re};
    struct session *s = live_session(srv, session_id);
    json_t *ok;

    if (!s) /* gone meanwhile: the message is saved all the same */
        return;
    if (error) {
        session_reply_error(s, req.re, PROTO_E_INTERNAL, NULL, "the message could not be saved");
        return;
    }
    ok = proto_ok(&req);
    json_object_set_new(ok, "seq", json_integer((json_int_t)seq));
    reply_ok(s, ok);
}

void chat_history_read(struct server *srv, uint64_t session_id, struct proto_re re,
                       json_t *messages, const char *error)
{
    struct proto_req req = {.re = re};
    struct session *s = live_session(srv, session_id);
    json_t *ok;

    if (!s)
        return;
    session_release_reading(s); /* held by handle_history() while the page was read */
    if (error) {
        session_reply_error(s, req.re, PROTO_E_INTERNAL, NULL, "history could not be read");
        return;
    }
    ok = proto_ok(&req);
    json_object_set(ok, "messages", messages);
    reply_ok(s, ok);
}

void chat_end_detached(struct server *srv)
{
    struct hmap *m = &srv->sessions_by_id;
    size_t i = 0;

    /* freeing changes the map: start the scan again after each one */
    while (i < m->cap) {
        struct session *s = m->slots[i].key ? m->slots[i].val : NULL;
        if (s && s->detached) {
            srv->ops->cancel(srv->transport, &s->grace_sul);
            chat_session_closed(srv, s);
            session_free(s);
            i = 0;
            continue;
        }
        i++;
    }
}

void chat_begin_drain(struct server *srv, int seconds)
{
    int told;

    srv->draining = true;
    srv->drain_deadline_ms = srv->wall_ms() + (int64_t)seconds * 1000;
    /* consoles learn it from stats.draining */
    told = delivery_audience(srv, DELIVER_CONNECTIONS,
                             json_pack("{s:s, s:i}", "type", "shutdown", "seconds", seconds));
    log_info("draining: %d connections told, %d games may finish within %d s", told,
             srv->games_running, seconds);
}

void chat_stop_timers(struct server *srv)
{
    for (struct room *r = srv->rooms.first; r; r = r->next) {
        if (r->kind)
            r->kind->free(r->game);
        r->kind = NULL;
        r->game = NULL;
        if (r->presence_dirty)
            srv->ops->cancel(srv->transport, &r->presence_sul);
        r->presence_dirty = false;
    }
}

void chat_close_all(struct server *srv, int code, const char *reason)
{
    struct hmap *m = &srv->sessions_by_id;
    /* a node of a cluster going away: its players resume on the others (their clients
     * reconnect after 1001 and send `resume`), so each session is left for them to take */
    bool hand_over = code == PROTO_CLOSE_GOING_AWAY && directory_can_claim_detached(srv);

    for (size_t i = 0; i < m->cap; i++) {
        struct session *s = m->slots[i].key ? m->slots[i].val : NULL;
        if (!s)
            continue;
        if (hand_over && s->signed_in && !s->admin && !s->detached) {
            directory_detach(srv, s);
            s->handed_over = true;
            /* now, while the other nodes can still be told: the close may end after the link */
            leave_all_silently(srv, s);
        }
        session_close(s, code, reason);
    }
}
