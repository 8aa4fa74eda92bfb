#include "fuzz_driver.h"

/* Weak: resolved only when libFuzzer's no-main library is linked in. */
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *, size_t)) __attribute__((weak));

int ferry_fuzz_run_driver(int *argc, char ***argv, ferry_fuzz_callback callback) {
    if (!LLVMFuzzerRunDriver) return -1;
    return LLVMFuzzerRunDriver(argc, argv, callback);
}
