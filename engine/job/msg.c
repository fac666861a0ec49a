/* The job message (radlink/job_msg.h): encoded by the engine for each attempt,
 * decoded by the worker, bounds-checked on both sides. */
#include <string.h>

#include "radlink/job.h" /* the PACS policies a message carries */
#include "radlink/job_msg.h"
#include "radlink/rec.h"

#define JOB_MSG_VERSION 5 /* 3: a PACS carries its TLS files; 4: route programs;
                            * 5: associations per PACS */

int job_msg_encode(const job_msg *m, rl_buf *out, rl_err *err)
{
    if (m->n_sets > RL_JOB_SETS_MAX || m->n_pacs > RL_MAX_PACS || m->n_progs > RL_JOB_PROGS_MAX)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job %llu: %zu attributes, %zu PACS",
                          (unsigned long long)m->id, m->n_sets, m->n_pacs);
    int rc = rec_put_u8(out, JOB_MSG_VERSION) | rec_put_u64(out, m->id) |
             rec_put_u32(out, m->attempt) | rec_put_str(out, m->kind) |
             rec_put_str(out, m->subject) | rec_put_str(out, m->work_dir) |
             rec_put_u32(out, (uint32_t)m->n_sets);
    for (size_t i = 0; i < m->n_sets; i++)
        rc |= rec_put_u32(out, m->sets[i].tag) | rec_put_str(out, m->sets[i].keyword) |
              rec_put_str(out, m->sets[i].value);
    rc |= rec_put_u32(out, (uint32_t)m->n_pacs);
    for (size_t i = 0; i < m->n_pacs; i++)
        rc |= rec_put_str(out, m->pacs[i].ae_title) | rec_put_str(out, m->pacs[i].host) |
              rec_put_u32(out, m->pacs[i].port) | rec_put_u8(out, (uint8_t)m->pacs[i].update) |
              rec_put_u8(out, (uint8_t)m->pacs[i].verify) |
              rec_put_u8(out, (uint8_t)m->pacs[i].reject) |
              rec_put_u32(out, m->pacs[i].commit_timeout_s) |
              rec_put_u8(out, m->pacs[i].tls ? 1 : 0) | rec_put_str(out, m->pacs[i].tls_ca) |
              rec_put_str(out, m->pacs[i].tls_cert) | rec_put_str(out, m->pacs[i].tls_key) |
              rec_put_u32(out, m->pacs[i].associations);
    rc |= rec_put_u32(out, (uint32_t)m->n_files);
    for (size_t i = 0; i < m->n_files && rc == 0; i++)
        rc |= rec_put_str(out, m->files[i].sop) | rec_put_str(out, m->files[i].path) |
              rec_put_u32(out, m->files[i].prog);
    rc |= rec_put_u32(out, (uint32_t)m->n_progs);
    for (size_t i = 0; i < m->n_progs && rc == 0; i++)
        rc |= rec_put_str(out, m->progs[i]);
    rc |= rec_put_str(out, m->secret);
    if (rc)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job %llu: the message passes %u bytes "
                          "(%zu instances): the study is too large for one job",
                          (unsigned long long)m->id, (unsigned)RL_JOB_MSG_MAX, m->n_files);
    return 0;
}

int job_msg_decode(rl_str bytes, job_msg *m, rl_arena *arena, rl_err *err)
{
    memset(m, 0, sizeof *m);
    if (bytes.n > RL_JOB_MSG_MAX)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message of %zu bytes", bytes.n);
    rec_reader r;
    rec_reader_init(&r, bytes.p, bytes.n);
    if (rec_get_u8(&r) != JOB_MSG_VERSION)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message of an unknown version");
    m->id = rec_get_u64(&r);
    m->attempt = rec_get_u32(&r);
    m->kind = rec_get_str(&r);
    m->subject = rec_get_str(&r);
    m->work_dir = rec_get_str(&r);
    uint32_t n = rec_get_u32(&r);
    if (n > RL_JOB_SETS_MAX)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message with %u attributes", n);
    for (m->n_sets = 0; m->n_sets < n; m->n_sets++) {
        job_set *s = &m->sets[m->n_sets];
        s->tag = rec_get_u32(&r);
        s->keyword = rec_get_str(&r);
        s->value = rec_get_str(&r);
    }
    n = rec_get_u32(&r);
    if (n > RL_MAX_PACS)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message with %u PACS", n);
    for (m->n_pacs = 0; m->n_pacs < n; m->n_pacs++) {
        job_peer *p = &m->pacs[m->n_pacs];
        p->ae_title = rec_get_str(&r);
        p->host = rec_get_str(&r);
        p->port = rec_get_u32(&r);
        p->update = rec_get_u8(&r);
        p->verify = rec_get_u8(&r);
        p->reject = rec_get_u8(&r);
        p->commit_timeout_s = rec_get_u32(&r);
        p->tls = rec_get_u8(&r) != 0;
        p->tls_ca = rec_get_str(&r);
        p->tls_cert = rec_get_str(&r);
        p->tls_key = rec_get_str(&r);
        p->associations = rec_get_u32(&r);
        if (p->update > PACS_UPDATE_IOCM || p->verify > PACS_VERIFY_COMMIT_FIND ||
            p->reject > PACS_REJECT_SAFETY)
            return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message with an unknown PACS policy");
    }
    n = rec_get_u32(&r);
    /* every file takes at least 12 bytes: a count past that is a lie */
    if (!rec_ok(&r) || (size_t)n > bytes.n / 12)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message truncated");
    m->files = n ? rl_arena_alloc(arena, n * sizeof *m->files) : NULL;
    if (n && !m->files)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message: %u files do not fit in memory", n);
    for (m->n_files = 0; m->n_files < n; m->n_files++) {
        m->files[m->n_files].sop = rec_get_str(&r);
        m->files[m->n_files].path = rec_get_str(&r);
        m->files[m->n_files].prog = rec_get_u32(&r);
    }
    n = rec_get_u32(&r);
    if (n > RL_JOB_PROGS_MAX)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message with %u programs", n);
    for (m->n_progs = 0; m->n_progs < n; m->n_progs++)
        m->progs[m->n_progs] = rec_get_str(&r);
    m->secret = rec_get_str(&r);
    for (size_t i = 0; rec_ok(&r) && i < m->n_files; i++)
        if (m->files[i].prog > m->n_progs)
            return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message: a file names program %u of %zu",
                              m->files[i].prog, m->n_progs);
    if (!rec_ok(&r) || r.p != r.end)
        return rl_err_set(err, JOB_E_PAYLOAD, -1, "job message truncated or with trailing bytes");
    return 0;
}
