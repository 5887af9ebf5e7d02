/**
 * The IO handler for a folder on disk (Node only; io.ts imports this module on first use). Saving and
 * reading keep the guarantees files.ts describes: one atomic commit (the rename of model.json), one
 * save at a time per folder, and reads of regular files inside the folder only, sized before read.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { IOHandler, ModelArtifacts } from './io.js';
import { MODEL_FILE } from './model-file.js';
import { readFileInFolder, removeLeftovers, replaceFile, withFolderLock, writeNewFile } from './files.js';

export function fileFolder(dir: string): IOHandler {
  return {
    location: dir,
    where: (file) => path.join(dir, file),

    async save({ modelJson, weightsFile, weights }: ModelArtifacts, owner: string): Promise<void> {
      await fs.mkdir(dir, { recursive: true });
      await withFolderLock(dir, owner, async () => {
        await removeLeftovers(dir, null);
        await writeNewFile(path.join(dir, weightsFile), weights);
        await replaceFile(path.join(dir, MODEL_FILE), modelJson); // the commit point
        await removeLeftovers(dir, weightsFile);
      });
    },

    async readModelJson(maxBytes: number): Promise<string> {
      const bytes = await readFileInFolder(dir, MODEL_FILE, (size, file) => {
        if (size > maxBytes) throw new Error(`models.load: ${file} has ${size} bytes, more than a model file holds (${maxBytes}); refusing to read it`);
      });
      return bytes.toString('utf8');
    },

    readWeights: (file, checkSize) => readFileInFolder(dir, file, checkSize),

    /**
     * A save that commits while we read can remove the weights file our model.json named (the reader
     * got the old model.json, then the old weights went): then read again, once, from the new one.
     */
    async shouldRetry(error: unknown): Promise<boolean> {
      const missing = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
      return missing && fs.stat(path.join(dir, MODEL_FILE)).then(() => true, () => false);
    },
  };
}
