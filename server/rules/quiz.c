/* The quiz's rules (see quiz.h). Pure: any thread, but the server calls it on the loop. */
#include "quiz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int quiz_points(bool correct, int64_t deadline_ms, int64_t answered_at_ms, int seconds)
{
    int64_t left = deadline_ms - answered_at_ms, total = (int64_t)seconds * 1000;

    if (!correct)
        return 0;
    if (left < 0)
        left = 0;
    if (left > total)
        left = total;
    return QUIZ_BASE_POINTS + (int)(QUIZ_SPEED_MAX * left / total);
}

static void open_round(struct quiz *q, int64_t now_ms)
{
    q->phase = QUIZ_QUESTION;
    q->deadline_ms = now_ms + (int64_t)q->seconds * 1000;
    for (int i = 0; i < q->nplayers; i++) {
        q->players[i].choice = -1;
        q->players[i].answered_at = 0;
    }
}

int quiz_begin(struct quiz *q, int rounds, int seconds, const struct quiz_question **questions,
               const uint64_t *seats, const char *const *names, const int64_t *user_ids,
               int nplayers, int64_t now_ms)
{
    quiz_end(q);
    q->questions = malloc((size_t)rounds * sizeof(*q->questions));
    q->players = calloc((size_t)(nplayers ? nplayers : 1), sizeof(*q->players));
    if (!q->questions || !q->players) {
        quiz_end(q);
        return -1;
    }
    memcpy(q->questions, questions, (size_t)rounds * sizeof(*q->questions));
    for (int i = 0; i < nplayers; i++) {
        q->players[i].seat = seats[i];
        snprintf(q->players[i].name, sizeof(q->players[i].name), "%s", names[i]);
        q->players[i].user_id = user_ids ? user_ids[i] : 0;
        q->players[i].present = true;
    }
    q->nplayers = nplayers;
    q->rounds = rounds;
    q->seconds = seconds;
    q->round = 1;
    q->started_ms = now_ms;
    open_round(q, now_ms);
    return 0;
}

void quiz_end(struct quiz *q)
{
    free(q->questions);
    free(q->players);
    *q = (struct quiz){.phase = QUIZ_IDLE};
}

int quiz_player_index(const struct quiz *q, uint64_t seat)
{
    for (int i = 0; i < q->nplayers; i++)
        if (q->players[i].seat == seat)
            return i;
    return -1;
}

enum quiz_answer_result quiz_answer(struct quiz *q, uint64_t seat, int round, int choice,
                                    int64_t now_ms)
{
    int i;

    if (q->phase != QUIZ_QUESTION)
        return QUIZ_ANSWER_NO_GAME;
    i = quiz_player_index(q, seat);
    if (i < 0 || !q->players[i].present) /* left: back in the room, they only watch */
        return QUIZ_ANSWER_NOT_PLAYER;
    if (round != q->round)
        return QUIZ_ANSWER_WRONG_ROUND;
    if (now_ms >= q->deadline_ms)
        return QUIZ_ANSWER_LATE;
    if (q->players[i].choice >= 0)
        return QUIZ_ANSWER_TWICE;
    q->players[i].choice = choice;
    q->players[i].answered_at = now_ms;
    return QUIZ_ANSWER_OK;
}

bool quiz_all_answered(const struct quiz *q)
{
    if (q->phase != QUIZ_QUESTION)
        return false;
    for (int i = 0; i < q->nplayers; i++)
        if (q->players[i].present && q->players[i].choice < 0)
            return false;
    return true;
}

void quiz_reveal(struct quiz *q)
{
    int correct = q->questions[q->round - 1]->correct;

    for (int i = 0; i < q->nplayers; i++) {
        struct quiz_player *p = &q->players[i];
        p->delta = p->choice < 0 ? 0
                                 : quiz_points(p->choice == correct, q->deadline_ms, p->answered_at,
                                               q->seconds);
        p->score += p->delta;
    }
    q->phase = QUIZ_REVEAL;
}

bool quiz_next(struct quiz *q, int64_t now_ms)
{
    if (q->round >= q->rounds) {
        q->phase = QUIZ_IDLE;
        return false;
    }
    q->round++;
    open_round(q, now_ms);
    return true;
}

void quiz_player_left(struct quiz *q, uint64_t seat)
{
    int i = quiz_player_index(q, seat);

    if (i >= 0)
        q->players[i].present = false;
}

int quiz_present(const struct quiz *q)
{
    int n = 0;

    for (int i = 0; i < q->nplayers; i++)
        n += q->players[i].present;
    return n;
}

void quiz_standings(const struct quiz *q, int *order, int *rank)
{
    /* insertion sort: a table holds a dozen players */
    for (int i = 0; i < q->nplayers; i++) {
        int j = i;
        while (j > 0) {
            const struct quiz_player *a = &q->players[order[j - 1]], *b = &q->players[i];
            if (a->score > b->score || (a->score == b->score && strcmp(a->name, b->name) < 0))
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int k = 0; k < q->nplayers; k++)
        rank[k] = (k > 0 && q->players[order[k]].score == q->players[order[k - 1]].score)
                      ? rank[k - 1]
                      : k + 1;
}
