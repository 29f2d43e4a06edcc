/*
 * Scenario broadcast: every client joins the lobby and client 0 sends to all of them, keeping
 * --inflight messages in flight (--rate 0, the default) or on a schedule of --rate a second:
 * the fan-out figure. Runs on the load generator's only thread.
 */
#include <stdio.h>

#include "scenario.h"

static void broadcast_configure(struct opts *o)
{
    if (!o->rate_set)
        o->rate = 0;
}

static void broadcast_mode(const struct lt *lt, char *buf, size_t cap)
{
    if (lt->closed_loop)
        snprintf(buf, cap, "closed loop, %d message(s) in flight to the lobby, %d-byte text",
                 lt->o.inflight, lt->o.size);
    else
        snprintf(buf, cap, "open loop, %g msg/s to the lobby, %d-byte text", lt->o.rate,
                 lt->o.size);
}

static void broadcast_signed_in(struct lt *lt, struct client *c)
{
    client_send_join(lt, c, "lobby", K_JOIN_LOBBY);
}

static void broadcast_start(struct lt *lt, int64_t now)
{
    if (lt->c[lt->sender].phase != C_READY)
        return;
    for (int i = 0; i < (lt->closed_loop ? lt->o.inflight : 1); i++)
        client_timer_at(lt, now, (uint32_t)lt->sender, T_SEND_LOBBY, 0);
}

static void broadcast_timer(struct lt *lt, struct tev t, int64_t now)
{
    if (t.kind == T_SEND_LOBBY)
        traffic_send_lobby(lt, t, now, lt->o.rate);
}

static void broadcast_resend(struct lt *lt, struct client *s, int64_t when)
{
    if (s->idx == (uint32_t)lt->sender)
        client_timer_at(lt, when, s->idx, T_SEND_LOBBY, 0);
}

const struct scenario_ops scenario_broadcast = {
    .name = "broadcast",
    .help = "N clients join the lobby; client 0 sends. With --rate 0 (default) it keeps "
            "--inflight messages in flight (the next goes when one has reached all N); with "
            "--rate R it sends R messages/s on a fixed schedule",
    .closed_loop = true,
    .configure = broadcast_configure,
    .mode = broadcast_mode,
    .signed_in = broadcast_signed_in,
    .start = broadcast_start,
    .timer = broadcast_timer,
    .resend = broadcast_resend,
};
