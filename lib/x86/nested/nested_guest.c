// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested virtualization, guest side: helpers for L1 and L2 code alike.
 *
 * Which vendor the CPU is, found once by L1 and cached where L2 reads it
 * too, and the hypercall from L2 to L1 (VMMCALL or VMCALL) it chooses.
 */
#include "nested/nested.h"

/* CPUID.0 vendor strings, EBX part: "Auth"enticAMD and "Hygo"nGenuine. */
#define CPUID_VENDOR_AMD_EBX	0x68747541
#define CPUID_VENDOR_HYGON_EBX	0x6f677948

/*
 * Lives in the image, which L2 shares: L1 fills it before L2 first runs,
 * so L2 never executes CPUID (unconditionally an exit on VMX).
 */
static enum nested_vendor cpu_vendor;

enum nested_vendor nested_cpu_vendor(void)
{
	u32 a, b, c, d;

	if (!READ_ONCE(cpu_vendor)) {
		cpuid_count(0, 0, &a, &b, &c, &d);
		WRITE_ONCE(cpu_vendor, (b == CPUID_VENDOR_AMD_EBX ||
					b == CPUID_VENDOR_HYGON_EBX) ?
				       NESTED_SVM : NESTED_VMX);
	}
	return cpu_vendor;
}

u64 l2_hypercall(u64 nr, u64 arg)
{
	u64 ret;

	if (nested_cpu_vendor() == NESTED_SVM)
		__asm__ volatile("vmmcall" : "=a"(ret) : "a"(nr), "b"(arg)
				 : "memory");
	else
		__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(arg)
				 : "memory");
	return ret;
}
