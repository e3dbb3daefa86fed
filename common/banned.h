/*
 * common/banned.h: libc calls this tree does not use, made compile errors
 * (the idea and the macro trick are git's banned.h).
 *
 * The Makefile force-includes this header first in every project source
 * (-include common/banned.h) and in the unit tests. It includes the system
 * headers that declare the banned names itself, before defining the
 * macros, so their declarations are read unharmed and later includes of
 * them are no-ops behind their guards. A use then expands to an undeclared
 * identifier that names the ban:
 *   error: 'sorry_strcpy_is_a_banned_function' undeclared
 *
 * What to use instead:
 *   strcpy, strcat, strncpy, strncat: snprintf(dst, sizeof(dst), "%s", s)
 *     (check its return value when truncation matters), memcpy with a
 *     length checked first, or struct strbuf (common/util.h). strncpy does
 *     not terminate on truncation; strncat's bound is not the buffer's.
 *   sprintf, vsprintf: snprintf, vsnprintf, xasprintf, sb_addf.
 *   strtok: strtok_r or strsep (strtok keeps hidden state between calls,
 *     which breaks as soon as two loops nest).
 *   gets: cannot be used safely at all; fgets or getline.
 *   asctime, ctime, gmtime, localtime (and asctime_r, ctime_r, whose
 *     buffers have no length): gmtime_r / localtime_r, then strftime or
 *     lk_rfc3339 (common/util.h).
 *   tmpnam, tempnam, mktemp: a race between the name and its use;
 *     mkstemp or mkdtemp.
 *
 * Tests and tools outside the binary may include it too; nothing here
 * changes code that does not name a banned function.
 */
#ifndef LK_BANNED_H
#define LK_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)

#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)

#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#undef asctime
#define asctime(t) BANNED(asctime)
#undef asctime_r
#define asctime_r(t, buf) BANNED(asctime_r)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef ctime_r
#define ctime_r(t, buf) BANNED(ctime_r)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)

#undef tmpnam
#define tmpnam(s) BANNED(tmpnam)
#undef tempnam
#define tempnam(d, p) BANNED(tempnam)
#undef mktemp
#define mktemp(t) BANNED(mktemp)

#endif
