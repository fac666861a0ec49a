/* Every hard limit of radlink in one place, each with the reason it exists.
 * Limits marked "configurable" are defaults that the config file can change;
 * the rest protect internal data structures and are compile-time. */
#ifndef RADLINK_LIMITS_H
#define RADLINK_LIMITS_H

/* Largest HL7 message (and MLLP frame) accepted, in bytes. Radiology orders are
 * a few kB; ORU reports with embedded PDFs can reach several MB. Configurable
 * (mllp max_frame). */
#define RL_MAX_FRAME_DEFAULT (16u * 1024u * 1024u)

/* Absolute ceiling for the configurable frame size, so a typo in the config
 * cannot make one connection allocate gigabytes. */
#define RL_MAX_FRAME_CEILING (256u * 1024u * 1024u)

/* Segments in one message. A 20-OBX report has ~25; 10,000 covers embedded
 * document reports split into OBX lines while bounding the segment index. */
#define RL_MAX_SEGMENTS 10000u

/* Highest field, repetition, component or subcomponent number a path may name.
 * HL7 segments define fewer than 100 fields; bounded so paths stay cheap. */
#define RL_MAX_PATH_INDEX 9999u

/* Bytes a decoded value may grow to inside one message's arena (escapes such as
 * \.sp 99\ expand). Bounded so a hostile escape cannot exhaust memory. */
#define RL_MAX_ARENA_BYTES (64u * 1024u * 1024u)

/* Concurrent MLLP connections. Configurable (mllp max_connections). */
#define RL_MAX_CONNECTIONS_DEFAULT 256u

/* Seconds an MLLP connection may stay silent before it is closed, and seconds a
 * partially received frame may take to complete. Configurable. */
#define RL_IDLE_TIMEOUT_DEFAULT_S 600u
#define RL_READ_TIMEOUT_DEFAULT_S 60u

/* Size of config and route files: both are written by people, so this bound
 * only stops pathological input. Nesting depth is bounded by libxml2's own
 * limit (256) and by the schemas. */
#define RL_MAX_XML_BYTES (8u * 1024u * 1024u)

#endif
