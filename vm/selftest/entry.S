/* PVH entry of the self-test payload: record the entry state, build an
 * identity map of the first 4 GiB (2 MiB pages), switch to long mode and
 * call st_main().  Also the real-mode trampoline the APs run after SIPI. */

	.section .note.Xen, "a"
	.balign 4
	.long 4                 /* namesz */
	.long 4                 /* descsz */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start
	.balign 4

	.section .text.entry, "ax"
	.code32
	.globl pvh_start
pvh_start:
	movl %eax, st_entry_eax
	movl %ebx, st_entry_ebx
	movl %cr0, %eax
	movl %eax, st_entry_cr0
	movl %cr4, %eax
	movl %eax, st_entry_cr4
	movl %cs, %eax
	movl %eax, st_entry_cs
	movl %ds, %eax
	movl %eax, st_entry_ds
	movl $st_stack_top, %esp
	pushfl
	popl st_entry_eflags

	/* PML4[0] -> PDPT; PDPT[0..3] -> PD 0..3; PD: 2048 x 2 MiB */
	movl $st_pdpt, %eax
	orl $3, %eax
	movl %eax, st_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $st_pd, %eax
	orl $3, %eax
	movl %eax, st_pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jne 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, st_pd(,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax
	movl %eax, st_pd+4(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b

	movl $st_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $0x20, %eax         /* PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx  /* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax   /* PG, PE */
	movl %eax, %cr0
	lgdt gdt_desc
	ljmp $0x08, $long_entry

/* The Linux 64-bit boot protocol enters 0x200 bytes into the protected-mode
 * code, in long mode, with RSI -> boot_params and the VMM's GDT and page
 * tables: take over with our own GDT, then join the PVH path. */
	.code64
	.org 0x200
	.globl linux64_entry
linux64_entry:
	cli
	movq %rsi, st_entry_bootparams(%rip)
	lgdt gdt_desc64(%rip)
	pushq $0x08
	leaq long_entry(%rip), %rax
	pushq %rax
	lretq

long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movabsq $st_stack_top, %rsp
	call st_main
3:	cli
	hlt
	jmp 3b

/* Copied to a page below 1 MiB; an AP starts here in real mode after
 * SIPI, counts itself and halts. */
	.code16
	.globl st_ap_tramp, st_ap_tramp_end, st_ap_tramp_count
st_ap_tramp:
	lock incl %cs:(st_ap_tramp_count - st_ap_tramp)
4:	cli
	hlt
	jmp 4b
	.balign 4
st_ap_tramp_count:
	.long 0
st_ap_tramp_end:

	.section .data
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff  /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff  /* 0x10: data */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt
	.balign 8
gdt_desc64:
	.word gdt_desc - gdt - 1
	.quad gdt

	.globl st_entry_eax, st_entry_ebx, st_entry_cr0, st_entry_cr4
	.globl st_entry_cs, st_entry_ds, st_entry_eflags, st_entry_bootparams
	.balign 8
st_entry_bootparams: .quad 0
st_entry_eax:	.long 0
st_entry_ebx:	.long 0
st_entry_cr0:	.long 0
st_entry_cr4:	.long 0
st_entry_cs:	.long 0
st_entry_ds:	.long 0
st_entry_eflags: .long 0

	.section .bss
	.balign 4096
st_pml4:	.skip 4096
st_pdpt:	.skip 4096
st_pd:		.skip 4 * 4096
	.balign 16
	.skip 32768
	.globl st_stack_top
st_stack_top:
