/*
 * One load-test client: its requests (hello, create, join, say), the replies and events it
 * reads, its setup steps from connect to ready, the churn round, and the wsc callbacks that
 * feed all of that. Scenario-specific steps go through the scenario's ops (scenario.h). Runs
 * on the load generator's only thread, from wsc_poll() and the run's timers.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "lt.h"
#include "proto.h"
#include "scenario.h"

void client_timer_at(struct lt *lt, int64_t at, uint32_t client, uint8_t kind, uint16_t round)
{
    if (theap_push(&lt->heap, (struct tev){at, client, kind, round})) {
        fprintf(stderr, "parlor-loadtest: out of memory\n");
        exit(EXIT_CANNOT_RUN);
    }
}

/* ---- sending ---- */

void client_send(struct lt *lt, struct client *c, const char *fmt, ...)
{
    char buf[FLAGS_MAX_TEXT + 512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(buf))
        wsc_send_text(&lt->w, &c->ws, buf, (size_t)n);
}

static void send_hello(struct lt *lt, struct client *c)
{
    c->phase = C_HELLO;
    client_send(lt, c, "{\"type\":\"hello\",\"id\":%llu,\"name\":\"%s%u_%u\"}",
                (unsigned long long)lt_req_id(c->cycle, K_HELLO), lt->o.name_prefix, c->idx,
                c->cycle);
}

static void send_create(struct lt *lt, struct client *c, const char *name, int max)
{
    c->phase = C_CREATE;
    client_send(lt, c, "{\"type\":\"create\",\"id\":%llu,\"name\":\"%s\",\"max\":%d}",
                (unsigned long long)lt_req_id(c->cycle, K_CREATE), name, max);
}

void client_send_join(struct lt *lt, struct client *c, const char *room, enum kind k)
{
    c->phase = C_JOIN;
    client_send(lt, c, "{\"type\":\"join\",\"id\":%llu,\"room\":\"%s\"}",
                (unsigned long long)lt_req_id(c->cycle, k), room);
}

static uint32_t ring_size_for(const struct lt *lt)
{
    double per_sec = lt->o.rate + lt->o.lobby_rate;
    double want = per_sec * (lt->o.drain + 10) + 2.0 * lt->o.inflight + 16;
    uint32_t n = 16;

    while (n < want && n < (1u << 20))
        n *= 2;
    return n;
}

void client_send_say(struct lt *lt, struct client *c, const char *room, uint32_t expect,
                     int64_t sched, enum kind k)
{
    char text[FLAGS_MAX_TEXT + 1], req[FLAGS_MAX_TEXT + 256];
    uint64_t no = c->msg_no++;
    struct msgrec *rec;
    int64_t now = lt_mono_ns();
    int n;

    if (!c->ring) {
        uint32_t size = ring_size_for(lt);
        c->ring = calloc(size, sizeof(*c->ring));
        if (!c->ring)
            return;
        c->ring_mask = size - 1;
    }
    n = snprintf(text, sizeof(text), "%u:%llu:%lld:", c->idx, (unsigned long long)no,
                 (long long)sched);
    if (n < lt->o.size) {
        memcpy(text + n, lt->text_pad, (size_t)(lt->o.size - n));
        n = lt->o.size;
    }
    text[n] = '\0';
    rec = &c->ring[no & c->ring_mask];
    if (rec->active) { /* the ring wrapped: that message will never be matched */
        c->inflight--;
        rec->active = false;
    }
    *rec = (struct msgrec){.sched_ns = sched,
                           .msg_no = no,
                           .remaining = expect,
                           .active = expect > 0,
                           .measured = sched >= lt->r.measure_start_ns};
    if (rec->active)
        c->inflight++;
    lt->r.says_sent++;
    if (rec->measured)
        lt->r.says_in_window++;
    lt->r.deliveries_expected += expect;
    hist_record(&lt->r.send_lag, (uint64_t)(now > sched ? now - sched : 0));
    n = snprintf(req, sizeof(req), "{\"type\":\"say\",\"id\":%llu,\"room\":\"%s\",\"text\":\"%s\"}",
                 (unsigned long long)lt_req_id(no, k), room, text);
    if (n > 0 && (size_t)n < sizeof(req))
        wsc_send_text(&lt->w, &c->ws, req, (size_t)n);
}

/* ---- setup steps ---- */

static void check_all_signed_in(struct lt *lt, int64_t now)
{
    if (lt->signed_static == lt->nstatic && !lt->r.all_signed_in_ns)
        lt->r.all_signed_in_ns = now;
}

static void unpend(struct lt *lt, struct client *c)
{
    if (c->pending) {
        c->pending = false;
        lt->pending--;
    }
}

/* Static clients count as pending until set up: that bounds how many joins are in flight, so a
 * lobby filling up does not bury every member under thousands of queued `joined` events. */
void client_mark_ready(struct lt *lt, struct client *c)
{
    unpend(lt, c);
    c->phase = C_READY;
    lt->ready_static++;
}

void client_join_or_wait(struct lt *lt, struct client *c)
{
    struct room *rm = &lt->rooms[c->room];

    if (c->idx == (uint32_t)rm->first) {
        char name[48];
        snprintf(name, sizeof(name), "lt room %d", c->room);
        send_create(lt, c, name, rm->count < 2 ? 2 : rm->count);
    } else if (rm->created) {
        client_send_join(lt, c, rm->id, K_JOIN);
    } else {
        c->phase = C_WAIT_ROOM;
    }
}

static void after_sign_in(struct lt *lt, struct client *c)
{
    if (c->role == ROLE_CHURN)
        send_create(lt, c, "churn", 2);
    else if (lt->o.scenario->signed_in)
        lt->o.scenario->signed_in(lt, c);
    else
        client_mark_ready(lt, c);
}

static void after_room_joined(struct lt *lt, struct client *c)
{
    if (lt->o.scenario->room_joined)
        lt->o.scenario->room_joined(lt, c);
    else
        client_mark_ready(lt, c);
}

void client_start(struct lt *lt, struct client *c, int64_t now)
{
    c->opened = false;
    c->cycle_done = false;
    c->cycle_acked = false;
    c->in_lobby = false;
    c->in_room = false;
    c->last_seq[0] = c->last_seq[1] = 0;
    c->order[0] = c->order[1] = (struct order_member){0};
    c->join_tries = 0;
    c->phase = C_CONNECTING;
    c->t_connect = now;
    c->deadline = now + (int64_t)(lt->o.connect_timeout * NS_PER_SEC);
    c->pending = true;
    lt->pending++;
    if (c->role == ROLE_CHURN)
        lt->churn_active++;
    if (!lt->r.first_connect_ns)
        lt->r.first_connect_ns = now;
    lt->r.connects_started++;
    wsc_connect(&lt->w, &c->ws); /* on failure on_end has already run */
}

/* ---- receiving ---- */

static bool parse_payload(struct span t, uint32_t *sender, uint64_t *no, int64_t *sched)
{
    uint64_t v[3] = {0, 0, 0};
    size_t i = 0;

    for (int f = 0; f < 3; f++) {
        size_t start = i;
        while (i < t.n && t.p[i] >= '0' && t.p[i] <= '9')
            v[f] = v[f] * 10 + (uint64_t)(t.p[i++] - '0');
        if (i == start || i >= t.n || t.p[i] != ':')
            return false;
        i++;
    }
    *sender = (uint32_t)v[0];
    *no = v[1];
    *sched = (int64_t)v[2];
    return true;
}

void client_resend(struct lt *lt, struct client *s, int64_t when)
{
    if (!lt->closed_loop || lt->phase != G_RUN || when >= lt->r.measure_end_ns)
        return;
    lt->o.scenario->resend(lt, s, when);
}

/* Churn: the round is over once the echo and the reply are both in (a client that closes
 * before reading its replies loses them: the server drops what it has not written yet). */
static void end_round(struct lt *lt, struct client *c, int64_t now)
{
    if (!c->cycle_done || !c->cycle_acked || c->phase != C_READY)
        return;
    c->phase = C_CLOSING;
    c->deadline = now + CLOSE_WAIT_NS;
    wsc_close(&lt->w, &c->ws, 1000);
}

/* Several URLs: the delivery of `seq` in `room` to static client `c`, judged against what the
 * other members of the room saw (churn clients' rooms have one member: nothing to compare). */
static void check_order(struct lt *lt, struct client *c, struct span room_val, int64_t seq,
                        const struct member *m, int n, struct span text)
{
    const struct member *from = scan_find(m, n, "from");
    struct span f = {"", 0}, room;
    uint32_t key;
    int slot;

    if (c->role != ROLE_STATIC || !scan_str(room_val, &room))
        return;
    if (room.n == 5 && !memcmp(room.p, "lobby", 5)) {
        key = 0;
        slot = 1;
    } else if (c->room >= 0 && room.n == strlen(lt->rooms[c->room].id) &&
               !memcmp(room.p, lt->rooms[c->room].id, room.n)) {
        key = (uint32_t)c->room + 1;
        slot = 0;
    } else {
        return;
    }
    if (from)
        scan_str(from->val, &f);
    if (order_see(&lt->order, &c->order[slot], key, seq,
                  order_fingerprint(f.p, f.n, text.p, text.n)) < 0) {
        fprintf(stderr, "parlor-loadtest: out of memory\n");
        exit(EXIT_CANNOT_RUN);
    }
}

static void handle_chat(struct lt *lt, struct client *c, const struct member *m, int n)
{
    const struct member *text = scan_find(m, n, "text"), *room = scan_find(m, n, "room"),
                        *seqm = scan_find(m, n, "seq");
    struct span t;
    uint32_t sidx;
    uint64_t no;
    int64_t sched, now = lt_mono_ns(), seq;
    struct client *s;
    struct msgrec *rec;

    if (!text || !scan_str(text->val, &t) || !parse_payload(t, &sidx, &no, &sched) ||
        sidx >= (uint32_t)lt->n) {
        lt->r.unexpected_deliveries++;
        return;
    }
    if (room && seqm && scan_int(seqm->val, &seq)) {
        int slot = scan_str_eq(room->val, "lobby") && c->room >= 0 ? 1 : 0;
        if (c->last_seq[slot] && seq != c->last_seq[slot] + 1)
            lt->r.seq_gaps++;
        c->last_seq[slot] = seq;
        if (lt->check_order)
            check_order(lt, c, room->val, seq, m, n, t);
    }
    s = &lt->c[sidx];
    rec = s->ring ? &s->ring[no & s->ring_mask] : NULL;
    if (!rec || !(rec->active || rec->late) || rec->msg_no != no || !rec->remaining) {
        lt->r.unexpected_deliveries++;
        return;
    }
    lt->r.deliveries_received++;
    if (now >= lt->r.measure_start_ns && now < lt->r.measure_end_ns)
        lt->r.deliveries_in_window++;
    if (rec->measured)
        hist_record(&lt->r.latency, (uint64_t)(now - sched));
    if (--rec->remaining == 0 && rec->late) {
        rec->late = false;
    } else if (rec->remaining == 0) {
        rec->active = false;
        s->inflight--;
        if (rec->measured)
            hist_record(&lt->r.fanout, (uint64_t)(now - sched));
        if (!lt->o.resend_on_ok)
            client_resend(lt, s, now);
    }
    if (c->role == ROLE_CHURN && s == c && c->phase == C_READY) {
        c->cycle_done = true;
        hist_record(&lt->r.cycle, (uint64_t)(now - c->t_connect));
        end_round(lt, c, now);
    }
}

bool client_field_int(const struct member *m, int n, const char *key, int64_t lo, int64_t hi,
                      int64_t *out)
{
    const struct member *f = scan_find(m, n, key);

    return f && scan_int(f->val, out) && *out >= lo && *out <= hi;
}

/* The first `welcome`: above presence_max members a room counts departures in `presence`
 * events instead of sending `left`, so the teardown owes no `left` for them. */
static void read_presence_max(struct lt *lt, const struct member *m, int n)
{
    const struct member *limits = scan_find(m, n, "limits");
    struct member l[64];
    int ln;
    int64_t v;

    lt->presence_read = true;
    if (!limits || (ln = scan_object(limits->val.p, limits->val.n, l, 64)) < 0)
        return;
    if (client_field_int(l, ln > 64 ? 64 : ln, "presence_max", 0, INT_MAX, &v))
        lt->presence_max = (int)v;
}

static int error_index(struct span code)
{
    for (int i = 1; i < PROTO_E_COUNT; i++) {
        const char *name = proto_err_code(i);
        if (name && strlen(name) == code.n && !memcmp(name, code.p, code.n))
            return i;
    }
    return PROTO_E_COUNT;
}

/* A setup request failed: this client is out (a churn client tries again next round). */
static void give_up(struct lt *lt, struct client *c)
{
    c->phase = C_CLOSING;
    c->deadline = lt_mono_ns() + CLOSE_WAIT_NS;
    wsc_close(&lt->w, &c->ws, 1000);
}

static void say_rejected(struct lt *lt, struct client *c, uint64_t no)
{
    struct msgrec *rec = c->ring ? &c->ring[no & c->ring_mask] : NULL;

    lt->r.says_rejected++;
    if (rec && rec->active && rec->msg_no == no) {
        lt->r.deliveries_expected -= rec->remaining;
        rec->active = false;
        c->inflight--;
        /* "retry later": a closed loop that resent at once would only measure refusals */
        client_resend(lt, c, lt_mono_ns() + RETRY_NS);
    }
    if (c->role == ROLE_CHURN)
        give_up(lt, c);
}

/* The leader's room exists: its id, and the members who waited for it may join. */
static void room_created(struct lt *lt, struct client *c, struct span id)
{
    struct room *r = &lt->rooms[c->room];

    memcpy(r->id, id.p, id.n);
    r->id[id.n] = '\0';
    r->created = true;
    r->joined++;
    c->in_room = true;
    for (int i = r->first; i < r->first + r->count; i++)
        if (lt->c[i].phase == C_WAIT_ROOM)
            client_send_join(lt, &lt->c[i], r->id, K_JOIN);
}

static void handle_ok(struct lt *lt, struct client *c, enum kind k, const struct member *m, int n)
{
    int64_t now = lt_mono_ns();
    const struct member *room;
    struct member rm[12];
    const struct member *idm;
    struct span id;
    int rn;

    switch (k) {
    case K_HELLO:
        lt->r.signed_in++;
        hist_record(&lt->r.signin, (uint64_t)(now - c->t_connect));
        if (c->role == ROLE_CHURN)
            unpend(lt, c);
        c->deadline = 0;
        if (c->role == ROLE_STATIC) {
            lt->signed_static++;
            check_all_signed_in(lt, now);
        }
        after_sign_in(lt, c);
        break;
    case K_CREATE:
        room = scan_find(m, n, "room");
        rn = room ? scan_object(room->val.p, room->val.n, rm, 12) : -1;
        idm = rn > 0 ? scan_find(rm, rn < 12 ? rn : 12, "id") : NULL;
        if (!idm || !scan_str(idm->val, &id) || id.n >= ROOM_ID_MAX) {
            lt->r.bad_messages++;
            give_up(lt, c);
            return;
        }
        if (c->role == ROLE_CHURN) {
            memcpy(c->own_room, id.p, id.n);
            c->own_room[id.n] = '\0';
            c->phase = C_READY;
            client_send_say(lt, c, c->own_room, 1, now, K_SAY);
            return;
        }
        room_created(lt, c, id);
        after_room_joined(lt, c);
        break;
    case K_JOIN:
        lt->rooms[c->room].joined++;
        c->in_room = true;
        after_room_joined(lt, c);
        break;
    case K_JOIN_LOBBY:
        c->in_lobby = true;
        lt->lobby_joined++;
        client_mark_ready(lt, c);
        break;
    case K_SAY:
    case K_SAY_LOBBY:
        lt->r.says_ok++;
        if (now >= lt->r.measure_start_ns && now < lt->r.measure_end_ns)
            lt->r.says_ok_in_window++;
        if (lt->o.resend_on_ok && c->role != ROLE_CHURN)
            client_resend(lt, c, now);
        if (c->role == ROLE_CHURN) {
            c->cycle_acked = true;
            end_round(lt, c, now);
        }
        break;
    case K_START:
    case K_ANSWER:
    case K_PING:
        break; /* the scenario's (on_reply) */
    }
}

/* A join refused as no_such_room while clients are spread over several URLs: the room was
 * made on another node and has not reached this one's list yet, so ask again shortly (at most
 * JOIN_RETRIES times, during setup). Returns whether it will. */
static bool join_again(struct lt *lt, struct client *c, const struct member *m, int n)
{
    const struct member *code = scan_find(m, n, "code");

    if (lt->o.nurls < 2 || lt->phase != G_SETUP || c->join_tries >= JOIN_RETRIES || !code ||
        !scan_str_eq(code->val, "no_such_room"))
        return false;
    c->join_tries++;
    lt->r.join_retries++;
    client_timer_at(lt, lt_mono_ns() + JOIN_RETRY_NS, c->idx, T_JOIN_RETRY, 0);
    return true;
}

static void handle_reply(struct lt *lt, struct client *c, const struct member *m, int n,
                         bool is_error)
{
    const struct member *re = scan_find(m, n, "re");
    int64_t id = -1;
    bool has_id = re && scan_int(re->val, &id) && id >= 0;
    enum kind k = has_id ? (enum kind)(id & ((1 << KIND_BITS) - 1)) : K_HELLO;

    if (is_error && has_id && k == K_JOIN && join_again(lt, c, m, n))
        return; /* not an error yet: the room is on its way to this node */
    if (is_error) {
        const struct member *code = scan_find(m, n, "code");
        struct span cs;
        lt->r.errors_by_code[code && scan_str(code->val, &cs) ? error_index(cs) : PROTO_E_COUNT]++;
    }
    if (!has_id) {
        if (!is_error)
            lt->r.bad_messages++;
        return;
    }
    if (k == K_START || k == K_ANSWER || k == K_PING) {
        if (lt->o.scenario->on_reply)
            lt->o.scenario->on_reply(lt, c, k, (uint64_t)id >> KIND_BITS, m, n, is_error);
        return;
    }
    if (!is_error) {
        handle_ok(lt, c, k, m, n);
        return;
    }
    if (k == K_SAY || k == K_SAY_LOBBY)
        say_rejected(lt, c, (uint64_t)id >> KIND_BITS);
    else
        give_up(lt, c);
}

static void on_message(void *ud, struct wsc_conn *ws, const char *text, size_t len)
{
    struct lt *lt = ud;
    const struct scenario_ops *sc = lt->o.scenario;
    struct client *c = (struct client *)ws;
    struct member m[16];
    const struct member *type;
    int n = scan_object(text, len, m, 16);

    if (n < 0 || !(type = scan_find(m, n < 16 ? n : 16, "type"))) {
        lt->r.bad_messages++;
        return;
    }
    if (n > 16)
        n = 16;
    if (scan_str_eq(type->val, "chat"))
        handle_chat(lt, c, m, n);
    else if (scan_str_eq(type->val, "ok"))
        handle_reply(lt, c, m, n, false);
    else if (scan_str_eq(type->val, "error"))
        handle_reply(lt, c, m, n, true);
    else if (scan_str_eq(type->val, "left")) {
        lt->r.other_events++;
        if (lt->phase == G_CLOSE) {
            lt->left_seen++;
            lt->td_progress_ns = lt_mono_ns();
        }
    } else if (sc->on_event && sc->on_event(lt, c, type->val, m, n)) {
        /* handled */
    } else if (scan_str_eq(type->val, "welcome")) {
        if (!lt->presence_read)
            read_presence_max(lt, m, n);
        if (sc->on_welcome)
            sc->on_welcome(lt, m, n);
    } else {
        lt->r.other_events++;
    }
}

static void on_open(void *ud, struct wsc_conn *ws)
{
    struct lt *lt = ud;
    struct client *c = (struct client *)ws;
    int64_t now = lt_mono_ns();

    c->opened = true;
    lt->r.handshakes++;
    hist_record(&lt->r.connect, (uint64_t)(now - c->t_connect));
    if (c->initial) {
        lt->r.ramp_handshakes++;
        lt->r.ramp_last_ns = now;
        if (++lt->connected_static == lt->nstatic)
            lt->r.all_connected_ns = now;
    }
    send_hello(lt, c);
}

/* The close codes PROTOCOL.md says a parlor.v1 server sends. */
static bool valid_close_code(int code)
{
    return code == 1000 || code == 1001 || code == 1003 || code == 1007 || code == 1008 ||
           code == 1009 || code == 1011;
}

/* A churn client's connection ended: its round counts if it closed cleanly, and the next
 * round starts after --churn-pause. */
static void churn_ended(struct lt *lt, struct client *c, bool normal, int64_t now)
{
    int64_t pause = (int64_t)lt->o.churn_pause_ms * NS_PER_MS;

    lt->churn_active--;
    if (c->cycle_done && normal)
        lt->r.cycles++;
    else if (pause < 100 * NS_PER_MS)
        pause = 100 * NS_PER_MS; /* do not spin on a failing server */
    c->phase = C_OFF;
    if (lt->phase == G_RUN && !lt_signals_seen)
        client_timer_at(lt, now + pause, c->idx, T_RESTART, 0);
}

static void on_end(void *ud, struct wsc_conn *ws, const struct wsc_end_info *info)
{
    struct lt *lt = ud;
    struct client *c = (struct client *)ws;
    bool normal = info->why == WSC_END_CLOSED && info->by_us && info->code == 1000;
    /* a close we started that came back with a code parlor.v1 does not have: seen with
     * libwebsockets 4.1 servers, whose keepalive ping can overwrite the echo's payload */
    bool garbled = info->why == WSC_END_CLOSED && info->by_us && !valid_close_code(info->code);
    bool written_off = c->phase == C_FAILED; /* already counted (setup deadline) */
    int64_t now = lt_mono_ns();

    unpend(lt, c);
    if (c->teardown) {
        c->teardown = false;
        lt->closing_now--;
        lt->close_deadline = now + CLOSE_WAIT_NS; /* progress: give the rest more time */
        lt->td_progress_ns = now;
    }
    if (!written_off && (!c->opened || info->why == WSC_END_ABORTED))
        lt->r.fail_by_end[info->why]++;
    if (c->opened) {
        report_close_code(&lt->r, garbled ? -1 : info->code);
        if (garbled)
            lt->r.garbled_close_echoes++;
        else if (!normal && info->why != WSC_END_ABORTED)
            lt->r.unexpected_closes++;
    }
    normal = normal || garbled;
    c->opened = false;
    c->deadline = 0;

    if (c->role == ROLE_CHURN) {
        churn_ended(lt, c, normal, now);
        return;
    }
    if (lt->o.scenario->client_ended)
        lt->o.scenario->client_ended(lt, c);
    if (c->in_lobby) {
        c->in_lobby = false;
        lt->lobby_joined--;
    }
    if (c->in_room) {
        c->in_room = false;
        lt->rooms[c->room].joined--;
    }
    if (lt->phase == G_SETUP && !written_off) {
        if (c->phase == C_READY)
            lt->ready_static--;
        lt->failed_static++;
    }
    c->phase = normal && lt->phase >= G_CLOSE ? C_DONE : C_FAILED;
}

void client_run_timer(struct lt *lt, struct tev t, int64_t now)
{
    struct client *c = &lt->c[t.client];

    if (t.kind == T_JOIN_RETRY) {
        /* a client the setup deadline dropped meanwhile stays dropped */
        if (lt->phase == G_SETUP && c->phase == C_JOIN && c->room >= 0)
            client_send_join(lt, c, lt->rooms[c->room].id, K_JOIN);
    } else if (t.kind != T_RESTART) {
        if (lt->o.scenario->timer)
            lt->o.scenario->timer(lt, t, now);
    } else if (lt->phase == G_RUN && c->phase == C_OFF && !lt_signals_seen) {
        c->cycle++;
        client_start(lt, c, now);
    }
}

/* Inside a large batch of events: sends that fell due go out now rather than after the batch
 * (restarts wait for the loop: they open sockets). */
static void between(void *ud)
{
    struct lt *lt = ud;
    const struct tev *top;
    int64_t now;

    if (!(lt->phase == G_RUN || (lt->phase == G_DRAIN && lt->o.scenario->timers_in_drain)) ||
        !lt->heap.len)
        return;
    now = lt_mono_ns();
    while ((top = theap_top(&lt->heap)) && top->at <= now && top->kind != T_RESTART)
        client_run_timer(lt, theap_pop(&lt->heap), now);
}

const struct wsc_ops client_ops = {
    .on_open = on_open,
    .on_message = on_message,
    .on_end = on_end,
    .between = between,
};
