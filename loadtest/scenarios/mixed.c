/*
 * Scenario mixed: chat rooms for most clients, who also join the lobby where client 0 sends
 * --lobby-rate messages a second, while --churn-share percent of the clients churn. Runs on
 * the load generator's only thread.
 */
#include <stdio.h>

#include "scenario.h"

static int mixed_check(const struct opts *o)
{
    if (o->rate <= 0) {
        fprintf(stderr, "parlor-loadtest: mixed needs --rate above 0\n");
        return -1;
    }
    return 0;
}

static int mixed_churners(const struct opts *o, int n)
{
    return o->churn_share > 0 ? (int)((long long)n * o->churn_share / 100) : 0;
}

static void mixed_mode(const struct lt *lt, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "open loop, %g msg/s per client in %d rooms of up to %d, %g msg/s to the lobby, "
             "%d churning",
             lt->o.rate, lt->nrooms, lt->o.room_size, lt->o.lobby_rate, lt->n - lt->nstatic);
}

/* In its room: now the lobby too. */
static void mixed_room_joined(struct lt *lt, struct client *c)
{
    if (!c->in_lobby)
        client_send_join(lt, c, "lobby", K_JOIN_LOBBY);
    else
        client_mark_ready(lt, c);
}

static void mixed_start(struct lt *lt, int64_t now)
{
    traffic_start_rooms(lt, now);
    if (lt->o.lobby_rate > 0 && lt->c[lt->sender].phase == C_READY)
        client_timer_at(lt, now, (uint32_t)lt->sender, T_SEND_LOBBY, 0);
}

static void mixed_timer(struct lt *lt, struct tev t, int64_t now)
{
    if (t.kind == T_SEND)
        traffic_send_room(lt, t, now);
    else if (t.kind == T_SEND_LOBBY)
        traffic_send_lobby(lt, t, now, lt->o.lobby_rate);
}

const struct scenario_ops scenario_mixed = {
    .name = "mixed",
    .help = "chat rooms for most clients, who also join the lobby where client 0 sends "
            "--lobby-rate messages/s; --churn-share % of the clients churn meanwhile",
    .rooms = true,
    .min_static = 2,
    .check = mixed_check,
    .churners = mixed_churners,
    .mode = mixed_mode,
    .signed_in = client_join_or_wait,
    .room_joined = mixed_room_joined,
    .start = mixed_start,
    .timer = mixed_timer,
};
