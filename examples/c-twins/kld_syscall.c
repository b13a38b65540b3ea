/*
 * kld_syscall: a system call in the style of FreeBSD's share/examples/kld/syscall (own
 * code): adds a syscall that prints its argument, at the first free slot.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/sysent.h>
#include <bsm/audit_kevents.h>

struct kld_syscall_args {
	int value;
};

static int
kld_syscall_call(struct thread *td, void *arg)
{
	struct kld_syscall_args *uap = arg;

	printf("kld_syscall: called with %d\n", uap->value);
	return (0);
}

static struct sysent kld_syscall_sysent = {
	.sy_narg = 1,
	.sy_call = kld_syscall_call,
};

static int kld_syscall_offset = NO_SYSCALL;

static int
kld_syscall_load(struct module *module, int cmd, void *arg)
{
	if (cmd == MOD_LOAD)
		printf("kld_syscall: loaded at offset %d\n", kld_syscall_offset);
	else if (cmd == MOD_UNLOAD)
		printf("kld_syscall: unloaded from offset %d\n", kld_syscall_offset);
	return (0);
}

SYSCALL_MODULE(kld_syscall, &kld_syscall_offset, &kld_syscall_sysent,
    kld_syscall_load, NULL);
