/*
 * Samples a process from /proc: CPU time, resident memory, open descriptors, and the TCP
 * connections on a listening port. Linux only; every function is a plain read of /proc.
 */
#ifndef PARLOR_LT_PROCSTAT_H
#define PARLOR_LT_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_sample {
    bool ok;            /* the process existed and /proc could be read */
    int64_t t_ns;       /* CLOCK_MONOTONIC when sampled */
    uint64_t cpu_ticks; /* utime + stime, in clock ticks */
    uint64_t rss_kb;    /* VmRSS */
    int fds;            /* entries in /proc/<pid>/fd, -1 when unreadable */
};

int proc_sample(pid_t pid, struct proc_sample *out);
/* TCP connections whose local port is `port` and that the server still holds (established,
 * half-open or closed by the peer but not by it), from /proc/<pid>/net/tcp{,6}; -1 when
 * unreadable. */
int proc_tcp_conns(pid_t pid, int port);
/* Parses the contents of /proc/<pid>/stat; false when malformed. Exposed for the tests. */
bool proc_parse_stat(const char *text, uint64_t *utime, uint64_t *stime);
/* CPU clock ticks used so far by every user-space process on the machine except `skip1` and
 * `skip2` (0: none): utime + stime + the cutime + cstime of children they reaped, from
 * /proc/<pid>/stat. Kernel threads are left out. Used to tell whether something else competed
 * for the cores during a measurement: the difference of two calls. */
uint64_t proc_others_ticks(pid_t skip1, pid_t skip2);
/* Parses /proc/<pid>/stat for proc_others_ticks: parent pid and utime+stime+cutime+cstime;
 * false when malformed. Exposed for the tests. */
bool proc_parse_stat_all(const char *text, int *ppid, uint64_t *ticks);
/* Clock ticks per second (sysconf(_SC_CLK_TCK)). */
long proc_ticks_per_sec(void);

#endif
