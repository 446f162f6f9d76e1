#include "exactmax.h"

#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/money.h"
#include "core/timestamp.h"
#include "emulator/wait.h"

enum { DEFAULT_LIMIT = 100, MAX_LIMIT = 500, MAX_LINES = 200 };

/* The warehouse's own clock: a run every every_ms, until stopped. */
typedef struct warehouse_clock {
    pthread_t thread;
    pthread_cond_t wake;
    bool running, stopping;
    int64_t every_ms;
    bool partial, cancel_short;
    char carrier[32];
} warehouse_clock;

struct sb_exactmax {
    pthread_mutex_t mu;
    warehouse_clock clock;
    sqlite3 *db;
    int64_t version; /* the last rowVersion handed out */
    int race_every;
    int64_t allocations, allocation_retries, shipments_made;
};

/* An incremental read of the bridge (defined with the queries below). */
typedef struct resource resource;

/* The seed's columns: every one but ADDR2_23, which came later. */
#define CUSTOMER_COLUMNS                                                                           \
    "(CUSTID_23, NAME_23, ADDR1_23, CITY_23, STATE_23, ZIPCD_23, CNTRY_23, PHONE_23, CNTCT_23, "   \
    "TERMS_23, SHPVIA_23, TXCDE1_23, CURR_23, EMAIL, ModifiedDate, RowVersion)"

static const char schema[] =
    "CREATE TABLE Customer_Master (CUSTID_23 TEXT PRIMARY KEY, NAME_23 TEXT, ADDR1_23 TEXT,"
    " CITY_23 TEXT, STATE_23 TEXT, ZIPCD_23 TEXT, CNTRY_23 TEXT, PHONE_23 TEXT, CNTCT_23 TEXT,"
    " TERMS_23 TEXT, SHPVIA_23 TEXT, TXCDE1_23 TEXT, CURR_23 TEXT, EMAIL TEXT,"
    " ModifiedDate INTEGER, RowVersion INTEGER, ADDR2_23 TEXT DEFAULT '');"
    "CREATE TABLE Part_Master (PRTNUM_01 TEXT PRIMARY KEY, PMDES1_01 TEXT, TYPE_01 TEXT,"
    " STK_29 TEXT, ModifiedDate INTEGER);"
    /* MAX sites keep prices in different tables; this is the bridge's view. */
    "CREATE TABLE Price (PRTNUM TEXT, PRICELIST TEXT, CURR TEXT, MINQTY INTEGER, PRICE TEXT);"
    "CREATE TABLE Stockroom (STK TEXT PRIMARY KEY);"
    "CREATE TABLE Part_Stock (PRTNUM_06 TEXT, STK_06 TEXT, QTYOH_06 INTEGER,"
    " ModifiedDate INTEGER, PRIMARY KEY (PRTNUM_06, STK_06));"
    "CREATE TABLE SO_Master (ORDNUM_27 TEXT PRIMARY KEY, CUSTID_27 TEXT, STYPE_27 TEXT,"
    " STATUS_27 TEXT, CUSTPO_27 TEXT, ORDID_27 TEXT, ORDDTE_27 TEXT, SHPVIA_27 TEXT,"
    " TERMS_27 TEXT, TAXCD1_27 TEXT, CURR_27 TEXT, NAME_27 TEXT, ADDR1_27 TEXT, CITY_27 TEXT,"
    " STATE_27 TEXT, ZIPCD_27 TEXT, CNTRY_27 TEXT, REASON_27 TEXT, INVCE_27 TEXT,"
    " ModifiedDate INTEGER, RowVersion INTEGER);"
    "CREATE UNIQUE INDEX SO_Master_CUSTPO ON SO_Master (CUSTPO_27) WHERE CUSTPO_27 != '';"
    "CREATE TABLE SO_Detail (ORDNUM_28 TEXT, LINNUM_28 INTEGER, DELNUM_28 INTEGER,"
    " PRTNUM_28 TEXT, STATUS_28 TEXT, PRICE_28 TEXT, ORGQTY_28 INTEGER, SHPQTY_28 INTEGER,"
    " BCKQTY_28 INTEGER, CURDUE_28 TEXT, SHPDTE_28 TEXT, STK_28 TEXT, SLSUOM_28 TEXT,"
    " CURQTY_28 INTEGER, PRIMARY KEY (ORDNUM_28, LINNUM_28, DELNUM_28));"
    "CREATE TABLE Shipment (SHIPMENTID TEXT PRIMARY KEY, ORDNUM TEXT, SHPDTE INTEGER,"
    " CARRIER TEXT, TRACKING TEXT, ModifiedDate INTEGER);"
    "CREATE TABLE Shipment_Line (SHIPMENTID TEXT, LINNUM INTEGER, PRTNUM TEXT, SHPQTY INTEGER,"
    " STK TEXT);"
    "CREATE TABLE Invoice_Master (INVCE_31 TEXT PRIMARY KEY, ORDNUM_31 TEXT, NAME_31 TEXT,"
    " TAXCD1_31 TEXT, CreationDate INTEGER, CURR TEXT, TOTAL TEXT);";

/* ---- SQLite helpers ---- */

static sqlite3_stmt *prepare(sb_exactmax *m, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(m->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fprintf(stderr, "sandbox: exactmax: %s: %s\n", sqlite3_errmsg(m->db), sql);
    }
    return stmt;
}

static void bind_str(sqlite3_stmt *s, int i, cs_str v)
{
    sqlite3_bind_text(s, i, v.ptr ? v.ptr : "", (int)v.len, SQLITE_TRANSIENT);
}

static int step_once(sqlite3_stmt *s)
{
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    sqlite3_finalize(s);
    return rc;
}

static int64_t next_version(sb_exactmax *m)
{
    return ++m->version;
}

static const char *col(sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    return t ? t : "";
}

/* ---- seed ---- */

static void seed(sb_exactmax *m, int64_t now_ms)
{
    char sql[512];
    static const char *web[][5] = {{"WEB-US", "Web shop US", "US", "USD", "KY6"},
                                   {"WEB-EU", "Web shop EU", "DE", "EUR", "DE19"},
                                   {"WEB-JP", "Web shop JP", "JP", "JPY", "JP10"},
                                   {"WEB-UK", "Web shop UK", "GB", "GBP", "GB20"}};
    for (int i = 0; i < 4; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO Customer_Master " CUSTOMER_COLUMNS
                 " VALUES ('%s', '%s', 'Main Street 1', 'City', '', "
                 "'10001', '%s', '', 'Web Desk', 'NET30', 'UPS', '%s', '%s', '', %lld, %lld)",
                 web[i][0], web[i][1], web[i][2], web[i][4], web[i][3],
                 (long long)(now_ms - 86400000), (long long)next_version(m));
        sqlite3_exec(m->db, sql, NULL, NULL, NULL);
    }
    for (int i = 1; i <= 20; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO Customer_Master " CUSTOMER_COLUMNS
                 " VALUES ('C%06d', 'Account %d', 'Trade Road %d', "
                 "'Louisville', 'KY', '40202', 'US', '502-555-%04d', 'Pat Buyer%d', 'NET30', "
                 "'UPS', 'KY6', 'USD', 'buyer%d@account.example.com', %lld, %lld)",
                 i, i, i, i, i, i, (long long)(now_ms - i * 3600000ll), (long long)next_version(m));
        sqlite3_exec(m->db, sql, NULL, NULL, NULL);
    }
    sqlite3_exec(m->db,
                 "INSERT INTO Stockroom VALUES ('MAIN'), ('EAST'), ('WEST');"
                 "INSERT INTO Part_Master VALUES ('DISCOUNT', 'Discount', 'N', 'MAIN', 1), "
                 "('FREIGHT', 'Freight', 'N', 'MAIN', 1);"
                 "INSERT INTO SO_Master (ORDNUM_27, CUSTID_27, STYPE_27, STATUS_27, CUSTPO_27, "
                 "ModifiedDate, RowVersion) VALUES ('00051000', 'C000001', 'CU', '5', '', 0, 0);",
                 NULL, NULL, NULL);
    for (int p = 1; p <= 24; p++) {
        long long at = (long long)(now_ms - p * 60000ll);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO Part_Master VALUES ('P-SKU-%04d', 'Part %d', 'S', 'MAIN', %lld);"
                 "INSERT INTO Part_Stock VALUES ('P-SKU-%04d', 'MAIN', %d, %lld);"
                 "INSERT INTO Part_Stock VALUES ('P-SKU-%04d', 'EAST', %d, %lld);",
                 p, p, at, p, (p * 7) % 40, at, p, (p * 3) % 11, at);
        sqlite3_exec(m->db, sql, NULL, NULL, NULL);
        /* List prices in three currencies, and a volume break in dollars. */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO Price VALUES ('P-SKU-%04d', 'LIST', 'USD', 1, '%d.99'), "
                 "('P-SKU-%04d', 'LIST', 'USD', 10, '%d.49'), "
                 "('P-SKU-%04d', 'LIST', 'EUR', 1, '%d.90'), "
                 "('P-SKU-%04d', 'LIST', 'JPY', 1, '%d')",
                 p, 10 + p, p, 9 + p, p, 9 + p, p, 1500 + 100 * p);
        sqlite3_exec(m->db, sql, NULL, NULL, NULL);
    }
}

sb_exactmax *sb_exactmax_new(int64_t now_ms, cs_diag *diag)
{
    sb_exactmax *m = calloc(1, sizeof(*m));
    if (!m) {
        cs_diag_set(diag, CS_ERR_NOMEM, NULL);
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->clock.wake, NULL);
    if (sqlite3_open(":memory:", &m->db) != SQLITE_OK ||
        sqlite3_exec(m->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        cs_diag_set(diag, CS_ERR_STORAGE, "cannot create the MAX tables");
        sb_exactmax_destroy(m);
        return NULL;
    }
    seed(m, now_ms ? now_ms : cs_time_now_ms());
    return m;
}

static void stop_clock(sb_exactmax *m)
{
    pthread_mutex_lock(&m->mu);
    bool running = m->clock.running;
    m->clock.stopping = true;
    pthread_cond_signal(&m->clock.wake);
    pthread_mutex_unlock(&m->mu);
    if (running) {
        pthread_join(m->clock.thread, NULL);
    }
    m->clock.running = false;
    m->clock.stopping = false;
}

void sb_exactmax_destroy(sb_exactmax *m)
{
    if (m) {
        stop_clock(m);
        sqlite3_close(m->db);
        pthread_cond_destroy(&m->clock.wake);
        pthread_mutex_destroy(&m->mu);
        free(m);
    }
}

void sb_exactmax_set_race(sb_exactmax *m, int every)
{
    pthread_mutex_lock(&m->mu);
    m->race_every = every < 0 ? 0 : every;
    pthread_mutex_unlock(&m->mu);
}

bool sb_exactmax_set_stock(sb_exactmax *m, cs_str part, cs_str stockroom, int64_t on_hand)
{
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *s = prepare(m, "UPDATE Part_Stock SET QTYOH_06 = ?, ModifiedDate = ? "
                                 "WHERE PRTNUM_06 = ? AND STK_06 = ?");
    sqlite3_bind_int64(s, 1, on_hand);
    sqlite3_bind_int64(s, 2, cs_time_now_ms());
    bind_str(s, 3, part);
    bind_str(s, 4, stockroom);
    bool found = s && sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(m->db) == 1;
    sqlite3_finalize(s);
    pthread_mutex_unlock(&m->mu);
    return found;
}

/* ---- answers ---- */

static void error_reply(sb_reply *reply, unsigned status, const char *code, const char *message,
                        const char *table, const char *column)
{
    reply->status = status;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "code");
    cs_json_write_string_c(&w, code);
    cs_json_write_key_c(&w, "message");
    cs_json_write_string_c(&w, message);
    cs_json_write_key_c(&w, "table");
    cs_json_write_string_c(&w, table ? table : "");
    cs_json_write_key_c(&w, "column");
    cs_json_write_string_c(&w, column ? column : "");
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
}

static void w_text(cs_json_writer *w, const char *key, const char *value)
{
    cs_json_write_key_c(w, key);
    cs_json_write_string_c(w, value);
}

static void w_time(cs_json_writer *w, const char *key, int64_t ms)
{
    char text[CS_TIME_RFC3339_MAX];
    cs_time_format_rfc3339(ms, 0, text);
    w_text(w, key, text);
}

static void w_version(cs_json_writer *w, int64_t v)
{
    char text[20];
    snprintf(text, sizeof(text), "%016llX", (unsigned long long)v);
    w_text(w, "rowVersion", text);
}

static void w_quantity(cs_json_writer *w, const char *key, int64_t n)
{
    char text[32];
    snprintf(text, sizeof(text), "%lld.0000", (long long)n);
    w_text(w, key, text);
}

/* A row written as JSON: spec i names the key and kind of column first + i,
 * so each answer is its SELECT's column list and this table. */
typedef enum kind { TEXT, TIME, QUANTITY, VERSION } kind;

typedef struct column_spec {
    const char *key;
    kind kind;
} column_spec;

static void w_columns(cs_json_writer *w, sqlite3_stmt *s, int first, const column_spec *specs,
                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = first + (int)i;
        switch (specs[i].kind) {
        case TEXT:
            w_text(w, specs[i].key, col(s, c));
            break;
        case TIME:
            w_time(w, specs[i].key, sqlite3_column_int64(s, c));
            break;
        case QUANTITY:
            w_quantity(w, specs[i].key, sqlite3_column_int64(s, c));
            break;
        case VERSION:
            w_version(w, sqlite3_column_int64(s, c));
            break;
        }
    }
}

#define SPECS(array) (array), sizeof(array) / sizeof((array)[0])

/* Each row of a child query, as an array under key. */
static void w_children(sb_exactmax *m, cs_json_writer *w, const char *key, const char *sql,
                       const char *parent, const column_spec *specs, size_t n)
{
    sqlite3_stmt *s = prepare(m, sql);
    sqlite3_bind_text(s, 1, parent, -1, SQLITE_TRANSIENT);
    cs_json_write_key_c(w, key);
    cs_json_write_array_begin(w);
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        cs_json_write_object_begin(w);
        w_columns(w, s, 0, specs, n);
        cs_json_write_object_end(w);
    }
    cs_json_write_array_end(w);
    sqlite3_finalize(s);
}

/* ---- sales orders ---- */

static const column_spec line_specs[] = {
    {"linNum", TEXT},     {"delNum", TEXT},     {"prtNum", TEXT},     {"status", TEXT},
    {"price", TEXT},      {"qty", QUANTITY},    {"curQty", QUANTITY}, {"shpQty", QUANTITY},
    {"bckQty", QUANTITY}, {"dueQty", QUANTITY}, {"dueDate", TEXT},    {"shpDte", TEXT},
    {"stk", TEXT},        {"slsUom", TEXT}};

static const char lines_sql[] =
    "SELECT LINNUM_28, DELNUM_28, PRTNUM_28, STATUS_28, PRICE_28, ORGQTY_28, CURQTY_28, "
    "SHPQTY_28, BCKQTY_28, CURQTY_28 - SHPQTY_28, CURDUE_28, SHPDTE_28, STK_28, SLSUOM_28 FROM "
    "SO_Detail WHERE ORDNUM_28 = ? ORDER BY LINNUM_28";

static const char order_columns[] =
    "ORDNUM_27, CUSTID_27, STYPE_27, STATUS_27, CUSTPO_27, ORDID_27, ORDDTE_27, SHPVIA_27, "
    "TERMS_27, TAXCD1_27, CURR_27, NAME_27, ADDR1_27, CITY_27, STATE_27, ZIPCD_27, CNTRY_27, "
    "REASON_27, INVCE_27, ModifiedDate, RowVersion";

static const column_spec order_specs[] = {{"ordNum", TEXT}, {"custId", TEXT}, {"sType", TEXT},
                                          {"status", TEXT}, {"custPo", TEXT}, {"ordId", TEXT},
                                          {"ordDte", TEXT}, {"shpVia", TEXT}, {"terms", TEXT},
                                          {"taxCd1", TEXT}, {"curr", TEXT}};
static const column_spec ship_to_specs[] = {{"name", TEXT},  {"addr1", TEXT}, {"city", TEXT},
                                            {"state", TEXT}, {"zipCd", TEXT}, {"cntry", TEXT}};
static const column_spec order_tail_specs[] = {
    {"reason", TEXT}, {"invce", TEXT}, {"modifiedDate", TIME}, {"rowVersion", VERSION}};

static void w_order(sb_exactmax *m, cs_json_writer *w, sqlite3_stmt *s, const resource *r)
{
    (void)r;
    cs_json_write_object_begin(w);
    w_columns(w, s, 0, SPECS(order_specs));
    cs_json_write_key_c(w, "shipTo");
    cs_json_write_object_begin(w);
    w_columns(w, s, 11, SPECS(ship_to_specs));
    cs_json_write_object_end(w);
    w_columns(w, s, 17, SPECS(order_tail_specs));
    w_children(m, w, "lines", lines_sql, col(s, 0), SPECS(line_specs));
    cs_json_write_object_end(w);
}

static void get_order(sb_exactmax *m, const char *ordnum, sb_reply *reply)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT %s FROM SO_Master WHERE ORDNUM_27 = ?", order_columns);
    sqlite3_stmt *s = prepare(m, sql);
    sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
    if (!s || sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        error_reply(reply, 404, "NOT_FOUND", "no such sales order", "SO_Master", "ORDNUM_27");
        return;
    }
    reply->status = 200;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    w_order(m, &w, s, NULL);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    sqlite3_finalize(s);
}

/* ---- incremental reads: (ModifiedDate, key) after the cursor ---- */

typedef struct cursor {
    int64_t since_ms;
    const char *after_key;
    int64_t limit;
} cursor;

static bool read_cursor(const sb_max_request *req, cursor *c, sb_reply *reply)
{
    *c = (cursor){INT64_MIN, req->after_key ? req->after_key : "", DEFAULT_LIMIT};
    if (req->modified_since &&
        cs_time_parse_rfc3339(cs_str_from_c(req->modified_since), &c->since_ms, NULL, NULL)) {
        error_reply(reply, 400, "INVALID_FIELD", "modifiedSince is not an RFC 3339 time", "", "");
        return false;
    }
    if (req->limit && (cs_parse_int64(cs_str_from_c(req->limit), &c->limit) || c->limit < 1 ||
                       c->limit > MAX_LIMIT)) {
        error_reply(reply, 400, "INVALID_FIELD", "limit is 1 to 500", "", "");
        return false;
    }
    return true;
}

typedef void (*row_writer)(sb_exactmax *m, cs_json_writer *w, sqlite3_stmt *s, const resource *r);

/* Runs a SELECT whose ?1 ?2 ?3 are since, after key and limit + 1, whose
 * column key_col is the key and modified_col the ModifiedDate, and answers
 * {"items", "next"}. */
static void list(sb_exactmax *m, const char *sql, int key_col, int modified_col, const cursor *c,
                 row_writer write_row, const resource *r, sb_reply *reply)
{
    sqlite3_stmt *s = prepare(m, sql);
    sqlite3_bind_int64(s, 1, c->since_ms);
    sqlite3_bind_text(s, 2, c->after_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, c->limit + 1);
    reply->status = 200;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "items");
    cs_json_write_array_begin(&w);
    int64_t n = 0, last_ms = 0;
    char last_key[64] = "";
    bool more = false;
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        if (n == c->limit) {
            more = true;
            break;
        }
        write_row(m, &w, s, r);
        last_ms = sqlite3_column_int64(s, modified_col);
        snprintf(last_key, sizeof(last_key), "%s", col(s, key_col));
        n++;
    }
    cs_json_write_array_end(&w);
    cs_json_write_key_c(&w, "next");
    if (more) {
        cs_json_write_object_begin(&w);
        w_time(&w, "modifiedSince", last_ms);
        w_text(&w, "afterKey", last_key);
        cs_json_write_object_end(&w);
    } else {
        cs_json_write_null(&w);
    }
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
    sqlite3_finalize(s);
}

#define AFTER_CURSOR(modified, key)                                                                \
    " WHERE (" modified " > ?1 OR (" modified " = ?1 AND " key " > ?2))"
#define IN_CURSOR_ORDER(modified, key) " ORDER BY " modified ", " key " LIMIT ?3"

static void list_orders(sb_exactmax *m, const sb_max_request *req, const cursor *c, sb_reply *reply)
{
    const char *type = req->s_type;
    if (type && strcmp(type, "CU") != 0 && strcmp(type, "CR") != 0) {
        error_reply(reply, 400, "INVALID_FIELD", "sType is CU or CR", "SO_Master", "STYPE_27");
        return;
    }
    char sql[1024];
    snprintf(
        sql, sizeof(sql),
        "SELECT %s FROM SO_Master" AFTER_CURSOR(
            "ModifiedDate",
            "ORDNUM_27") " AND ModifiedDate > 0%s%s%s" IN_CURSOR_ORDER("ModifiedDate", "ORDNUM_27"),
        order_columns, type ? " AND STYPE_27 = '" : "", type ? type : "", type ? "'" : "");
    list(m, sql, 0, 19, c, w_order, NULL, reply);
}

/* ---- creating an order ---- */

typedef struct new_line {
    cs_str part, price, stockroom, due, unit;
    int64_t quantity;
} new_line;

typedef struct new_order {
    cs_str cust_id, cust_po, ord_id, type, ord_date, ship_via, terms, tax_code, curr, reason;
    cs_str name, addr1, city, state, zip, country;
    new_line lines[MAX_LINES];
    int line_count;
} new_order;

static cs_str field(const cs_json *obj, const char *key)
{
    const cs_json *v = cs_json_object_get(obj, cs_str_from_c(key));
    return v && v->type == CS_JSON_STRING ? v->text : CS_STR_NULL;
}

static bool exists(sb_exactmax *m, const char *sql, cs_str key)
{
    sqlite3_stmt *s = prepare(m, sql);
    bind_str(s, 1, key);
    bool found = s && sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

static bool parse_line(const cs_json *l, new_line *out)
{
    int64_t scaled;
    out->part = field(l, "prtNum");
    out->price = field(l, "price");
    out->stockroom = field(l, "stk");
    out->due = field(l, "dueDate");
    out->unit = field(l, "slsUom");
    cs_str qty = field(l, "qty");
    if (cs_decimal_parse(qty, 4, &scaled, NULL) || scaled <= 0 || scaled % 10000 != 0) {
        return false;
    }
    out->quantity = scaled / 10000;
    int64_t units;
    return out->part.len && out->price.len && cs_decimal_parse(out->price, 4, &units, NULL) == 0;
}

/* The request's fields, or an error reply naming the one at fault. */
static bool parse_order(const cs_json *body, new_order *o, sb_reply *reply)
{
    static const char *const heads[] = {"custId", "custPo", "ordId",  "sType", "ordDte",
                                        "shpVia", "terms",  "taxCd1", "curr",  "reason"};
    cs_str *values[] = {&o->cust_id,  &o->cust_po, &o->ord_id,   &o->type, &o->ord_date,
                        &o->ship_via, &o->terms,   &o->tax_code, &o->curr, &o->reason};
    for (size_t i = 0; i < 10; i++) {
        *values[i] = field(body, heads[i]);
    }
    const cs_json *ship = cs_json_object_get(body, CS_STR_LIT("shipTo"));
    o->name = field(ship, "name");
    o->addr1 = field(ship, "addr1");
    o->city = field(ship, "city");
    o->state = field(ship, "state");
    o->zip = field(ship, "zipCd");
    o->country = field(ship, "cntry");
    const cs_json *lines = cs_json_object_get(body, CS_STR_LIT("lines"));
    const char *why = NULL, *column = NULL;
    if (o->cust_po.len == 0 || o->cust_po.len > 20) {
        why = "custPo is 1 to 20 characters", column = "CUSTPO_27";
    } else if (!cs_str_eq_c(o->type, "CU") && !cs_str_eq_c(o->type, "CR")) {
        why = "sType is CU or CR", column = "STYPE_27";
    } else if (!cs_currency_find(o->curr)) {
        why = "curr is not a currency MAX knows", column = "CURR_27";
    } else if (!lines || lines->type != CS_JSON_ARRAY || lines->count == 0 ||
               lines->count > MAX_LINES) {
        why = "an order has 1 to 200 lines", column = "LINNUM_28";
    }
    for (const cs_json *l = why ? NULL : lines->first; l; l = l->next) {
        if (!parse_line(l, &o->lines[o->line_count++])) {
            why = "a line needs prtNum, a whole qty of 1 or more and a decimal price";
            column = "ORGQTY_28";
        }
    }
    if (why) {
        error_reply(reply, 400, "INVALID_FIELD", why,
                    column[5] == '2' && column[6] == '8' ? "SO_Detail" : "SO_Master", column);
    }
    return why == NULL;
}

/* The lines' parts and stockrooms must exist, as MAX's foreign keys want. */
static bool check_line_references(sb_exactmax *m, const new_order *o, sb_reply *reply)
{
    for (int i = 0; i < o->line_count; i++) {
        char message[160];
        if (!exists(m, "SELECT 1 FROM Part_Master WHERE PRTNUM_01 = ?", o->lines[i].part)) {
            snprintf(message, sizeof(message), "no part %.*s (line %d)",
                     CS_STR_FMT(o->lines[i].part), i + 1);
            error_reply(reply, 422, "UNKNOWN_PART", message, "Part_Master", "PRTNUM_01");
            return false;
        }
        if (!exists(m, "SELECT 1 FROM Stockroom WHERE STK = ?", o->lines[i].stockroom)) {
            snprintf(message, sizeof(message), "no stockroom %.*s (line %d)",
                     CS_STR_FMT(o->lines[i].stockroom), i + 1);
            error_reply(reply, 422, "UNKNOWN_STOCKROOM", message, "SO_Detail", "STK_28");
            return false;
        }
    }
    return true;
}

/* The customer too, for a new order. */
static bool check_references(sb_exactmax *m, const new_order *o, sb_reply *reply)
{
    if (!exists(m, "SELECT 1 FROM Customer_Master WHERE CUSTID_23 = ?", o->cust_id)) {
        error_reply(reply, 422, "UNKNOWN_CUSTOMER", "no customer with this custId",
                    "Customer_Master", "CUSTID_23");
        return false;
    }
    return check_line_references(m, o, reply);
}

/* MAX(ORDNUM_27) + 1, as MAX's own screens allocate. Numbers are eight
 * digits, so the greatest is the last in the key's index: no scan of every
 * order for each new one. */
static void next_number(sb_exactmax *m, char out[9])
{
    sqlite3_stmt *s = prepare(m, "SELECT CAST(ORDNUM_27 AS INTEGER) + 1 FROM SO_Master WHERE "
                                 "ORDNUM_27 GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' "
                                 "ORDER BY ORDNUM_27 DESC LIMIT 1");
    long long n = s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 1;
    sqlite3_finalize(s);
    snprintf(out, 9, "%08lld", n);
}

/* Another MAX user saving an order first: the number read is gone. */
static void maybe_race(sb_exactmax *m, const char *ordnum)
{
    if (m->race_every > 0 && ++m->allocations % m->race_every == 0) {
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO SO_Master (ORDNUM_27, CUSTID_27, STYPE_27, STATUS_27, CUSTPO_27, "
                 "ModifiedDate, RowVersion) VALUES ('%s', 'C000001', 'CU', '3', '', 0, 0)",
                 ordnum);
        sqlite3_exec(m->db, sql, NULL, NULL, NULL);
    }
}

static int insert_master(sb_exactmax *m, const new_order *o, const char *ordnum, int64_t now)
{
    sqlite3_stmt *s = prepare(m, "INSERT INTO SO_Master VALUES (?, ?, ?, '3', ?, ?, ?, ?, ?, ?, "
                                 "?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)");
    sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
    const cs_str values[] = {o->cust_id,  o->type,     o->cust_po, o->ord_id,
                             o->ord_date, o->ship_via, o->terms,   o->tax_code,
                             o->curr,     o->name,     o->addr1,   o->city,
                             o->state,    o->zip,      o->country, o->reason};
    for (int i = 0; i < 16; i++) {
        bind_str(s, 2 + i, values[i]);
    }
    sqlite3_bind_int64(s, 18, now);
    sqlite3_bind_int64(s, 19, next_version(m));
    return step_once(s);
}

static void insert_lines(sb_exactmax *m, const new_order *o, const char *ordnum)
{
    for (int i = 0; i < o->line_count; i++) {
        const new_line *l = &o->lines[i];
        sqlite3_stmt *s = prepare(m, "INSERT INTO SO_Detail VALUES (?, ?, 1, ?, '3', ?, ?, 0, 0, "
                                     "?, '', ?, ?, ?)");
        sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 2, i + 1);
        bind_str(s, 3, l->part);
        bind_str(s, 4, l->price);
        sqlite3_bind_int64(s, 5, l->quantity);
        bind_str(s, 6, l->due);
        bind_str(s, 7, l->stockroom);
        bind_str(s, 8, l->unit.len ? l->unit : CS_STR_LIT("EA"));
        sqlite3_bind_int64(s, 9, l->quantity);
        step_once(s);
    }
}

static void answer_number(sb_reply *reply, unsigned status, const char *ordnum, int64_t version,
                          const char *code)
{
    reply->status = status;
    cs_json_writer w;
    cs_json_writer_init(&w, &reply->body);
    cs_json_write_object_begin(&w);
    if (code) {
        w_text(&w, "code", code);
        w_text(&w, "message", "a sales order with this customer PO exists");
        w_text(&w, "table", "SO_Master");
        w_text(&w, "column", "CUSTPO_27");
    }
    w_text(&w, "ordNum", ordnum);
    w_version(&w, version);
    cs_json_write_object_end(&w);
    cs_json_writer_finish(&w, NULL);
    cs_json_writer_clean_up(&w);
}

/* A repeated customer PO answers the order it made. */
static bool duplicate(sb_exactmax *m, cs_str cust_po, sb_reply *reply)
{
    /* The second condition lets SQLite use the partial index on CUSTPO_27
     * (it cannot know that the bound value is not ''). */
    sqlite3_stmt *s = prepare(m, "SELECT ORDNUM_27, RowVersion FROM SO_Master WHERE CUSTPO_27 = ? "
                                 "AND CUSTPO_27 != ''");
    bind_str(s, 1, cust_po);
    bool found = s && sqlite3_step(s) == SQLITE_ROW;
    if (found) {
        answer_number(reply, 409, col(s, 0), sqlite3_column_int64(s, 1), "DUPLICATE_CUSTPO");
    }
    sqlite3_finalize(s);
    return found;
}

static void create_order(sb_exactmax *m, cs_str body, sb_reply *reply)
{
    cs_arena arena;
    cs_arena_init(&arena, 0, 16 * 1024 * 1024);
    cs_json *doc;
    new_order *o = cs_arena_calloc(&arena, 1, sizeof(*o));
    if (!o || cs_json_parse(&arena, body, &doc, NULL) || doc->type != CS_JSON_OBJECT) {
        error_reply(reply, 400, "INVALID_FIELD", "the body is not a JSON object", "", "");
    } else if (parse_order(doc, o, reply) && !duplicate(m, o->cust_po, reply) &&
               check_references(m, o, reply)) {
        char ordnum[9];
        int64_t now = cs_time_now_ms();
        sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
        /* The bridge's promise: a taken number is retried, never reported. */
        int rc = SQLITE_CONSTRAINT;
        for (int attempt = 0; rc == SQLITE_CONSTRAINT && attempt < 100; attempt++) {
            next_number(m, ordnum);
            maybe_race(m, ordnum);
            rc = insert_master(m, o, ordnum, now);
            m->allocation_retries += rc == SQLITE_CONSTRAINT;
        }
        if (rc != SQLITE_DONE) {
            sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
            error_reply(reply, 503, "UNAVAILABLE", "the order could not be stored", "SO_Master",
                        "ORDNUM_27");
        } else {
            insert_lines(m, o, ordnum);
            sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL);
            answer_number(reply, 201, ordnum, m->version, NULL);
        }
    }
    cs_arena_clean_up(&arena);
}

/* ---- changing an order ---- */

/* A line of a PATCH: a new quantity (and price) for a line the order has,
 * or a line it has not got. */
typedef struct line_patch {
    int linnum;
    bool exists;
    new_line line; /* quantity: CURQTY_28 */
} line_patch;

/* One entry of "lines", checked against the order; false and an error
 * reply naming the line and column at fault. */
static bool check_line_patch(sb_exactmax *m, const char *ordnum, const cs_json *l, line_patch *out,
                             sb_reply *reply)
{
    int64_t linnum = 0, scaled = -1, cents = 0;
    const cs_json *n = cs_json_object_get(l, CS_STR_LIT("linNum")); /* a number or a string */
    cs_str number =
        n && n->type != CS_JSON_OBJECT && n->type != CS_JSON_ARRAY ? n->text : CS_STR_NULL;
    cs_str part = field(l, "prtNum"), price = field(l, "price");
    if (cs_parse_int64(number, &linnum) || linnum < 1 || linnum > 999) {
        error_reply(reply, 400, "INVALID_FIELD", "each line of a change names its linNum (1-999)",
                    "SO_Detail", "LINNUM_28");
        return false;
    }
    out->linnum = (int)linnum;
    sqlite3_stmt *s = prepare(m, "SELECT PRTNUM_28, SHPQTY_28 FROM SO_Detail WHERE ORDNUM_28 = ? "
                                 "AND LINNUM_28 = ?");
    sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 2, out->linnum);
    out->exists = s && sqlite3_step(s) == SQLITE_ROW;
    bool same_part = out->exists && (!part.len || cs_str_eq_c(part, col(s, 0)));
    int64_t shipped = out->exists ? sqlite3_column_int64(s, 1) : 0;
    sqlite3_finalize(s);
    char message[160];
    if (!out->exists) {
        new_order one = {.line_count = 1};
        if (!parse_line(l, &one.lines[0])) {
            snprintf(message, sizeof(message),
                     "new line %d needs prtNum, a whole qty of 1 or more and a decimal price",
                     out->linnum);
            error_reply(reply, 400, "INVALID_FIELD", message, "SO_Detail", "ORGQTY_28");
            return false;
        }
        out->line = one.lines[0];
        return true;
    }
    out->line.part = part;
    out->line.price = price;
    const char *why = NULL, *code = "INVALID_FIELD", *column = "CURQTY_28";
    unsigned status = 400;
    if (!same_part) {
        why = "is another part: a line's part does not change", column = "PRTNUM_28";
    } else if (cs_decimal_parse(field(l, "qty"), 4, &scaled, NULL) || scaled < 0 ||
               scaled % 10000 != 0) {
        why = "needs a whole qty of 0 or more";
    } else if (price.len && cs_decimal_parse(price, 4, &cents, NULL)) {
        why = "has a price that is not a decimal", column = "PRICE_28";
    } else if (scaled / 10000 < shipped) {
        why = "cannot go below the quantity it shipped", code = "BELOW_SHIPPED", status = 422;
    }
    if (why) {
        snprintf(message, sizeof(message), "line %d %s", out->linnum, why);
        error_reply(reply, status, code, message, "SO_Detail", column);
        return false;
    }
    out->line.quantity = scaled / 10000;
    return true;
}

static void write_line_patch(sb_exactmax *m, const char *ordnum, const line_patch *p)
{
    sqlite3_stmt *s;
    if (p->exists) {
        /* 0 closes the line (5); down to what shipped completes it (4). */
        s = prepare(m, "UPDATE SO_Detail SET CURQTY_28 = ?1, PRICE_28 = COALESCE(?2, PRICE_28), "
                       "STATUS_28 = CASE WHEN ?1 = 0 THEN '5' WHEN ?1 <= SHPQTY_28 THEN '4' "
                       "ELSE '3' END WHERE ORDNUM_28 = ?3 AND LINNUM_28 = ?4");
        sqlite3_bind_int64(s, 1, p->line.quantity);
        if (p->line.price.len) {
            bind_str(s, 2, p->line.price);
        }
    } else {
        s = prepare(m, "INSERT INTO SO_Detail VALUES (?3, ?4, 1, ?5, '3', ?2, ?1, 0, 0, ?6, '', "
                       "?7, ?8, ?1)");
        sqlite3_bind_int64(s, 1, p->line.quantity);
        bind_str(s, 2, p->line.price);
        bind_str(s, 5, p->line.part);
        bind_str(s, 6, p->line.due);
        bind_str(s, 7, p->line.stockroom);
        bind_str(s, 8, p->line.unit.len ? p->line.unit : CS_STR_LIT("EA"));
    }
    sqlite3_bind_text(s, 3, ordnum, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 4, p->linnum);
    step_once(s);
}

/* "lines" of a PATCH, all checked before any is written; false with the
 * error reply. New lines' parts and stockrooms must exist, as on a POST
 * (the order's customer does). */
static bool patch_lines(sb_exactmax *m, const char *ordnum, const cs_json *lines, cs_arena *arena,
                        sb_reply *reply)
{
    if (!lines) {
        return true;
    }
    if (lines->type != CS_JSON_ARRAY || lines->count > MAX_LINES) {
        error_reply(reply, 400, "INVALID_FIELD", "lines is a list of at most 200 changes",
                    "SO_Detail", "LINNUM_28");
        return false;
    }
    line_patch *patches = cs_arena_calloc(arena, lines->count + 1, sizeof(*patches));
    new_order *added = cs_arena_calloc(arena, 1, sizeof(*added));
    if (!patches || !added) {
        error_reply(reply, 503, "UNAVAILABLE", "out of memory", "", "");
        return false;
    }
    size_t n = 0;
    for (const cs_json *l = lines->first; l; l = l->next, n++) {
        if (!check_line_patch(m, ordnum, l, &patches[n], reply)) {
            return false;
        }
        if (!patches[n].exists) {
            added->lines[added->line_count++] = patches[n].line;
        }
    }
    if (!check_line_references(m, added, reply)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        write_line_patch(m, ordnum, &patches[i]);
    }
    return true;
}

/* The header's fields a PATCH may change; those it leaves out keep their
 * values. */
static void patch_header(sb_exactmax *m, const char *ordnum, const cs_json *doc)
{
    static const char *const ship_to[] = {"name", "addr1", "city", "state", "zipCd", "cntry"};
    const cs_json *to = cs_json_object_get(doc, CS_STR_LIT("shipTo"));
    cs_str new_status = field(doc, "status");
    cs_str values[] = {cs_str_eq_c(new_status, "5") ? new_status : CS_STR_NULL,
                       field(doc, "shpVia"),
                       field(doc, "reason"),
                       field(to, ship_to[0]),
                       field(to, ship_to[1]),
                       field(to, ship_to[2]),
                       field(to, ship_to[3]),
                       field(to, ship_to[4]),
                       field(to, ship_to[5])};
    sqlite3_stmt *u = prepare(
        m, "UPDATE SO_Master SET STATUS_27 = COALESCE(?1, STATUS_27), SHPVIA_27 = COALESCE(?2, "
           "SHPVIA_27), REASON_27 = COALESCE(?3, REASON_27), NAME_27 = COALESCE(?4, NAME_27), "
           "ADDR1_27 = COALESCE(?5, ADDR1_27), CITY_27 = COALESCE(?6, CITY_27), STATE_27 = "
           "COALESCE(?7, STATE_27), ZIPCD_27 = COALESCE(?8, ZIPCD_27), CNTRY_27 = COALESCE(?9, "
           "CNTRY_27), ModifiedDate = ?10, RowVersion = ?11 WHERE ORDNUM_27 = ?12");
    for (int i = 0; i < 9; i++) {
        /* A field sent empty is cleared, a field left out stays. */
        bool sent = i < 3 ? values[i].len > 0
                          : cs_json_object_get(to, cs_str_from_c(ship_to[i - 3])) != NULL;
        if (sent) {
            bind_str(u, i + 1, values[i]);
        }
    }
    sqlite3_bind_int64(u, 10, cs_time_now_ms());
    sqlite3_bind_int64(u, 11, next_version(m));
    sqlite3_bind_text(u, 12, ordnum, -1, SQLITE_TRANSIENT);
    step_once(u);
}

/* PATCH with If-Match: {"status": "5"} cancels; shpVia, reason and shipTo
 * change; "lines" change quantities and add lines. */
static void patch_order(sb_exactmax *m, const char *ordnum, const sb_max_request *req,
                        sb_reply *reply)
{
    sqlite3_stmt *s = prepare(m, "SELECT STATUS_27, RowVersion FROM SO_Master WHERE ORDNUM_27 = ?");
    sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
    if (!s || sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        error_reply(reply, 404, "NOT_FOUND", "no such sales order", "SO_Master", "ORDNUM_27");
        return;
    }
    char status[4], version[20];
    snprintf(status, sizeof(status), "%s", col(s, 0));
    snprintf(version, sizeof(version), "%016llX", (unsigned long long)sqlite3_column_int64(s, 1));
    sqlite3_finalize(s);
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *doc = NULL;
    if (!req->if_match || strcmp(req->if_match, version) != 0) {
        error_reply(reply, 409, "ROW_VERSION_CONFLICT",
                    "the order changed since it was read; read it again", "SO_Master",
                    "RowVersion");
    } else if (strcmp(status, "5") == 0) {
        error_reply(reply, 422, "CLOSED_ORDER", "the order is closed", "SO_Master", "STATUS_27");
    } else if (cs_json_parse(&arena, req->body, &doc, NULL) || doc->type != CS_JSON_OBJECT) {
        error_reply(reply, 400, "INVALID_FIELD", "the body is not a JSON object", "", "");
    } else {
        sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
        bool ok =
            patch_lines(m, ordnum, cs_json_object_get(doc, CS_STR_LIT("lines")), &arena, reply);
        if (ok) {
            patch_header(m, ordnum, doc);
        }
        sqlite3_exec(m->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
        if (ok) {
            get_order(m, ordnum, reply);
        }
    }
    cs_arena_clean_up(&arena);
}

/* ---- other records ---- */

static const column_spec customer_specs[] = {
    {"custId", TEXT}, {"name", TEXT},  {"addr1", TEXT},        {"city", TEXT},
    {"state", TEXT},  {"zipCd", TEXT}, {"cntry", TEXT},        {"phone", TEXT},
    {"cntct", TEXT},  {"terms", TEXT}, {"shpVia", TEXT},       {"txCde1", TEXT},
    {"curr", TEXT},   {"email", TEXT}, {"modifiedDate", TIME}, {"rowVersion", VERSION},
    {"addr2", TEXT}};
static const column_spec stock_specs[] = {
    {"prtNum", TEXT}, {"stk", TEXT}, {"qtyOh", QUANTITY}, {"modifiedDate", TIME}};
static const column_spec shipment_specs[] = {
    {"shipmentId", TEXT}, {"ordNum", TEXT},   {"custPo", TEXT},      {"shpDte", TIME},
    {"carrier", TEXT},    {"tracking", TEXT}, {"modifiedDate", TIME}};
static const column_spec shipment_line_specs[] = {
    {"linNum", TEXT}, {"prtNum", TEXT}, {"shpQty", QUANTITY}, {"stk", TEXT}};
static const column_spec invoice_specs[] = {
    {"invce", TEXT},  {"ordNum", TEXT},       {"custPo", TEXT}, {"name", TEXT},
    {"taxCd1", TEXT}, {"creationDate", TIME}, {"curr", TEXT},   {"total", TEXT}};
static const column_spec part_specs[] = {{"prtNum", TEXT}, {"pmDes1", TEXT},
                                         {"type", TEXT},   {"stk", TEXT},
                                         {"slsUom", TEXT}, {"modifiedDate", TIME}};
static const column_spec price_specs[] = {
    {"priceList", TEXT}, {"curr", TEXT}, {"minQty", QUANTITY}, {"price", TEXT}};

static const char parts_sql[] = "SELECT PRTNUM_01, PMDES1_01, TYPE_01, STK_29, 'EA', ModifiedDate "
                                "FROM Part_Master" AFTER_CURSOR("ModifiedDate", "PRTNUM_01")
                                    IN_CURSOR_ORDER("ModifiedDate", "PRTNUM_01");

#define CUSTOMER_SELECT                                                                            \
    "SELECT CUSTID_23, NAME_23, ADDR1_23, CITY_23, STATE_23, ZIPCD_23, CNTRY_23, PHONE_23, "       \
    "CNTCT_23, TERMS_23, SHPVIA_23, TXCDE1_23, CURR_23, EMAIL, ModifiedDate, RowVersion, "         \
    "ADDR2_23 FROM Customer_Master"

static const char customers_sql[] = CUSTOMER_SELECT AFTER_CURSOR("ModifiedDate", "CUSTID_23")
    IN_CURSOR_ORDER("ModifiedDate", "CUSTID_23");

static const char stock_sql[] =
    "SELECT PRTNUM_06, STK_06, QTYOH_06, ModifiedDate, PRTNUM_06 || '@' || STK_06 AS K FROM "
    "Part_Stock" AFTER_CURSOR("ModifiedDate", "(PRTNUM_06 || '@' || STK_06)")
        IN_CURSOR_ORDER("ModifiedDate", "K");

static const char shipments_sql[] =
    "SELECT SHIPMENTID, ORDNUM, CUSTPO_27, SHPDTE, CARRIER, TRACKING, Shipment.ModifiedDate FROM "
    "Shipment JOIN SO_Master ON ORDNUM = ORDNUM_27" AFTER_CURSOR("Shipment.ModifiedDate",
                                                                 "SHIPMENTID")
        IN_CURSOR_ORDER("Shipment.ModifiedDate", "SHIPMENTID");

static const char invoices_sql[] =
    "SELECT INVCE_31, ORDNUM_31, CUSTPO_27, NAME_31, TAXCD1_31, CreationDate, CURR, TOTAL FROM "
    "Invoice_Master JOIN SO_Master ON ORDNUM_31 = ORDNUM_27" AFTER_CURSOR(
        "CreationDate", "INVCE_31") IN_CURSOR_ORDER("CreationDate", "INVCE_31");

/* An incremental read: its query (the ?1 ?2 ?3 of list()), where its key
 * and time are, how a row is written, and an optional child list. */
struct resource {
    const char *path;
    const char *sql;
    int key_col, modified_col;
    const column_spec *specs;
    size_t spec_count;
    const char *child_key, *child_sql;
    const column_spec *child_specs;
    size_t child_count;
};

static const resource resources[] = {
    {"/customers", customers_sql, 0, 14, SPECS(customer_specs), NULL, NULL, NULL, 0},
    {"/parts", parts_sql, 0, 5, SPECS(part_specs), "prices",
     "SELECT PRICELIST, CURR, MINQTY, PRICE FROM Price WHERE PRTNUM = ? ORDER BY CURR, MINQTY",
     SPECS(price_specs)},
    {"/inventory", stock_sql, 4, 3, SPECS(stock_specs), NULL, NULL, NULL, 0},
    {"/shipments", shipments_sql, 0, 6, SPECS(shipment_specs), "lines",
     "SELECT LINNUM, PRTNUM, SHPQTY, STK FROM Shipment_Line WHERE SHIPMENTID = ? ORDER BY LINNUM",
     SPECS(shipment_line_specs)},
    {"/invoices", invoices_sql, 0, 5, SPECS(invoice_specs), NULL, NULL, NULL, 0},
};

static void w_record(sb_exactmax *m, cs_json_writer *w, sqlite3_stmt *s, const resource *r)
{
    cs_json_write_object_begin(w);
    w_columns(w, s, 0, r->specs, r->spec_count);
    if (r->child_key) {
        w_children(m, w, r->child_key, r->child_sql, col(s, 0), r->child_specs, r->child_count);
    }
    cs_json_write_object_end(w);
}

static const resource *resource_at(const char *path)
{
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        if (strcmp(resources[i].path, path) == 0) {
            return &resources[i];
        }
    }
    return NULL;
}

/* ---- the warehouse ---- */

static int64_t on_hand(sb_exactmax *m, const char *part, const char *stockroom)
{
    sqlite3_stmt *s = prepare(m, "SELECT QTYOH_06 FROM Part_Stock WHERE PRTNUM_06 = ? AND "
                                 "STK_06 = ?");
    sqlite3_bind_text(s, 1, part, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, stockroom, -1, SQLITE_TRANSIENT);
    int64_t n = s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return n; /* -1: a part that is not stocked (DISCOUNT, FREIGHT) */
}

static void run_sql(sb_exactmax *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void run_sql(sb_exactmax *m, const char *fmt, ...)
{
    char sql[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    sqlite3_exec(m->db, sql, NULL, NULL, NULL);
}

/* Ships what the order's lines can: each line's due quantity (half of it,
 * at least one, when partial) as far as its stockroom has stock; the rest
 * of a short line is backordered. Returns the units shipped. */
static int64_t ship_order(sb_exactmax *m, const char *ordnum, bool partial, const char *id,
                          int64_t now)
{
    sqlite3_stmt *s = prepare(m, "SELECT LINNUM_28, PRTNUM_28, CURQTY_28 - SHPQTY_28, STK_28 "
                                 "FROM SO_Detail WHERE ORDNUM_28 = ? AND STATUS_28 = '3'");
    sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
    int64_t shipped = 0;
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        int line = sqlite3_column_int(s, 0);
        const char *part = col(s, 1), *stk = col(s, 3);
        int64_t due = sqlite3_column_int64(s, 2), stock = on_hand(m, part, stk);
        if (stock < 0) {
            /* DISCOUNT, FREIGHT: nothing to ship, done with the order. */
            run_sql(m,
                    "UPDATE SO_Detail SET SHPQTY_28 = CURQTY_28, STATUS_28 = '4' WHERE "
                    "ORDNUM_28 = '%s' AND LINNUM_28 = %d",
                    ordnum, line);
            continue;
        }
        int64_t want = partial && due > 1 ? due / 2 : due;
        int64_t take = stock < want ? stock : want;
        if (take <= 0) {
            run_sql(m,
                    "UPDATE SO_Detail SET BCKQTY_28 = %lld WHERE ORDNUM_28 = '%s' AND "
                    "LINNUM_28 = %d",
                    (long long)due, ordnum, line);
            continue;
        }
        run_sql(m,
                "UPDATE SO_Detail SET SHPQTY_28 = SHPQTY_28 + %lld, BCKQTY_28 = %lld, "
                "STATUS_28 = CASE WHEN SHPQTY_28 + %lld >= CURQTY_28 THEN '4' ELSE '3' END "
                "WHERE ORDNUM_28 = '%s' AND LINNUM_28 = %d",
                (long long)take, (long long)(stock < want ? due - take : 0), (long long)take,
                ordnum, line);
        if (stock >= 0) {
            run_sql(m,
                    "UPDATE Part_Stock SET QTYOH_06 = QTYOH_06 - %lld, ModifiedDate = %lld "
                    "WHERE PRTNUM_06 = '%s' AND STK_06 = '%s'",
                    (long long)take, (long long)now, part, stk);
        }
        run_sql(m, "INSERT INTO Shipment_Line VALUES ('%s', %d, '%s', %lld, '%s')", id, line, part,
                (long long)take, stk);
        shipped += take;
    }
    sqlite3_finalize(s);
    return shipped;
}

/* What the order billed: its lines' shipped quantities at their prices. */
static int64_t order_total(sb_exactmax *m, const char *ordnum, const char *curr, char out[32])
{
    const cs_currency *c = cs_currency_find(cs_str_from_c(curr));
    int exponent = c ? c->exponent : 2;
    sqlite3_stmt *s = prepare(m, "SELECT PRICE_28, SHPQTY_28 FROM SO_Detail WHERE ORDNUM_28 = ?");
    sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
    int64_t total = 0;
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        int64_t price = 0;
        cs_decimal_parse(cs_str_from_c(col(s, 0)), exponent, &price, NULL);
        total += price * sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    cs_decimal_format(total, exponent, out);
    return total;
}

/* A complete order (every line shipped) gets status 4 and an invoice. */
static void complete_if_done(sb_exactmax *m, const char *ordnum, int64_t now)
{
    sqlite3_stmt *s = prepare(m, "SELECT COUNT(*) FROM SO_Detail WHERE ORDNUM_28 = ? AND "
                                 "STATUS_28 = '3'");
    sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
    bool open = s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0;
    sqlite3_finalize(s);
    s = prepare(m, "SELECT NAME_27, TAXCD1_27, CURR_27 FROM SO_Master WHERE ORDNUM_27 = ?");
    sqlite3_bind_text(s, 1, ordnum, -1, SQLITE_TRANSIENT);
    if (!open && s && sqlite3_step(s) == SQLITE_ROW) {
        char invoice[9], total[32];
        sqlite3_stmt *count = prepare(m, "SELECT COUNT(*) + 9001 FROM Invoice_Master");
        snprintf(invoice, sizeof(invoice), "%08lld",
                 count && sqlite3_step(count) == SQLITE_ROW
                     ? (long long)sqlite3_column_int64(count, 0)
                     : 9001ll);
        sqlite3_finalize(count);
        if (order_total(m, ordnum, col(s, 2), total) == 0) {
            /* Nothing shipped and nothing left: cancelled, not invoiced. */
            run_sql(m,
                    "UPDATE SO_Master SET STATUS_27 = '5', ModifiedDate = %lld, RowVersion = %lld "
                    "WHERE ORDNUM_27 = '%s'",
                    (long long)now, (long long)next_version(m), ordnum);
        } else {
            run_sql(m,
                    "INSERT INTO Invoice_Master VALUES ('%s', '%s', '%s', '%s', %lld, '%s', '%s')",
                    invoice, ordnum, col(s, 0), col(s, 1), (long long)now, col(s, 2), total);
            run_sql(m,
                    "UPDATE SO_Master SET STATUS_27 = '4', INVCE_27 = '%s', ModifiedDate = %lld, "
                    "RowVersion = %lld WHERE ORDNUM_27 = '%s'",
                    invoice, (long long)now, (long long)next_version(m), ordnum);
        }
    }
    sqlite3_finalize(s);
}

/* A backordered remainder the warehouse gives up on: the line closes. */
static void cancel_backorders(sb_exactmax *m, const char *ordnum)
{
    run_sql(m,
            "UPDATE SO_Detail SET STATUS_28 = '5', BCKQTY_28 = 0 WHERE ORDNUM_28 = '%s' AND "
            "STATUS_28 = '3' AND BCKQTY_28 > 0",
            ordnum);
}

static int64_t invoice_count(sb_exactmax *m)
{
    sqlite3_stmt *s = prepare(m, "SELECT COUNT(*) FROM Invoice_Master");
    int64_t n = s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return n;
}

void sb_exactmax_ship(sb_exactmax *m, bool partial, bool cancel_short, const char *carrier,
                      sb_reply *reply)
{
    pthread_mutex_lock(&m->mu);
    int64_t now = cs_time_now_ms(), units = 0, events = 0, invoices = invoice_count(m);
    sqlite3_stmt *s = prepare(m, "SELECT ORDNUM_27 FROM SO_Master WHERE STYPE_27 = 'CU' AND "
                                 "STATUS_27 = '3' AND ModifiedDate > 0 ORDER BY ORDNUM_27");
    sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        char ordnum[16], id[40];
        snprintf(ordnum, sizeof(ordnum), "%s", col(s, 0));
        snprintf(id, sizeof(id), "SH-%s-%lld", ordnum, (long long)(m->shipments_made + 1));
        int64_t shipped = ship_order(m, ordnum, partial, id, now);
        if (cancel_short) {
            cancel_backorders(m, ordnum);
        }
        if (shipped == 0 && cancel_short) {
            complete_if_done(m, ordnum, now);
        }
        if (shipped > 0) {
            m->shipments_made++;
            events++;
            units += shipped;
            run_sql(m, "INSERT INTO Shipment VALUES ('%s', '%s', %lld, '%s', '1Z%010lld', %lld)",
                    id, ordnum, (long long)now, carrier, (long long)(m->shipments_made * 7919),
                    (long long)now);
            run_sql(m,
                    "UPDATE SO_Master SET ModifiedDate = %lld, RowVersion = %lld WHERE "
                    "ORDNUM_27 = '%s'",
                    (long long)now, (long long)next_version(m), ordnum);
            complete_if_done(m, ordnum, now);
        }
    }
    sqlite3_finalize(s);
    sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL);
    reply->status = 200;
    cs_buf_appendf(&reply->body, "{\"shipments\":%lld,\"units\":%lld,\"invoices\":%lld}",
                   (long long)events, (long long)units, (long long)(invoice_count(m) - invoices));
    pthread_mutex_unlock(&m->mu);
}

void sb_exactmax_state(sb_exactmax *m, sb_reply *reply)
{
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *s = prepare(m, "SELECT (SELECT COUNT(*) FROM SO_Master WHERE ModifiedDate > 0), "
                                 "(SELECT COUNT(*) FROM Shipment), "
                                 "(SELECT COUNT(*) FROM Invoice_Master)");
    long long orders = 0, shipments = 0, invoices = 0;
    if (s && sqlite3_step(s) == SQLITE_ROW) {
        orders = sqlite3_column_int64(s, 0);
        shipments = sqlite3_column_int64(s, 1);
        invoices = sqlite3_column_int64(s, 2);
    }
    sqlite3_finalize(s);
    reply->status = 200;
    cs_buf_appendf(&reply->body,
                   "{\"orders\":%lld,\"allocationRetries\":%lld,\"shipments\":%lld,"
                   "\"invoices\":%lld}",
                   orders, (long long)m->allocation_retries, shipments, invoices);
    pthread_mutex_unlock(&m->mu);
}

/* ---- writing a customer ---- */

/* A field of PUT /customers/{custId}: its column and MAX's width. */
typedef struct customer_field {
    const char *key, *column;
    size_t width;
} customer_field;

static const customer_field customer_fields[] = {
    {"name", "NAME_23", 50},   {"addr1", "ADDR1_23", 50},   {"addr2", "ADDR2_23", 50},
    {"city", "CITY_23", 30},   {"state", "STATE_23", 10},   {"zipCd", "ZIPCD_23", 12},
    {"cntry", "CNTRY_23", 3},  {"phone", "PHONE_23", 25},   {"cntct", "CNTCT_23", 50},
    {"terms", "TERMS_23", 10}, {"shpVia", "SHPVIA_23", 20}, {"txCde1", "TXCDE1_23", 10},
    {"curr", "CURR_23", 3},    {"email", "EMAIL", 80}};
enum { CUSTOMER_FIELDS = sizeof(customer_fields) / sizeof(customer_fields[0]) };

static bool valid_cust_id(const char *id)
{
    size_t n = strlen(id);
    bool ok = n >= 1 && n <= 12;
    for (size_t i = 0; ok && i < n; i++) {
        ok = (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-';
    }
    return ok;
}

/* The body's values by customer_fields' order (NULL view: left out), or an
 * error reply naming the field at fault. */
static bool parse_customer(const char *id, const cs_json *doc, cs_str values[CUSTOMER_FIELDS],
                           sb_reply *reply)
{
    char why[160];
    const char *column = "";
    why[0] = '\0';
    for (const cs_json *f = doc->first; f && !why[0]; f = f->next) {
        size_t i = 0;
        while (i < CUSTOMER_FIELDS && !cs_str_eq_c(f->key, customer_fields[i].key)) {
            i++;
        }
        bool own_key =
            cs_str_eq_c(f->key, "custId") && f->type == CS_JSON_STRING && cs_str_eq_c(f->text, id);
        if (i == CUSTOMER_FIELDS && !own_key) {
            snprintf(why, sizeof(why), "%.*s: no such customer field%s", CS_STR_FMT(f->key),
                     cs_str_eq_c(f->key, "custId") ? " (custId is the path's)" : "");
        } else if (i < CUSTOMER_FIELDS && f->type != CS_JSON_STRING) {
            snprintf(why, sizeof(why), "%s: a string", customer_fields[i].key);
            column = customer_fields[i].column;
        } else if (i < CUSTOMER_FIELDS && f->text.len > customer_fields[i].width) {
            snprintf(why, sizeof(why), "%s: at most %zu characters", customer_fields[i].key,
                     customer_fields[i].width);
            column = customer_fields[i].column;
        } else if (i < CUSTOMER_FIELDS && cs_str_eq_c(f->key, "curr") && f->text.len &&
                   !cs_currency_find(f->text)) {
            snprintf(why, sizeof(why), "curr: not a currency MAX knows");
            column = "CURR_23";
        } else if (i < CUSTOMER_FIELDS) {
            values[i] = f->text;
        }
    }
    if (why[0]) {
        error_reply(reply, 400, "INVALID_FIELD", why, "Customer_Master", column);
    }
    return !why[0];
}

static void answer_customer(sb_exactmax *m, const char *id, unsigned status, sb_reply *reply)
{
    sqlite3_stmt *s = prepare(m, CUSTOMER_SELECT " WHERE CUSTID_23 = ?");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    if (!s || sqlite3_step(s) != SQLITE_ROW) {
        error_reply(reply, 503, "UNAVAILABLE", "the customer could not be read back",
                    "Customer_Master", "CUSTID_23");
    } else {
        reply->status = status;
        cs_json_writer w;
        cs_json_writer_init(&w, &reply->body);
        cs_json_write_object_begin(&w);
        w_columns(&w, s, 0, SPECS(customer_specs));
        cs_json_write_object_end(&w);
        cs_json_writer_finish(&w, NULL);
        cs_json_writer_clean_up(&w);
    }
    sqlite3_finalize(s);
}

/* Inserts the row when it is new, then sets each field the body gave (a
 * field left out keeps its value; blank on a new row). */
static void store_customer(sb_exactmax *m, const char *id, bool is_new,
                           const cs_str values[CUSTOMER_FIELDS])
{
    sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
    if (is_new) {
        sqlite3_stmt *s = prepare(m, "INSERT INTO Customer_Master " CUSTOMER_COLUMNS
                                     " VALUES (?, '', '', '', '', '', '', '', '', '', '', '', "
                                     "'', '', 0, 0)");
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
        step_once(s);
    }
    for (size_t i = 0; i < CUSTOMER_FIELDS; i++) {
        if (values[i].ptr) {
            char sql[96];
            snprintf(sql, sizeof(sql), "UPDATE Customer_Master SET %s = ? WHERE CUSTID_23 = ?",
                     customer_fields[i].column);
            sqlite3_stmt *s = prepare(m, sql);
            bind_str(s, 1, values[i]);
            sqlite3_bind_text(s, 2, id, -1, SQLITE_TRANSIENT);
            step_once(s);
        }
    }
    sqlite3_stmt *s = prepare(m, "UPDATE Customer_Master SET ModifiedDate = ?, RowVersion = ? "
                                 "WHERE CUSTID_23 = ?");
    sqlite3_bind_int64(s, 1, cs_time_now_ms());
    sqlite3_bind_int64(s, 2, next_version(m));
    sqlite3_bind_text(s, 3, id, -1, SQLITE_TRANSIENT);
    step_once(s);
    sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL);
}

/* The row's version as the bridge shows it; "" when there is no row. */
static void customer_version(sb_exactmax *m, const char *id, char version[20])
{
    sqlite3_stmt *s = prepare(m, "SELECT RowVersion FROM Customer_Master WHERE CUSTID_23 = ?");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    version[0] = '\0';
    if (s && sqlite3_step(s) == SQLITE_ROW) {
        snprintf(version, 20, "%016llX", (unsigned long long)sqlite3_column_int64(s, 0));
    }
    sqlite3_finalize(s);
}

/* PUT /customers/{custId}: creates or updates. If-Match: the row version
 * read (a change since is ROW_VERSION_CONFLICT); If-None-Match: * creates
 * only (an existing row is DUPLICATE_CUSTID). */
static void put_customer(sb_exactmax *m, const char *id, const sb_max_request *req, sb_reply *reply)
{
    char version[20];
    customer_version(m, id, version);
    bool is_new = !version[0];
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_json *doc = NULL;
    cs_str values[CUSTOMER_FIELDS] = {0};
    if (!valid_cust_id(id)) {
        error_reply(reply, 400, "INVALID_FIELD", "custId: 1 to 12 of A-Z, 0-9 and -",
                    "Customer_Master", "CUSTID_23");
    } else if (req->if_none_match && strcmp(req->if_none_match, "*") == 0 && !is_new) {
        error_reply(reply, 409, "DUPLICATE_CUSTID", "a customer with this custId exists",
                    "Customer_Master", "CUSTID_23");
    } else if (req->if_match && is_new) {
        error_reply(reply, 404, "NOT_FOUND", "no such customer", "Customer_Master", "CUSTID_23");
    } else if (req->if_match && strcmp(req->if_match, version) != 0) {
        error_reply(reply, 409, "ROW_VERSION_CONFLICT",
                    "the customer changed since it was read; read it again", "Customer_Master",
                    "RowVersion");
    } else if (cs_json_parse(&arena, req->body, &doc, NULL) || doc->type != CS_JSON_OBJECT) {
        error_reply(reply, 400, "INVALID_FIELD", "the body is not a JSON object", "", "");
    } else if (parse_customer(id, doc, values, reply)) {
        if (is_new && !values[0].len) {
            error_reply(reply, 400, "INVALID_FIELD", "name: a new customer needs one",
                        "Customer_Master", "NAME_23");
        } else {
            store_customer(m, id, is_new, values);
            answer_customer(m, id, is_new ? 201 : 200, reply);
        }
    }
    cs_arena_clean_up(&arena);
}

/* ---- dispatch ---- */

void sb_exactmax_handle(sb_exactmax *m, const sb_max_request *req, sb_reply *reply)
{
    pthread_mutex_lock(&m->mu);
    bool get = strcmp(req->method, "GET") == 0;
    const char *path = req->path;
    cursor c;
    if (!req->authorization || strcmp(req->authorization, "Bearer " SB_EXACTMAX_KEY) != 0) {
        error_reply(reply, 401, "UNAUTHORIZED", "a bridge key is needed", "", "");
    } else if (strcmp(req->method, "POST") == 0 && strcmp(path, "/sales-orders") == 0) {
        create_order(m, req->body, reply);
    } else if (strcmp(req->method, "PATCH") == 0 && strncmp(path, "/sales-orders/", 14) == 0) {
        patch_order(m, path + 14, req, reply);
    } else if (strcmp(req->method, "PUT") == 0 && strncmp(path, "/customers/", 11) == 0) {
        put_customer(m, path + 11, req, reply);
    } else if (get && strncmp(path, "/sales-orders/", 14) == 0) {
        get_order(m, path + 14, reply);
    } else if (get && !read_cursor(req, &c, reply)) {
        /* the error is the answer */
    } else if (get && strcmp(path, "/sales-orders") == 0) {
        list_orders(m, req, &c, reply);
    } else if (get && resource_at(path)) {
        const resource *r = resource_at(path);
        list(m, r->sql, r->key_col, r->modified_col, &c, w_record, r, reply);
    } else {
        error_reply(reply, 404, "NOT_FOUND", "the bridge has no such endpoint", "", "");
    }
    pthread_mutex_unlock(&m->mu);
}

/* ---- the warehouse's clock ---- */

static void *clock_run(void *arg)
{
    sb_exactmax *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->clock.stopping) {
        em_wait_for(&m->clock.wake, &m->mu, m->clock.every_ms);
        if (m->clock.stopping) {
            break;
        }
        warehouse_clock c = m->clock;
        pthread_mutex_unlock(&m->mu);
        sb_reply ignored = {0};
        cs_buf_init(&ignored.body, 0);
        sb_exactmax_ship(m, c.partial, c.cancel_short, c.carrier, &ignored);
        cs_buf_clean_up(&ignored.body);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

void sb_exactmax_set_clock(sb_exactmax *m, int64_t every_ms, bool partial, bool cancel_short,
                           const char *carrier)
{
    stop_clock(m);
    if (every_ms <= 0) {
        return;
    }
    pthread_mutex_lock(&m->mu);
    m->clock.every_ms = every_ms;
    m->clock.partial = partial;
    m->clock.cancel_short = cancel_short;
    snprintf(m->clock.carrier, sizeof(m->clock.carrier), "%s", carrier);
    m->clock.running = pthread_create(&m->clock.thread, NULL, clock_run, m) == 0;
    pthread_mutex_unlock(&m->mu);
}
