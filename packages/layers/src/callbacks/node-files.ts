/**
 * Node's fs and path for the callbacks that write files (ModelCheckpoint's backups, BackupAndRestore,
 * CSVLogger), imported the first time one of them writes: a page that bundles gradlab never reaches a
 * Node built-in (docs/formats.md; test/browser-page.test.ts and layers' browser-safe.test.ts check it).
 */
// The specifiers are variables so that bundlers (esbuild, webpack, rollup) leave them alone instead of
// failing to resolve a Node built-in for the browser, as models/io.ts does for the file handler.
const FS: string = 'node:fs';
const PATH: string = 'node:path';

export async function nodeFiles(): Promise<{ fs: typeof import('node:fs').promises; path: typeof import('node:path') }> {
  const [{ promises: fs }, path] = await Promise.all([
    import(FS) as Promise<typeof import('node:fs')>, import(PATH) as Promise<typeof import('node:path')>]);
  return { fs, path };
}
