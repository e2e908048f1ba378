import type { z } from 'zod';

/** `["rigs", 3, "address"]` → `rigs[3].address`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/** One human line per zod issue, naming the field: `rigs[3].address: expected host:port`. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? `${formatPath(issue.path)}.` : '';
      return issue.keys.map((key) => `${where}${key}: unknown setting`).join('\n  ');
    }
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
}
