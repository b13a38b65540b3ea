/*
 * kld_dyn_sysctl: dynamic sysctls in the style of FreeBSD's share/examples/kld/dyn_sysctl
 * (own code): debug.kld_dyn.{answer,greeting}, created on load, freed with their context.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/sysctl.h>

static struct sysctl_ctx_list kld_dyn_ctx;
static int kld_dyn_answer = 42;
static char kld_dyn_greeting[32] = "hello";

static int
kld_dyn_modevent(module_t mod, int what, void *arg)
{
	struct sysctl_oid *node;

	switch (what) {
	case MOD_LOAD:
		sysctl_ctx_init(&kld_dyn_ctx);
		node = SYSCTL_ADD_NODE(&kld_dyn_ctx, SYSCTL_STATIC_CHILDREN(_debug),
		    OID_AUTO, "kld_dyn", CTLFLAG_RW | CTLFLAG_MPSAFE, 0, "kld_dyn_sysctl example");
		if (node == NULL)
			return (ENOMEM);
		SYSCTL_ADD_INT(&kld_dyn_ctx, SYSCTL_CHILDREN(node), OID_AUTO, "answer",
		    CTLFLAG_RW, &kld_dyn_answer, 0, "an integer");
		SYSCTL_ADD_STRING(&kld_dyn_ctx, SYSCTL_CHILDREN(node), OID_AUTO, "greeting",
		    CTLFLAG_RW, kld_dyn_greeting, sizeof(kld_dyn_greeting), "a string");
		printf("kld_dyn_sysctl: debug.kld_dyn added\n");
		return (0);
	case MOD_UNLOAD:
		if (sysctl_ctx_free(&kld_dyn_ctx) != 0)
			return (EBUSY);
		printf("kld_dyn_sysctl: debug.kld_dyn removed\n");
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t kld_dyn_mod = { "kld_dyn_sysctl", kld_dyn_modevent, NULL };
DECLARE_MODULE(kld_dyn_sysctl, kld_dyn_mod, SI_SUB_EXEC, SI_ORDER_ANY);
