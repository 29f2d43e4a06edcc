/*
 * Scenario idle: ramp to N signed-in connections and hold them, for the handshake rate and
 * the server's memory per connection. Runs on the load generator's only thread.
 */
#include <stdio.h>

#include "scenario.h"

static void idle_configure(struct opts *o)
{
    if (!o->warmup_set)
        o->warmup = 0;
}

static void idle_mode(const struct lt *lt, char *buf, size_t cap)
{
    snprintf(buf, cap, "nothing: connections are held for %.1f s", lt->o.duration);
}

const struct scenario_ops scenario_idle = {
    .name = "idle",
    .help = "ramp to N signed-in connections and hold them for --duration; reports the "
            "handshake rate, time to all connected/signed in, server RSS per connection",
    .configure = idle_configure,
    .mode = idle_mode,
};
