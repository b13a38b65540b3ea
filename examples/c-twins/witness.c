/*
 * witness: one function per WITNESS rule the simulator enforces, each tripping it with
 * FreeBSD's own macros (tests/witness.rs calls them one by one), plus functions that use
 * the same KPI correctly.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/sx.h>
#include <sys/condvar.h>
#include <sys/kthread.h>
#include <sys/proc.h>

static MALLOC_DEFINE(M_WITNESSFX, "witnessfx", "witness fixture");

static struct mtx mtx_a, mtx_b, mtx_r, spin;
static struct sx sx_a;
static struct cv cv;
static int chan;

int sleep_with_mutex(void);
int
sleep_with_mutex(void)
{
	mtx_lock(&mtx_a);
	pause("fxpause", 1);
	mtx_unlock(&mtx_a);
	return (0);
}

int msleep_with_other_mutex(void);
int
msleep_with_other_mutex(void)
{
	mtx_lock(&mtx_a);
	mtx_lock(&mtx_b);
	msleep(&chan, &mtx_b, 0, "fxsleep", 1);
	mtx_unlock(&mtx_b);
	mtx_unlock(&mtx_a);
	return (0);
}

int cv_wait_with_spin(void);
int
cv_wait_with_spin(void)
{
	mtx_lock_spin(&spin);
	mtx_lock(&mtx_a);
	return (0);
}

int cv_wait_with_other_mutex(void);
int
cv_wait_with_other_mutex(void)
{
	mtx_lock(&mtx_b);
	mtx_lock(&mtx_a);
	cv_timedwait(&cv, &mtx_a, 1);
	mtx_unlock(&mtx_a);
	mtx_unlock(&mtx_b);
	return (0);
}

int malloc_waitok_with_mutex(void);
int
malloc_waitok_with_mutex(void)
{
	void *p;

	mtx_lock(&mtx_a);
	p = malloc(100, M_WITNESSFX, M_WAITOK);
	free(p, M_WITNESSFX);
	mtx_unlock(&mtx_a);
	return (0);
}

int sleep_with_sx_is_fine(void);
int
sleep_with_sx_is_fine(void)
{
	int error;

	sx_xlock(&sx_a);
	error = pause("fxsx", 5);
	sx_xunlock(&sx_a);
	return (error);
}

int recurse(void);
int
recurse(void)
{
	mtx_lock(&mtx_a);
	mtx_lock(&mtx_a);
	return (0);
}

int recurse_allowed(void);
int
recurse_allowed(void)
{
	int r;

	mtx_lock(&mtx_r);
	mtx_lock(&mtx_r);
	r = mtx_owned(&mtx_r) + 10 * mtx_recursed(&mtx_r);
	mtx_unlock(&mtx_r);
	r += 100 * mtx_recursed(&mtx_r);
	mtx_unlock(&mtx_r);
	r += 1000 * mtx_owned(&mtx_r);
	return (r);
}

int unlock_not_owned(void);
int
unlock_not_owned(void)
{
	mtx_unlock(&mtx_a);
	return (0);
}

int destroy_recursed(void);
int
destroy_recursed(void)
{
	mtx_lock(&mtx_r);
	mtx_lock(&mtx_r);
	mtx_destroy(&mtx_r);
	return (0);
}

int destroy_held_sx(void);
int
destroy_held_sx(void)
{
	sx_slock(&sx_a);
	sx_destroy(&sx_a);
	return (0);
}

static void
cv_sleeper(void *arg)
{
	mtx_lock(&mtx_a);
	cv_wait(&cv, &mtx_a);
	mtx_unlock(&mtx_a);
	kthread_exit();
}

int destroy_cv_with_waiters(void);
int
destroy_cv_with_waiters(void)
{
	kthread_add(cv_sleeper, NULL, NULL, NULL, 0, 0, "fxsleeper");
	pause("fxlet", 1);
	cv_destroy(&cv);
	return (0);
}

int lor(void);
int
lor(void)
{
	mtx_lock(&mtx_a);
	mtx_lock(&mtx_b);
	mtx_unlock(&mtx_b);
	mtx_unlock(&mtx_a);
	mtx_lock(&mtx_b);
	mtx_lock(&mtx_a);
	mtx_unlock(&mtx_a);
	mtx_unlock(&mtx_b);
	return (0);
}

static void
exit_with_lock(void *arg)
{
	mtx_lock(&mtx_a);
	kthread_exit();
}

int thread_exits_with_lock(void);
int
thread_exits_with_lock(void)
{
	kthread_add(exit_with_lock, NULL, NULL, NULL, 0, 0, "fxexiter");
	return (0);
}

int deadlock(void);
int
deadlock(void)
{
	tsleep(&chan, 0, "fxnever", 0);
	return (0);
}

static struct sx sx_nw_a, sx_nw_b;

static void
lock_b_then_a(void *arg)
{
	sx_xlock(&sx_nw_b);
	wakeup(&chan);
	sx_xlock(&sx_nw_a);
	sx_xunlock(&sx_nw_a);
	sx_xunlock(&sx_nw_b);
	kthread_exit();
}

/* A real AB-BA deadlock (on locks WITNESS does not watch, so no LOR report first). */
int deadlock_abba(void);
int
deadlock_abba(void)
{
	sx_init_flags(&sx_nw_a, "fx nw a", SX_NOWITNESS);
	sx_init_flags(&sx_nw_b, "fx nw b", SX_NOWITNESS);
	sx_xlock(&sx_nw_a);
	kthread_add(lock_b_then_a, NULL, NULL, NULL, 0, 0, "fxabba");
	tsleep(&chan, 0, "fxwait", 0);
	sx_xlock(&sx_nw_b);
	return (0);
}

/* Returns EWOULDBLOCK after `hz / 10` ticks of simulated time. */
int timed_wait(void);
int
timed_wait(void)
{
	int error, t0;

	t0 = ticks;
	mtx_lock(&mtx_a);
	error = cv_timedwait(&cv, &mtx_a, hz / 10);
	mtx_unlock(&mtx_a);
	if (ticks - t0 != hz / 10)
		return (-1);
	return (error);
}

static struct mtx sysinit_mtx;
MTX_SYSINIT(fxsys, &sysinit_mtx, "fx sysinit", MTX_DEF);
static struct sx sysinit_sx;
SX_SYSINIT(fxsyssx, &sysinit_sx, "fx sysinit sx");

/* Locks from MTX_SYSINIT/SX_SYSINIT, sx_sleep, msleep_spin, trylock, sx_xlocked. */
int kpi_mix(void);
int
kpi_mix(void)
{
	int r = 0;

	mtx_lock(&sysinit_mtx);
	r += mtx_owned(&sysinit_mtx);
	mtx_unlock(&sysinit_mtx);
	r += 10 * mtx_owned(&sysinit_mtx);
	sx_xlock(&sysinit_sx);
	r += 100 * sx_xlocked(&sysinit_sx);
	if (sx_sleep(&chan, &sysinit_sx, 0, "fxsxs", 1) == EWOULDBLOCK)
		r += 1000;
	r += 10000 * sx_xlocked(&sysinit_sx);
	sx_xunlock(&sysinit_sx);
	mtx_lock_spin(&spin);
	if (msleep_spin(&chan, &spin, "fxspin", 1) == EWOULDBLOCK)
		r += 100000;
	mtx_unlock_spin(&spin);
	if (mtx_trylock(&mtx_a)) {
		r += 1000000 * (mtx_trylock(&mtx_a) == 0);
		mtx_unlock(&mtx_a);
	}
	return (r);
}

#ifdef INVARIANTS
/* mtx_assert/sx_assert (INVARIANTS builds): `what` selects the failing assertion. */
int asserts(int what);
int
asserts(int what)
{
	sx_xlock(&sx_a);
	sx_assert(&sx_a, SA_XLOCKED);
	sx_xunlock(&sx_a);
	sx_assert(&sx_a, SA_UNLOCKED);
	mtx_lock(&mtx_r);
	mtx_assert(&mtx_r, MA_OWNED | MA_NOTRECURSED);
	switch (what) {
	case 1:
		mtx_assert(&mtx_r, MA_NOTOWNED);
		break;
	case 2:
		mtx_assert(&mtx_r, MA_OWNED | MA_RECURSED);
		break;
	case 3:
		mtx_assert(&mtx_a, MA_OWNED);
		break;
	case 4:
		sx_assert(&sx_a, SA_XLOCKED);
		break;
	}
	mtx_unlock(&mtx_r);
	mtx_assert(&mtx_r, MA_NOTOWNED);
	return (0);
}
#endif

static int prio_chan, prio_seq;

static void
prio_sleeper(void *arg)
{
	int id = (int)(uintptr_t)arg;

	tsleep(&prio_chan, id == 1 ? 100 : 50, "fxprio", 0);
	prio_seq = prio_seq * 10 + id;
	kthread_exit();
}

/*
 * wakeup_one wakes the sleeper with the best (lowest) priority first, although thread 1
 * went to sleep first: returns 21.
 */
int prio_order(void);
int
prio_order(void)
{
	kthread_add(prio_sleeper, (void *)1, NULL, NULL, 0, 0, "fxprio1");
	kthread_add(prio_sleeper, (void *)2, NULL, NULL, 0, 0, "fxprio2");
	pause("fxlet", 1);
	wakeup_one(&prio_chan);
	pause("fxlet", 1);
	wakeup_one(&prio_chan);
	pause("fxlet", 1);
	return (prio_seq);
}

static struct proc *kp;
static int kp_stop, kp_loops;

static void
kp_main(void *arg)
{
	mtx_lock(&mtx_b);
	while (!kp_stop) {
		kp_loops++;
		msleep(&kp_stop, &mtx_b, 0, "kpwait", 0);
	}
	mtx_unlock(&mtx_b);
	kproc_exit(0);
}

/* kproc_create + the classic join: msleep on the proc, woken by kproc_exit's wakeup(p). */
int kproc_start_stop(void);
int
kproc_start_stop(void)
{
	int error;

	error = kproc_create(kp_main, NULL, &kp, 0, 0, "fxkproc%d", 7);
	if (error != 0)
		return (-error);
	pause("fxlet", 1);
	mtx_lock(&mtx_b);
	kp_stop = 1;
	wakeup(&kp_stop);
	msleep(kp, &mtx_b, 0, "kpjoin", 0);
	mtx_unlock(&mtx_b);
	return (kp_loops);
}

static void
hold_b_and_yield(void *arg)
{
	mtx_lock(&mtx_b);
	kern_yield(PRI_USER);
	mtx_unlock(&mtx_b);
	kthread_exit();
}

/* mtx_destroy of a mutex another thread holds. */
int destroy_held_by_other(void);
int
destroy_held_by_other(void)
{
	kthread_add(hold_b_and_yield, NULL, NULL, NULL, 0, 0, "fxholder");
	kern_yield(PRI_USER);
	mtx_destroy(&mtx_b);
	return (0);
}

static void
wait_for_b(void *arg)
{
	mtx_lock(&mtx_b);
	mtx_unlock(&mtx_b);
	kthread_exit();
}

/* mtx_destroy of a held mutex another thread waits for. */
int destroy_with_waiters(void);
int
destroy_with_waiters(void)
{
	mtx_lock(&mtx_b);
	kthread_add(wait_for_b, NULL, NULL, NULL, 0, 0, "fxwaiter");
	kern_yield(PRI_USER);
	mtx_destroy(&mtx_b);
	return (0);
}

/* sx (sleepable) taken while holding a mutex (non-sleepable). */
int sx_after_mutex(void);
int
sx_after_mutex(void)
{
	mtx_lock(&mtx_a);
	sx_xlock(&sx_a);
	sx_xunlock(&sx_a);
	mtx_unlock(&mtx_a);
	return (0);
}

int who_tid, who_pid;
char who_name[20], who_comm[20];
static struct proc *who_p;

static void
who_thread(void *arg)
{
	struct thread *td = curthread;
	int i;

	who_tid = td->td_tid;
	who_pid = td->td_proc->p_pid;
	for (i = 0; i < 20; i++) {
		who_name[i] = td->td_name[i];
		who_comm[i] = td->td_proc->p_comm[i];
	}
	kthread_exit();
}

/* curthread->td_tid/td_name/td_proc->p_pid/p_comm of a kproc_kthread_add thread. */
int whoami(void);
int
whoami(void)
{
	kproc_kthread_add(who_thread, NULL, &who_p, NULL, 0, 0, "fxproc", "fxwho%d", 3);
	pause("fxlet", 1);
	return (curthread->td_tid);
}

/* DELAY moves simulated time: a busy-wait on ticks ends. Returns the ticks waited. */
int delay_loop(void);
int
delay_loop(void)
{
	int t0 = ticks;

	while (ticks - t0 < 5)
		DELAY(100);
	return (ticks - t0);
}

static void
kmem_hog(void *arg)
{
	void *p = malloc(1536 * 1024, M_WITNESSFX, M_WAITOK);

	pause("fxhog", hz / 100);
	free(p, M_WITNESSFX);
	kthread_exit();
}

/*
 * With a 2 MiB kmem arena: an M_WAITOK malloc that does not fit sleeps until the
 * other thread frees its memory. Returns the ticks it waited.
 */
int kmem_wait(void);
int
kmem_wait(void)
{
	void *p;
	int t0;

	kthread_add(kmem_hog, NULL, NULL, NULL, 0, 0, "fxhog");
	pause("fxlet", 1);
	t0 = ticks;
	p = malloc(1024 * 1024, M_WITNESSFX, M_WAITOK);
	free(p, M_WITNESSFX);
	return (ticks - t0);
}

int timer_result = -1;
int timer_ticks = -1;

static void
timer_thread(void *arg)
{
	int t0 = ticks;

	timer_result = tsleep(&timer_result, 0, "fxtimer", hz / 2);
	timer_ticks = ticks - t0;
	kthread_exit();
}

/* A thread that sleeps half a second: simulated time only moves for it when asked. */
int start_timer(void);
int
start_timer(void)
{
	return (kthread_add(timer_thread, NULL, NULL, NULL, 0, 0, "fxtimer"));
}

static int pp_turn;

static void
ping_pong(void *arg)
{
	int me = (int)(uintptr_t)arg;

	mtx_lock(&mtx_a);
	for (;;) {
		while (pp_turn != me)
			mtx_sleep(&pp_turn, &mtx_a, 0, "fxpp", 0);
		pp_turn = !me;
		wakeup(&pp_turn);
	}
}

/* Two threads that wake each other forever: the CPU never goes idle. */
int livelock(void);
int
livelock(void)
{
	kthread_add(ping_pong, (void *)0, NULL, NULL, 0, 0, "fxping");
	kthread_add(ping_pong, (void *)1, NULL, NULL, 0, 0, "fxpong");
	return (0);
}

int return_with_lock(void);
int
return_with_lock(void)
{
	mtx_lock(&mtx_b);
	return (0);
}

static int
recurse_forever(int n)
{
	volatile char buf[256];

	buf[0] = (char)n;
	return (recurse_forever(n + 1) + buf[0]);
}

static void
overflower(void *arg)
{
	recurse_forever(0);
}

int overflow_in_thread(void);
int
overflow_in_thread(void)
{
	kthread_add(overflower, NULL, NULL, NULL, 0, 0, "fxoverflow");
	return (0);
}

static void
spinner(void *arg)
{
	for (;;)
		;
}

int spin_in_thread(void);
int
spin_in_thread(void)
{
	kthread_add(spinner, NULL, NULL, NULL, 0, 0, "fxspinner");
	return (0);
}

static int
witness_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
		mtx_init(&mtx_a, "fx a", NULL, MTX_DEF);
		mtx_init(&mtx_b, "fx b", NULL, MTX_DEF);
		mtx_init(&mtx_r, "fx r", NULL, MTX_DEF | MTX_RECURSE);
		mtx_init(&spin, "fx spin", NULL, MTX_SPIN);
		sx_init(&sx_a, "fx sx");
		cv_init(&cv, "fxcv");
		return (0);
	case MOD_UNLOAD:
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t witness_mod = { "witnessfx", witness_modevent, NULL };
DECLARE_MODULE(witnessfx, witness_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
