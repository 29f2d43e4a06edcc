/*
 * The scenarios there are, by name (scenario.h). Runs on the load generator's only thread,
 * while the flags are read.
 */
#include "scenario.h"

#include <stdio.h>
#include <string.h>

static const struct scenario_ops *const scenarios[] = {
    &scenario_idle,  &scenario_chat,  &scenario_broadcast,
    &scenario_churn, &scenario_mixed, &scenario_quiz,
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

const struct scenario_ops *scenario_find(const char *name)
{
    for (size_t i = 0; i < NSCENARIOS; i++)
        if (!strcmp(scenarios[i]->name, name))
            return scenarios[i];
    return NULL;
}

const struct scenario_ops *scenario_at(size_t i)
{
    return i < NSCENARIOS ? scenarios[i] : NULL;
}

void scenario_list(char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NSCENARIOS && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", scenarios[i]->name);
}
