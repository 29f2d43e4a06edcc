/*
 * Scenario churn: every client loops connect, hello, create a private room, say once, wait for
 * the echo, close (1000), and again after --churn-pause; client.c runs the round itself (it is
 * also mixed's churning share). Runs on the load generator's only thread.
 */
#include <stdio.h>

#include "scenario.h"

static void churn_configure(struct opts *o)
{
    if (!o->warmup_set)
        o->warmup = 0;
}

static int churn_churners(const struct opts *o, int n)
{
    return n;
}

static void churn_mode(const struct lt *lt, char *buf, size_t cap)
{
    snprintf(buf, cap, "churn: connect, hello, create, say, close; pause %d ms",
             lt->o.churn_pause_ms);
}

const struct scenario_ops scenario_churn = {
    .name = "churn",
    .help = "N clients each loop: connect, hello, create a private room, say once, wait for the "
            "echo, close (1000), repeat after --churn-pause",
    .configure = churn_configure,
    .churners = churn_churners,
    .mode = churn_mode,
};
