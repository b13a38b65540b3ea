/* undef: calls functions and reads data the kernel does not provide. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

void frobnicate_alpha(void);
int frobnicate_beta(int);
extern int frobnicate_gamma;

static int
undef_modevent(module_t mod, int what, void *arg)
{
	if (what == MOD_LOAD) {
		frobnicate_alpha();
		return (frobnicate_beta(frobnicate_gamma));
	}
	return (0);
}

static moduledata_t undef_mod = { "undef", undef_modevent, NULL };
DECLARE_MODULE(undef, undef_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
