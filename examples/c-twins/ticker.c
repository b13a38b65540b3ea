/*
 * ticker: C twin of examples/ticker. A callout initialised with callout_init_mtx runs every
 * 100 ms (hz / 10 ticks) with its mutex held and counts; every 10th tick it enqueues a task
 * on taskqueue_thread that does sleepable work (an M_WAITOK allocation and its free).
 * debug.ticker.ticks and debug.ticker.tasks are read-only sysctls in a context. Unload
 * removes the sysctls, drains the callout (no tick runs or re-arms afterwards), drains the
 * task, and prints the counts.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/callout.h>
#include <sys/taskqueue.h>
#include <sys/malloc.h>
#include <sys/sysctl.h>

#define	TICKER_TASK_EVERY	10

MALLOC_DEFINE(M_TICKER, "ticker_work", "Work buffers of the ticker example module");

static struct mtx ticker_mtx;
static struct callout ticker_callout;
static struct task ticker_task;
static struct sysctl_ctx_list ticker_ctx;
static uint64_t ticker_ticks;	/* under ticker_mtx */
static uint64_t ticker_tasks;

static void
ticker_work(void *arg, int pending)
{
	void *p;

	p = malloc(512, M_TICKER, M_WAITOK | M_ZERO);
	free(p, M_TICKER);
	atomic_add_64(&ticker_tasks, 1);
}

static void
ticker_tick(void *arg)
{
	mtx_assert(&ticker_mtx, MA_OWNED);
	ticker_ticks++;
	if (ticker_ticks % TICKER_TASK_EVERY == 0)
		taskqueue_enqueue(taskqueue_thread, &ticker_task);
	callout_reset(&ticker_callout, hz / 10, ticker_tick, NULL);
}

static int
ticker_modevent(module_t mod, int what, void *arg)
{
	struct sysctl_oid *node;

	switch (what) {
	case MOD_LOAD:
		mtx_init(&ticker_mtx, "ticker", NULL, MTX_DEF);
		callout_init_mtx(&ticker_callout, &ticker_mtx, 0);
		TASK_INIT(&ticker_task, 0, ticker_work, NULL);
		sysctl_ctx_init(&ticker_ctx);
		node = SYSCTL_ADD_NODE(&ticker_ctx, SYSCTL_STATIC_CHILDREN(_debug),
		    OID_AUTO, "ticker", CTLFLAG_RD | CTLFLAG_MPSAFE, NULL,
		    "ticker example");
		SYSCTL_ADD_U64(&ticker_ctx, SYSCTL_CHILDREN(node), OID_AUTO, "ticks",
		    CTLFLAG_RD, &ticker_ticks, 0, "callout runs");
		SYSCTL_ADD_U64(&ticker_ctx, SYSCTL_CHILDREN(node), OID_AUTO, "tasks",
		    CTLFLAG_RD, &ticker_tasks, 0, "task runs");
		mtx_lock(&ticker_mtx);
		callout_reset(&ticker_callout, hz / 10, ticker_tick, NULL);
		mtx_unlock(&ticker_mtx);
		printf("ticker: ticking every 100 ms\n");
		return (0);
	case MOD_UNLOAD:
		sysctl_ctx_free(&ticker_ctx);
		callout_drain(&ticker_callout);
		taskqueue_drain(taskqueue_thread, &ticker_task);
		mtx_destroy(&ticker_mtx);
		printf("ticker: stopped after %ju ticks, %ju tasks\n",
		    (uintmax_t)ticker_ticks, (uintmax_t)ticker_tasks);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t ticker_mod = { "ticker", ticker_modevent, NULL };
DECLARE_MODULE(ticker, ticker_mod, SI_SUB_DRIVERS, SI_ORDER_ANY);
MODULE_VERSION(ticker, 1);
