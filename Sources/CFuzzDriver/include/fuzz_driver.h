/* libFuzzer's driver, when the program was linked with libFuzzer (`make fuzz` builds ferry-fuzz
 * with coverage instrumentation and libFuzzer's no-main library); other builds replay files. */
#ifndef FERRY_FUZZ_DRIVER_H
#define FERRY_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

typedef int (*ferry_fuzz_callback)(const uint8_t *data, size_t size);

/* Runs libFuzzer on `callback` with the command line; -1 when libFuzzer is not linked in. */
int ferry_fuzz_run_driver(int *argc, char ***argv, ferry_fuzz_callback callback);

#endif
