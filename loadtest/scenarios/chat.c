/*
 * Scenario chat: clients in rooms of --room-size (the first member creates each room, the
 * others join), or with --lobby all of them in the lobby, each sending --rate messages a
 * second on a fixed schedule, or with --rate 0 keeping --inflight in flight (capacity). Runs
 * on the load generator's only thread.
 */
#include <stdio.h>

#include "scenario.h"

static void chat_mode(const struct lt *lt, char *buf, size_t cap)
{
    const struct opts *o = &lt->o;

    if (o->lobby && lt->closed_loop)
        snprintf(buf, cap,
                 "closed loop, each client keeps %d message(s) in flight, all in the lobby, "
                 "%d-byte text",
                 o->inflight, o->size);
    else if (o->lobby)
        snprintf(buf, cap, "open loop, %g msg/s per client, all in the lobby, %d-byte text",
                 o->rate, o->size);
    else if (lt->closed_loop)
        snprintf(buf, cap,
                 "closed loop, each client keeps %d message(s) in flight, in %d rooms of up "
                 "to %d, %d-byte text",
                 o->inflight, lt->nrooms, o->room_size, o->size);
    else
        snprintf(buf, cap, "open loop, %g msg/s per client in %d rooms of up to %d, %d-byte text",
                 o->rate, lt->nrooms, o->room_size, o->size);
}

static void chat_signed_in(struct lt *lt, struct client *c)
{
    if (lt->o.lobby)
        client_send_join(lt, c, "lobby", K_JOIN_LOBBY); /* its ok marks the client ready */
    else
        client_join_or_wait(lt, c);
}

static void chat_start(struct lt *lt, int64_t now)
{
    if (lt->o.lobby)
        traffic_start_lobby(lt, now);
    else
        traffic_start_rooms(lt, now);
}

static void chat_timer(struct lt *lt, struct tev t, int64_t now)
{
    if (t.kind == T_SEND)
        traffic_send_room(lt, t, now);
    else if (t.kind == T_SEND_LOBBY)
        traffic_send_lobby(lt, t, now, lt->o.rate);
}

static void chat_resend(struct lt *lt, struct client *s, int64_t when)
{
    client_timer_at(lt, when, s->idx, lt->o.lobby ? T_SEND_LOBBY : T_SEND, 0);
}

const struct scenario_ops scenario_chat = {
    .name = "chat",
    .help = "N clients in rooms of --room-size (the first member creates each room, the others "
            "join), or with --lobby all in the lobby; every client sends --rate messages/s on a "
            "fixed schedule; with --rate 0 each keeps --inflight messages in flight instead "
            "(capacity)",
    .rooms = true,
    .closed_loop = true,
    .mode = chat_mode,
    .signed_in = chat_signed_in,
    .start = chat_start,
    .timer = chat_timer,
    .resend = chat_resend,
};
