/**
 * Where a worker thread starts: the compiled `<name>.js` beside the caller, or, when the caller runs through tsx,
 * `<name>-boot.mjs`, which registers tsx's loader in the worker (a worker does not inherit the main thread's
 * module hooks) and then loads `<name>.ts`.
 */
export function workerEntry(callerUrl: string, name: string): URL {
  return callerUrl.endsWith('.ts')
    ? new URL(`./${name}-boot.mjs`, callerUrl)
    : new URL(`./${name}.js`, callerUrl);
}
