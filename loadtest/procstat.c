/* /proc sampling of the server under test (see procstat.h). Load tester's single thread. */
#include "procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

long proc_ticks_per_sec(void)
{
    long hz = sysconf(_SC_CLK_TCK);

    return hz > 0 ? hz : 100;
}

bool proc_parse_stat(const char *text, uint64_t *utime, uint64_t *stime)
{
    /* the command name may hold spaces and parentheses: fields start after the last ')' */
    const char *p = strrchr(text, ')');
    unsigned long long u, s;

    if (!p)
        return false;
    /* fields 3..13 are skipped, 14 is utime, 15 is stime */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &u, &s) != 2)
        return false;
    *utime = u;
    *stime = s;
    return true;
}

bool proc_parse_stat_all(const char *text, int *ppid, uint64_t *ticks)
{
    const char *p = strrchr(text, ')');
    unsigned long long u, s, cu, cs;

    if (!p)
        return false;
    /* 3 state, 4 ppid, 5..13 skipped, 14 utime, 15 stime, 16 cutime, 17 cstime */
    if (sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", ppid, &u,
               &s, &cu, &cs) != 5)
        return false;
    *ticks = u + s + cu + cs;
    return true;
}

static int read_file(const char *path, char *buf, size_t cap);

uint64_t proc_others_ticks(pid_t skip1, pid_t skip2)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    uint64_t sum = 0;
    pid_t self = getpid();

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char path[300], buf[1024];
        int ppid;
        uint64_t t;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 2 || pid == self || pid == skip1 || pid == skip2)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if (read_file(path, buf, sizeof(buf)) < 0 || !proc_parse_stat_all(buf, &ppid, &t))
            continue;
        if (ppid == 2) /* a kernel thread */
            continue;
        sum += t;
    }
    closedir(d);
    return sum;
}

static int read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return -1;
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (int)n;
}

static int count_fds(pid_t pid)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int proc_sample(pid_t pid, struct proc_sample *out)
{
    char path[64], buf[4096];
    uint64_t u, s;
    const char *rss;

    memset(out, 0, sizeof(*out));
    out->fds = -1;
    out->t_ns = mono_ns();
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_file(path, buf, sizeof(buf)) < 0 || !proc_parse_stat(buf, &u, &s))
        return -1;
    out->cpu_ticks = u + s;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (read_file(path, buf, sizeof(buf)) < 0 || !(rss = strstr(buf, "VmRSS:")))
        return -1;
    out->rss_kb = strtoull(rss + 6, NULL, 10);
    out->fds = count_fds(pid);
    out->ok = true;
    return 0;
}

static int count_tcp(const char *path, int port)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int n = 0;

    if (!f)
        return -1;
    if (!fgets(line, sizeof(line), f)) { /* header */
        fclose(f);
        return 0;
    }
    while (fgets(line, sizeof(line), f)) {
        char local[128];
        unsigned st;
        const char *colon;
        if (sscanf(line, " %*d: %127s %*s %x", local, &st) != 2)
            continue;
        colon = strrchr(local, ':');
        /* connections the server still holds: ESTABLISHED (1), SYN_RECV (3) and CLOSE_WAIT
         * (8, the client hung up and the server has not closed its socket yet) */
        if (colon && (int)strtol(colon + 1, NULL, 16) == port && (st == 1 || st == 3 || st == 8))
            n++;
    }
    fclose(f);
    return n;
}

int proc_tcp_conns(pid_t pid, int port)
{
    char path[64];
    int a, b;

    snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)pid);
    a = count_tcp(path, port);
    snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int)pid);
    b = count_tcp(path, port);
    if (a < 0 && b < 0)
        return -1;
    return (a < 0 ? 0 : a) + (b < 0 ? 0 : b);
}
