// Worker entry when the collector runs through tsx: register tsx's loader in this thread, then load the worker.
import { register } from 'tsx/esm/api';

register();
await import('./store-writer-worker.ts');
