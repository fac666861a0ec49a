/* The order mapping's recipes (engine/wl/mapping.h): the IHE Radiology
 * Scheduled Workflow defaults for ORM^O01 and OMI^O23, with the route file's
 * <worklist-mapping> over them. */
#include <stdlib.h>
#include <string.h>

#include "mapping.h"

typedef struct wl_default {
    const char *keyword;
    const char *orm[WL_MAP_SOURCES]; /* ORM^O01 sources, the first with a value wins */
    const char *omi[WL_MAP_SOURCES]; /* OMI^O23; none: the ORM ones */
    bool required;
} wl_default;

/* IHE RAD TF-2 (RAD-4 Procedure Scheduled): HL7 v2.3.1 ORM^O01, and v2.5.1
 * OMI^O23, where the IPC segment carries the DICOM identifiers. */
static const wl_default defaults[] = {
    { "PatientName", { "PID-5" }, { 0 }, true },
    { "PatientID", { "PID-3.1" }, { 0 }, true },
    { "IssuerOfPatientID", { "PID-3.4.1" }, { 0 }, false },
    { "PatientBirthDate", { "PID-7" }, { 0 }, false },
    { "PatientSex", { "PID-8" }, { 0 }, false },
    { "AdmissionID", { "PV1-19.1" }, { 0 }, false },
    { "CurrentPatientLocation", { "PV1-3.1" }, { 0 }, false },
    { "ReferringPhysicianName", { "PV1-8" }, { 0 }, false },
    { "PlacerOrderNumberImagingServiceRequest", { "ORC-2.1", "OBR-2.1" }, { 0 }, false },
    { "FillerOrderNumberImagingServiceRequest", { "ORC-3.1", "OBR-3.1" }, { 0 }, false },
    /* many RIS leave OBR-18 empty and number the order in ORC-3 */
    { "AccessionNumber", { "OBR-18", "ORC-3.1", "OBR-3.1" },
      { "IPC-1.1", "OBR-18", "ORC-3.1", "OBR-3.1" }, false },
    /* absent: derived from the accession (apply.c) */
    { "RequestedProcedureID", { "OBR-19" }, { "IPC-2", "OBR-19" }, false },
    { "StudyInstanceUID", { "ZDS-1.1" }, { "IPC-3", "ZDS-1.1" }, false },
    { "RequestedProcedureDescription", { "OBR-44.2", "OBR-4.2" }, { 0 }, false },
    { "RequestedProcedureCodeSequence/CodeValue", { "OBR-44.1", "OBR-4.1" }, { 0 }, false },
    { "RequestedProcedureCodeSequence/CodingSchemeDesignator", { "OBR-44.3", "OBR-4.3" },
      { 0 }, false },
    { "RequestedProcedureCodeSequence/CodeMeaning", { "OBR-44.2", "OBR-4.2" }, { 0 }, false },
    { "RequestingPhysician", { "OBR-16" }, { 0 }, false },
    { "ReasonForTheRequestedProcedure", { "OBR-31.2", "OBR-31.1" }, { 0 }, false },
    { "RequestedProcedurePriority", { "OBR-27.6", "ORC-7.6" }, { "TQ1-9.1", "OBR-27.6" }, false },
    { "Modality", { "OBR-24" }, { "IPC-5", "OBR-24" }, true },
    /* every repetition; absent: the <station> rules (apply.c) */
    { "ScheduledStationAETitle", { "OBR-21.1" }, { "IPC-9", "OBR-21.1" }, false },
    { "ScheduledStationName", { 0 }, { "IPC-7" }, false },
    { "ScheduledProcedureStepLocation", { 0 }, { "IPC-8.1" }, false },
    { "ScheduledProcedureStepStartDate", { "OBR-27.4", "ORC-7.4", "OBR-36", "TQ1-7" },
      { "TQ1-7", "OBR-27.4", "ORC-7.4", "OBR-36" }, true },
    { "ScheduledProcedureStepStartTime", { "OBR-27.4", "ORC-7.4", "OBR-36", "TQ1-7" },
      { "TQ1-7", "OBR-27.4", "ORC-7.4", "OBR-36" }, false },
    { "ScheduledPerformingPhysicianName", { "OBR-34" }, { 0 }, false },
    { "ScheduledProcedureStepDescription", { "OBR-4.2" }, { "IPC-6.2", "OBR-4.2" }, false },
    { "ScheduledProtocolCodeSequence/CodeValue", { "OBR-4.1" }, { "IPC-6.1", "OBR-4.1" }, false },
    { "ScheduledProtocolCodeSequence/CodingSchemeDesignator", { "OBR-4.3" },
      { "IPC-6.3", "OBR-4.3" }, false },
    { "ScheduledProtocolCodeSequence/CodeMeaning", { "OBR-4.2" }, { "IPC-6.2", "OBR-4.2" }, false },
    /* absent: derived from the accession (apply.c) */
    { "ScheduledProcedureStepID", { "OBR-20" }, { "IPC-4", "OBR-20" }, false },
};

static void add_spec(wl_spec_table *c, const wl_model_attr *m, const char *const *src, int nsrc,
                     const char *value, const char *deflt, int table, bool required, int too_long)
{
    wl_spec *s = NULL;
    for (size_t i = 0; i < c->nspecs; i++)
        if (c->specs[i].m == m)
            s = &c->specs[i];
    if (!s) {
        if (c->nspecs == WL_MAX_ATTRS)
            return;
        s = &c->specs[c->nspecs++];
    }
    memset(s, 0, sizeof *s);
    s->m = m;
    s->table = table;
    s->value = value;
    s->deflt = deflt;
    s->required = required;
    s->too_long = too_long;
    for (int i = 0; i < nsrc && i < WL_MAP_SOURCES; i++) {
        rl_err err;
        if (!src[i] || hl7_path_parse(rl_str_c(src[i]), &s->src[s->nsrc], &err) != HL7_OK)
            continue;
        hl7_path_format(&s->src[s->nsrc], s->srctext[s->nsrc], sizeof s->srctext[0]);
        s->nsrc++;
    }
}

/* Defaults, then the route file's <attribute> elements over them. */
static void build_specs(wl_spec_table *c, const route_set *rs, bool omi)
{
    size_t nattr = 0;
    bool ihe = true;
    const route_wl_attr *attrs = route_wl_attrs(rs, &nattr, &ihe);
    c->nspecs = 0;
    if (ihe) {
        const wl_default *d = defaults;
        size_t n = sizeof defaults / sizeof *defaults;
        for (size_t i = 0; i < n; i++) {
            const wl_model_attr *m = wl_model_find(d[i].keyword);
            const char *const *src = omi && d[i].omi[0] ? d[i].omi : d[i].orm;
            int k = 0;
            while (k < WL_MAP_SOURCES && src[k])
                k++;
            if (m && k) /* a row with no sources is not for this message type */
                add_spec(c, m, src, k, NULL, NULL, -1, d[i].required, ROUTE_LONG_DEFAULT);
        }
    }
    for (size_t i = 0; i < nattr; i++) {
        const wl_model_attr *m = wl_model_find(attrs[i].keyword);
        if (!m)
            continue; /* the loader refused unknown keywords */
        wl_spec *s = NULL;
        add_spec(c, m, NULL, 0, attrs[i].value, attrs[i].deflt, attrs[i].table,
                 attrs[i].required, (int)attrs[i].too_long);
        for (size_t k = 0; k < c->nspecs; k++)
            if (c->specs[k].m == m)
                s = &c->specs[k];
        if (attrs[i].has_path) {
            s->src[s->nsrc] = attrs[i].path;
            hl7_path_format(&attrs[i].path, s->srctext[s->nsrc], sizeof s->srctext[0]);
            s->nsrc++;
        }
        if (attrs[i].has_fallback) {
            s->src[s->nsrc] = attrs[i].fallback;
            hl7_path_format(&attrs[i].fallback, s->srctext[s->nsrc], sizeof s->srctext[0]);
            s->nsrc++;
        }
    }
}

/* The table for the message type, compiled at the first message of a route
 * set and kept with it. */
const wl_spec_table *wl_specs_for(const route_set *rs, bool omi)
{
    route_cache_slot slot = omi ? ROUTE_CACHE_WORKLIST_OMI : ROUTE_CACHE_WORKLIST_ORM;
    const wl_spec_table *t = route_cache_get(rs, slot);
    if (t)
        return t;
    wl_spec_table *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    build_specs(n, rs, omi);
    return route_cache_put(rs, slot, n, free);
}
