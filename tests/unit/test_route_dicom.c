/* DICOM routes (routes/README.md, "DICOM routes"): every loading mistake is
 * named with file:line; <match>, <when>, coercions, <on-receive>, default,
 * sends and their programs do what the README says, through a data set kept
 * in a table (route_dcm_io) and a small stub of the DICOM dictionary; a
 * program runs after its route set is freed. */
#include "testutil.h"

#include <ctype.h>

#include "radlink/route.h"
#include "radlink/route_dicom.h"

/* ---- a stub of the DICOM dictionary ---- */

typedef struct kw {
    const char *name;
    uint32_t tag;
    const char *vr;
    uint32_t max;
} kw;

static const kw KEYWORDS[] = {
    { "PatientName", 0x00100010, "PN", 64 },
    { "PatientID", 0x00100020, "LO", 64 },
    { "PatientBirthDate", 0x00100030, "DA", 8 },
    { "PatientComments", 0x00104000, "LT", 10240 },
    { "ImageType", 0x00080008, "CS", 16 },
    { "SOPClassUID", 0x00080016, "UI", 64 },
    { "SOPInstanceUID", 0x00080018, "UI", 64 },
    { "StudyDate", 0x00080020, "DA", 8 },
    { "StudyTime", 0x00080030, "TM", 14 },
    { "AccessionNumber", 0x00080050, "SH", 16 },
    { "Modality", 0x00080060, "CS", 16 },
    { "InstitutionName", 0x00080080, "LO", 64 },
    { "ReferringPhysicianName", 0x00080090, "PN", 64 },
    { "StationName", 0x00081010, "SH", 16 },
    { "InstitutionalDepartmentName", 0x00081040, "LO", 64 },
    { "BodyPartExamined", 0x00180015, "CS", 16 },
    { "BurnedInAnnotation", 0x00280301, "CS", 16 },
    { "RequestAttributesSequence", 0x00400275, "SQ", 0 },
};
#define NKW (sizeof KEYWORDS / sizeof KEYWORDS[0])

static const kw *kw_by_name(const char *s, size_t n)
{
    for (size_t i = 0; i < NKW; i++)
        if (strlen(KEYWORDS[i].name) == n && !memcmp(KEYWORDS[i].name, s, n))
            return &KEYWORDS[i];
    return NULL;
}

static const kw *kw_by_tag(uint32_t tag)
{
    for (size_t i = 0; i < NKW; i++)
        if (KEYWORDS[i].tag == tag)
            return &KEYWORDS[i];
    return NULL;
}

static int stub_path_parse(const char *text, dicom_path *p, rl_err *err)
{
    memset(p, 0, sizeof *p);
    for (const char *s = text;;) {
        size_t n = strcspn(s, "/");
        if (p->n == DICOM_PATH_DEPTH)
            return rl_err_set(err, -1, -1, "too deep");
        if (p->n && strcmp(p->vr, "SQ") != 0)
            return rl_err_set(err, -1, -1, "goes through an attribute that is no sequence");
        const kw *k = NULL;
        uint32_t tag = 0;
        if (n == 11 && s[0] == '(' && s[5] == ',' && s[10] == ')') {
            char hex[9] = { s[1], s[2], s[3], s[4], s[6], s[7], s[8], s[9], 0 };
            tag = (uint32_t)strtoul(hex, NULL, 16);
            unsigned g = tag >> 16;
            k = kw_by_tag(tag);
            if (!k && !(g & 1))
                return rl_err_set(err, -1, -1, "not in the dictionary");
        } else if ((k = kw_by_name(s, n)) == NULL) {
            return rl_err_set(err, -1, -1, "not in the dictionary");
        }
        p->tag[p->n++] = k ? k->tag : tag;
        snprintf(p->vr, sizeof p->vr, "%s", k ? k->vr : "");
        p->max_chars = k ? k->max : 0;
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

static int stub_value_check(const dicom_path *p, const char *v, rl_err *err)
{
    for (const char *s = v;;) {
        size_t n = strcspn(s, "\\");
        if (p->max_chars && n > p->max_chars)
            return rl_err_set(err, DICOM_E_VALUE, -1, "longer than %u characters",
                              p->max_chars);
        for (size_t i = 0; i < n && !strcmp(p->vr, "UI"); i++)
            if (!isdigit((unsigned char)s[i]) && s[i] != '.')
                return rl_err_set(err, DICOM_E_VALUE, -1, "not a UID");
        for (size_t i = 0; i < n && !strcmp(p->vr, "DA"); i++)
            if (!isdigit((unsigned char)s[i]) || n != 8)
                return rl_err_set(err, DICOM_E_VALUE, -1, "not a date (YYYYMMDD)");
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

#define CT_UID "1.2.840.10008.5.1.4.1.1.2"
#define MR_UID "1.2.840.10008.5.1.4.1.1.4"
#define MG_UID "1.2.840.10008.5.1.4.1.1.1.2"

static int stub_sop_class(const char *name, char *uid, size_t n, rl_err *err)
{
    static const char *const sops[][3] = {
        { "CTImageStorage", "CT Image Storage", CT_UID },
        { "MRImageStorage", "MR Image Storage", MR_UID },
        { "DigitalMammographyXRayImageStorageForPresentation",
          "Digital Mammography X-Ray Image Storage - For Presentation", MG_UID },
    };
    for (size_t i = 0; i < 3; i++)
        if (!strcmp(name, sops[i][0]) || !strcmp(name, sops[i][1]) || !strcmp(name, sops[i][2])) {
            snprintf(uid, n, "%s", sops[i][2]);
            return 0;
        }
    return rl_err_set(err, -1, -1, "not a SOP class");
}

static const route_dicom_dict DICT = { stub_path_parse, stub_value_check, stub_sop_class };
static const char *const NODES[] = { "PACS", "AI", "BREAST", "RESEARCH" };

/* ---- a data set in a table ---- */

typedef struct fattr {
    char key[64]; /* the tags, "%08x/" each */
    char val[512];
} fattr;

typedef struct fds {
    fattr a[48];
    size_t n;
    int sets, removes, deids;
    const char *refuse; /* a keyword set refuses, as if the dictionary disagreed */
} fds;

static void path_key(const dicom_path *p, char *out, size_t n)
{
    out[0] = '\0';
    for (unsigned i = 0; i < p->n; i++)
        snprintf(out + strlen(out), n - strlen(out), "%08x/", p->tag[i]);
}

static void key_of(const char *text, char *out, size_t n)
{
    dicom_path p;
    rl_err err;
    if (stub_path_parse(text, &p, &err) != 0)
        fail_msg("bad path %s", text);
    path_key(&p, out, n);
}

/* Add a value (an attribute in another item when it is there already). */
static void fds_add(fds *d, const char *path, const char *val)
{
    fattr *a = &d->a[d->n++];
    key_of(path, a->key, sizeof a->key);
    snprintf(a->val, sizeof a->val, "%s", val);
}

/* The value at path, or NULL. */
static const char *fds_val(const fds *d, const char *path)
{
    char key[64];
    key_of(path, key, sizeof key);
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->a[i].key, key))
            return d->a[i].val;
    return NULL;
}

static int f_get(void *ds, const dicom_path *p, route_dcm_value_fn cb, void *ctx)
{
    fds *d = ds;
    char key[64];
    path_key(p, key, sizeof key);
    int found = 0;
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->a[i].key, key)) {
            found++;
            if (cb(ctx, rl_str_c(d->a[i].val)))
                break;
        }
    return found;
}

static int f_set(void *ds, const dicom_path *p, rl_str v, rl_err *err)
{
    fds *d = ds;
    char key[64], text[512], rkey[64];
    snprintf(text, sizeof text, "%.*s", (int)v.n, v.p);
    path_key(p, key, sizeof key);
    if (d->refuse) {
        key_of(d->refuse, rkey, sizeof rkey);
        if (!strcmp(rkey, key))
            return rl_err_set(err, DICOM_E_VALUE, -1, "refused by the data set");
    }
    if (stub_value_check(p, text, err) != 0)
        return DICOM_E_VALUE;
    d->sets++;
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->a[i].key, key)) {
            snprintf(d->a[i].val, sizeof d->a[i].val, "%s", text);
            return 0;
        }
    fattr *a = &d->a[d->n++];
    snprintf(a->key, sizeof a->key, "%s", key);
    snprintf(a->val, sizeof a->val, "%s", text);
    return 0;
}

static int f_remove(void *ds, const dicom_path *p, rl_err *err)
{
    (void)err;
    fds *d = ds;
    char key[64];
    path_key(p, key, sizeof key);
    d->removes++;
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++)
        if (strncmp(d->a[i].key, key, strlen(key)) != 0)
            d->a[k++] = d->a[i];
    d->n = k;
    return 0;
}

static route_deid last_deid; /* keep_private: a copy, in last_keep */
static char last_keep[256];

static int f_deid(void *ds, const route_deid *r, rl_err *err)
{
    fds *d = ds;
    d->deids++;
    last_deid = *r;
    snprintf(last_keep, sizeof last_keep, "%s", r->keep_private ? r->keep_private : "");
    last_deid.keep_private = last_keep;
    const char *b = fds_val(d, "BurnedInAnnotation");
    if (b && !strcmp(b, "YES"))
        return rl_err_set(err, DICOM_E_BURNED_IN, -1, "Burned In Annotation is YES");
    dicom_path p;
    rl_err e;
    stub_path_parse("PatientName", &p, &e);
    f_remove(d, &p, &e);
    return 0;
}

static const route_dcm_io IO = { f_get, f_set, f_remove, f_deid };

/* A CT of the chest from CT_ER, with a sequence of two requests. */
static void ct(fds *d)
{
    memset(d, 0, sizeof *d);
    fds_add(d, "Modality", "CT");
    fds_add(d, "SOPClassUID", CT_UID);
    fds_add(d, "BodyPartExamined", "CHEST ");
    fds_add(d, "ImageType", "ORIGINAL\\PRIMARY\\AXIAL");
    fds_add(d, "PatientName", "Doe^Jane^Marie^Dr^III");
    fds_add(d, "PatientID", "12345");
    fds_add(d, "StudyDate", "20260304");
    fds_add(d, "StudyTime", "093015");
    fds_add(d, "StationName", "CTSCAN1");
    fds_add(d, "PatientComments", "claustrophobic");
    fds_add(d, "RequestAttributesSequence/AccessionNumber", "ACC1");
    fds_add(d, "RequestAttributesSequence/AccessionNumber", "ACC2");
    fds_add(d, "(0009,0010)", "GEMS_PARM_01");
}

/* ---- loading ---- */

static const route_load_opts OPTS = { .dicom_dict = &DICT, .dicom_nodes = NODES,
                                      .n_dicom_nodes = 4 };

/* Line 1 the declaration, 2 <routes>, 3 <dicom-routes>: body from line 4. */
static route_set *load(const char *def, const char *body, const route_load_opts *o,
                       rl_buf *errors)
{
    rl_buf text;
    rl_buf_init(&text, 0);
    rl_buf_printf(&text, "<?xml version=\"1.0\"?>\n<routes>\n<dicom-routes%s%s%s>\n%s"
                  "</dicom-routes>\n</routes>\n", def ? " default=\"" : "", def ? def : "",
                  def ? "\"" : "", body);
    route_set *rs = NULL;
    int rc = route_load_mem("t.xml", text.data, text.len, o, &rs, errors);
    rl_buf_free(&text);
    return rc == ROUTE_OK ? rs : NULL;
}

static route_set *load_ok(const char *def, const char *body)
{
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs = load(def, body, &OPTS, &errors);
    if (!rs)
        fail_msg("load failed: %.*s", (int)errors.len, errors.data);
    rl_buf_free(&errors);
    return rs;
}

/* Loading body fails with an error starting "t.xml:LINE:" and holding want. */
static void load_fails(const char *body, int line, const char *want)
{
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs = load(NULL, body, &OPTS, &errors);
    rl_buf_cstr(&errors);
    if (rs)
        fail_msg("loaded, expected an error with '%s'", want);
    char at[32];
    snprintf(at, sizeof at, "t.xml:%d: ", line);
    if (!strstr(errors.data, want) || strncmp(errors.data, at, strlen(at)) != 0)
        fail_msg("expected '%s...%s', got:\n%s", at, want, errors.data);
    rl_buf_free(&errors);
}

#define SEND_PACS "  <send to=\"PACS\"/>\n"

static void test_load_errors(void **state)
{
    (void)state;
    load_fails("<dicom-route name=\"a\">\n  <when keyword=\"BodyPartExamind\" equals=\"X\"/>\n"
               SEND_PACS "</dicom-route>\n", 5, "keyword 'BodyPartExamind': not in the dictionary");
    load_fails("<dicom-route name=\"a\">\n  <set keyword=\"StationName\" "
               "value=\"A_STATION_NAME_TOO_LONG\"/>\n" SEND_PACS "</dicom-route>\n", 5,
               "value 'A_STATION_NAME_TOO_LONG' for StationName: longer than 16 characters");
    load_fails("<on-receive name=\"a\">\n  <set keyword=\"SOPInstanceUID\" value=\"1.2.x\"/>\n"
               "</on-receive>\n", 5, "for SOPInstanceUID: not a UID");
    load_fails("<dicom-route name=\"a\">\n  <send to=\"ARCHIVE\"/>\n</dicom-route>\n", 5,
               "unknown DICOM node 'ARCHIVE'");
    load_fails("<dicom-route name=\"a\">\n  <send to=\"PACS\" transfer-syntax=\"jpeg-lossy\"/>\n"
               "</dicom-route>\n", 5, "transfer-syntax");
    load_fails("<dicom-route name=\"a\">\n  <when keyword=\"PatientID\" matches=\"([a-\"/>\n"
               SEND_PACS "</dicom-route>\n", 5, "([a-");
    load_fails("<dicom-route name=\"a\">\n  <when keyword=\"PatientID\" matches=\"(a)\\1\"/>\n"
               SEND_PACS "</dicom-route>\n", 5, "back-reference");
    load_fails("<dicom-route name=\"a\">\n" SEND_PACS "</dicom-route>\n<dicom-route name=\"a\">\n"
               SEND_PACS "</dicom-route>\n", 7, "route name 'a' is used twice (first at line 4)");
    load_fails("<dicom-route name=\"a\">\n  <map keyword=\"StationName\" table=\"nope\"/>\n"
               SEND_PACS "</dicom-route>\n", 5, "unknown table 'nope'");
    load_fails("<dicom-route name=\"a\">\n  <match sop-class=\"CTImageStorage PETImageStorage\"/>\n"
               SEND_PACS "</dicom-route>\n", 5, "sop-class 'PETImageStorage'");
    load_fails("<dicom-route name=\"a\">\n  <set keyword=\"RequestAttributesSequence\" "
               "value=\"X\"/>\n" SEND_PACS "</dicom-route>\n", 5, "is a sequence");
    load_fails("<dicom-route name=\"a\">\n  <date keyword=\"StudyDate\" format=\"yyyy-QQ\"/>\n"
               SEND_PACS "</dicom-route>\n", 5, "not a date format");
    load_fails("<dicom-route name=\"a\">\n  <name keyword=\"PatientName\" format=\"{nick}\"/>\n"
               SEND_PACS "</dicom-route>\n", 5, "format");
    load_fails("<dicom-route name=\"a\">\n  <send to=\"PACS\"/>\n  <send to=\"PACS\"/>\n"
               "</dicom-route>\n", 6, "sends to 'PACS' twice (first at line 5)");
    load_fails("<table name=\"t\"><entry key=\"a\" value=\"TOO_LONG_FOR_A_STATION\"/></table>\n"
               "<dicom-route name=\"a\">\n  <map keyword=\"StationName\" table=\"t\"/>\n"
               SEND_PACS "</dicom-route>\n", 6, "table 't': 1 value cannot be written");
    load_fails("<dicom-route name=\"a\">\n  <when keyword=\"PatientID\"/>\n" SEND_PACS
               "</dicom-route>\n", 5, "give one test");
    load_fails("<dicom-route name=\"a\">\n  <send to=\"PACS\">\n    <deidentify profile=\"basic\" "
               "options=\"retain-everything\"/>\n  </send>\n</dicom-route>\n", 6,
               "unknown option 'retain-everything'");
    /* an on-receive never sends, nor de-identifies: the schema says so */
    load_fails("<on-receive name=\"a\">\n" SEND_PACS "</on-receive>\n", 5, "send");

    /* without the dictionary, a file with <dicom-routes> is refused, saying why */
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_load_opts none = { 0 };
    assert_null(load(NULL, "<dicom-route name=\"a\">\n" SEND_PACS "</dicom-route>\n", &none,
                     &errors));
    assert_non_null(strstr(rl_buf_cstr(&errors), "t.xml:3: "));
    assert_non_null(strstr(rl_buf_cstr(&errors), "DICOM data dictionary"));
    rl_buf_free(&errors);
}

/* ---- deciding ---- */

typedef struct decide {
    route_dicom_decision d;
    rl_buf trace;
    int rc;
} decide;

static void run(const route_set *rs, fds *ds, const char *calling, const char *called,
                decide *out)
{
    rl_buf_init(&out->trace, 0);
    route_dcm_who who = { calling, called };
    rl_err err;
    out->rc = route_dicom_receive(rs, &IO, ds, &who, &out->d, &out->trace, &err);
    rl_buf_cstr(&out->trace);
    assert_int_equal(out->rc, ROUTE_OK);
}

static void done(decide *x)
{
    route_dicom_decision_free(&x->d);
    rl_buf_free(&x->trace);
}

/* The destinations, "PACS AI" */
static void sends_of(const route_dicom_decision *d, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < d->nsends; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? " " : "", d->sends[i].to);
}

/* Does rs take the instance (and which sends)? */
static void expect(const route_set *rs, fds *ds, const char *calling, const char *called,
                   const char *want)
{
    decide x;
    run(rs, ds, calling, called, &x);
    char got[256];
    sends_of(&x.d, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("expected sends '%s', got '%s'; trace:\n%s", want, got, x.trace.data);
    done(&x);
}

static void test_match(void **state)
{
    (void)state;
    route_set *rs = load_ok(NULL,
        "<dicom-route name=\"er\" continue=\"true\">\n"
        "  <match calling-ae=\"CT_*\" called-ae=\"RADLINK\"/>\n  <send to=\"PACS\"/>\n"
        "</dicom-route>\n"
        "<dicom-route name=\"mr\" continue=\"true\">\n"
        "  <match sop-class=\"MR Image Storage\"/>\n"
        "  <match sop-class=\"CTImageStorage 1.2.840.10008.5.1.4.1.1.4\" modality=\"M?\"/>\n"
        "  <send to=\"AI\"/>\n</dicom-route>\n"
        "<dicom-route name=\"ct\">\n  <match modality=\"C[TR]\"/>\n  <send to=\"BREAST\"/>\n"
        "</dicom-route>\n");
    fds d;
    ct(&d);
    expect(rs, &d, "CT_ER", "RADLINK", "PACS BREAST");
    expect(rs, &d, "CT_ER", "OTHER", "BREAST");
    expect(rs, &d, "MR1", "RADLINK", "BREAST");
    fds_add(&d, "SOPClassUID", MR_UID); /* a second value: one of them matches */
    expect(rs, &d, "MR1", "RADLINK", "AI BREAST");
    d.a[0].val[0] = 'M'; /* Modality "MT" */
    d.a[0].val[1] = 'T';
    expect(rs, &d, "MR1", "RADLINK", "AI");
    route_free(rs);
}

static void test_when(void **state)
{
    (void)state;
    route_set *rs = load_ok(NULL,
        "<table name=\"parts\" ignore-case=\"true\"><entry key=\"chest\" value=\"C\"/></table>\n"
        "<dicom-route name=\"eq\" continue=\"true\">\n"
        "  <when keyword=\"BodyPartExamined\" equals=\"CHEST\"/>\n"
        "  <when keyword=\"ImageType\" equals=\"AXIAL\"/>\n  <send to=\"PACS\"/>\n</dicom-route>\n"
        "<dicom-route name=\"in\" continue=\"true\">\n"
        "  <when keyword=\"(0018,0015)\" in=\"head chest\" ignore-case=\"true\"/>\n"
        "  <when keyword=\"BodyPartExamined\" table=\"parts\"/>\n"
        "  <send to=\"AI\"/>\n</dicom-route>\n"
        "<dicom-route name=\"seq\" continue=\"true\">\n"
        "  <when keyword=\"RequestAttributesSequence/AccessionNumber\" matches=\"^ACC[2-9]$\"/>\n"
        "  <when keyword=\"InstitutionName\" absent=\"true\"/>\n"
        "  <when keyword=\"(0009,0010)\" present=\"true\"/>\n"
        "  <send to=\"BREAST\"/>\n</dicom-route>\n"
        "<dicom-route name=\"logic\">\n"
        "  <when><any><when keyword=\"Modality\" equals=\"MR\"/>"
        "<not><when keyword=\"PatientID\" equals=\"12345\"/></not></any></when>\n"
        "  <send to=\"RESEARCH\"/>\n</dicom-route>\n");
    fds d;
    ct(&d);
    expect(rs, &d, "X", "Y", "PACS AI BREAST");
    fds_add(&d, "InstitutionName", "General");
    snprintf(d.a[2].val, sizeof d.a[2].val, "head"); /* BodyPartExamined */
    expect(rs, &d, "X", "Y", "");
    snprintf(d.a[5].val, sizeof d.a[5].val, "999"); /* PatientID: not 12345 */
    expect(rs, &d, "X", "Y", "RESEARCH");
    route_free(rs);
}

static const char EXAMPLE[] =
    "<table name=\"stations\">\n"                                            /* 4 */
    "  <entry key=\"CT_ER\" value=\"Emergency CT\"/>\n"                      /* 5 */
    "</table>\n"                                                              /* 6 */
    "<on-receive name=\"fix-ct-er\">\n"                                       /* 7 */
    "  <match calling-ae=\"CT_ER\"/>\n"                                       /* 8 */
    "  <copy from=\"StationName\" to=\"InstitutionalDepartmentName\"/>\n"     /* 9 */
    "  <set keyword=\"StationName\" value=\"CT_ER\"/>\n"                      /* 10 */
    "</on-receive>\n"                                                         /* 11 */
    "<dicom-route name=\"chest-ct\">\n"                                       /* 12 */
    "  <match modality=\"CT\" calling-ae=\"CT_*\"/>\n"                        /* 13 */
    "  <when keyword=\"BodyPartExamined\" equals=\"CHEST\"/>\n"               /* 14 */
    "  <when keyword=\"StationName\" equals=\"CT_ER\"/>\n"                    /* 15 */
    "  <set keyword=\"InstitutionName\" value=\"General Hospital\"/>\n"       /* 16 */
    "  <set keyword=\"InstitutionalDepartmentName\" table=\"stations\" from=\"StationName\"/>\n"
    "  <send to=\"PACS\"/>\n"                                                 /* 18 */
    "  <send to=\"AI\" transfer-syntax=\"explicit-little\">"
    "<remove keyword=\"PatientComments\"/></send>\n"                          /* 19 */
    "</dicom-route>\n"                                                        /* 20 */
    "<dicom-route name=\"mammo\" continue=\"true\">\n"                        /* 21 */
    "  <match modality=\"MG\"/>\n"
    "  <send to=\"PACS\"/>\n"
    "  <send to=\"BREAST\"/>\n"
    "</dicom-route>\n"
    "<dicom-route name=\"research\">\n"                                       /* 26 */
    "  <match calling-ae=\"MR_RESEARCH\"/>\n"
    "  <match modality=\"MG\"/>\n"
    "  <send to=\"RESEARCH\" transfer-syntax=\"jpeg2000-lossless\">\n"
    "    <deidentify profile=\"basic\" options=\"retain-longitudinal-dates clean-descriptions\">"
    "<keep-private creator=\"GEMS_PARM_01\"/></deidentify>\n"
    "    <set keyword=\"PatientName\" value=\"STUDY42^SUBJECT\"/>\n"            /* 31 */
    "  </send>\n"
    "  <send to=\"PACS\" transfer-syntax=\"rle\"/>\n"
    "</dicom-route>\n";

static rl_str prog_of(const route_dicom_decision *d, size_t i)
{
    return (rl_str){ d->progs.data + d->sends[i].prog_off, d->sends[i].prog_len };
}

static void apply_ok(rl_str prog, fds *ds)
{
    rl_err err;
    int rc = route_dicom_prog_apply(prog, &IO, ds, NULL, &err);
    if (rc != 0)
        fail_msg("apply: %d %s", rc, err.msg);
}

/* The README's example: on-receive then two destinations, each its own
 * program and transfer syntax; the route sees the instance after
 * on-receive, not the route's own coercions. */
static void test_example(void **state)
{
    (void)state;
    route_set *rs = load_ok(NULL, EXAMPLE);
    size_t nrecv, nroutes;
    bool hold;
    route_dicom_counts(rs, &nrecv, &nroutes, &hold);
    assert_int_equal(nrecv, 1);
    assert_int_equal(nroutes, 3);
    assert_false(hold);
    assert_true(route_dicom_present(rs));
    fds d;
    ct(&d);
    decide x;
    run(rs, &d, "CT_ER", "RADLINK", &x);
    assert_true(x.d.routed);
    assert_false(x.d.held);
    assert_int_equal(x.d.changed, 2);
    assert_string_equal(fds_val(&d, "StationName"), "CT_ER");
    assert_string_equal(fds_val(&d, "InstitutionalDepartmentName"), "CTSCAN1");
    assert_null(fds_val(&d, "InstitutionName")); /* the route's own: only in its programs */
    assert_int_equal(x.d.nsends, 2);
    assert_string_equal(x.d.sends[0].to, "PACS");
    assert_string_equal(x.d.sends[0].route, "chest-ct");
    assert_int_equal(x.d.sends[0].ts, ROUTE_TS_KEEP);
    assert_string_equal(x.d.sends[1].to, "AI");
    assert_int_equal(x.d.sends[1].ts, ROUTE_TS_EXPLICIT_LITTLE);
    assert_non_null(strstr(x.d.summary, "on-receive fix-ct-er"));
    assert_non_null(strstr(x.d.summary, "route chest-ct -> PACS, AI"));

    fds pacs = d, ai = d;
    apply_ok(prog_of(&x.d, 0), &pacs);
    assert_string_equal(fds_val(&pacs, "InstitutionName"), "General Hospital");
    assert_string_equal(fds_val(&pacs, "InstitutionalDepartmentName"), "Emergency CT");
    assert_string_equal(fds_val(&pacs, "PatientComments"), "claustrophobic");
    apply_ok(prog_of(&x.d, 1), &ai);
    assert_string_equal(fds_val(&ai, "InstitutionName"), "General Hospital");
    assert_null(fds_val(&ai, "PatientComments"));

    route_prog_info info;
    rl_err err;
    assert_int_equal(route_dicom_prog_info(prog_of(&x.d, 1), &info, &err), 0);
    assert_string_equal(info.route, "chest-ct");
    assert_string_equal(info.to, "AI");
    assert_int_equal(info.ts, ROUTE_TS_EXPLICIT_LITTLE);
    assert_int_equal(info.ops, 3);
    assert_false(info.deidentify);
    done(&x);

    /* a mammogram: mammo continues, research adds RESEARCH; PACS is sent once,
     * as mammo says (keep), not as research (rle) */
    memset(&d, 0, sizeof d);
    fds_add(&d, "Modality", "MG");
    fds_add(&d, "PatientName", "Doe^Jane");
    run(rs, &d, "MG1", "RADLINK", &x);
    char got[128];
    sends_of(&x.d, got, sizeof got);
    assert_string_equal(got, "PACS BREAST RESEARCH");
    assert_int_equal(x.d.sends[0].ts, ROUTE_TS_KEEP);
    assert_string_equal(x.d.sends[0].route, "mammo");
    assert_int_equal(x.d.sends[2].ts, ROUTE_TS_JPEG2000_LOSSLESS);
    assert_int_equal(x.d.changed, 0);
    assert_non_null(strstr(x.trace.data, "send PACS: already sent by route 'mammo'"));
    assert_int_equal(route_dicom_prog_info(prog_of(&x.d, 2), &info, &err), 0);
    assert_true(info.deidentify);
    assert_int_equal(info.ops, 2);
    fds r = d;
    apply_ok(prog_of(&x.d, 2), &r);
    assert_int_equal(r.deids, 1);
    assert_int_equal(last_deid.options,
                     ROUTE_DEID_RETAIN_LONG_DATES | ROUTE_DEID_CLEAN_DESCRIPTIONS);
    assert_string_equal(last_deid.keep_private, "GEMS_PARM_01");
    assert_string_equal(fds_val(&r, "PatientName"), "STUDY42^SUBJECT");
    /* burned-in text: the program fails with the adapter's code */
    fds_add(&d, "BurnedInAnnotation", "YES");
    r = d;
    assert_int_equal(route_dicom_prog_apply(prog_of(&x.d, 2), &IO, &r, NULL, &err),
                     DICOM_E_BURNED_IN);
    assert_non_null(strstr(err.msg, "route 'research' to RESEARCH"));
    done(&x);
    route_free(rs);
}

/* The trace shows each route, condition with the value seen, coercion
 * before and after, each destination with its transfer syntax. */
static void test_trace(void **state)
{
    (void)state;
    route_set *rs = load_ok(NULL, EXAMPLE);
    fds d;
    ct(&d);
    decide x;
    run(rs, &d, "CT_ER", "RADLINK", &x);
    static const char *const want[] = {
        "instance: modality \"CT\", SOP class \"" CT_UID "\", calling AE \"CT_ER\", called AE "
        "\"RADLINK\"\n",
        "on-receive 'fix-ct-er' (t.xml:7)\n  match: calling-ae \"CT_ER\" ~ CT_ER: yes\n"
        "  coerce:\n",
        "      copy StationName -> InstitutionalDepartmentName: (absent) -> \"CTSCAN1\"\n",
        "      set StationName: \"CTSCAN1\" -> \"CT_ER\"\n",
        "on-receive: 2 changes made\n",
        "dicom-route 'chest-ct' (t.xml:12)\n"
        "  match: modality \"CT\" ~ CT calling-ae \"CT_ER\" ~ CT_*: yes\n  when:\n"
        "    equals BodyPartExamined \"CHEST\" = \"CHEST\": yes\n"
        "    equals StationName \"CT_ER\" = \"CT_ER\": yes\n",
        "  send PACS (transfer syntax keep), program:\n"
        "      set InstitutionName = \"General Hospital\" (line 16)\n",
        "  send AI (transfer syntax explicit-little), program:\n",
        "      remove PatientComments (line 19)\n",
        "  stop\n",
        "result: send to PACS (keep), AI (explicit-little)\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(x.trace.data, want[i]))
            fail_msg("trace lacks:\n%s\ntrace:\n%s", want[i], x.trace.data);
    done(&x);

    /* a program's trace: each coercion's value before and after */
    ct(&d);
    run(rs, &d, "CT_ER", "RADLINK", &x);
    rl_buf t;
    rl_err err;
    rl_buf_init(&t, 0);
    assert_int_equal(route_dicom_prog_apply(prog_of(&x.d, 1), &IO, &d, &t, &err), 0);
    const char *pt = rl_buf_cstr(&t);
    assert_non_null(strstr(pt, "send AI (route 'chest-ct', transfer syntax explicit-little)\n"));
    assert_non_null(strstr(pt, "      set InstitutionName: (absent) -> \"General Hospital\"\n"));
    assert_non_null(strstr(pt, "      remove PatientComments: \"claustrophobic\" -> (absent)\n"));
    rl_buf_free(&t);
    done(&x);
    route_free(rs);
}

/* Coercions as the README lists them, through a program. */
static void test_coercions(void **state)
{
    (void)state;
    route_set *rs = load_ok(NULL,
        "<table name=\"inst\" default=\"Elsewhere\"><entry key=\"CTSCAN1\" value=\"Main\"/>"
        "</table>\n"
        "<table name=\"parts\"><entry key=\"CHEST\" value=\"THORAX\"/></table>\n"
        "<dicom-route name=\"all\">\n"
        "  <set keyword=\"InstitutionName\" table=\"inst\" from=\"StationName\"/>\n"
        "  <set keyword=\"(0008,1040)\" from=\"RequestAttributesSequence/AccessionNumber\"/>\n"
        "  <map keyword=\"BodyPartExamined\" table=\"parts\"/>\n"
        "  <map keyword=\"Modality\" table=\"parts\"/>\n"
        "  <map keyword=\"PatientID\" table=\"parts\" to=\"AccessionNumber\" default=\"NONE\"/>\n"
        "  <date keyword=\"StudyDate\" format=\"yyyy-MM-dd\" to=\"PatientComments\"/>\n"
        "  <date keyword=\"StudyTime\" format=\"HH:mm\" to=\"InstitutionalDepartmentName\"/>\n"
        "  <name keyword=\"PatientName\" format=\"{prefix} {given} {family}\" "
        "to=\"ReferringPhysicianName\"/>\n"
        "  <copy from=\"PatientID\" to=\"RequestAttributesSequence/AccessionNumber\"/>\n"
        "  <remove keyword=\"(0009,0010)\"/>\n"
        "  <set keyword=\"StationName\" from=\"InstitutionName\"/>\n"
        "  <copy from=\"ImageType\" to=\"(0009,1001)\"/>\n"
        "  <send to=\"PACS\"/>\n</dicom-route>\n");
    fds d;
    ct(&d);
    decide x;
    run(rs, &d, "A", "B", &x);
    assert_int_equal(x.d.nsends, 1);
    apply_ok(prog_of(&x.d, 0), &d);
    assert_string_equal(fds_val(&d, "InstitutionName"), "Main");
    assert_string_equal(fds_val(&d, "BodyPartExamined"), "THORAX");
    assert_string_equal(fds_val(&d, "Modality"), "CT");           /* no entry: unchanged */
    assert_string_equal(fds_val(&d, "AccessionNumber"), "NONE");  /* no entry: default */
    assert_string_equal(fds_val(&d, "PatientComments"), "2026-03-04");
    assert_string_equal(fds_val(&d, "InstitutionalDepartmentName"), "09:30");
    assert_string_equal(fds_val(&d, "ReferringPhysicianName"), "Dr Jane Doe");
    assert_string_equal(fds_val(&d, "RequestAttributesSequence/AccessionNumber"), "12345");
    assert_null(fds_val(&d, "(0009,0010)"));
    assert_string_equal(fds_val(&d, "StationName"), "Main"); /* reads what was written */
    assert_string_equal(fds_val(&d, "(0009,1001)"), "ORIGINAL\\PRIMARY\\AXIAL");
    done(&x);

    /* the table's default when the station is unknown */
    ct(&d);
    snprintf(d.a[8].val, sizeof d.a[8].val, "OTHER");
    run(rs, &d, "A", "B", &x);
    apply_ok(prog_of(&x.d, 0), &d);
    assert_string_equal(fds_val(&d, "InstitutionName"), "Elsewhere");
    done(&x);
    route_free(rs);
}

/* A coercion the instance cannot take: ROUTE_E_COERCE naming route, node,
 * coercion and line; a corrupt program: ROUTE_E_PROG, nothing done. */
static void test_prog_errors(void **state)
{
    (void)state;
    route_set *rs = load_ok(NULL,
        "<dicom-route name=\"long\">\n"
        "  <copy from=\"PatientComments\" to=\"StationName\"/>\n"
        "  <send to=\"AI\"/>\n</dicom-route>\n");
    fds d;
    ct(&d);
    decide x;
    snprintf(d.a[9].val, sizeof d.a[9].val, "claustrophobic patient"); /* 22 > SH's 16 */
    run(rs, &d, "A", "B", &x);
    rl_err err;
    fds c = d;
    assert_int_equal(route_dicom_prog_apply(prog_of(&x.d, 0), &IO, &c, NULL, &err),
                     ROUTE_E_COERCE);
    assert_non_null(strstr(err.msg, "route 'long' to AI, copy PatientComments -> StationName "
                                    "(line 5): longer than 16 characters"));

    char *bad = malloc(x.d.sends[0].prog_len);
    memcpy(bad, prog_of(&x.d, 0).p, x.d.sends[0].prog_len);
    bad[x.d.sends[0].prog_len / 2] ^= 0x20;
    c = d;
    assert_int_equal(route_dicom_prog_apply((rl_str){ bad, x.d.sends[0].prog_len }, &IO, &c,
                                            NULL, &err), ROUTE_E_PROG);
    assert_int_equal(c.sets + c.removes, 0);
    route_prog_info info;
    assert_int_equal(route_dicom_prog_info((rl_str){ bad, 7 }, &info, &err), ROUTE_E_PROG);
    assert_int_equal(route_dicom_prog_info((rl_str){ bad, x.d.sends[0].prog_len - 1 }, &info,
                                           &err), ROUTE_E_PROG);
    free(bad);
    done(&x);
    route_free(rs);
}

/* <on-receive>: all of it or nothing; a later one sees an earlier one's
 * changes; a failure holds the instance with why, and no route is tried. */
static void test_on_receive(void **state)
{
    (void)state;
    route_set *rs = load_ok(NULL,
        "<on-receive name=\"one\">\n"
        "  <set keyword=\"InstitutionName\" value=\"Main\"/>\n</on-receive>\n"
        "<on-receive name=\"two\">\n"
        "  <when keyword=\"InstitutionName\" equals=\"Main\"/>\n"
        "  <copy from=\"PatientComments\" to=\"InstitutionalDepartmentName\"/>\n"
        "</on-receive>\n"
        "<dicom-route name=\"main\">\n"
        "  <when keyword=\"InstitutionalDepartmentName\" present=\"true\"/>\n"
        "  <send to=\"PACS\"/>\n</dicom-route>\n");
    fds d;
    ct(&d);
    decide x;
    run(rs, &d, "A", "B", &x);
    assert_false(x.d.held);
    assert_int_equal(x.d.changed, 2);
    assert_string_equal(fds_val(&d, "InstitutionalDepartmentName"), "claustrophobic");
    assert_int_equal(x.d.nsends, 1);
    done(&x);

    /* a comment too long for an LO: nothing of on-receive is kept */
    ct(&d);
    memset(d.a[9].val, 'x', 100);
    d.a[9].val[100] = '\0';
    run(rs, &d, "A", "B", &x);
    assert_true(x.d.held);
    assert_true(x.d.receive_failed);
    assert_false(x.d.routed);
    assert_int_equal(x.d.nsends, 0);
    assert_int_equal(x.d.changed, 0);
    assert_int_equal(d.sets + d.removes, 0);
    assert_null(fds_val(&d, "InstitutionName"));
    assert_non_null(strstr(x.d.why, "on-receive 'two', copy PatientComments -> "
                                    "InstitutionalDepartmentName (line 9): longer than 64"));
    assert_non_null(strstr(x.trace.data, "nothing of <on-receive> is kept"));
    assert_null(strstr(x.trace.data, "dicom-route 'main'"));
    done(&x);

    /* the data set refuses what the dictionary let through: still held */
    ct(&d);
    d.refuse = "InstitutionalDepartmentName";
    run(rs, &d, "A", "B", &x);
    assert_true(x.d.held);
    assert_true(x.d.receive_failed);
    assert_int_equal(x.d.changed, 0);
    assert_non_null(strstr(x.d.why, "refused by the data set"));
    done(&x);
    route_free(rs);
}

static void test_default(void **state)
{
    (void)state;
    const char *body = "<dicom-route name=\"mr\">\n  <match modality=\"MR\"/>\n"
                       "  <send to=\"AI\"/>\n</dicom-route>\n";
    fds d;
    ct(&d);
    decide x;
    route_set *rs = load_ok(NULL, body);
    run(rs, &d, "A", "B", &x);
    assert_false(x.d.routed);
    assert_false(x.d.held);
    assert_int_equal(x.d.nsends, 0);
    assert_non_null(strstr(x.trace.data, "result: every <pacs> gets it as it is"));
    done(&x);
    route_free(rs);

    rs = load_ok("hold", body);
    size_t a, b;
    bool hold;
    route_dicom_counts(rs, &a, &b, &hold);
    assert_true(hold);
    run(rs, &d, "A", "B", &x);
    assert_false(x.d.routed);
    assert_true(x.d.held);
    assert_false(x.d.receive_failed);
    assert_non_null(strstr(x.d.why, "no DICOM route takes it"));
    done(&x);
    route_free(rs);

    /* a file without <dicom-routes> */
    rl_buf errors;
    rl_buf_init(&errors, 0);
    const char *plain = "<?xml version=\"1.0\"?>\n<routes/>\n";
    assert_int_equal(route_load_mem("p.xml", plain, strlen(plain), NULL, &rs, &errors), ROUTE_OK);
    assert_false(route_dicom_present(rs));
    run(rs, &d, "A", "B", &x);
    assert_false(x.d.routed || x.d.held);
    done(&x);
    route_free(rs);
    rl_buf_free(&errors);
}

/* A program is all it needs: it runs after the set is freed, its tables
 * inlined. */
static void test_prog_self_contained(void **state)
{
    (void)state;
    route_set *rs = load_ok(NULL, EXAMPLE);
    fds d;
    ct(&d);
    decide x;
    run(rs, &d, "CT_ER", "RADLINK", &x);
    route_free(rs);
    char *copy = malloc(x.d.progs.len);
    memcpy(copy, x.d.progs.data, x.d.progs.len);
    size_t off = x.d.sends[0].prog_off, len = x.d.sends[0].prog_len;
    done(&x);
    apply_ok((rl_str){ copy + off, len }, &d);
    assert_string_equal(fds_val(&d, "InstitutionalDepartmentName"), "Emergency CT");
    free(copy);
}

/* examples/dicom-routes.xml: three routes to two nodes, as the README's
 * example file. */
static void test_example_file(void **state)
{
    (void)state;
    rl_buf errors;
    rl_buf_init(&errors, 0);
    route_set *rs = NULL;
    const char *const two[] = { "PACS", "AI" };
    route_load_opts o = { .dicom_dict = &DICT, .dicom_nodes = two, .n_dicom_nodes = 2 };
    if (route_load(TEST_DATA "/../../examples/dicom-routes.xml", &o, &rs, &errors) != ROUTE_OK)
        fail_msg("%s", rl_buf_cstr(&errors));
    rl_buf_free(&errors);
    size_t nrecv, nroutes;
    bool hold;
    route_dicom_counts(rs, &nrecv, &nroutes, &hold);
    assert_int_equal(nrecv, 1);
    assert_int_equal(nroutes, 3);
    fds d;
    ct(&d);
    expect(rs, &d, "CT_ER", "RADLINK", "PACS AI");
    assert_string_equal(fds_val(&d, "InstitutionName"), "General Hospital");
    memset(&d, 0, sizeof d);
    fds_add(&d, "Modality", "MG");
    fds_add(&d, "InstitutionName", "General Hospital");
    expect(rs, &d, "MG1", "RADLINK", "AI PACS");
    route_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_when),
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_coercions),
        cmocka_unit_test(test_prog_errors),
        cmocka_unit_test(test_on_receive),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_prog_self_contained),
        cmocka_unit_test(test_example_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
