/* HL7 v2 codec: parse without copying, address values by path, decode escapes
 * and character sets to UTF-8, edit and serialize, build ACKs, split batches.
 *
 * Ownership: hl7_parse borrows the input bytes; they must stay valid and
 * unchanged while the hl7_msg is used. Every rl_str handed out points either
 * into that input or into the message's arena, and is valid until the next
 * hl7_parse, hl7_msg_free, or edit of the same segment. An hl7_msg is not
 * thread-safe; use one per thread. Numbering follows HL7 v2.5 section 2.5:
 * fields, repetitions, components and subcomponents count from 1, and in MSH
 * the field separator itself is MSH-1 and the encoding characters are MSH-2. */
#ifndef RADLINK_HL7_H
#define RADLINK_HL7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/err.h"
#include "radlink/util.h"

enum hl7_status {
    HL7_OK = 0,
};

/* What a path found: distinguishes a field that is not there at all from one
 * sent empty and from the HL7 null "" (which means "delete this value"). */
typedef enum hl7_kind {
    HL7_ABSENT = 0,
    HL7_EMPTY = 1,
    HL7_NULL = 2,
    HL7_VALUE = 3,
} hl7_kind;

/* The delimiters declared in MSH-1 and MSH-2. trunc is '\0' unless MSH-2 has the
 * fifth (v2.7 truncation) character. */
typedef struct hl7_seps {
    char field, comp, rep, esc, sub, trunc;
} hl7_seps;

extern const hl7_seps hl7_default_seps; /* |^~\& */

/* Character set of a message, from MSH-18 (HL7 table 0211). */
typedef enum hl7_cs_kind {
    HL7_CS_DEFAULT = 0, /* MSH-18 empty: UTF-8 when valid, else ISO 8859-1 */
    HL7_CS_ASCII,       /* declared ASCII: treated like DEFAULT for stray 8-bit bytes */
    HL7_CS_UTF8,
    HL7_CS_ICONV,       /* a single-byte or multi-byte set converted with iconv */
} hl7_cs_kind;

typedef struct hl7_limits {
    size_t max_bytes;    /* 0 = RL_MAX_FRAME_DEFAULT */
    size_t max_segments; /* 0 = RL_MAX_SEGMENTS */
} hl7_limits;

typedef struct hl7_msg {
    const char *buf; /* borrowed input */
    size_t len;
    hl7_seps seps;
    rl_str *segs; /* segment texts without terminators; owned */
    size_t nsegs, segcap;
    hl7_cs_kind cs_kind;
    const char *cs_iconv; /* iconv name when cs_kind == HL7_CS_ICONV */
    hl7_limits limits;
    rl_arena arena;       /* decoded values and edited segments */
    rl_buf scratch;       /* working space for decoding and edits */
    void *iconv_from;     /* cached iconv_t, message charset -> UTF-8 */
    void *iconv_to;       /* cached iconv_t, UTF-8 -> message charset */
    const char *iconv_name; /* charset the cached descriptors were opened for */
    unsigned quirks;      /* HL7_QUIRK_*: irregularities the parse tolerated */
} hl7_msg;

/* What hl7_parse reads although it is not quite HL7, so that the receiver
 * can record and count it. */
#define HL7_QUIRK_MSH2_ESCAPE 1u /* MSH-2 written ^~\\& (the escape character doubled) */
#define HL7_QUIRK_UNICODE 2u     /* MSH-18 UNICODE (no encoding named): read as UTF-8 */

void hl7_msg_init(hl7_msg *m, const hl7_limits *limits /* NULL = defaults */);
void hl7_msg_free(hl7_msg *m);

/* Parse one message. On error err->pos is the byte offset of the fault. When
 * the MSH segment itself was readable, m->nsegs >= 1 and m->seps are set even on
 * error, so an AR can still echo MSH-10. */
int hl7_parse(hl7_msg *m, const char *buf, size_t len, rl_err *err);

/* A real sender's habit: a line break typed into a field (a CR in a name
 * from a free-text box) starts a line that is not a segment. Each such line
 * (text that is neither a segment name and the field separator nor a
 * truncated segment of one to three capitals) is joined to the line before it with a line-break escape (\X0D\, in the
 * message's escape character), into out; the number joined (0: out is
 * empty and raw is as it should be). Only the text before the first byte
 * of MSH's separators is assumed; raw is not parsed. */
size_t hl7_join_stray_lines(rl_str raw, rl_buf *out);

/* Segment helpers. The name is the first three bytes of a segment's text. */
static inline bool hl7_seg_is(rl_str seg, const char *name)
{
    return seg.n >= 3 && seg.p[0] == name[0] && seg.p[1] == name[1] && seg.p[2] == name[2];
}
/* The occurrence-th (1-based) segment called name, or NULL. */
const rl_str *hl7_seg_find(const hl7_msg *m, const char *name, unsigned occurrence);
/* Highest field number present in a segment (MSH counts MSH-1 and MSH-2). */
unsigned hl7_field_count(const hl7_msg *m, rl_str seg);
/* Raw (still escaped) text of field n of a segment. */
hl7_kind hl7_field(const hl7_msg *m, rl_str seg, unsigned n, rl_str *raw);

/* Kind of a value that is present: empty, the HL7 null "", or a value. */
hl7_kind hl7_classify(rl_str v);
/* The n-th (1-based) piece of s split at sep, and how many pieces s has. */
hl7_kind hl7_piece(rl_str s, char sep, unsigned n, rl_str *out);
unsigned hl7_piece_count(rl_str s, char sep);

/* A value's address: SEG[occurrence]-FIELD[repetition].COMPONENT.SUBCOMPONENT.
 * field == 0 addresses the whole segment; rep == 0 means "not given" (the first
 * repetition, or all of them where the caller iterates); comp/sub == 0 means the
 * whole field/component. */
typedef struct hl7_path {
    char seg[sizeof "MSH"];
    unsigned seg_idx;
    unsigned field, rep, comp, sub;
} hl7_path;

int hl7_path_parse(rl_str text, hl7_path *p, rl_err *err);
/* Canonical text of a path ("PID-3[2].1"); returns the length written. */
size_t hl7_path_format(const hl7_path *p, char *out, size_t outn);

/* Raw (escaped) value at path; rep overrides p->rep when p->rep == 0 (pass 1 for
 * the first repetition). */
hl7_kind hl7_get_raw(const hl7_msg *m, const hl7_path *p, unsigned rep, rl_str *raw);
/* Number of repetitions of the field the path names (0 when absent). */
unsigned hl7_rep_count(const hl7_msg *m, const hl7_path *p);
/* Decoded UTF-8 value at path: returns an hl7_kind (>= 0) or a negative status. */
int hl7_get(hl7_msg *m, const hl7_path *p, rl_str *out, rl_err *err);
int hl7_get_rep(hl7_msg *m, const hl7_path *p, unsigned rep, rl_str *out, rl_err *err);

/* Escape decoding (HL7 v2.5 section 2.7). Delimiter escapes \F\ \S\ \T\ \R\ \E\
 * (and \P\ with a truncation character) become the delimiter; \Xhh..\ becomes
 * the bytes; formatting escapes map to plain text: \.br\ and \.ce\ a line break,
 * \.sp n\ n line breaks, \.sk n\ n spaces, \.in\ \.ti\ \.fi\ \.nf\ \H\ \N\
 * nothing. Local (\Z..\) and charset-switching (\C..\ \M..\) escapes, unknown
 * ones and an unterminated escape are kept verbatim so nothing is lost. With
 * HL7_KEEP_FORMAT every formatting escape is kept verbatim too. */
#define HL7_KEEP_FORMAT 1u
int hl7_unescape(const hl7_seps *s, rl_str raw, unsigned flags, rl_buf *out);
/* Escape text for a field value: delimiters as above, CR as \X0D\, LF as \.br\,
 * other control bytes as \Xhh\. Both return HL7_OK, or HL7_E_LIMIT when out
 * would pass its limit (or memory runs out). */
int hl7_escape(const hl7_seps *s, rl_str text, rl_buf *out);

/* Raw value -> UTF-8 text (unescape, then convert from the message charset).
 * Returns the raw view itself when nothing needs changing. */
int hl7_decode(hl7_msg *m, rl_str raw, rl_str *out, rl_err *err);

/* Whether p[0..n) is well-formed UTF-8 (no overlongs, no surrogates); on false
 * *bad_at (if non-NULL) is the offset of the first bad byte. */
bool hl7_utf8_valid(const char *p, size_t n, size_t *bad_at);
/* UTF-8 text -> raw value: converted to the message charset and escaped,
 * appended to out. */
int hl7_encode(hl7_msg *m, rl_str text, rl_buf *out, rl_err *err);
/* Resolve an MSH-18 value; returns HL7_E_CHARSET for an unknown one (or one
 * radlink cannot read: UNICODE UTF-16/32, ISO IR87/IR159). */
int hl7_charset_lookup(rl_str msh18, hl7_cs_kind *kind, const char **iconv_name);
/* The same for m's MSH-18 (v, a view into m's text): sets m's character set,
 * and for a two-byte set whose second bytes can be ASCII (GB 18030, BIG-5)
 * checks that none of the message's is a delimiter. HL7_E_CHARSET with the
 * reason otherwise. */
int hl7_charset_resolve(hl7_msg *m, rl_str msh18, rl_err *err);

/* ---- editing and serializing ---- */

/* Set the value at path (UTF-8 text; escaped and converted to the message
 * charset). Missing fields, repetitions and components are padded; a missing
 * segment (occurrence = count + 1) is appended. p->rep == 0 means the first. */
int hl7_set(hl7_msg *m, const hl7_path *p, rl_str text, rl_err *err);
/* Same, with an already-encoded value (copied verbatim, delimiters included). */
int hl7_set_raw(hl7_msg *m, const hl7_path *p, rl_str raw, rl_err *err);
/* Remove the occurrence-th segment of a kind (p->field must be 0). */
int hl7_seg_delete(hl7_msg *m, const hl7_path *p, rl_err *err);
/* Append a new segment from raw text (without terminator). */
int hl7_seg_append(hl7_msg *m, rl_str raw, rl_err *err);
/* Segments joined by CR, with a trailing CR (HL7 v2.5 section 2.5.2). */
int hl7_serialize(const hl7_msg *m, rl_buf *out);

/* ---- acknowledgements (original mode, HL7 v2.5 section 2.9.2) ---- */

/* HL7 table 0357 message error condition codes. */
enum hl7_errcode {
    HL7_ERR_OK = 0,
    HL7_ERR_SEGMENT_SEQUENCE = 100,
    HL7_ERR_REQUIRED_MISSING = 101,
    HL7_ERR_DATA_TYPE = 102,
    HL7_ERR_TABLE_VALUE = 103,
    HL7_ERR_UNSUPPORTED_TYPE = 200,
    HL7_ERR_UNSUPPORTED_EVENT = 201,
    HL7_ERR_UNSUPPORTED_PROCESSING = 202,
    HL7_ERR_UNSUPPORTED_VERSION = 203,
    HL7_ERR_UNKNOWN_KEY = 204,
    HL7_ERR_DUPLICATE_KEY = 205,
    HL7_ERR_RECORD_LOCKED = 206,
    HL7_ERR_INTERNAL = 207,
};

/* One more problem for its own ERR segment after the first. */
typedef struct hl7_ack_err {
    int code;               /* table 0357 */
    const char *text;
    const hl7_path *at;     /* may be NULL */
} hl7_ack_err;

typedef struct hl7_ack_info {
    const char *code;       /* "AA", "AE" or "AR" */
    int err_code;           /* table 0357; 0 = no ERR segment */
    const char *err_text;   /* human text for ERR and MSA-3; may be NULL */
    const hl7_path *err_at; /* location of the fault; may be NULL */
    const char *control_id; /* MSH-10 of the ACK itself */
    int64_t now_us;         /* MSH-7 timestamp */
    const hl7_ack_err *more;/* further problems, one ERR segment each */
    size_t n_more;
} hl7_ack_info;

/* Build the ACK for orig (which may be a partially parsed message, or NULL when
 * not even MSH could be read). MSH mirrors sender/receiver, MSH-11 and MSH-12;
 * MSA-2 echoes MSH-10. Versions before 2.5 get ERR-1, later ones ERR-2/3/4/8;
 * every problem of `more` gets an ERR segment of its own after the first. */
int hl7_ack_build(const hl7_msg *orig, const hl7_ack_info *info, rl_buf *out);

/* ---- batches and multi-message files (HL7 v2.5 section 2.10.3) ---- */

typedef struct hl7_split_info {
    unsigned messages;  /* messages found */
    unsigned batches;   /* BHS segments seen */
    bool file_header;   /* FHS seen */
} hl7_split_info;

/* Call cb for every message in input: a single message, messages one after
 * another, or FHS/BHS...BTS/FTS batches. Each message view points into input.
 * Stops at the first non-zero return of cb and returns it. */
typedef int (*hl7_split_cb)(void *ctx, rl_str msg, size_t offset);
int hl7_split(rl_str input, hl7_split_cb cb, void *ctx, hl7_split_info *info, rl_err *err);

#endif
