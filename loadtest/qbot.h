/*
 * The quiz scenario's bookkeeping, as pure functions the tests can drive: what one bot expects
 * from the event stream of a game (PROTOCOL.md 4.10: game_started, then question and reveal
 * for rounds 1..of, then game_over) and how many events it missed; when it answers and with
 * which choice; and the clock arithmetic behind the question lag (the server's `deadline`
 * against the local clock, corrected by `ping`).
 */
#ifndef PARLOR_LT_QBOT_H
#define PARLOR_LT_QBOT_H

#include <stdbool.h>
#include <stdint.h>

/* The events of one game, in the order a member receives them. */
enum qbot_event { QBOT_GAME_STARTED, QBOT_QUESTION, QBOT_REVEAL, QBOT_GAME_OVER };

/* One bot's view of its table's game. Zeroed (then qbot_init) = not in a game. */
struct qbot {
    int rounds;       /* of the current game (the room's, until game_started says) */
    int pos;          /* index of the last event seen in the game's sequence, -1 = none */
    int answered;     /* the last round this bot answered (or decided not to), 0 = none */
    uint64_t started; /* games this bot saw start */
};

void qbot_init(struct qbot *b, int rounds);
/* True between a game's first event and its game_over. */
bool qbot_playing(const struct qbot *b);
/* Takes one event (`round` for question and reveal, `of` the question's round count, 0 when
 * the event does not say). Returns how many events of the game should have come before it and
 * did not (a game_started that finds a game still running counts the rest of that game), or
 * -1 for an event that repeats or goes back (ignored). */
int qbot_event(struct qbot *b, enum qbot_event ev, int round, int of);
/* The events still owed by the game in progress (0 when not playing). */
int qbot_owed(const struct qbot *b);
/* Marks the bot out of its game (its connection ended, or the run did) and returns what the
 * game still owed it. */
int qbot_abandon(struct qbot *b);
/* True, once per round, when the bot may answer `round`: its question is the last event seen
 * (not revealed yet) and it has not answered it. Marks the round answered. */
bool qbot_take_answer(struct qbot *b, int round);

/* xorshift64*: the bots' random numbers. `*state` must not be 0. */
uint64_t qbot_rand(uint64_t *state);
/* How long a bot waits before answering: uniform in [0, 3/4 of the question time). The last
 * quarter is left so that an answer reaches the server before the deadline unless the server
 * (or the network) is that far behind. */
int64_t qbot_answer_delay_ns(uint64_t r, int seconds);

/* The offset between the server's clock and ours, from `ping` round trips. */
struct qbot_clock {
    int64_t offset_ns; /* server - local, best estimate */
    int64_t error_ns;  /* the true offset is within offset_ns +- error_ns */
    uint64_t samples;
};

void qbot_clock_init(struct qbot_clock *c);
/* One `ping`: sent at local `sent_ns`, answered with server time `server_ms` (whole ms), reply
 * received at local `recv_ns` (both CLOCK_REALTIME ns). Keeps the sample with the least error. */
void qbot_clock_sample(struct qbot_clock *c, int64_t sent_ns, int64_t recv_ns, int64_t server_ms);
/* The correction to apply: the estimate when it is larger than its error, else 0 (the clocks
 * agree as far as can be told: same host, or synchronized). */
int64_t qbot_clock_correction(const struct qbot_clock *c);
/* A question's lag: from the moment the server opened it (`deadline_ms` - `seconds`, server
 * clock, whole ms) to its receipt at local `recv_ns` (CLOCK_REALTIME), `correction_ns` (server
 * minus local, qbot_clock_correction) putting the two on one clock. Never negative; up to 1 ms
 * high, the server's time being truncated to the ms. */
int64_t qbot_question_lag_ns(int64_t recv_ns, int64_t deadline_ms, int seconds,
                             int64_t correction_ns);

#endif
