/* VM defaults, stated once: the drivers (vm/vm.h), ops (through vm.h) and
 * ocivm-vmm's own command line use these. */
#ifndef OCIVM_VM_DEFAULTS_H
#define OCIVM_VM_DEFAULTS_H

#define VM_DEFAULT_MEMORY_MIB 256u   /* guest RAM when neither config nor daemon say */
#define VM_DEFAULT_VCPUS 1u

#endif
