/*
 * driver.c - the MCP client side of bench/: measures one configuration, prints one JSON line.
 *
 *   driver [options] -- COMMAND [ARGS...]
 *
 * COMMAND is what an MCP client would launch: the echo server itself (direct), or a proxy in
 * front of it (relay, warden). The driver spawns it with pipes on stdin/stdout and measures:
 *
 *   seq      sequential tools/call "echo" round trips (after a warmup): p50, p99, mean, max
 *   pipe     pipelined tools/call "echo" with exactly --inflight requests outstanding: calls/s
 *   arg      tools/call "echo" with a --arg-bytes text argument (echoed back): median round trip
 *   result   tools/call "big" returning a --result-bytes text: median round trip
 *   rss      VmRSS of the spawned process after initialize + warmup (idle), VmHWM after the run
 *            (peak); for a proxy this is the proxy itself, not the server behind it
 *   start    spawn -> initialize result received, median over --spawns fresh processes
 *
 * Options (defaults in brackets):
 *   --label NAME [run]  --seq N [20000]  --warmup N [2000]  --pipe N [200000]  --inflight N [64]
 *   --arg-bytes N [1048576]  --arg-n N [30]  --result-bytes N [10485760]  --result-n N [20]
 *   --spawns N [20]  --timeout SECONDS per phase [120]
 *
 * Timing uses clock_gettime(CLOCK_MONOTONIC). Writes to the child are non-blocking and
 * interleaved with reads through poll() whenever a write is pending, so big or pipelined
 * requests can never deadlock against responses.
 *
 * Build: cc -O2 -o bin/driver driver.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---------- options ---------- */
static const char *opt_label = "run";
static long opt_seq = 20000, opt_warmup = 2000, opt_pipe = 200000, opt_inflight = 64;
static long opt_arg_bytes = 1 << 20, opt_arg_n = 30, opt_result_bytes = 10 << 20, opt_result_n = 20;
static long opt_spawns = 20, opt_timeout = 120;
static char **cmd_argv;

/* ---------- connection state (one child at a time) ---------- */
static pid_t child = -1;
static int wfd = -1, rfd = -1;
static char *rbuf;
static size_t rcap, rlen, rstart, rscan;
static char *obuf;
static size_t ocap, ooff, olen;
static const char *phase = "setup";

/* ---------- bookkeeping ---------- */
static long n_errors, n_server_requests, n_notifications;
static char first_error[512];

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* Fatal: print one JSON line {"config":..., "error":...} so the aggregator can show it. */
static void fail(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (child > 0) kill(child, SIGKILL);
    printf("{\"config\":");
    json_str(stdout, opt_label);
    printf(",\"error\":");
    char full[700];
    snprintf(full, sizeof full, "phase %s: %s", phase, msg);
    json_str(stdout, full);
    printf("}\n");
    fflush(stdout);
    fprintf(stderr, "driver[%s]: %s\n", opt_label, full);
    _exit(3);
}

static void on_alarm(int sig) {
    (void)sig;
    fail("timed out after %ld s", opt_timeout);
}

static void arm(const char *name) {
    phase = name;
    alarm((unsigned)opt_timeout);
}

/* ---------- spawning ---------- */
static void spawn_child(void) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) fail("pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    int rc = posix_spawnp(&child, cmd_argv[0], &fa, NULL, cmd_argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        child = -1;
        fail("cannot start %s: %s", cmd_argv[0], strerror(rc));
    }
    close(in[0]);
    close(out[1]);
    wfd = in[1];
    rfd = out[0];
    fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
    rlen = rstart = rscan = 0;
    ooff = olen = 0;
}

/* Close stdin, drain stdout to EOF, reap. Returns an exit status string. */
static void close_child(char *status_out, size_t status_len) {
    if (wfd >= 0) close(wfd);
    wfd = -1;
    char tmp[65536];
    for (;;) {
        ssize_t n = read(rfd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
    }
    close(rfd);
    rfd = -1;
    int st = 0;
    while (waitpid(child, &st, 0) < 0) {
        if (errno != EINTR) fail("waitpid: %s", strerror(errno));
    }
    child = -1;
    if (WIFSIGNALED(st)) snprintf(status_out, status_len, "signal %d", WTERMSIG(st));
    else snprintf(status_out, status_len, "%d", WEXITSTATUS(st));
}

/* ---------- I/O ---------- */
static void queue(const char *p, size_t n) {
    if (ooff > 0 && ooff == olen) ooff = olen = 0;
    if (olen + n > ocap) {
        if (ooff > 0) {
            memmove(obuf, obuf + ooff, olen - ooff);
            olen -= ooff;
            ooff = 0;
        }
        while (olen + n > ocap) ocap = ocap ? ocap * 2 : 65536;
        obuf = realloc(obuf, ocap);
        if (!obuf) fail("out of memory");
    }
    memcpy(obuf + olen, p, n);
    olen += n;
}

static void flush_out(void) {
    while (ooff < olen) {
        ssize_t n = write(wfd, obuf + ooff, olen - ooff);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            fail("write to child: %s", strerror(errno));
        }
        ooff += (size_t)n;
    }
    ooff = olen = 0;
}

static void read_more(void) {
    if (rcap - rlen < (1 << 20)) {
        if (rstart > 0) {
            memmove(rbuf, rbuf + rstart, rlen - rstart);
            rlen -= rstart;
            rscan -= rstart;
            rstart = 0;
        }
        if (rcap - rlen < (1 << 20)) {
            rcap *= 2;
            rbuf = realloc(rbuf, rcap);
            if (!rbuf) fail("out of memory");
        }
    }
    for (;;) {
        ssize_t n = read(rfd, rbuf + rlen, rcap - rlen);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("read from child: %s", strerror(errno));
        }
        if (n == 0) fail("the command closed its stdout (exited?)");
        rlen += (size_t)n;
        return;
    }
}

/* Wait for input, writing pending output meanwhile. */
static void fill(void) {
    flush_out();
    while (ooff < olen) {
        struct pollfd pf[2] = {{wfd, POLLOUT, 0}, {rfd, POLLIN, 0}};
        int r = poll(pf, 2, -1);
        if (r < 0) {
            if (errno == EINTR) continue;
            fail("poll: %s", strerror(errno));
        }
        if (pf[0].revents) flush_out();
        if (pf[1].revents) {
            read_more();
            return;
        }
    }
    read_more();
}

/* Next complete line (without '\n'); valid until the next call. */
static char *next_line(size_t *len) {
    for (;;) {
        char *nl = memchr(rbuf + rscan, '\n', rlen - rscan);
        if (nl) {
            char *line = rbuf + rstart;
            *len = (size_t)(nl - line);
            rstart = rscan = (size_t)(nl - rbuf) + 1;
            if (rstart == rlen) rstart = rscan = rlen = 0;
            return line;
        }
        rscan = rlen;
        fill();
    }
}

/* ---------- message inspection (the server's output format is known; proxies keep bytes) ---------- */
static const char *find_key(const char *p, size_t len, const char *key) {
    size_t lim = len > 4096 ? 4096 : len, klen = strlen(key);
    for (int pass = 0; pass < 2; pass++) {
        const char *s = p, *e = p + lim;
        while (s < e) {
            const char *hit = memmem(s, (size_t)(e - s), key, klen);
            if (!hit) break;
            const char *q = hit + klen;
            while (q < p + len && (*q == ' ' || *q == '\t')) q++;
            if (q < p + len && *q == ':') {
                q++;
                while (q < p + len && (*q == ' ' || *q == '\t')) q++;
                return q;
            }
            s = hit + 1;
        }
        if (lim == len) break;
        lim = len;
    }
    return NULL;
}

enum kind { K_RESPONSE, K_ERROR, K_OTHER };

/* Classify a line; for responses, *id gets the numeric id (-1 if not a number). */
static enum kind inspect(char *line, size_t len, long *id) {
    const char *m = find_key(line, len > 512 ? 512 : len, "\"method\"");
    const char *iv = find_key(line, len, "\"id\"");
    if (m) {
        /* A request or notification sent to the client (by the proxy, or the server through it). */
        if (iv) {
            n_server_requests++;
            const char *e = iv;
            if (*e == '"') {
                e++;
                while (e < line + len && *e != '"') e += (*e == '\\') ? 2 : 1;
                e++;
            } else {
                while (e < line + len && *e != ',' && *e != '}') e++;
            }
            char hdr[600];
            int n = snprintf(hdr, sizeof hdr, "{\"jsonrpc\":\"2.0\",\"id\":%.*s,\"error\":{\"code\":-32601,"
                             "\"message\":\"Method not found\"}}\n", (int)(e - iv), iv);
            if (n > 0 && (size_t)n < sizeof hdr) queue(hdr, (size_t)n);
        } else {
            n_notifications++;
        }
        return K_OTHER;
    }
    *id = -1;
    if (iv && *iv >= '0' && *iv <= '9') *id = strtol(iv, NULL, 10);
    if (find_key(line, len > 4096 ? 4096 : len, "\"error\"")) {
        if (n_errors++ == 0) {
            size_t n = len < sizeof first_error - 1 ? len : sizeof first_error - 1;
            memcpy(first_error, line, n);
            first_error[n] = 0;
        }
        return K_ERROR;
    }
    return K_RESPONSE;
}

/* Wait for the response to `want`; returns its line. Lines from other ids are ignored. */
static char *await_response(long want, size_t *len) {
    for (;;) {
        long id;
        char *line = next_line(len);
        if (*len == 0) continue;
        enum kind k = inspect(line, *len, &id);
        if (k == K_OTHER) {
            flush_out();
            continue;
        }
        if (id == want) return line;
        if (id == -1 && k == K_ERROR) return line; /* an error with id null: count it, move on */
    }
}

/* ---------- requests ---------- */
static long next_id = 1;

static size_t fmt_call(char *dst, long id) {
    static const char pre[] = "{\"jsonrpc\":\"2.0\",\"id\":";
    static const char post[] =
        ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"hello\"}}}\n";
    char num[24];
    int k = 0;
    long v = id;
    do num[k++] = (char)('0' + v % 10), v /= 10;
    while (v);
    char *p = dst;
    memcpy(p, pre, sizeof pre - 1);
    p += sizeof pre - 1;
    while (k) *p++ = num[--k];
    memcpy(p, post, sizeof post - 1);
    p += sizeof post - 1;
    return (size_t)(p - dst);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const int64_t *v, long n, double p) {
    long idx = (long)(p * (double)n + 0.999999999) - 1;
    if (idx < 0) idx = 0;
    if (idx >= n) idx = n - 1;
    return (double)v[idx];
}

static long read_status_kib(pid_t pid, const char *key) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static void initialize(void) {
    static const char init[] =
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
        "\"capabilities\":{},\"clientInfo\":{\"name\":\"warden-bench\",\"version\":\"1.0\"}}}\n";
    queue(init, sizeof init - 1);
    size_t len;
    await_response(0, &len);
}

static void sequential(long n, int64_t *lat) {
    char req[256];
    for (long i = 0; i < n; i++) {
        long id = next_id++;
        size_t rl = fmt_call(req, id);
        size_t len;
        int64_t t0 = now_ns();
        queue(req, rl);
        await_response(id, &len);
        int64_t t1 = now_ns();
        if (lat) lat[i] = t1 - t0;
    }
}

/* Exactly `inflight` requests outstanding until `total` are answered; returns elapsed ns. */
static int64_t pipelined(long total, long inflight) {
    char req[256];
    long base = next_id, sent = 0, received = 0;
    int64_t t0 = now_ns();
    while (sent < total && sent < inflight) {
        queue(req, fmt_call(req, next_id++));
        sent++;
    }
    while (received < total) {
        size_t len;
        long id;
        char *line = next_line(&len);
        if (len == 0) continue;
        enum kind k = inspect(line, len, &id);
        if (k == K_OTHER) continue;
        if (id < base || id >= base + sent) {
            if (!(id == -1 && k == K_ERROR)) continue;
        }
        received++;
        if (sent < total) {
            queue(req, fmt_call(req, next_id++));
            sent++;
        }
    }
    return now_ns() - t0;
}

static double median_ms(int64_t *v, long n) {
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    if (n == 0) return -1;
    double m = n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
    return m / 1e6;
}

static int64_t big_arg_call(const char *text, size_t textlen) {
    long id = next_id++;
    char pre[128];
    int pl = snprintf(pre, sizeof pre,
                      "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
                      "\"arguments\":{\"text\":\"", id);
    static const char post[] = "\"}}}\n";
    /* The copy into the output buffer happens before the clock starts. */
    queue(pre, (size_t)pl);
    queue(text, textlen);
    queue(post, sizeof post - 1);
    size_t len;
    int64_t t0 = now_ns();
    flush_out();
    await_response(id, &len);
    int64_t t1 = now_ns();
    if (len < textlen) {
        if (n_errors++ == 0) snprintf(first_error, sizeof first_error, "echo response too short: %zu bytes", len);
    }
    return t1 - t0;
}

static int64_t big_result_call(void) {
    long id = next_id++;
    char req[256];
    int rl = snprintf(req, sizeof req,
                      "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"tools/call\",\"params\":{\"name\":\"big\","
                      "\"arguments\":{\"size\":%ld}}}\n", id, opt_result_bytes);
    size_t len;
    int64_t t0 = now_ns();
    queue(req, (size_t)rl);
    await_response(id, &len);
    int64_t t1 = now_ns();
    if (len < (size_t)opt_result_bytes) {
        if (n_errors++ == 0) snprintf(first_error, sizeof first_error, "big response too short: %zu", len);
    }
    return t1 - t0;
}

static long parse_long(const char *s, const char *name) {
    char *e;
    long v = strtol(s, &e, 10);
    if (*s == 0 || *e != 0 || v < 0) {
        fprintf(stderr, "driver: bad value for %s: %s\n", name, s);
        exit(64);
    }
    return v;
}

int main(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (i + 1 >= argc) {
            fprintf(stderr, "driver: %s needs a value\n", argv[i]);
            return 64;
        }
        const char *k = argv[i], *v = argv[++i];
        if (!strcmp(k, "--label")) opt_label = v;
        else if (!strcmp(k, "--seq")) opt_seq = parse_long(v, k);
        else if (!strcmp(k, "--warmup")) opt_warmup = parse_long(v, k);
        else if (!strcmp(k, "--pipe")) opt_pipe = parse_long(v, k);
        else if (!strcmp(k, "--inflight")) opt_inflight = parse_long(v, k);
        else if (!strcmp(k, "--arg-bytes")) opt_arg_bytes = parse_long(v, k);
        else if (!strcmp(k, "--arg-n")) opt_arg_n = parse_long(v, k);
        else if (!strcmp(k, "--result-bytes")) opt_result_bytes = parse_long(v, k);
        else if (!strcmp(k, "--result-n")) opt_result_n = parse_long(v, k);
        else if (!strcmp(k, "--spawns")) opt_spawns = parse_long(v, k);
        else if (!strcmp(k, "--timeout")) opt_timeout = parse_long(v, k);
        else {
            fprintf(stderr, "driver: unknown option %s\n", k);
            return 64;
        }
    }
    if (i >= argc - 1) {
        fprintf(stderr, "usage: driver [options] -- COMMAND [ARGS...]\n");
        return 64;
    }
    if (opt_inflight < 1) opt_inflight = 1;
    cmd_argv = argv + i + 1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);

    /* Buffers big enough for the largest response, pre-faulted so page faults stay out of timings. */
    rcap = (size_t)opt_result_bytes + (size_t)opt_arg_bytes + (4u << 20);
    rbuf = malloc(rcap);
    ocap = (size_t)opt_arg_bytes + (1u << 20);
    obuf = malloc(ocap);
    if (!rbuf || !obuf) fail("out of memory");
    memset(rbuf, 0, rcap);
    memset(obuf, 0, ocap);

    /* ---- main session ---- */
    arm("initialize");
    spawn_child();
    initialize();
    static const char initialized[] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
    queue(initialized, sizeof initialized - 1);
    char list[96];
    long list_id = next_id++;
    int ll = snprintf(list, sizeof list, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"tools/list\"}\n", list_id);
    queue(list, (size_t)ll);
    size_t len;
    await_response(list_id, &len);

    arm("warmup");
    sequential(opt_warmup, NULL);
    long rss_idle = read_status_kib(child, "VmRSS");

    arm("sequential");
    int64_t *lat = malloc(sizeof(int64_t) * (size_t)(opt_seq > 0 ? opt_seq : 1));
    if (!lat) fail("out of memory");
    sequential(opt_seq, lat);
    qsort(lat, (size_t)opt_seq, sizeof *lat, cmp_i64);
    double seq_sum = 0;
    for (long k = 0; k < opt_seq; k++) seq_sum += (double)lat[k];

    arm("pipelined");
    pipelined(opt_inflight * 20, opt_inflight); /* warmup */
    int64_t pipe_ns = pipelined(opt_pipe, opt_inflight);

    arm("big-argument");
    char *text = malloc((size_t)opt_arg_bytes + 1);
    int64_t *arg_t = malloc(sizeof(int64_t) * (size_t)(opt_arg_n + 1));
    if (!text || !arg_t) fail("out of memory");
    memset(text, 'x', (size_t)opt_arg_bytes);
    if (opt_arg_n > 0) big_arg_call(text, (size_t)opt_arg_bytes); /* warmup */
    for (long k = 0; k < opt_arg_n; k++) arg_t[k] = big_arg_call(text, (size_t)opt_arg_bytes);
    double arg_med = median_ms(arg_t, opt_arg_n);
    free(text);

    arm("big-result");
    int64_t *res_t = malloc(sizeof(int64_t) * (size_t)(opt_result_n + 1));
    if (opt_result_n > 0) big_result_call(); /* warmup */
    for (long k = 0; k < opt_result_n; k++) res_t[k] = big_result_call();
    double res_med = median_ms(res_t, opt_result_n);

    long rss_peak = read_status_kib(child, "VmHWM");
    long rss_end = read_status_kib(child, "VmRSS");

    arm("shutdown");
    char exit_status[32];
    int64_t ts = now_ns();
    close_child(exit_status, sizeof exit_status);
    double shutdown_ms = (double)(now_ns() - ts) / 1e6;

    /* ---- time to first initialize response, fresh processes ---- */
    arm("startup");
    int64_t *st = malloc(sizeof(int64_t) * (size_t)(opt_spawns + 1));
    for (long k = -1; k < opt_spawns; k++) { /* k = -1: unmeasured warmup spawn */
        char tmp[32];
        int64_t t0 = now_ns();
        spawn_child();
        initialize();
        int64_t t1 = now_ns();
        close_child(tmp, sizeof tmp);
        if (k >= 0) st[k] = t1 - t0;
    }
    double start_med = median_ms(st, opt_spawns);
    alarm(0);

    double elapsed_pipe = (double)pipe_ns / 1e9;
    printf("{\"config\":");
    json_str(stdout, opt_label);
    printf(",\"seq_n\":%ld,\"seq_p50_us\":%.3f,\"seq_p99_us\":%.3f,\"seq_mean_us\":%.3f,\"seq_max_us\":%.3f",
           opt_seq, opt_seq ? pct(lat, opt_seq, 0.50) / 1e3 : -1, opt_seq ? pct(lat, opt_seq, 0.99) / 1e3 : -1,
           opt_seq ? seq_sum / (double)opt_seq / 1e3 : -1, opt_seq ? (double)lat[opt_seq - 1] / 1e3 : -1);
    printf(",\"pipe_n\":%ld,\"pipe_inflight\":%ld,\"pipe_calls_per_s\":%.1f", opt_pipe, opt_inflight,
           elapsed_pipe > 0 ? (double)opt_pipe / elapsed_pipe : -1);
    printf(",\"arg_bytes\":%ld,\"arg_n\":%ld,\"arg_median_ms\":%.4f", opt_arg_bytes, opt_arg_n, arg_med);
    printf(",\"result_bytes\":%ld,\"result_n\":%ld,\"result_median_ms\":%.4f", opt_result_bytes, opt_result_n,
           res_med);
    printf(",\"rss_idle_kib\":%ld,\"rss_peak_kib\":%ld,\"rss_end_kib\":%ld", rss_idle, rss_peak, rss_end);
    printf(",\"start_n\":%ld,\"start_median_ms\":%.3f", opt_spawns, start_med);
    printf(",\"shutdown_ms\":%.3f,\"exit_status\":", shutdown_ms);
    json_str(stdout, exit_status);
    printf(",\"errors\":%ld,\"server_requests\":%ld,\"notifications\":%ld", n_errors, n_server_requests,
           n_notifications);
    if (n_errors) {
        printf(",\"first_error\":");
        json_str(stdout, first_error);
    }
    printf("}\n");
    return 0;
}
