/*
 * The chat senders that the chat, broadcast and mixed scenarios share: open-loop messages on a
 * fixed schedule, each carrying the time it was due, or closed-loop messages sent as the
 * previous ones come back (client.c then calls the scenario's resend). Runs on the load
 * generator's only thread, from the run's timers.
 */
#include "scenario.h"

void traffic_send_room(struct lt *lt, struct tev t, int64_t now)
{
    struct client *c = &lt->c[t.client];
    double period;

    if (c->phase != C_READY || lt->phase != G_RUN || t.at >= lt->r.measure_end_ns)
        return;
    client_send_say(lt, c, lt->rooms[c->room].id, (uint32_t)lt->rooms[c->room].joined,
                    lt->closed_loop ? now : t.at, K_SAY);
    if (lt->closed_loop)
        return;
    period = (double)NS_PER_SEC / lt->o.rate;
    if (t.at + (int64_t)period < lt->r.measure_end_ns)
        client_timer_at(lt, t.at + (int64_t)period, t.client, T_SEND, 0);
}

void traffic_send_lobby(struct lt *lt, struct tev t, int64_t now, double rate)
{
    struct client *c = &lt->c[t.client];
    double period;

    if (c->phase != C_READY || lt->phase != G_RUN || t.at >= lt->r.measure_end_ns)
        return;
    client_send_say(lt, c, "lobby", (uint32_t)lt->lobby_joined, lt->closed_loop ? now : t.at,
                    K_SAY_LOBBY);
    if (lt->closed_loop)
        return;
    period = (double)NS_PER_SEC / rate;
    if (t.at + (int64_t)period < lt->r.measure_end_ns)
        client_timer_at(lt, t.at + (int64_t)period, t.client, T_SEND_LOBBY, 0);
}

/* Every ready static client's first timer(s) of `kind`, spread over one period (open loop)
 * or 100 ms, --inflight each (closed loop). */
static void start_senders(struct lt *lt, int64_t now, uint8_t kind)
{
    double period = lt->o.rate > 0 ? (double)NS_PER_SEC / lt->o.rate : 100.0 * NS_PER_MS;

    for (int i = 0; i < lt->nstatic; i++)
        for (int k = 0; k < (lt->closed_loop ? lt->o.inflight : 1); k++)
            if (lt->c[i].phase == C_READY)
                client_timer_at(lt, now + (int64_t)(period * i / lt->nstatic), (uint32_t)i, kind,
                                0);
}

void traffic_start_rooms(struct lt *lt, int64_t now)
{
    start_senders(lt, now, T_SEND);
}

void traffic_start_lobby(struct lt *lt, int64_t now)
{
    start_senders(lt, now, T_SEND_LOBBY);
}
