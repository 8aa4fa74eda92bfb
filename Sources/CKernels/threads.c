/* Ferry's worker threads: a fork-join pool whose workers spin briefly between jobs before they
 * sleep, so a model's many small parallel steps do not each pay a thread wake-up. One job runs at a
 * time; a job submitted while another runs (or from inside one) runs on the calling thread.
 * `generation` is odd while a job is published and even while the next one is being written. A
 * worker registers in `active` before it takes tasks and takes them only from a published job that
 * is still the one it saw; a submitter first closes the last job (even), waits until no worker is
 * registered, writes the new job and publishes it (odd). So a worker that woke for one job and
 * resumed late never mixes the fields of two jobs (a new function with an old context, an index of
 * the old job counted in the new one). */
#include "ferry_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define FERRY_PAUSE() _mm_pause()
#else
#define FERRY_PAUSE() ((void)0)
#endif

enum { MAX_WORKERS = 63, SPIN_ROUNDS = 20000 };

static pthread_mutex_t submit = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_ulong generation = 1;
static atomic_size_t next_index, finished;
static atomic_int sleepers, active;
static size_t job_count, job_workers;
static ferry_task_fn job_fn;
static void *job_ctx;
static size_t started_workers;

static void run_tasks(void) {
    for (;;) {
        const size_t i = atomic_fetch_add_explicit(&next_index, 1, memory_order_acq_rel);
        if (i >= job_count) break;
        job_fn(job_ctx, i);
        atomic_fetch_add_explicit(&finished, 1, memory_order_acq_rel);
    }
}

static void *worker(void *arg) {
    const size_t id = (size_t)arg;
    unsigned long seen = atomic_load_explicit(&generation, memory_order_acquire);
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < SPIN_ROUNDS) { FERRY_PAUSE(); continue; }
            pthread_mutex_lock(&sleep_lock);
            atomic_fetch_add(&sleepers, 1);
            while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) pthread_cond_wait(&wake, &sleep_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_lock);
            break;
        }
        seen = g;
        atomic_fetch_add(&active, 1);
        if ((g & 1) && atomic_load(&generation) == g && id < job_workers) run_tasks();
        atomic_fetch_sub(&active, 1);
    }
    return NULL;
}

void ferry_parallel_for(size_t count, size_t threads, ferry_task_fn fn, void *ctx) {
    if (count == 0) return;
    size_t workers = threads > 1 ? threads - 1 : 0;
    if (workers > MAX_WORKERS) workers = MAX_WORKERS;
    if (workers == 0 || count == 1 || pthread_mutex_trylock(&submit) != 0) {
        for (size_t i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    while (started_workers < workers) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker, (void *)started_workers) != 0) { pthread_attr_destroy(&attr); break; }
        pthread_attr_destroy(&attr);
        started_workers++;
    }
    atomic_fetch_add(&generation, 1); /* closed: late workers of the last job take nothing */
    while (atomic_load(&active) > 0) FERRY_PAUSE();
    job_fn = fn;
    job_ctx = ctx;
    job_count = count;
    job_workers = workers < started_workers ? workers : started_workers;
    atomic_store_explicit(&next_index, 0, memory_order_release);
    atomic_store_explicit(&finished, 0, memory_order_relaxed);
    atomic_fetch_add(&generation, 1); /* published */
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    run_tasks();
    while (atomic_load_explicit(&finished, memory_order_acquire) < count) FERRY_PAUSE();
    pthread_mutex_unlock(&submit);
}
