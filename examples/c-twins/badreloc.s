# An absolute 32-bit (zero-extended) reference: R_X86_64_32, which the amd64 kernel's
# elf_reloc_internal() refuses ("kldload: unexpected relocation type 10, ...").
	.data
	.globl	badreloc_table
badreloc_table:
	.long	printf
	.section .note.GNU-stack,"",@progbits
