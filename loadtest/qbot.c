/* The quiz bots' bookkeeping (see qbot.h). Load tester's single thread (pure functions). */
#include "qbot.h"

#define NS_PER_MS 1000000LL

/* A game of n rounds is the sequence game_started (0), question k (2k - 1), reveal k (2k),
 * game_over (2n + 1): a bot keeps the index of the last one it saw, and a jump is a loss. */
static int event_index(const struct qbot *b, enum qbot_event ev, int round)
{
    switch (ev) {
    case QBOT_GAME_STARTED:
        return 0;
    case QBOT_QUESTION:
        return 2 * round - 1;
    case QBOT_REVEAL:
        return 2 * round;
    case QBOT_GAME_OVER:
        return 2 * b->rounds + 1;
    }
    return -1;
}

void qbot_init(struct qbot *b, int rounds)
{
    *b = (struct qbot){.rounds = rounds, .pos = -1};
}

bool qbot_playing(const struct qbot *b)
{
    return b->pos >= 0;
}

int qbot_owed(const struct qbot *b)
{
    return qbot_playing(b) ? 2 * b->rounds + 1 - b->pos : 0;
}

int qbot_abandon(struct qbot *b)
{
    int owed = qbot_owed(b);

    b->pos = -1;
    return owed;
}

int qbot_event(struct qbot *b, enum qbot_event ev, int round, int of)
{
    int idx, lost;

    if (ev == QBOT_GAME_STARTED) {
        lost = qbot_abandon(b); /* the rest of a game that never ended */
        if (of > 0)
            b->rounds = of;
        b->pos = 0;
        b->answered = 0;
        b->started++;
        return lost;
    }
    if (!qbot_playing(b)) { /* a game whose start we did not see */
        if (ev == QBOT_QUESTION && of > 0)
            b->rounds = of;
        b->answered = 0;
    }
    if ((ev == QBOT_QUESTION || ev == QBOT_REVEAL) && (round < 1 || round > b->rounds))
        return -1;
    idx = event_index(b, ev, round);
    if (idx <= b->pos)
        return -1;
    lost = idx - b->pos - 1;
    b->pos = ev == QBOT_GAME_OVER ? -1 : idx;
    return lost;
}

bool qbot_take_answer(struct qbot *b, int round)
{
    if (b->pos != 2 * round - 1 || b->answered >= round)
        return false;
    b->answered = round;
    return true;
}

uint64_t qbot_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int64_t qbot_answer_delay_ns(uint64_t r, int seconds)
{
    uint64_t span = (uint64_t)(seconds > 0 ? seconds : 0) * 750 * NS_PER_MS;

    return span ? (int64_t)(r % span) : 0;
}

void qbot_clock_init(struct qbot_clock *c)
{
    *c = (struct qbot_clock){.offset_ns = 0, .error_ns = INT64_MAX, .samples = 0};
}

void qbot_clock_sample(struct qbot_clock *c, int64_t sent_ns, int64_t recv_ns, int64_t server_ms)
{
    int64_t rtt = recv_ns - sent_ns, err;

    if (rtt < 0)
        return;
    /* the server read its clock somewhere in [sent, recv], and its ms are truncated: the
     * reading stands for [server_ms, server_ms + 1 ms) */
    err = rtt / 2 + NS_PER_MS / 2 + 1;
    c->samples++;
    if (err >= c->error_ns)
        return;
    c->error_ns = err;
    c->offset_ns = (server_ms * NS_PER_MS + NS_PER_MS / 2) - (sent_ns + rtt / 2);
}

int64_t qbot_clock_correction(const struct qbot_clock *c)
{
    int64_t mag = c->offset_ns < 0 ? -c->offset_ns : c->offset_ns;

    return c->samples && mag > c->error_ns ? c->offset_ns : 0;
}

int64_t qbot_question_lag_ns(int64_t recv_ns, int64_t deadline_ms, int seconds,
                             int64_t correction_ns)
{
    int64_t opened_ns = (deadline_ms - (int64_t)seconds * 1000) * NS_PER_MS;
    /* correction = server - local: the receipt on the server's clock is recv + correction */
    int64_t lag = recv_ns + correction_ns - opened_ns;

    return lag > 0 ? lag : 0;
}
