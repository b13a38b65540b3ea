/*
 * sysctl_oidrm: removal of a dynamic oid waits for its running handler (kern_sysctl.c
 * sysctl_remove_oid_locked: CTLFLAG_DYING, sleep on &oid_running "oidrm"), and an oid left
 * registered at unload. Fixture of tools/kernel-sim/tests/sysctl.rs.
 *
 * debug.oidrm_slow: the handler wakes the module's kthread and sleeps until it is woken; the
 * kthread wakes the handler and immediately calls sysctl_ctx_free(), which must wait until
 * the handler returned (done == 1 when it comes back).
 * debug.oidrm_leak (only with -DLEAK): added without a context and never removed.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/kthread.h>
#include <sys/proc.h>
#include <sys/sysctl.h>

static struct sysctl_ctx_list ctx;
static volatile int in_handler, done, kt_done;
static int kt_chan, h_chan, leak_val;

static int
slow_handler(SYSCTL_HANDLER_ARGS)
{
	int v = 1;

	in_handler = 1;
	wakeup(&kt_chan);
	tsleep(&h_chan, 0, "slowh", 0);
	done = 1;
	return (sysctl_handle_int(oidp, &v, 0, req));
}

static void
remover(void *arg)
{
	while (!in_handler)
		tsleep(&kt_chan, 0, "wait", 0);
	wakeup(&h_chan);
	sysctl_ctx_free(&ctx);
	printf("oidrm: ctx freed, handler done=%d\n", done);
	kt_done = 1;
	kthread_exit();
}

static int
oidrm_modevent(module_t mod, int what, void *arg)
{
	struct thread *td;

	switch (what) {
	case MOD_LOAD:
		sysctl_ctx_init(&ctx);
		SYSCTL_ADD_PROC(&ctx, SYSCTL_STATIC_CHILDREN(_debug), OID_AUTO, "oidrm_slow",
		    CTLTYPE_INT | CTLFLAG_RD | CTLFLAG_MPSAFE, NULL, 0, slow_handler, "I", "");
#ifdef LEAK
		SYSCTL_ADD_INT(NULL, SYSCTL_STATIC_CHILDREN(_debug), OID_AUTO, "oidrm_leak", CTLFLAG_RW,
		    &leak_val, 0, "");
#endif
		return (kthread_add(remover, NULL, NULL, &td, 0, 0, "remover"));
	case MOD_UNLOAD:
		return (kt_done ? 0 : EBUSY);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t oidrm_mod = { "sysctl_oidrm", oidrm_modevent, NULL };
DECLARE_MODULE(sysctl_oidrm, oidrm_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(sysctl_oidrm, 1);
