// A file's text, decoded as readFileSync(path, 'utf8') decodes it (the same replacement of invalid
// bytes, the byte order mark kept) in half the time on Node 20: there, readFileSync with an encoding
// decodes through V8's UTF-8 decoder, while Buffer#toString('utf8') takes Node's fast path; a 20 MB
// cache entry reads in ~21 ms instead of ~42 (bench/plan.md, session 17). For the large files a
// command reads whole: cache entries, specs, states, saved plans.

import { readFileSync } from 'node:fs';

export const readUtf8 = (path: string): string => readFileSync(path).toString('utf8');
