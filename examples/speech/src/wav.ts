/**
 * Reading and writing 16-bit PCM WAV (RIFF) files, the only kind the pipeline makes (sox writes them).
 *
 *   "RIFF" size "WAVE", then chunks: "fmt " (format 1 = PCM, channels, sample rate, …, bits per sample)
 *   and "data" (little-endian samples, channels interleaved). Other chunks ("LIST", …) are skipped.
 *
 * Samples come back as floats in [−1, 1): the 16-bit value divided by 32768.
 */

export interface Audio {
  sampleRate: number;
  /** Mono samples in [−1, 1). */
  samples: Float32Array;
}

const ascii = (bytes: Uint8Array, at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));

export function parseWav(bytes: Uint8Array, source = 'wav'): Audio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || ascii(bytes, 0) !== 'RIFF' || ascii(bytes, 8) !== 'WAVE') {
    throw new Error(`parseWav: ${source} is not a RIFF/WAVE file`);
  }
  let format: { channels: number; sampleRate: number; bits: number } | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at);
    // A streamed WAV (sox or espeak writing to a pipe) may leave the size as 0 or 0xFFFFFFFF: take the rest.
    let size = view.getUint32(at + 4, true);
    if (id === 'data' && (size === 0 || at + 8 + size > bytes.length)) size = bytes.length - at - 8;
    if (id === 'fmt ') {
      const code = view.getUint16(at + 8, true);
      if (code !== 1) throw new Error(`parseWav: ${source} has format ${code}; only PCM (1) is read`);
      format = { channels: view.getUint16(at + 10, true), sampleRate: view.getUint32(at + 12, true), bits: view.getUint16(at + 22, true) };
    } else if (id === 'data') {
      if (!format) throw new Error(`parseWav: ${source} has its data chunk before its fmt chunk`);
      if (format.bits !== 16) throw new Error(`parseWav: ${source} has ${format.bits}-bit samples; only 16-bit is read`);
      const frames = Math.floor(size / (2 * format.channels));
      const samples = new Float32Array(frames);
      // Mix channels down to mono by averaging.
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < format.channels; c++) sum += view.getInt16(at + 8 + 2 * (i * format.channels + c), true);
        samples[i] = sum / format.channels / 32768;
      }
      return { sampleRate: format.sampleRate, samples };
    }
    at += 8 + size + (size % 2); // chunks are padded to even sizes
  }
  throw new Error(`parseWav: ${source} has no data chunk`);
}

/** A mono 16-bit PCM WAV file of the samples (clipped to [−1, 1)). */
export function encodeWav(audio: Audio): Uint8Array {
  const n = audio.samples.length;
  const bytes = new Uint8Array(44 + 2 * n);
  const view = new DataView(bytes.buffer);
  const text = (at: number, s: string): void => { for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i); };
  text(0, 'RIFF'); view.setUint32(4, 36 + 2 * n, true); text(8, 'WAVE');
  text(12, 'fmt '); view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, audio.sampleRate, true); view.setUint32(28, audio.sampleRate * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, 'data'); view.setUint32(40, 2 * n, true);
  for (let i = 0; i < n; i++) view.setInt16(44 + 2 * i, Math.max(-32768, Math.min(32767, Math.round(audio.samples[i] * 32768))), true);
  return bytes;
}
