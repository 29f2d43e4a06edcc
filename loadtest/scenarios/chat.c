/*
 * Scenario chat: clients in rooms of --room-size (the first member creates each room, the
 * others join), each sending --rate messages a second on a fixed schedule, or with --rate 0
 * keeping --inflight in flight (capacity). Runs on the load generator's only thread.
 */
#include <stdio.h>

#include "scenario.h"

static void chat_mode(const struct lt *lt, char *buf, size_t cap)
{
    const struct opts *o = &lt->o;

    if (lt->closed_loop)
        snprintf(buf, cap,
                 "closed loop, each client keeps %d message(s) in flight, in %d rooms of up "
                 "to %d, %d-byte text",
                 o->inflight, lt->nrooms, o->room_size, o->size);
    else
        snprintf(buf, cap, "open loop, %g msg/s per client in %d rooms of up to %d, %d-byte text",
                 o->rate, lt->nrooms, o->room_size, o->size);
}

static void chat_timer(struct lt *lt, struct tev t, int64_t now)
{
    if (t.kind == T_SEND)
        traffic_send_room(lt, t, now);
}

static void chat_resend(struct lt *lt, struct client *s, int64_t when)
{
    client_timer_at(lt, when, s->idx, T_SEND, 0);
}

const struct scenario_ops scenario_chat = {
    .name = "chat",
    .help = "N clients in rooms of --room-size (the first member creates each room, the others "
            "join); every client sends --rate messages/s on a fixed schedule; with --rate 0 each "
            "keeps --inflight messages in flight instead (capacity)",
    .rooms = true,
    .closed_loop = true,
    .mode = chat_mode,
    .signed_in = client_join_or_wait,
    .start = traffic_start_rooms,
    .timer = chat_timer,
    .resend = chat_resend,
};
