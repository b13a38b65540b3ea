/*
 * timeouts: callouts, taskqueues and event handlers from the real headers (callout_init_mtx,
 * callout_reset, callout_stop, callout_drain, TASK_INIT, taskqueue_enqueue, taskqueue_drain,
 * TIMEOUT_TASK_INIT, EVENTHANDLER_REGISTER). Each to_* function is one scenario called by
 * tools/kernel-sim/tests/timeouts.rs; it returns a value the test checks against what a
 * kernel gives (kern_timeout.c, subr_taskqueue.c).
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/callout.h>
#include <sys/taskqueue.h>
#include <sys/eventhandler.h>
#include <sys/malloc.h>
#include <sys/proc.h>
#include <sys/priority.h>
#include <sys/kthread.h>

MALLOC_DEFINE(M_TOTEST, "totest", "timeouts test");

static struct mtx to_mtx;
static struct callout to_co;
static struct callout to_co_mpsafe;	/* callout_init(c, 1): no lock */
static int to_fired;		/* callout runs */
static int to_locked;		/* runs that found the mutex held */
static int to_rearm;		/* re-arm from the handler this many times */
static int to_rearm_ret = -2;	/* last callout_reset result inside the handler */
static int to_sleep;		/* the handler sleeps (forbidden) */

static struct task to_task;
static int to_task_runs;
static int to_task_pending_sum;
static int to_task_last_pending;

static struct taskqueue *to_tq;
static struct timeout_task to_ttask;

static eventhandler_tag to_tag_pre, to_tag_final, to_tag_low;
int to_ev_pre, to_ev_final, to_ev_low, to_ev_low_flags;

static void
to_callout(void *arg)
{
	to_fired++;
	if (mtx_owned(&to_mtx))
		to_locked++;
	if (to_sleep)
		pause("tosleep", 1);
	if (to_rearm > 0) {
		to_rearm--;
		to_rearm_ret = callout_reset(&to_co, 10, to_callout, arg);
	}
}

static void
to_taskfn(void *ctx, int pending)
{
	void *p;

	/* Sleepable work: a task may sleep. */
	p = malloc(64, M_TOTEST, M_WAITOK);
	free(p, M_TOTEST);
	to_task_runs++;
	to_task_pending_sum += pending;
	to_task_last_pending = pending;
}

int to_fired_count(void) { return (to_fired); }
int to_locked_count(void) { return (to_locked); }
int to_rearm_result(void) { return (to_rearm_ret); }
int to_task_runs_count(void) { return (to_task_runs); }
int to_task_pending_total(void) { return (to_task_pending_sum); }
int to_task_last(void) { return (to_task_last_pending); }
int to_pending(void) { return (callout_pending(&to_co) != 0); }
int to_active(void) { return (callout_active(&to_co) != 0); }

/* Arm the callout `ticks` ahead; returns callout_reset's result. */
int
to_arm(int ticks)
{
	int r;

	mtx_lock(&to_mtx);
	r = callout_reset(&to_co, ticks, to_callout, NULL);
	mtx_unlock(&to_mtx);
	return (r);
}

int
to_arm_rearming(int ticks, int times)
{
	to_rearm = times;
	return (to_arm(ticks));
}

int
to_arm_sleeping(int ticks)
{
	to_sleep = 1;
	callout_init(&to_co_mpsafe, 1);
	return (callout_reset(&to_co_mpsafe, ticks, to_callout, NULL));
}

/* callout_stop with the mutex held (required for callout_init_mtx callouts). */
int
to_stop(void)
{
	int r;

	mtx_lock(&to_mtx);
	r = callout_stop(&to_co);
	mtx_unlock(&to_mtx);
	return (r);
}

int
to_drain(void)
{
	return (callout_drain(&to_co));
}

/* callout_stop without the mutex: an assertion failure on a kernel. */
int
to_stop_unlocked(void)
{
	return (callout_stop(&to_co));
}

/* The mutex is held while the callout comes due: it must wait, then be cancelled. */
int
to_stop_while_due(void)
{
	int r;

	mtx_lock(&to_mtx);
	r = callout_reset(&to_co, 1, to_callout, NULL);
	/*
	 * DELAY moves the clock past the deadline; kern_yield lets softclock take the callout
	 * and block on the mutex we hold. callout_stop then cancels it (returns 1) and the
	 * handler never runs.
	 */
	DELAY(5000);
	kern_yield(PRI_UNCHANGED);
	r = r * 10 + callout_stop(&to_co);
	mtx_unlock(&to_mtx);
	return (r);
}

static int to_drained;

static void
to_drain_done(void *arg)
{
	to_drained++;
}

int to_drained_count(void) { return (to_drained); }

#if __FreeBSD_version < 1500000
/*
 * callout_async_drain (13.x/14.x only) of a callout whose handler waits for the mutex we
 * hold: not cancelled (a drain function was given), returns 0; the handler runs once we
 * unlock, then the drain function is called with its argument.
 */
int
to_async_drain_while_due(void)
{
	int r;

	mtx_lock(&to_mtx);
	callout_reset(&to_co, 1, to_callout, NULL);
	DELAY(5000);
	kern_yield(PRI_UNCHANGED);
	r = callout_async_drain(&to_co, to_drain_done);
	mtx_unlock(&to_mtx);
	return (r);
}
#endif

/*
 * The 15.0 call `_callout_stop_safe(c, 0)` made on a release whose prototype has a third
 * argument: %rdx holds whatever was there (here a garbage pointer). On 13.x/14.x the kernel
 * takes it as the async-drain function of the running callout; on 15.0 it is never read.
 */
int
to_stop_with_garbage_drain(void)
{
	int r;

	mtx_lock(&to_mtx);
	callout_reset(&to_co, 1, to_callout, NULL);
	DELAY(5000);
	kern_yield(PRI_UNCHANGED);
	r = ((int (*)(struct callout *, int, void *))_callout_stop_safe)(&to_co, 0,
	    (void *)(uintptr_t)0x1234);
	mtx_unlock(&to_mtx);
	return (r);
}

static int to_holder_ready;

/*
 * A thread that holds the callout's mutex while the callout comes due, so that the handler
 * is "running" (softclock waits for the mutex) when to_drain_while_running drains it.
 */
static void
to_holder(void *arg)
{
	mtx_lock(&to_mtx);
	DELAY(5000);			/* the callout is due: softclock takes it ... */
	kern_yield(PRI_UNCHANGED);	/* ... and blocks on the mutex */
	to_holder_ready = 1;
	wakeup(&to_holder_ready);
	kern_yield(PRI_UNCHANGED);	/* the drainer runs and waits for the handler */
	mtx_unlock(&to_mtx);		/* the handler runs and re-arms itself: not rescheduled */
	kthread_exit();
}

/* Drain a callout whose handler runs (and re-arms itself) during the drain. */
int
to_drain_while_running(void)
{
	int r;

	to_rearm = 1000000;
	mtx_lock(&to_mtx);
	callout_reset(&to_co, 1, to_callout, NULL);
	mtx_unlock(&to_mtx);
	to_holder_ready = 0;
	if (kthread_add(to_holder, NULL, NULL, NULL, 0, 0, "toholder") != 0)
		return (-100);
	while (!to_holder_ready)
		tsleep(&to_holder_ready, 0, "toready", 0);
	r = callout_drain(&to_co);
	to_rearm = 0;
	return (r);
}

/* Enqueue the task n times on the system queue without letting it run; returns the sum of results. */
int
to_enqueue(int n)
{
	int i, r = 0;

	for (i = 0; i < n; i++)
		r += taskqueue_enqueue(taskqueue_thread, &to_task);
	return (r);
}

int
to_task_pending_now(void)
{
	return (to_task.ta_pending);
}

void
to_task_drain(void)
{
	taskqueue_drain(taskqueue_thread, &to_task);
}

int
to_task_cancel(void)
{
	u_int pend = 99;
	int e;

	e = taskqueue_cancel(taskqueue_thread, &to_task, &pend);
	return (e * 1000 + (int)pend);
}

#if __FreeBSD_version >= 1400000
int
to_enqueue_fail_if_pending(void)
{
	int a, b;

	a = taskqueue_enqueue_flags(taskqueue_thread, &to_task, TASKQUEUE_FAIL_IF_PENDING);
	b = taskqueue_enqueue_flags(taskqueue_thread, &to_task, TASKQUEUE_FAIL_IF_PENDING);
	return (a * 100 + b);
}
#endif

/* A private queue with its own thread, and a timeout task on it. */
int
to_private_start(void)
{
	to_tq = taskqueue_create("totq", M_WAITOK, taskqueue_thread_enqueue, &to_tq);
	if (to_tq == NULL)
		return (-1);
	return (taskqueue_start_threads(&to_tq, 1, PWAIT, "%s taskq", "to"));
}

int
to_private_enqueue(int n)
{
	int i, r = 0;

	for (i = 0; i < n; i++)
		r += taskqueue_enqueue(to_tq, &to_task);
	return (r);
}

int
to_timeout_arm(int ticks)
{
	TIMEOUT_TASK_INIT(to_tq, &to_ttask, 0, to_taskfn, NULL);
	return (taskqueue_enqueue_timeout(to_tq, &to_ttask, ticks));
}

int
to_timeout_rearm(int ticks)
{
	return (taskqueue_enqueue_timeout(to_tq, &to_ttask, ticks));
}

int
to_timeout_cancel(void)
{
	u_int pend = 99;
	int e;

	e = taskqueue_cancel_timeout(to_tq, &to_ttask, &pend);
	return (e * 1000 + (int)pend);
}

void
to_timeout_drain(void)
{
	taskqueue_drain_timeout(to_tq, &to_ttask);
}

void
to_private_free(void)
{
	taskqueue_drain(to_tq, &to_task);
	taskqueue_free(to_tq);
	to_tq = NULL;
}

static void
to_on_pre(void *arg, int howto)
{
	to_ev_pre++;
}

static void
to_on_final(void *arg, int howto)
{
	to_ev_final++;
}

static void
to_on_low(void *arg, int flags)
{
	to_ev_low++;
	to_ev_low_flags = flags;
}

void
to_ev_register(void)
{
	to_tag_pre = EVENTHANDLER_REGISTER(shutdown_pre_sync, to_on_pre, NULL, SHUTDOWN_PRI_DEFAULT);
	to_tag_final = EVENTHANDLER_REGISTER(shutdown_final, to_on_final, NULL, SHUTDOWN_PRI_DEFAULT);
	to_tag_low = EVENTHANDLER_REGISTER(vm_lowmem, to_on_low, NULL, EVENTHANDLER_PRI_FIRST);
}

void
to_ev_deregister(void)
{
	EVENTHANDLER_DEREGISTER(shutdown_pre_sync, to_tag_pre);
	EVENTHANDLER_DEREGISTER(shutdown_final, to_tag_final);
	EVENTHANDLER_DEREGISTER(vm_lowmem, to_tag_low);
}

static int
to_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		mtx_init(&to_mtx, "to_mtx", NULL, MTX_DEF);
		callout_init_mtx(&to_co, &to_mtx, 0);
		TASK_INIT(&to_task, 0, to_taskfn, NULL);
		return (0);
	case MOD_UNLOAD:
		mtx_destroy(&to_mtx);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t to_mod = { "timeouts", to_modevent, NULL };
DECLARE_MODULE(timeouts, to_mod, SI_SUB_DRIVERS, SI_ORDER_ANY);
