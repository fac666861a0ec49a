/* String views, capped buffers, arenas, clocks: the small helpers every module
 * shares. */
#include "radlink/err.h"
#include "radlink/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

rl_str rl_str_c(const char *cstr)
{
    return cstr ? (rl_str){ cstr, strlen(cstr) } : (rl_str){ "", 0 };
}

bool rl_str_eq(rl_str a, rl_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool rl_str_eq_c(rl_str a, const char *cstr)
{
    return rl_str_eq(a, rl_str_c(cstr));
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool rl_str_ieq_c(rl_str a, const char *cstr)
{
    size_t n = strlen(cstr);
    if (n != a.n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a.p[i]) != lower(cstr[i]))
            return false;
    return true;
}

rl_str rl_str_trim(rl_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

bool rl_str_to_u64(rl_str s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s.n == 0 || s.n > 20)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        unsigned d = (unsigned char)s.p[i] - '0';
        if (d > 9)
            return false;
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool rl_duration_parse(rl_str s, uint64_t max_s, uint64_t *out_s)
{
    uint64_t total = 0;
    size_t i = 0;
    if (!s.n)
        return false;
    while (i < s.n) {
        size_t start = i;
        while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
            i++;
        uint64_t v;
        if (i == start || !rl_str_to_u64((rl_str){ s.p + start, i - start }, max_s, &v))
            return false;
        uint64_t unit = 1;
        if (i < s.n) {
            switch (s.p[i++]) {
            case 's': unit = 1; break;
            case 'm': unit = 60; break;
            case 'h': unit = 3600; break;
            case 'd': unit = 86400; break;
            default: return false;
            }
        } else if (start > 0) {
            return false; /* "1h30": a bare number only alone */
        }
        if (v > max_s / unit || total + v * unit > max_s)
            return false;
        total += v * unit;
    }
    *out_s = total;
    return true;
}

int rl_err_set(rl_err *err, int code, long pos, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->pos = pos;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void rl_err_clear(rl_err *err)
{
    if (err) {
        err->code = 0;
        err->pos = -1;
        err->msg[0] = '\0';
    }
}

/* ---- rl_buf ---- */

void rl_buf_init(rl_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->limit = limit ? limit : SIZE_MAX - 1;
}

void rl_buf_free(rl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void rl_buf_reset(rl_buf *b)
{
    b->len = 0;
}

int rl_buf_reserve(rl_buf *b, size_t extra)
{
    if (extra > b->limit - b->len)
        return -1;
    size_t need = b->len + extra + 1; /* room for a terminating NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int rl_buf_add(rl_buf *b, const void *p, size_t n)
{
    if (rl_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int rl_buf_add_str(rl_buf *b, rl_str s)
{
    return rl_buf_add(b, s.p, s.n);
}

int rl_buf_add_c(rl_buf *b, const char *cstr)
{
    return rl_buf_add(b, cstr, strlen(cstr));
}

int rl_buf_add_ch(rl_buf *b, char c)
{
    return rl_buf_add(b, &c, 1);
}

int rl_buf_vprintf(rl_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || rl_buf_reserve(b, (size_t)n) != 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int rl_buf_printf(rl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = rl_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

const char *rl_buf_cstr(rl_buf *b)
{
    if (rl_buf_reserve(b, 0) != 0)
        return NULL;
    b->data[b->len] = '\0';
    return b->data;
}

void rl_buf_consume(rl_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

/* ---- rl_arena ---- */

struct rl_arena_chunk {
    rl_arena_chunk *next;
    size_t size;
    max_align_t data[];
};

void rl_arena_init(rl_arena *a, size_t chunk_size, size_t limit)
{
    a->head = NULL;
    a->used = 0;
    a->chunk_size = chunk_size ? chunk_size : 16384;
    a->total = 0;
    a->limit = limit;
}

void rl_arena_reset(rl_arena *a)
{
    /* Keep the oldest chunk (the tail) and free the rest. */
    rl_arena_chunk *c = a->head;
    while (c && c->next) {
        rl_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = c;
    a->used = 0;
    a->total = 0;
}

void rl_arena_free(rl_arena *a)
{
    rl_arena_chunk *c = a->head;
    while (c) {
        rl_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}

void *rl_arena_alloc(rl_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    size_t need = (n + align - 1) & ~(align - 1);
    if (need < n)
        return NULL;
    if (a->limit && (need > a->limit || a->total > a->limit - need))
        return NULL;
    if (!a->head || a->head->size - a->used < need) {
        size_t size = need > a->chunk_size ? need : a->chunk_size;
        rl_arena_chunk *c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->size = size;
        c->next = a->head;
        a->head = c;
        a->used = 0;
    }
    void *p = (char *)a->head->data + a->used;
    a->used += need;
    a->total += need;
    return p;
}

char *rl_arena_dup(rl_arena *a, const char *p, size_t n)
{
    char *d = rl_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

size_t rl_utf8_chars(rl_str v)
{
    size_t n = 0;
    for (size_t i = 0; i < v.n; i++)
        n += ((unsigned char)v.p[i] & 0xC0) != 0x80;
    return n;
}

rl_str rl_utf8_cut(rl_str v, size_t k)
{
    size_t n = 0, i = 0;
    for (; i < v.n; i++) {
        if (((unsigned char)v.p[i] & 0xC0) != 0x80 && n++ == k)
            break;
    }
    return (rl_str){ v.p, i };
}

rl_str rl_utf8_cut_bytes(rl_str v, size_t max)
{
    if (v.n <= max)
        return v;
    size_t i = max;
    /* back off over continuation bytes to the lead byte of the cut character */
    while (i > 0 && ((unsigned char)v.p[i] & 0xC0) == 0x80)
        i--;
    return (rl_str){ v.p, i };
}

/* ---- clocks ---- */

int64_t rl_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rl_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void rl_time_iso(int64_t us, char *out, size_t outn)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, outn, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
}

void rl_time_hl7(int64_t us, char *out, size_t outn)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&s, &tm);
    snprintf(out, outn, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int rl_sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return RL_E_SYS;
    int rc = (flags & O_DIRECTORY) ? fsync(fd) : fdatasync(fd);
    close(fd);
    return rc == 0 ? 0 : RL_E_SYS;
}

int rl_read_file(const char *path, rl_buf *b, rl_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    char chunk[RL_IO_CHUNK];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (rl_buf_add(b, chunk, n) != 0) {
            rc = rl_err_set(err, RL_E_LIMIT, -1, "%s: larger than %zu bytes", path, b->limit);
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = rl_err_set(err, RL_E_SYS, -1, "%s: read error: %s", path, strerror(errno));
    if (f != stdin)
        fclose(f);
    return rc;
}

int rl_write_file(const char *path, rl_str data, rl_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
    size_t off = 0;
    while (off < data.n) {
        ssize_t w = write(fd, data.p + off, data.n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (fdatasync(fd) != 0) {
        int e = errno;
        close(fd);
        return rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(e));
    }
    return close(fd) == 0 ? 0 : rl_err_set(err, RL_E_SYS, -1, "%s: %s", path, strerror(errno));
}

char *rl_abspath(const char *path, char *out, size_t n)
{
    char cwd[4096], joined[8192];
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
        return NULL;
    int w = snprintf(joined, sizeof joined, "%s/%s", path[0] == '/' ? "" : cwd, path);
    if (w < 0 || (size_t)w >= sizeof joined || n < 2)
        return NULL;
    size_t len = 0; /* out holds "/a/b" so far (len bytes, no trailing slash) */
    for (char *save = NULL, *part = strtok_r(joined, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        if (!strcmp(part, "."))
            continue;
        if (!strcmp(part, "..")) {
            while (len > 0 && out[--len] != '/') {
            }
            continue;
        }
        size_t pn = strlen(part);
        if (len + 1 + pn + 1 > n)
            return NULL;
        out[len++] = '/';
        memcpy(out + len, part, pn);
        len += pn;
    }
    if (!len)
        out[len++] = '/';
    out[len] = '\0';
    return out;
}

char *rl_realpath(const char *path, char *out, size_t n)
{
    char *full = realpath(path, NULL);
    if (!full)
        return NULL;
    size_t len = strlen(full);
    if (len >= n) {
        free(full);
        errno = ENAMETOOLONG;
        return NULL;
    }
    memcpy(out, full, len + 1);
    free(full);
    return out;
}
