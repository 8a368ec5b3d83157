/*
 * The C ABI end to end, as a C program uses it: policy export and import between two
 * cluster folders, a cntmp export and import, a backup set created and verified, a
 * database backed up and restored on a real PostgreSQL server, and bad input of every
 * kind. Every string the library hands out is freed, so that valgrind finds no leak.
 *
 * Run by bindings/c/run-tests.sh, which builds the library, creates the database and sets:
 *   CONTINUUM_TEST_PG_URL   the server (postgresql://user@host:port/postgres)
 *   CONTINUUM_C_TEST_DB     a database holding table `items` with CONTINUUM_C_TEST_ROWS rows
 *   CONTINUUM_C_TEST_ROWS   that row count
 * argv[1] is a label that makes the names of this run (restored database) unique.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "continuum.h"

static int checks = 0;
static int failures = 0;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        checks++;                                                             \
        if (!(cond)) {                                                        \
            failures++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

/* Text for printf: "(null)" for NULL. */
static const char *show(const char *text) {
    return text ? text : "(null)";
}

/* The thread's last error message, or "(none)". */
static const char *last_error(void) {
    const char *message = continuum_last_error_message();
    return message ? message : "(none)";
}

/* Checks that a call succeeded and hands its result over (NULL when it failed). */
static char *ok(ContinuumStatus status, char *out, const char *what) {
    CHECK(status == CONTINUUM_STATUS_OK, "%s: status %d: %s", what, (int)status, last_error());
    CHECK(status != CONTINUUM_STATUS_OK || out != NULL, "%s: no result", what);
    CHECK(status != CONTINUUM_STATUS_OK || continuum_last_error_message() == NULL,
          "%s: a success leaves no last error", what);
    return status == CONTINUUM_STATUS_OK ? out : NULL;
}

/* `out = OK(call(…, &out), "what")`: the call, then its check (the comma operator orders
 * them; as arguments of one function call they would not be). */
static ContinuumStatus last_status;
#define OK(call, what) (last_status = (call), ok(last_status, out, (what)))

/* Checks that a call failed with `expected`, left its out-parameter NULL, and said why
 * (the message holding `needle`). */
static void fails(ContinuumStatus status, ContinuumStatus expected, char *out, const char *needle,
                  const char *what) {
    CHECK(status == expected, "%s: status %d, expected %d (%s)", what, (int)status, (int)expected,
          last_error());
    CHECK(out == NULL, "%s: the out-parameter is not NULL after a failure", what);
    const char *message = continuum_last_error_message();
    CHECK(message != NULL && strstr(message, needle) != NULL, "%s: `%s` does not mention `%s`",
          what, last_error(), needle);
    const char *json = continuum_last_error_json();
    CHECK(json != NULL && strstr(json, "\"status\":") != NULL, "%s: error JSON `%s`", what,
          json ? json : "(null)");
    continuum_string_free(out);
}

static int contains(const char *text, const char *needle) {
    return text != NULL && strstr(text, needle) != NULL;
}

/* The string value of `"key":"…"` in flat JSON, copied into `buf`. */
static const char *json_string(const char *json, const char *key, char *buf, size_t size) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = json ? strstr(json, pattern) : NULL;
    buf[0] = '\0';
    if (start == NULL) {
        return buf;
    }
    start += strlen(pattern);
    const char *end = strchr(start, '"');
    size_t len = end ? (size_t)(end - start) : 0;
    if (len >= size) {
        len = size - 1;
    }
    memcpy(buf, start, len);
    buf[len] = '\0';
    return buf;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The whole file, malloc'd (the caller frees it), or NULL. */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc((size_t)size + 1, 1);
    if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

static void path_join(char *out, size_t size, const char *dir, const char *name) {
    snprintf(out, size, "%s/%s", dir, name);
}

static void make_dir(const char *path) {
    CHECK(mkdir(path, 0700) == 0, "mkdir %s", path);
}

static const char *QUOTAS =
    "// quotas\n"
    "on quota::/sandbox {\n"
    "    {\n"
    "        total.memory 2GB\n"
    "        max.instances 10\n"
    "    }\n"
    "}\n";

/* ------------------------------------------------------------------------------------ */

static void test_bad_input(const char *work) {
    char *out = (char *)1; /* not NULL: the library must set it to NULL on failure */
    ContinuumStatus st;

    st = continuum_fqn_parse(NULL, NULL, &out);
    fails(st, CONTINUUM_STATUS_INVALID_ARGUMENT, out, "`text` is NULL", "fqn_parse(NULL)");

    out = (char *)1;
    st = continuum_fqn_parse("job::/caf\xe9::x", NULL, &out);
    fails(st, CONTINUUM_STATUS_INVALID_ARGUMENT, out, "not valid UTF-8", "fqn_parse(latin-1)");

    out = NULL;
    st = continuum_fqn_parse("package::no-slash::x", NULL, &out);
    fails(st, CONTINUUM_STATUS_INVALID_INPUT, out, "invalid FQN", "fqn_parse(bad FQN)");
    CHECK(contains(continuum_last_error_json(), "\"kind\":\"invalid_input\""), "%s",
          continuum_last_error_json());

    st = continuum_fqn_parse("job::/a::b", NULL, NULL);
    CHECK(st == CONTINUUM_STATUS_INVALID_ARGUMENT, "NULL out_json: %d", (int)st);

    /* A success clears the last error. */
    out = OK(continuum_fqn_parse("job::/a::b", NULL, &out), "fqn_parse");
    continuum_string_free(out);
    CHECK(continuum_last_error_message() == NULL, "the last error survived a success");
    CHECK(continuum_last_error_json() == NULL, "the last error JSON survived a success");

    out = NULL;
    st = continuum_conf_load("/nonexistent/cluster.conf", &out);
    fails(st, CONTINUUM_STATUS_NOT_FOUND, out, "/nonexistent/cluster.conf", "conf_load(missing)");

    out = NULL;
    st = continuum_cntmp_inspect("/nonexistent/x.cntmp", &out);
    fails(st, CONTINUUM_STATUS_NOT_FOUND, out, "/nonexistent/x.cntmp", "cntmp_inspect(missing)");

    char junk[512];
    path_join(junk, sizeof junk, work, "junk.cntmp");
    write_file(junk, "this is not a zip file");
    out = NULL;
    st = continuum_cntmp_verify(junk, &out);
    fails(st, CONTINUUM_STATUS_INVALID_INPUT, out, "junk.cntmp", "cntmp_verify(junk)");

    out = NULL;
    st = continuum_policy_check("on quota::/x {\n  { total.memory 2GB\n", "broken.pol", &out);
    fails(st, CONTINUUM_STATUS_POLICY, out, "broken.pol", "policy_check(broken)");
    const char *error_json = continuum_last_error_json();
    CHECK(contains(error_json, "\"diagnostics\":[{") && contains(error_json, "\"line\":"),
          "policy diagnostics: %s", error_json ? error_json : "(null)");

    ContinuumStore *store = (ContinuumStore *)1;
    st = continuum_store_open("s3://user:secret@bucket/x", NULL, &store);
    CHECK(st == CONTINUUM_STATUS_INVALID_INPUT && store == NULL, "store_open(credentials): %d", (int)st);
    CHECK(!contains(continuum_last_error_message(), "secret"), "a secret in `%s`", last_error());
    st = continuum_store_open("/tmp", "{\"endpont\": 1}", &store);
    CHECK(st == CONTINUUM_STATUS_INVALID_ARGUMENT && store == NULL, "store_open(typo): %d", (int)st);
    st = continuum_store_open("/tmp", NULL, NULL);
    CHECK(st == CONTINUUM_STATUS_INVALID_ARGUMENT, "store_open(NULL out): %d", (int)st);

    out = NULL;
    st = continuum_store_list_sets(NULL, &out);
    fails(st, CONTINUUM_STATUS_INVALID_ARGUMENT, out, "`store` is NULL", "store_list_sets(NULL)");

    out = NULL;
    st = continuum_db_list_databases("mysql://root@localhost/x", &out);
    fails(st, CONTINUUM_STATUS_INVALID_INPUT, out, "", "db_list_databases(mysql)");

    /* NULL is accepted by the free functions. */
    continuum_string_free(NULL);
    continuum_store_free(NULL);
}

static void test_fqn(void) {
    char *out = NULL;
    out = OK(continuum_fqn_parse("/apcera/pkg/runtimes::go-1.5.1", "package", &out),
             "fqn_parse");
    CHECK(contains(out, "\"fqn\":\"package::/apcera/pkg/runtimes::go-1.5.1\""), "%s", show(out));
    CHECK(contains(out, "\"local_name\":\"go-1.5.1\""), "%s", show(out));
    continuum_string_free(out);
}

static void test_policy(const char *work) {
    char from[512], to[512], dir[512], file[512], out_dir[512], pattern[1024], json[2048];
    path_join(from, sizeof from, work, "policy-from");
    path_join(to, sizeof to, work, "policy-to");
    path_join(out_dir, sizeof out_dir, work, "policy-out");
    make_dir(from);
    path_join(dir, sizeof dir, from, "policy");
    make_dir(dir);
    path_join(file, sizeof file, dir, "quotas.pol");
    write_file(file, QUOTAS);
    path_join(file, sizeof file, dir, "root.pol");
    write_file(file, "on job::/sandbox/tom { { permit read } }\n");

    char *out = NULL;
    out = OK(continuum_policy_check(QUOTAS, "quotas.pol", &out), "policy_check");
    CHECK(out && strcmp(out, "[]") == 0, "warnings: %s", show(out));
    continuum_string_free(out);
    out = OK(continuum_policy_format(QUOTAS, NULL, &out), "policy_format");
    CHECK(contains(out, "total.memory 2GB"), "%s", show(out));
    continuum_string_free(out);

    out = OK(continuum_policy_export(from, out_dir, NULL, false, &out), "policy_export");
    CHECK(contains(out, "quotas.pol") && contains(out, "root.pol"), "%s", show(out));
    continuum_string_free(out);
    out = NULL;
    ContinuumStatus st = continuum_policy_export(from, out_dir, NULL, false, &out);
    fails(st, CONTINUUM_STATUS_CONFLICT, out, "already exists", "policy_export(again)");

    snprintf(pattern, sizeof pattern, "%s/*.pol", out_dir);
    snprintf(json, sizeof json, "[\"%s\"]", pattern);
    out = OK(continuum_policy_import(to, json, "{\"dry_run\": true}", &out),
             "policy_import(dry run)");
    CHECK(contains(out, "\"dry_run\":true"), "%s", show(out));
    continuum_string_free(out);
    out = OK(continuum_policy_import(to, json, NULL, &out), "policy_import");
    CHECK(contains(out, "\"outcome\":\"created\""), "%s", show(out));
    continuum_string_free(out);

    char restored[1024];
    snprintf(restored, sizeof restored, "%s/policy/quotas.pol", to);
    char *text = read_file(restored);
    CHECK(text && strcmp(text, QUOTAS) == 0, "round trip changed quotas.pol: %s", show(text));
    free(text);

    out = NULL;
    st = continuum_policy_import(to, "[\"/nonexistent/*.pol\"]", NULL, &out);
    fails(st, CONTINUUM_STATUS_INVALID_INPUT, out, "/nonexistent", "policy_import(no match)");
    out = NULL;
    st = continuum_policy_import(to, "not json", NULL, &out);
    fails(st, CONTINUUM_STATUS_INVALID_ARGUMENT, out, "`patterns_json`", "policy_import(json)");
}

static void test_cntmp(const char *work) {
    char from[512], to[512], layer[512], file[512], json[2048];
    path_join(from, sizeof from, work, "cntmp-from");
    path_join(to, sizeof to, work, "cntmp-to");
    path_join(layer, sizeof layer, work, "layer.tar.gz");
    path_join(file, sizeof file, work, "all.cntmp");
    write_file(layer, "the bytes of a layer");

    char *out = NULL;
    snprintf(json, sizeof json, "[\"%s\"]", layer);
    out = OK(continuum_cntmp_package_from_files(from, json, "{\"name\": \"tool\"}", &out),
             "cntmp_package_from_files");
    CHECK(contains(out, "package::/apcera/pkg/packages::tool"), "%s", show(out));
    continuum_string_free(out);

    out = OK(continuum_cntmp_export(from, "{\"all\": true}", file, false, &out),
             "cntmp_export");
    CHECK(contains(out, "\"resources\":1"), "%s", show(out));
    continuum_string_free(out);
    out = OK(continuum_cntmp_inspect(file, &out), "cntmp_inspect");
    CHECK(contains(out, "\"legacy\":false") && contains(out, "\"kind\":\"package\""), "%s", show(out));
    continuum_string_free(out);
    out = OK(continuum_cntmp_verify(file, &out), "cntmp_verify");
    CHECK(contains(out, "\"bytes_checked\":"), "%s", show(out));
    continuum_string_free(out);

    snprintf(json, sizeof json, "[\"%s\"]", file);
    out = OK(continuum_cntmp_import(to, json, "{\"override_namespace\": \"/acme\"}", &out),
             "cntmp_import");
    CHECK(contains(out, "\"fqn\":\"package::/acme::tool\""), "%s", show(out));
    continuum_string_free(out);
    out = OK(continuum_cntmp_list_objects(to, "package", &out), "cntmp_list_objects");
    CHECK(out && strcmp(out, "[\"package::/acme::tool\"]") == 0, "%s", show(out));
    continuum_string_free(out);

    out = NULL;
    ContinuumStatus st = continuum_cntmp_import(to, json, "{\"override_namespace\": \"/acme\"}", &out);
    fails(st, CONTINUUM_STATUS_CONFLICT, out, "tool", "cntmp_import(again)");
    out = NULL;
    st = continuum_cntmp_export(from, "{}", file, true, &out);
    fails(st, CONTINUUM_STATUS_INVALID_INPUT, out, "nothing to export", "cntmp_export({})");
}

/* Opens a folder store below `work`; the caller frees it. */
static ContinuumStore *open_store(const char *work, const char *name) {
    char dir[512];
    path_join(dir, sizeof dir, work, name);
    make_dir(dir);
    ContinuumStore *store = NULL;
    ContinuumStatus st = continuum_store_open(dir, NULL, &store);
    CHECK(st == CONTINUUM_STATUS_OK && store != NULL, "store_open: %s", last_error());
    return store;
}

static void test_sets(const char *work) {
    ContinuumStore *store = open_store(work, "store-sets");
    if (!store) {
        return;
    }
    char a[512], b[512], json[2048], set_id[128];
    path_join(a, sizeof a, work, "cluster.conf");
    path_join(b, sizeof b, work, "main.tf");
    write_file(a, "chef: { continuum: { cluster_name: c-test } }\n");
    write_file(b, "resource \"x\" \"y\" {}\n");
    snprintf(json, sizeof json, "[\"%s\", \"%s\"]", a, b);

    char *out = NULL;
    out = OK(continuum_sets_create_from_files(store, json, "{\"reason\": \"daily\"}", &out),
             "sets_create_from_files");
    json_string(out, "set_id", set_id, sizeof set_id);
    CHECK(set_id[0] != '\0', "no set id in %s", show(out));
    continuum_string_free(out);

    out = OK(continuum_store_list_sets(store, &out), "store_list_sets");
    CHECK(contains(out, set_id), "%s", show(out));
    continuum_string_free(out);
    out = OK(continuum_store_verify_set(store, set_id, &out), "store_verify_set");
    CHECK(contains(out, "\"ok\":true"), "%s", show(out));
    continuum_string_free(out);
    out = OK(continuum_store_prune(store, "{\"keep_last\": 1, \"dry_run\": true}", &out),
             "store_prune");
    CHECK(contains(out, "\"keep\":true"), "%s", show(out));
    continuum_string_free(out);

    out = NULL;
    ContinuumStatus st = continuum_store_verify_set(store, "20200101T000000Z-0000", &out);
    fails(st, CONTINUUM_STATUS_NOT_FOUND, out, "20200101T000000Z-0000", "store_verify_set(missing)");
    out = NULL;
    st = continuum_sets_create_from_files(store, "[\"/nonexistent/file\"]", NULL, &out);
    fails(st, CONTINUUM_STATUS_NOT_FOUND, out, "/nonexistent/file", "sets_create(missing file)");
    continuum_store_free(store);
}

static void test_database(const char *work, const char *label) {
    const char *dsn = getenv("CONTINUUM_TEST_PG_URL");
    const char *db = getenv("CONTINUUM_C_TEST_DB");
    const char *rows = getenv("CONTINUUM_C_TEST_ROWS");
    CHECK(dsn && db && rows, "CONTINUUM_TEST_PG_URL, CONTINUUM_C_TEST_DB and CONTINUUM_C_TEST_ROWS must be set");
    if (!dsn || !db || !rows) {
        return;
    }
    ContinuumStore *store = open_store(work, "store-db");
    if (!store) {
        return;
    }
    char databases[256], options[512], set_id[128], expected[64];
    snprintf(databases, sizeof databases, "[\"%s\"]", db);

    char *out = NULL;
    out = OK(continuum_db_list_databases(dsn, &out), "db_list_databases");
    CHECK(contains(out, db), "%s not listed", db);
    continuum_string_free(out);

    out = OK(continuum_db_backup(store, dsn, databases, "{\"with_globals\": false}", &out),
             "db_backup");
    json_string(out, "set_id", set_id, sizeof set_id);
    CHECK(set_id[0] != '\0', "no set id in %s", show(out));
    continuum_string_free(out);

    out = OK(continuum_store_verify_set(store, set_id, &out), "store_verify_set(db)");
    CHECK(contains(out, "\"ok\":true"), "%s", show(out));
    continuum_string_free(out);

    snprintf(options, sizeof options, "{\"as_name\": \"%s_%s\", \"dry_run\": true}", db, label);
    out = OK(continuum_db_restore(store, set_id, db, dsn, options, &out),
             "db_restore(dry run)");
    CHECK(contains(out, "\"action\":\"create\""), "%s", show(out));
    continuum_string_free(out);

    snprintf(options, sizeof options, "{\"as_name\": \"%s_%s\"}", db, label);
    out = OK(continuum_db_restore(store, set_id, db, dsn, options, &out), "db_restore");
    snprintf(expected, sizeof expected, "\"total_rows\":%s", rows);
    CHECK(contains(out, expected), "expected %s in %s", expected, show(out));
    continuum_string_free(out);

    out = NULL;
    ContinuumStatus st = continuum_db_restore(store, set_id, db, dsn, options, &out);
    fails(st, CONTINUUM_STATUS_CONFLICT, out, label, "db_restore(again)");
    out = NULL;
    st = continuum_db_backup(store, dsn, "[\"continuum_c_no_such_db\"]", "{\"with_globals\": false}",
                             &out);
    fails(st, CONTINUUM_STATUS_DATABASE, out, "continuum_c_no_such_db", "db_backup(missing db)");
    out = NULL;
    st = continuum_db_restore(store, set_id, db, dsn, "{\"as\": \"x\"}", &out);
    fails(st, CONTINUUM_STATUS_INVALID_ARGUMENT, out, "`as`", "db_restore(typo)");
    continuum_store_free(store);
}

static void test_platform_plan(const char *work) {
    char conf[512];
    path_join(conf, sizeof conf, work, "plan.conf");
    write_file(conf,
               "machines: { central: { hosts: [\"10.0.0.11\"], suitable_tags: [component-database, redis-server] } }\n"
               "components: { component-database: 1, redis-server: 1 }\n"
               "chef: { continuum: { cluster_name: c-plan,\n"
               "  database_backups: { access_key: AKIACTEST, secret_key: \"c/secret\", endpoint: eu-west-1, bucket: b } } }\n");
    char *out = NULL;
    out = OK(continuum_conf_load(conf, &out), "conf_load");
    CHECK(contains(out, "c-plan") && !contains(out, "c/secret") && !contains(out, "AKIACTEST"),
          "%s", show(out));
    continuum_string_free(out);
    out = OK(continuum_platform_plan(conf, "{\"with_job_data\": true}", &out), "platform_plan");
    CHECK(contains(out, "\"component\":\"redis-server\""), "%s", show(out));
    continuum_string_free(out);
}

/* Each thread has its own last error. */
static void *thread_body(void *arg) {
    (void)arg;
    char *out = NULL;
    ContinuumStatus st = continuum_fqn_parse("::thread", NULL, &out);
    CHECK(st == CONTINUUM_STATUS_INVALID_INPUT, "thread: %d", (int)st);
    CHECK(contains(continuum_last_error_message(), "::thread"), "thread: %s", last_error());
    return NULL;
}

static void test_threads(void) {
    char *out = NULL;
    ContinuumStatus st = continuum_fqn_parse("::main", NULL, &out);
    CHECK(st == CONTINUUM_STATUS_INVALID_INPUT, "main: %d", (int)st);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, thread_body, NULL) == 0, "pthread_create");
    pthread_join(thread, NULL);
    CHECK(contains(continuum_last_error_message(), "::main"), "main: %s", last_error());
}

int main(int argc, char **argv) {
    const char *label = argc > 1 ? argv[1] : "c";
    const char *tmp = getenv("TMPDIR");
    char work[512];
    snprintf(work, sizeof work, "%s/continuum-c-%s-XXXXXX", tmp ? tmp : "/tmp", label);
    if (mkdtemp(work) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    const char *version = continuum_version();
    CHECK(version && version[0] != '\0', "no version");
    printf("continuum_c %s, run `%s` in %s\n", version, label, work);

    test_bad_input(work);
    test_fqn();
    test_policy(work);
    test_cntmp(work);
    test_sets(work);
    test_database(work, label);
    test_platform_plan(work);
    test_threads();

    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
