/*
 * bench: C twin of examples/bench (Rust), built against the real FreeBSD headers.
 *
 * Each bench_* function loops n times over one malloc(9) and its free(9) and returns how
 * many allocations succeeded. tools/kmod-bench calls them in the kernel simulator under
 * callgrind and compares them with the Rust module:
 *
 *   bench_malloc8_waitok   <-> bench_box_alloc      (Box<u64>, global allocator, M_WAITOK)
 *   bench_malloc32_waitok  <-> bench_vec_alloc      (Vec<u64> grown to 4 elements)
 *   bench_malloc8_nowait   <-> bench_kbox_try_new   (KBox::try_new(.., Flags::NOWAIT))
 *   bench_malloc32_nowait  <-> bench_kvec_try_push  (KVec::try_push(.., Flags::NOWAIT))
 *   bench_mtx_lock         <-> bench_mutex_lock     (uncontended Mutex lock + unlock)
 *   debug.bench.value      <-> debug.bench.value    (SYSCTL_INT vs a SysctlCtx handler:
 *                                                    the harness reads it through sysctl(2))
 *
 * The store and load through a volatile pointer keep the compiler from dropping the
 * allocation (the Rust side uses core::hint::black_box). malloc() is the sys/malloc.h
 * macro: with a constant size and no M_ZERO it is a plain call of malloc(9).
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/sysctl.h>

static MALLOC_DEFINE(M_BENCH, "bench", "kmod-bench allocation loops");

static int bench_value = 7;
static SYSCTL_NODE(_debug, OID_AUTO, bench, CTLFLAG_RD | CTLFLAG_MPSAFE, 0, "kmod-bench");
SYSCTL_INT(_debug_bench, OID_AUTO, value, CTLFLAG_RW, &bench_value, 0,
    "an int the harness reads");

static __always_inline uint64_t
bench_loop(uint64_t n, size_t size, int flags)
{
	uint64_t done = 0;
	uint64_t i;

	for (i = 0; i < n; i++) {
		volatile uint64_t *p = malloc(size, M_BENCH, flags);

		if (p == NULL)
			continue;
		*p = i;
		done += (*p == i);
		free(__DEVOLATILE(void *, p), M_BENCH);
	}
	return (done);
}

uint64_t bench_malloc8_waitok(uint64_t n);
uint64_t bench_malloc32_waitok(uint64_t n);
uint64_t bench_malloc8_nowait(uint64_t n);
uint64_t bench_malloc32_nowait(uint64_t n);

uint64_t
bench_malloc8_waitok(uint64_t n)
{
	return (bench_loop(n, 8, M_WAITOK));
}

uint64_t
bench_malloc32_waitok(uint64_t n)
{
	return (bench_loop(n, 32, M_WAITOK));
}

uint64_t
bench_malloc8_nowait(uint64_t n)
{
	return (bench_loop(n, 8, M_NOWAIT));
}

uint64_t
bench_malloc32_nowait(uint64_t n)
{
	return (bench_loop(n, 32, M_NOWAIT));
}

uint64_t bench_mtx_lock(uint64_t n);

/* n times: mtx_lock + increment + mtx_unlock of an uncontended MTX_DEF mutex. */
uint64_t
bench_mtx_lock(uint64_t n)
{
	struct mtx m;
	volatile uint64_t done = 0;
	uint64_t i;

	/* A stack mutex holds garbage: MTX_NEW skips the "already initialized" check. */
	mtx_init(&m, "bench", NULL, MTX_DEF | MTX_NEW);
	for (i = 0; i < n; i++) {
		mtx_lock(&m);
		done++;
		mtx_unlock(&m);
	}
	mtx_destroy(&m);
	return (done);
}

static int
bench_modevent(module_t mod, int what, void *arg)
{
	uint64_t ok;

	switch (what) {
	case MOD_LOAD:
		/* One round of each loop, like the Rust module's load. */
		ok = bench_malloc8_waitok(1) + bench_malloc32_waitok(1) +
		    bench_malloc8_nowait(1) + bench_malloc32_nowait(1);
		printf("bench: loaded (%ju/4 allocation loops ran, %ju/1 lock loop)\n",
		    (uintmax_t)ok, (uintmax_t)bench_mtx_lock(1));
		return (0);
	case MOD_UNLOAD:
		printf("bench: unloaded\n");
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t bench_mod = { "bench", bench_modevent, NULL };
DECLARE_MODULE(bench, bench_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(bench, 1);
