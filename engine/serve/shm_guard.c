/*
 * engine/serve/shm_guard.c — surviving a truncated reader table.
 *
 * The reader table is the one segment other users may write (every reader
 * pins there), and whoever may write a file may also ftruncate it: a store
 * or load into a mapping past the new end raises SIGBUS. So that no reader
 * can crash another reader or the publisher that way, every reader-table
 * mapping is registered here, and a SIGBUS handler (put in place at every
 * attach or publisher open unless it already is, chaining to whatever
 * handler was there before) replaces a
 * faulting reader-table mapping with private zero pages and marks it
 * broken; the interrupted access then completes on that private memory.
 * A broken table only hides pins: the publisher may unlink a generation a
 * reader still has mapped, which is safe (a mapping outlives its segment;
 * shm_pin.c), and a publisher re-opens and re-extends the table at its next
 * reclaim (shm_guard_broken, then shm_rdr_repair). Faults anywhere else go
 * to the previous handler, or kill the process as SIGBUS always would.
 *
 * Does not: protect image or control segments (only their owner can write
 * them), nor anything outside the library.
 *
 * Async-signal safety: the handler reads the registry with atomic loads
 * (lock-free, static_asserts in shm_internal.h) and calls mmap, which is a
 * plain system call on Linux.
 */
#include "serve/shm_internal.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define GUARD_SLOTS 256

typedef struct guard_range {
    _Atomic uintptr_t lo;   /* 0 = free */
    _Atomic uintptr_t hi;
    _Atomic int broken;
} guard_range;

static guard_range ranges[GUARD_SLOTS];
static struct sigaction previous;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    for (unsigned i = 0; i < GUARD_SLOTS; i++) {
        /* acquire: pairs with the release in shm_guard_add (hi is set). */
        uintptr_t lo = atomic_load_explicit(&ranges[i].lo, memory_order_acquire);
        uintptr_t hi = atomic_load_explicit(&ranges[i].hi, memory_order_relaxed);
        if (lo && a >= lo && a < hi) {
            void *r = mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (r != MAP_FAILED) {
                /* relaxed: a flag polled by the owner of the mapping. */
                atomic_store_explicit(&ranges[i].broken, 1, memory_order_relaxed);
                return; /* the faulting access is retried on zero pages */
            }
        }
    }
    if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
        previous.sa_sigaction(sig, si, uc);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler) {
        previous.sa_handler(sig);
        return;
    }
    /* Not ours and no handler: die of SIGBUS as without us. */
    signal(SIGBUS, SIG_DFL);
    raise(SIGBUS);
}

/* Puts on_sigbus in place unless it is there already, chaining whatever
 * handler the process has now (a handler installed after ours, then
 * another attach: ours goes on top again). */
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

static void install(void)
{
    pthread_mutex_lock(&install_lock);
    struct sigaction cur;
    if (sigaction(SIGBUS, NULL, &cur) == 0 &&
        !((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        previous = cur;
        sigaction(SIGBUS, &sa, NULL);
    }
    pthread_mutex_unlock(&install_lock);
}

int shm_guard_add(void *base, size_t len)
{
    install();
    for (unsigned i = 0; i < GUARD_SLOTS; i++) {
        uintptr_t zero = 0;
        /* The slot is claimed with a placeholder so no two threads take it. */
        if (atomic_compare_exchange_strong_explicit(&ranges[i].lo, &zero, (uintptr_t)1,
                                                    memory_order_acq_rel, memory_order_relaxed)) {
            /* relaxed, both: published by the release store of lo. */
            atomic_store_explicit(&ranges[i].broken, 0, memory_order_relaxed);
            atomic_store_explicit(&ranges[i].hi, (uintptr_t)base + len, memory_order_relaxed);
            /* release: hi is visible to a handler that sees lo. */
            atomic_store_explicit(&ranges[i].lo, (uintptr_t)base, memory_order_release);
            return (int)i;
        }
    }
    return -1; /* unguarded: more than GUARD_SLOTS attachments at once */
}

void shm_guard_remove(int slot)
{
    if (slot < 0 || slot >= GUARD_SLOTS)
        return;
    /* release: the mapping is unmapped after this, never before. */
    atomic_store_explicit(&ranges[slot].lo, 0, memory_order_release);
}

bool shm_guard_broken(int slot)
{
    if (slot < 0 || slot >= GUARD_SLOTS)
        return false;
    /* relaxed: a hint; the repair it triggers re-checks the segment. */
    return atomic_load_explicit(&ranges[slot].broken, memory_order_relaxed) != 0;
}
