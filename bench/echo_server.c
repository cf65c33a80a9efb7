/*
 * echo_server.c - a minimal, fast MCP server over stdio, for bench/.
 *
 * Newline-delimited JSON-RPC on stdin/stdout. No JSON library: the driver controls
 * the input, so a cheap key scan is enough. Answers:
 *   initialize               -> protocolVersion 2025-11-25, tools capability
 *   ping                     -> {}
 *   tools/list               -> tools "echo" and "big"
 *   tools/call echo {text}   -> {"content":[{"type":"text","text":<text, raw bytes>}],"isError":false}
 *   tools/call big {size:N}  -> same shape, text is N bytes of 'a'
 *   other requests           -> error -32601
 * Notifications and responses are ignored. The id is echoed as its raw bytes.
 *
 * Reads in big chunks (no stdio), frames lines with memchr without rescanning, handles
 * lines of any length (the buffer grows), and writes each response with one writev.
 *
 * Build: cc -O2 -o bin/echo_server echo_server.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static void die(const char *what) {
    fprintf(stderr, "echo_server: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void write_all_v(struct iovec *iov, int cnt) {
    while (cnt > 0) {
        ssize_t n = writev(1, iov, cnt);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE) exit(0);
            die("write");
        }
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
}

static void write_str(const char *a, size_t alen, const char *b, size_t blen, const char *c, size_t clen,
                      const char *d, size_t dlen) {
    struct iovec iov[4] = {{(void *)a, alen}, {(void *)b, blen}, {(void *)c, clen}, {(void *)d, dlen}};
    write_all_v(iov, 4);
}

/* Find key `"name"` followed by optional whitespace and ':' within [p, p+len); returns the value start. */
static const char *find_key_in(const char *p, const char *lim, const char *end, const char *key) {
    size_t klen = strlen(key);
    const char *s = p;
    while (s < lim) {
        const char *hit = memmem(s, (size_t)(lim - s), key, klen);
        if (!hit) return NULL;
        const char *q = hit + klen;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
        if (q < end && *q == ':') {
            q++;
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
            return q;
        }
        s = hit + 1;
    }
    return NULL;
}

/* The envelope comes first in the driver's messages: look in the first 4 KiB, then everywhere. */
static const char *find_key(const char *p, size_t len, const char *key) {
    const char *end = p + len;
    if (len <= 4096) return find_key_in(p, end, end, key);
    const char *v = find_key_in(p, p + 4096, end, key);
    return v ? v : find_key_in(p, end, end, key);
}

/* Given p at an opening quote, return pointer to the closing quote (skipping escapes). */
static const char *string_end(const char *p, const char *end) {
    if (p >= end || *p != '"') return NULL;
    p++;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q) return NULL;
        /* count preceding backslashes */
        const char *b = q;
        while (b > p && b[-1] == '\\') b--;
        if (((q - b) & 1) == 0) return q;
        p = q + 1;
    }
    return NULL;
}

/* Raw JSON value token for an id: string (with quotes) or number/null. */
static int id_token(const char *v, const char *end, const char **tok, size_t *toklen) {
    if (v >= end) return 0;
    if (*v == '"') {
        const char *e = string_end(v, end);
        if (!e) return 0;
        *tok = v;
        *toklen = (size_t)(e + 1 - v);
        return 1;
    }
    const char *e = v;
    while (e < end && *e != ',' && *e != '}' && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n') e++;
    if (e == v) return 0;
    *tok = v;
    *toklen = (size_t)(e - v);
    return 1;
}

static int str_is(const char *v, const char *end, const char *lit) {
    size_t n = strlen(lit);
    return (size_t)(end - v) >= n + 2 && v[0] == '"' && memcmp(v + 1, lit, n) == 0 && v[n + 1] == '"';
}

static char *big_text;
static size_t big_cap;

#define HDR "{\"jsonrpc\":\"2.0\",\"id\":"
#define TEXT_HDR ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\""
#define TEXT_TRL "\"}],\"isError\":false}}\n"

static void reply_text(const char *id, size_t idlen, const char *text, size_t textlen) {
    struct iovec iov[5] = {
        {HDR, sizeof(HDR) - 1},
        {(void *)id, idlen},
        {TEXT_HDR, sizeof(TEXT_HDR) - 1},
        {(void *)text, textlen},
        {TEXT_TRL, sizeof(TEXT_TRL) - 1},
    };
    write_all_v(iov, 5);
}

static void reply_raw(const char *id, size_t idlen, const char *rest) {
    write_str(HDR, sizeof(HDR) - 1, id, idlen, rest, strlen(rest), "", 0);
}

static const char INIT_RESULT[] =
    ",\"result\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{\"listChanged\":false}},"
    "\"serverInfo\":{\"name\":\"bench-echo\",\"version\":\"1.0.0\"}}}\n";

static const char LIST_RESULT[] =
    ",\"result\":{\"tools\":["
    "{\"name\":\"echo\",\"description\":\"Returns its text argument.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]},"
    "\"annotations\":{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}},"
    "{\"name\":\"big\",\"description\":\"Returns a text of size bytes.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"size\":{\"type\":\"integer\"}},\"required\":[\"size\"]},"
    "\"annotations\":{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}}"
    "]}}\n";

static void handle_line(const char *line, size_t len) {
    const char *end = line + len;
    if (len && end[-1] == '\r') end--, len--;
    if (len == 0) return;
    const char *idv = find_key(line, len, "\"id\"");
    const char *mv = find_key(line, len, "\"method\"");
    if (!mv) return;  /* a response from the client: nothing to do */
    if (!idv) return; /* a notification */
    const char *id;
    size_t idlen;
    if (!id_token(idv, end, &id, &idlen)) return;

    if (str_is(mv, end, "tools/call")) {
        const char *params = find_key(line, len, "\"params\"");
        if (!params) goto invalid;
        const char *nv = find_key(params, (size_t)(end - params), "\"name\"");
        const char *args = find_key(params, (size_t)(end - params), "\"arguments\"");
        if (!nv || !args) goto invalid;
        if (str_is(nv, end, "echo")) {
            const char *tv = find_key(args, (size_t)(end - args), "\"text\"");
            const char *te = tv ? string_end(tv, end) : NULL;
            if (!te) goto invalid;
            reply_text(id, idlen, tv + 1, (size_t)(te - tv - 1));
            return;
        }
        if (str_is(nv, end, "big")) {
            const char *sv = find_key(args, (size_t)(end - args), "\"size\"");
            if (!sv) goto invalid;
            unsigned long long n = strtoull(sv, NULL, 10);
            if (n > (1ull << 32)) goto invalid;
            if (n > big_cap) {
                free(big_text);
                big_text = malloc(n);
                if (!big_text) die("malloc");
                memset(big_text, 'a', n);
                big_cap = n;
            }
            reply_text(id, idlen, big_text, (size_t)n);
            return;
        }
        reply_raw(id, idlen,
                  ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"unknown tool\"}],\"isError\":true}}\n");
        return;
    invalid:
        reply_raw(id, idlen, ",\"error\":{\"code\":-32602,\"message\":\"Invalid params\"}}\n");
        return;
    }
    if (str_is(mv, end, "initialize")) {
        reply_raw(id, idlen, INIT_RESULT);
    } else if (str_is(mv, end, "tools/list")) {
        reply_raw(id, idlen, LIST_RESULT);
    } else if (str_is(mv, end, "ping")) {
        reply_raw(id, idlen, ",\"result\":{}}\n");
    } else {
        reply_raw(id, idlen, ",\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}\n");
    }
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    size_t cap = 256 * 1024, len = 0, start = 0, scan = 0;
    char *buf = malloc(cap);
    if (!buf) die("malloc");
    for (;;) {
        if (cap - len < 64 * 1024) {
            if (start > 0) {
                memmove(buf, buf + start, len - start);
                len -= start;
                scan -= start;
                start = 0;
            }
            if (cap - len < 64 * 1024) {
                cap *= 2;
                buf = realloc(buf, cap);
                if (!buf) die("realloc");
            }
        }
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        if (n == 0) break;
        len += (size_t)n;
        for (;;) {
            char *nl = memchr(buf + scan, '\n', len - scan);
            if (!nl) {
                scan = len;
                break;
            }
            handle_line(buf + start, (size_t)(nl - (buf + start)));
            start = scan = (size_t)(nl - buf) + 1;
        }
        if (start == len) start = scan = len = 0;
    }
    return 0;
}
