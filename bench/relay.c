/*
 * relay.c - the zero-logic reference floor for an stdio interposer, for bench/.
 *
 *   relay COMMAND [ARGS...]
 *
 * Spawns COMMAND with pipes on its stdin/stdout (stderr is shared) and copies bytes with two
 * threads: stdin -> child stdin, child stdout -> stdout. No framing, no parsing. When stdin
 * closes, the child's stdin is closed; when the child's stdout closes, the relay waits for the
 * child and exits with its status (128+N if killed by signal N). 127 if COMMAND cannot start.
 *
 * Build: cc -O2 -pthread -o bin/relay relay.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define BUFSZ (64 * 1024)

static int copy_fd(int in, int out) {
    static __thread char buf[BUFSZ];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return 0;
        char *p = buf;
        while (n > 0) {
            ssize_t w = write(out, p, (size_t)n);
            if (w < 0) {
                if (errno == EINTR) continue;
                return -1;
            }
            p += w;
            n -= w;
        }
    }
}

static int child_in = -1;

static void *upstream(void *arg) {
    (void)arg;
    copy_fd(0, child_in);
    close(child_in);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: relay COMMAND [ARGS...]\n");
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        perror("relay: pipe");
        return 1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[1], &fa, NULL, argv + 1, environ);
    if (rc != 0) {
        fprintf(stderr, "relay: cannot start %s: %s\n", argv[1], strerror(rc));
        return 127;
    }
    close(in[0]);
    close(out[1]);
    child_in = in[1];

    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&t, &attr, upstream, NULL) != 0) {
        perror("relay: pthread_create");
        return 1;
    }
    copy_fd(out[0], 1);
    close(out[0]);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
