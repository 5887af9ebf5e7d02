/**
 * Node's fs and path for the callbacks that write files (ModelCheckpoint's backups, BackupAndRestore,
 * CSVLogger), imported the first time one of them writes: a page that bundles gradlab never reaches a
 * Node built-in (docs/formats.md; test/browser-page.test.ts and layers' browser-safe.test.ts check it).
 */
export async function nodeFiles(): Promise<{ fs: typeof import('node:fs').promises; path: typeof import('node:path') }> {
  const [{ promises: fs }, path] = await Promise.all([import('node:fs'), import('node:path')]);
  return { fs, path };
}
