/**
 * Import a module another area is still writing. Only "that very file is missing" counts as not built: a
 * missing import *inside* it is a real error and is rethrown.
 */
export async function importOptional<T>(specifier: string, from: string): Promise<T | undefined> {
  const url = new URL(specifier, from);
  const stem = url.pathname.replace(/\.js$/, '');
  try {
    // A variable specifier keeps tsc from requiring the file at type-check time.
    return (await import(url.href)) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(stem)) return undefined;
    throw err;
  }
}
