/* The guest-physical layout of an ocivm-vmm machine (shared by the loaders,
 * the ACPI builder, the device wiring and documented in README.md). */
#ifndef OCIVM_VMM_LAYOUT_H
#define OCIVM_VMM_LAYOUT_H

#define LAYOUT_GDT          0x0500ull   /* boot GDT (5 entries) */
#define LAYOUT_START_INFO   0x6000ull   /* PVH hvm_start_info */
#define LAYOUT_MODLIST      0x6040ull   /* PVH module list (initrd) */
#define LAYOUT_MEMMAP       0x6100ull   /* PVH memory map (<= 128 entries) */
#define LAYOUT_ZERO_PAGE    0x7000ull   /* bzImage boot_params */
#define LAYOUT_BOOT_STACK   0x8ff0ull   /* rsp for the 64-bit entry */
#define LAYOUT_PML4         0x9000ull   /* 64-bit entry page tables: */
#define LAYOUT_PDPT         0xa000ull   /*   identity map of 4 GiB */
#define LAYOUT_PD           0xb000ull   /*   with 2 MiB pages (4 PDs) */
#define LAYOUT_CMDLINE      0x20000ull
#define LAYOUT_CMDLINE_MAX  4096u
#define LAYOUT_EBDA         0x9fc00ull  /* end of low RAM in the e820 */
#define LAYOUT_ACPI         0xe0000ull  /* RSDP, then the other tables */
#define LAYOUT_ACPI_SIZE    0x20000ull
#define LAYOUT_HIMEM        0x100000ull
#define LAYOUT_HOLE_START   0xc0000000ull /* RAM above this goes to 4 GiB+ */
#define LAYOUT_HOLE_END     0x100000000ull
#define LAYOUT_VIRTIO_BASE  0xd0000000ull /* virtio-mmio device i at base + i*stride */
#define LAYOUT_VIRTIO_STRIDE 0x1000ull
#define LAYOUT_VIRTIO_GSI0  5u            /* device i raises GSI 5 + i */
#define LAYOUT_VIRTIO_MAX   16u
#define LAYOUT_IOAPIC       0xfec00000ull
#define LAYOUT_LAPIC        0xfee00000ull
#define LAYOUT_IOAPIC_PINS  24u

/* Port I/O devices of the platform. */
#define PORT_UART0          0x3f8u  /* 8250, IRQ 4 */
#define PORT_ACPI_SLEEP_CTL 0x3c0u  /* FADT SLEEP_CONTROL_REG */
#define PORT_ACPI_SLEEP_STS 0x3c1u  /* FADT SLEEP_STATUS_REG */
#define PORT_ACPI_RESET     0x3c2u  /* FADT RESET_REG, value ACPI_RESET_VALUE */
#define ACPI_RESET_VALUE    0x1u
#define PORT_DEBUG_EXIT     0x501u  /* outb anything: power off */
#define PORT_IRQ_TEST       0x502u  /* outb gsi: pulse that GSI (self-test) */
#define PORT_QEMU_SHUTDOWN  0x604u  /* outw 0x2000: power off (QEMU's port) */
#define PORT_I8042_CMD      0x64u   /* outb 0xfe: reset */
#define PORT_RESET_CF9      0xcf9u  /* outb with bit 2: reset */

#endif
