/* Fixture files for tests: read a file under tests/fixtures, list a fixture
 * directory, and walk tab-separated tables ("# " lines are comments). */
#ifndef CS_TESTS_FIXTURE_H
#define CS_TESTS_FIXTURE_H

#include <stddef.h>

/* malloc'd contents (NUL-terminated, *len without the NUL); aborts the test
 * program with a message if the file is missing. */
char *fixture_read(const char *relative_path, size_t *len);

/* The same for a path outside the fixture tree (a temporary file). */
char *fixture_read_absolute(const char *path);

/* Calls fn for each file in the fixture directory whose name ends with
 * suffix, in name order; returns how many there were. */
size_t fixture_each(const char *relative_dir, const char *suffix,
                    void (*fn)(const char *dir, const char *name, void *ctx), void *ctx);

/* Calls fn for each subdirectory of the fixture directory, in name order. */
size_t fixture_dirs(const char *relative_dir,
                    void (*fn)(const char *dir, const char *name, void *ctx), void *ctx);

/* Calls fn(columns, count, line_number, ctx) for each table row. Columns are
 * split on tabs; a row has at most 8. Returns the number of rows. */
size_t fixture_table(const char *relative_path,
                     void (*fn)(char **columns, size_t count, size_t line, void *ctx), void *ctx);

#endif
