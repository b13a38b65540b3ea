/*
 * empty_sections: symbols defined in sections of size zero, whose addresses the module takes.
 * link_elf_obj.c skips a section whose sh_size is 0 when it loads the file ("if
 * (shdr[i].sh_size == 0) continue;"), so the symbols of that section never get "Update all
 * symbol values with the offset" and keep their st_value from the file; elf_obj_lookup()
 * answers a relocation against a defined symbol with that st_value ("Quick answer if there
 * is a definition included"). tools/kernel-sim/tests/empty_sections.rs reads the results.
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>

/* A zero-length object alone in its section: the section is empty, the symbol at 0. */
static char empty_obj[0] __attribute__((section("empty_obj_sec"), used));
/* A symbol 16 bytes past the start of another empty section (st_value 16). */
__asm__(".section empty_end_sec,\"aw\",@progbits\n"
    ".globl empty_end\n"
    ".type empty_end,@object\n"
    "empty_end = . + 16\n"
    ".text\n");
extern char empty_end[];

char *empty_ptr = empty_obj;		/* R_X86_64_64 empty_obj + 0 */
char *empty_ptr4 = empty_obj + 4;	/* R_X86_64_64 empty_obj + 4 */
char *empty_end_ptr = empty_end;	/* R_X86_64_64 empty_end + 0 */
int empty_loaded;			/* a non-empty .bss: its symbols are relocated */
int *loaded_ptr = &empty_loaded;

static int
empty_sections_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
	case MOD_UNLOAD:
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t empty_sections_mod = { "empty_sections", empty_sections_modevent, NULL };
DECLARE_MODULE(empty_sections, empty_sections_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(empty_sections, 1);
