/**
 * The file operations under save and load.
 *
 * Saving: a folder has one commit point, the rename of model.json. The weights go first into a file
 * with a fresh name (weights-<id>.bin) that no model.json names yet; it is flushed to disk, then a new
 * model.json naming it is written beside the old one, flushed, and renamed over it (rename is atomic).
 * A crash at any moment leaves the old model.json with the old weights file, which nothing removed,
 * or the new pair. Files that no model.json names any more are removed by the next save.
 *
 * Saves into one folder run one at a time: within a process they queue; between processes a lock
 * file (with the owner's process id) makes a second save fail at once with an error naming the owner.
 * A lock whose process has died (a crash mid-save) is taken over.
 *
 * Loading reads only regular files (not pipes, devices, folders) inside the model's folder, named by
 * a plain file name, and checks a file's size before it reads a byte.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { freshId, isPlainFileName } from './model-file.js';

export const LOCK_FILE = '.gradlab-save.lock';
/** What a save may leave behind: temporaries, the lock's own temporary, and weights files. */
const TEMPORARY = /^(model\.json|weights(-[0-9a-z]+)?\.bin|\.gradlab-save\.lock)\.tmp-[0-9a-z-]+$/;
const WEIGHTS = /^weights(-[0-9a-z]+)?\.bin$/;

const temporaryName = (file: string): string => `${file}.tmp-${process.pid}-${freshId()}`;

/** Flush a folder's entries (new names, renames) to disk; not possible on every system, so best effort. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r');
    try { await handle.sync(); } finally { await handle.close(); }
  } catch { /* Windows cannot open a folder; its renames are durable once they return */ }
}

/** Create `file` (it must not exist), write `data` and flush it to disk. */
export async function writeNewFile(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncFolder(path.dirname(file));
}

/** Replace `file` by `data` in one atomic step: a crash leaves the old content or the new. */
export async function replaceFile(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = temporaryName(file);
  try {
    await writeNewFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await syncFolder(path.dirname(file));
}

/** Remove what earlier saves left: temporaries, and weights files other than `keep` (when given). */
export async function removeLeftovers(dir: string, keep: string | null): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (TEMPORARY.test(name) || (keep !== null && WEIGHTS.test(name) && name !== keep)) {
      await fs.rm(path.join(dir, name), { force: true });
    }
  }
}

// ---- one save at a time per folder -----------------------------------------------------------------

const queues = new Map<string, Promise<unknown>>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, but someone else's
  }
}

/** Create the lock file holding "pid threadId", in one step (link fails if it exists), or say who holds it. */
async function tryLock(lock: string): Promise<{ pid: number; thread: number } | null> {
  const tmp = temporaryName(lock);
  await writeNewFile(tmp, `${process.pid} ${threadId}\n`);
  try {
    await fs.link(tmp, lock);
    return null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const [pid, thread] = (await fs.readFile(lock, 'utf8').catch(() => '')).trim().split(' ').map(Number);
    return { pid, thread };
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

async function acquireLock(dir: string, owner: string): Promise<string> {
  const lock = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    const holder = await tryLock(lock);
    if (holder === null) return lock;
    const ours = holder.pid === process.pid && holder.thread === threadId; // left by a save of ours that failed to remove it
    if (attempt === 0 && (ours || !Number.isInteger(holder.pid) || !isAlive(holder.pid))) {
      await fs.rm(lock, { force: true }); // its process has died mid-save: take it over
      continue;
    }
    throw new Error(`${owner}: ${dir} is being saved by process ${holder.pid} right now (lock file ${lock}); saves into ` +
      'one folder run one at a time: wait for it to finish, or delete the lock file if that process is gone');
  }
  throw new Error(`${owner}: could not take the lock ${lock}`);
}

/** Run `fn` as the only save into `dir`: queued behind this process's saves, refused while another process saves. */
export async function withFolderLock<T>(dir: string, owner: string, fn: () => Promise<T>): Promise<T> {
  const key = await fs.realpath(dir); // one queue per folder, however its path is written
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const lock = await acquireLock(dir, owner);
    try {
      return await fn();
    } finally {
      await fs.rm(lock, { force: true });
    }
  });
  queues.set(key, run);
  try {
    return await run;
  } finally {
    if (queues.get(key) === run) queues.delete(key);
  }
}

// ---- reading a file that someone else may have written ---------------------------------------------

/**
 * The bytes of `name` in `dir`, after checking that it is a plain name, that it resolves (through any
 * links) to a regular file inside `dir`, and that `checkSize` accepts its size. Errors start with
 * "models.load:" and name the file.
 */
export async function readFileInFolder(dir: string, name: string, checkSize: (bytes: number, file: string) => void): Promise<Buffer> {
  const file = path.join(dir, name);
  if (!isPlainFileName(name)) throw new Error(`models.load: ${JSON.stringify(name)} is not a plain file name inside ${dir}`);
  let handle: fs.FileHandle;
  try {
    const [realDir, realFile] = await Promise.all([fs.realpath(dir), fs.realpath(file)]);
    const relative = path.relative(realDir, realFile);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new Error(`it is a link to ${realFile}, outside the model's folder ${realDir}`);
    }
    // O_NONBLOCK: opening a named pipe must not wait for a writer; the check below refuses it.
    handle = await fs.open(realFile, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new Error(`models.load: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`models.load: ${file} is not a regular file (a ${stat.isDirectory() ? 'folder' : 'pipe, socket or device'}); refusing to read it`);
    checkSize(stat.size, file);
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < bytes.byteLength) {
      const { bytesRead } = await handle.read(bytes, read, bytes.byteLength - read, read);
      if (bytesRead === 0) throw new Error(`models.load: ${file} shrank from ${stat.size} to ${read} bytes while being read`);
      read += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}
