#include "scheduler.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/id.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "wait.h"

enum { MAX_RULES = 256 };

typedef struct rule {
    char *name;
    char *input; /* NULL: the Scheduled Event JSON */
    char arn[320];
    em_schedule schedule;
    int64_t start_ms;
    int64_t next_ms; /* -1: never again */
    void *target;
} rule;

struct em_scheduler {
    char region[32];
    em_fire_fn fire;
    rule rules[MAX_RULES];
    size_t count;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    bool stopping;
};

cs_error em_scheduled_event_write(const char *rule_arn, const char *region, int64_t time_ms,
                                  const char *id, cs_buf *out, cs_diag *diag)
{
    /* EventBridge writes whole seconds: 2026-11-24T07:35:00Z. */
    char time[CS_TIME_RFC3339_MAX];
    cs_error r = cs_time_format_rfc3339(time_ms - time_ms % 1000, 0, time);
    if (r) {
        return cs_diag_set(diag, r, "schedule time out of range");
    }
    char *dot = strchr(time, '.');
    if (dot) {
        memmove(dot, dot + 4, strlen(dot + 4) + 1);
    }
    cs_json_writer w;
    cs_json_writer_init(&w, out);
    cs_json_write_object_begin(&w);
    const char *fields[][2] = {{"version", "0"},
                               {"id", id},
                               {"detail-type", "Scheduled Event"},
                               {"source", "aws.events"},
                               {"account", "000000000000"},
                               {"time", time},
                               {"region", region}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        cs_json_write_key_c(&w, fields[i][0]);
        cs_json_write_string_c(&w, fields[i][1]);
    }
    cs_json_write_key_c(&w, "resources");
    cs_json_write_array_begin(&w);
    cs_json_write_string_c(&w, rule_arn);
    cs_json_write_array_end(&w);
    cs_json_write_key_c(&w, "detail");
    cs_json_write_object_begin(&w);
    cs_json_write_object_end(&w);
    cs_json_write_object_end(&w);
    r = cs_json_writer_finish(&w, diag);
    cs_json_writer_clean_up(&w);
    return r;
}

cs_error em_scheduler_create(const char *region, em_fire_fn fire, em_scheduler **out, cs_diag *diag)
{
    em_scheduler *s = calloc(1, sizeof(*s));
    if (!s) {
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    snprintf(s->region, sizeof(s->region), "%s", region);
    s->fire = fire;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->changed, NULL);
    *out = s;
    return CS_ERR_OK;
}

cs_error em_scheduler_add(em_scheduler *s, const char *name, cs_str expression, cs_str timezone,
                          cs_str input, void *target, int64_t start_ms, cs_diag *diag)
{
    if (s->count == MAX_RULES) {
        return cs_diag_set(diag, CS_ERR_BUFFER_FULL, "at most %d schedules", MAX_RULES);
    }
    rule *r = &s->rules[s->count];
    memset(r, 0, sizeof(*r));
    cs_error e = em_schedule_parse(expression, timezone, &r->schedule, diag);
    if (e) {
        return cs_diag_set(diag, e, "schedule '%s': %s", name, diag->message);
    }
    r->name = strdup(name);
    r->input = input.len ? strndup(input.ptr, input.len) : NULL;
    if (!r->name || (input.len && !r->input)) {
        free(r->name);
        free(r->input);
        return cs_diag_set(diag, CS_ERR_NOMEM, NULL);
    }
    char arn[sizeof(r->arn)];
    snprintf(arn, sizeof(arn), "arn:aws:events:%s:000000000000:rule/%s", s->region, r->name);
    memcpy(r->arn, arn, sizeof(arn));
    r->target = target;
    r->start_ms = start_ms;
    r->next_ms = em_schedule_next(&r->schedule, start_ms, cs_time_now_ms());
    s->count++;
    return CS_ERR_OK;
}

/* Builds the payload and calls fire; without the lock. */
static void fire_rule(em_scheduler *s, const rule *r, int64_t at_ms)
{
    if (r->input) {
        s->fire(r->target, r->name, cs_str_from_c(r->input));
        return;
    }
    char id[CS_UUID_STR_LEN];
    cs_uuid_v4(id);
    cs_buf event;
    cs_buf_init(&event, 0);
    if (!em_scheduled_event_write(r->arn, s->region, at_ms, id, &event, NULL)) {
        s->fire(r->target, r->name, cs_str_make(event.data, event.len));
    }
    cs_buf_clean_up(&event);
}

/* The rule due soonest, or NULL; lock held. */
static rule *soonest(em_scheduler *s)
{
    rule *best = NULL;
    for (size_t i = 0; i < s->count; i++) {
        rule *r = &s->rules[i];
        if (r->next_ms >= 0 && (!best || r->next_ms < best->next_ms)) {
            best = r;
        }
    }
    return best;
}

static void *run(void *arg)
{
    em_scheduler *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        rule *r = soonest(s);
        int64_t now = cs_time_now_ms();
        if (!r || r->next_ms > now) {
            /* Without rules, look again now and then (rules are fixed, so
             * this only bounds the wait). */
            em_wait_until(&s->changed, &s->mu, r ? r->next_ms : now + 60000);
            continue;
        }
        int64_t at = r->next_ms;
        rule copy = *r;
        r->next_ms = em_schedule_next(&r->schedule, r->start_ms, now);
        pthread_mutex_unlock(&s->mu);
        fire_rule(s, &copy, at);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

cs_error em_scheduler_start(em_scheduler *s, cs_diag *diag)
{
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        return cs_diag_set(diag, CS_ERR_NOMEM, "cannot start the scheduler");
    }
    s->started = true;
    return CS_ERR_OK;
}

static rule *find(em_scheduler *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++) {
        if (strcmp(s->rules[i].name, name) == 0) {
            return &s->rules[i];
        }
    }
    return NULL;
}

cs_error em_scheduler_fire_now(em_scheduler *s, const char *name, cs_diag *diag)
{
    pthread_mutex_lock(&s->mu);
    rule *r = find(s, name);
    rule copy = r ? *r : (rule){0};
    pthread_mutex_unlock(&s->mu);
    if (!r) {
        return cs_diag_set(diag, CS_ERR_NOT_FOUND, "no schedule named '%s'", name);
    }
    fire_rule(s, &copy, cs_time_now_ms());
    return CS_ERR_OK;
}

int64_t em_scheduler_next(em_scheduler *s, const char *name)
{
    pthread_mutex_lock(&s->mu);
    rule *r = find(s, name);
    int64_t next = r ? r->next_ms : -1;
    pthread_mutex_unlock(&s->mu);
    return next;
}

void em_scheduler_destroy(em_scheduler *s)
{
    if (!s) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->mu);
    if (s->started) {
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 0; i < s->count; i++) {
        free(s->rules[i].name);
        free(s->rules[i].input);
    }
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
