/*
 * The quiz's rules as plain functions of (state, input, now): rounds, deadlines, answers,
 * scoring and ranking. No sockets, no timers, no SQL and no clock reads: game.c drives it from
 * loop timers, and the unit tests drive it with a fake clock. Loop thread.
 */
#ifndef PARLOR_QUIZ_H
#define PARLOR_QUIZ_H

#include <stdbool.h>
#include <stdint.h>

#define QUIZ_CHOICES     4
#define QUIZ_NAME_MAX    64
#define QUIZ_BASE_POINTS 100 /* for a correct answer */
#define QUIZ_SPEED_MAX   100 /* more for answering fast */

struct quiz_question {
    int64_t id;
    char *category;
    char *text;
    char *choices[QUIZ_CHOICES];
    int correct;
    char *lang; /* BCP 47 tag, or NULL when the pack does not say */
};

/* A player is their seat, never their name: a name is free again once its owner has gone, and
 * whoever takes it next is a new member, who watches. The server uses the session id as the
 * seat (session.seat), which a resume keeps. */
struct quiz_player {
    uint64_t seat;
    char name[QUIZ_NAME_MAX + 1]; /* for the standings */
    int64_t user_id;              /* 0 for a guest */
    int score;
    int delta;  /* points of the last revealed round */
    int choice; /* this round's answer, -1 for none */
    int64_t answered_at;
    bool present; /* still in the room */
};

enum quiz_phase { QUIZ_IDLE, QUIZ_QUESTION, QUIZ_REVEAL };

struct quiz {
    enum quiz_phase phase;
    int rounds, seconds;
    int round; /* 1-based, the current or last revealed round */
    int64_t started_ms, deadline_ms;
    const struct quiz_question **questions; /* rounds of them, borrowed from the bank */
    struct quiz_player *players;
    int nplayers;
};

enum quiz_answer_result {
    QUIZ_ANSWER_OK,
    QUIZ_ANSWER_NO_GAME,     /* no question is open */
    QUIZ_ANSWER_NOT_PLAYER,  /* watching, not playing */
    QUIZ_ANSWER_WRONG_ROUND, /* not the open round */
    QUIZ_ANSWER_LATE,        /* after the deadline */
    QUIZ_ANSWER_TWICE,       /* already answered this round */
};

/* Starts a game: round 1 opens at `now_ms`. `questions` (rounds of them) are borrowed, and each
 * player's seat, name and user id (`user_ids` may be NULL: guests) copied. 0, or -1 when out
 * of memory. */
int quiz_begin(struct quiz *q, int rounds, int seconds, const struct quiz_question **questions,
               const uint64_t *seats, const char *const *names, const int64_t *user_ids,
               int nplayers, int64_t now_ms);
/* Frees what quiz_begin allocated; safe on a zeroed struct. */
void quiz_end(struct quiz *q);
/* The index of the player in `seat`, or -1. */
int quiz_player_index(const struct quiz *q, uint64_t seat);
/* An answer from `seat`: only a player still present plays; one who left watches. */
enum quiz_answer_result quiz_answer(struct quiz *q, uint64_t seat, int round, int choice,
                                    int64_t now_ms);
/* True when every player still present has answered the open question. */
bool quiz_all_answered(const struct quiz *q);
/* Closes the open question and scores it. */
void quiz_reveal(struct quiz *q);
/* After a reveal: opens the next round (true), or ends the game (false, phase IDLE). */
bool quiz_next(struct quiz *q, int64_t now_ms);
/* A player left the room: they keep their score but are no longer waited for. */
void quiz_player_left(struct quiz *q, uint64_t seat);
int quiz_present(const struct quiz *q);
/* Points for an answer at `answered_at` to a question closing at `deadline`. */
int quiz_points(bool correct, int64_t deadline_ms, int64_t answered_at_ms, int seconds);
/* order[k]: the k-th player by score (highest first, then by name); rank[k]: that player's
 * rank (equal scores share one). Both arrays have nplayers entries. */
void quiz_standings(const struct quiz *q, int *order, int *rank);

#endif
