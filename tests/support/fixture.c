#include "fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fixture_root(void)
{
    const char *root = getenv("CS_FIXTURES");
    return root ? root : "tests/fixtures";
}

static char *read_path(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fixture %s is missing\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    size_t n = fread(data, 1, (size_t)size, f);
    fclose(f);
    data[n] = '\0';
    if (len) {
        *len = n;
    }
    return data;
}

char *fixture_read(const char *relative_path, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fixture_root(), relative_path);
    return read_path(path, len);
}

char *fixture_read_absolute(const char *path)
{
    return read_path(path, NULL);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in a fixture directory that pass `keep`, sorted, then fn on each. */
static size_t each_entry(const char *relative_dir,
                         int (*keep)(const struct dirent *e, const char *suffix),
                         const char *suffix,
                         void (*fn)(const char *dir, const char *name, void *ctx), void *ctx)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fixture_root(), relative_dir);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "fixture directory %s is missing\n", path);
        abort();
    }
    char *names[512];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 512) {
        if (keep(e, suffix)) {
            names[count++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, count, sizeof(names[0]), compare_names);
    for (size_t i = 0; i < count; i++) {
        fn(relative_dir, names[i], ctx);
        free(names[i]);
    }
    return count;
}

static int has_suffix(const struct dirent *e, const char *suffix)
{
    size_t len = strlen(e->d_name);
    size_t suffix_len = strlen(suffix);
    return e->d_type != DT_DIR && len > suffix_len &&
           strcmp(e->d_name + len - suffix_len, suffix) == 0;
}

static int is_subdirectory(const struct dirent *e, const char *unused)
{
    (void)unused;
    return e->d_type == DT_DIR && e->d_name[0] != '.';
}

size_t fixture_each(const char *relative_dir, const char *suffix,
                    void (*fn)(const char *dir, const char *name, void *ctx), void *ctx)
{
    return each_entry(relative_dir, has_suffix, suffix, fn, ctx);
}

size_t fixture_dirs(const char *relative_dir,
                    void (*fn)(const char *dir, const char *name, void *ctx), void *ctx)
{
    return each_entry(relative_dir, is_subdirectory, "", fn, ctx);
}

size_t fixture_table(const char *relative_path,
                     void (*fn)(char **columns, size_t count, size_t line, void *ctx), void *ctx)
{
    char *text = fixture_read(relative_path, NULL);
    size_t rows = 0;
    size_t line_number = 0;
    char *line = text;
    while (line && *line) {
        char *end = strchr(line, '\n');
        if (end) {
            *end = '\0';
        }
        line_number++;
        if (line[0] != '#') {
            char *columns[8];
            size_t count = 0;
            char *col = line;
            while (count < 8) {
                columns[count++] = col;
                char *tab = strchr(col, '\t');
                if (!tab) {
                    break;
                }
                *tab = '\0';
                col = tab + 1;
            }
            fn(columns, count, line_number, ctx);
            rows++;
        }
        line = end ? end + 1 : NULL;
    }
    free(text);
    return rows;
}
