// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest-safe string functions that replace libc's in every test binary.
 *
 * In a static binary libc picks memcpy and friends by the host CPU's
 * features (AVX2, AVX-512) at start-up. Guest code calls the same symbols
 * (the compiler emits memcpy/memset for struct copies), and a guest may not
 * have those features enabled. rep movsb/stosb are fast on every CPU with
 * ERMS and need nothing but the base ISA.
 */
#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;

	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
	void *ret = dst;

	if (dst <= src || (const char *)src + n <= (char *)dst)
		return memcpy(dst, src, n);
	dst = (char *)dst + n - 1;
	src = (const char *)src + n - 1;
	__asm__ volatile("std; rep movsb; cld"
			 : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	return ret;
}

void *memset(void *s, int c, size_t n)
{
	void *ret = s;

	__asm__ volatile("rep stosb" : "+D"(s), "+c"(n) : "a"(c) : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return p - s;
}
