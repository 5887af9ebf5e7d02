/**
 * Reading and writing WAV (RIFF) files.
 *
 *   "RIFF" size "WAVE", then chunks: "fmt " (format code, channels, sample rate, …, bits per sample)
 *   and "data" (little-endian samples, channels interleaved). Other chunks ("LIST", "fact", …) are skipped.
 *
 * Read: PCM (format 1) with 8-bit (unsigned, 128 is zero) or 16-bit (signed) samples, and IEEE float
 * (format 3) with 32-bit samples, also when wrapped in WAVE_FORMAT_EXTENSIBLE (0xFFFE, which recorders
 * and sox write for many channels or float); any number of channels, mixed down to mono by averaging.
 * Anything else is refused with an error naming the file and what it holds, so a user knows what to
 * convert (e.g. `sox in.wav -b 16 out.wav`). Samples come back as floats in [−1, 1].
 */

export interface Audio {
  sampleRate: number;
  /** Mono samples in [−1, 1]. */
  samples: Float32Array;
}

const ascii = (bytes: Uint8Array, at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;

interface Format { code: number; channels: number; sampleRate: number; bits: number }

/** The reader of one sample of each format this file may hold, as a float in [−1, 1]. */
function sampleReader(view: DataView, format: Format, source: string): { bytes: number; read: (at: number) => number } {
  if (format.code === PCM && format.bits === 8) return { bytes: 1, read: (at) => (view.getUint8(at) - 128) / 128 };
  if (format.code === PCM && format.bits === 16) return { bytes: 2, read: (at) => view.getInt16(at, true) / 32768 };
  if (format.code === IEEE_FLOAT && format.bits === 32) return { bytes: 4, read: (at) => view.getFloat32(at, true) };
  const kind = format.code === PCM ? `${format.bits}-bit PCM` : format.code === IEEE_FLOAT ? `${format.bits}-bit float` : `format code ${format.code}`;
  throw new Error(`parseWav: ${source} holds ${kind} samples; only 8- or 16-bit PCM and 32-bit float WAV are read ` +
    '(convert it, e.g. with `sox in.wav -b 16 out.wav`)');
}

function parseFormat(view: DataView, at: number, size: number, source: string): Format {
  if (size < 16) throw new Error(`parseWav: ${source} has a fmt chunk of ${size} bytes; a WAV fmt chunk has at least 16`);
  let code = view.getUint16(at, true);
  // WAVE_FORMAT_EXTENSIBLE keeps the real format code in the first two bytes of its sub-format GUID.
  if (code === EXTENSIBLE && size >= 26) code = view.getUint16(at + 24, true);
  const format = { code, channels: view.getUint16(at + 2, true), sampleRate: view.getUint32(at + 4, true), bits: view.getUint16(at + 14, true) };
  if (format.channels < 1) throw new Error(`parseWav: ${source} says it has ${format.channels} channels`);
  if (format.sampleRate < 1) throw new Error(`parseWav: ${source} says its sample rate is ${format.sampleRate} Hz`);
  return format;
}

export function parseWav(bytes: Uint8Array, source = 'wav'): Audio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || ascii(bytes, 0) !== 'RIFF' || ascii(bytes, 8) !== 'WAVE') {
    throw new Error(`parseWav: ${source} is not a RIFF/WAVE file (it does not start with "RIFF" … "WAVE")`);
  }
  let format: Format | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at);
    // A streamed WAV (sox or espeak writing to a pipe) may leave the size as 0 or 0xFFFFFFFF: take the rest.
    let size = view.getUint32(at + 4, true);
    if (id === 'data' && (size === 0 || at + 8 + size > bytes.length)) size = bytes.length - at - 8;
    if (id === 'fmt ') {
      format = parseFormat(view, at + 8, size, source);
    } else if (id === 'data') {
      if (!format) throw new Error(`parseWav: ${source} has its data chunk before its fmt chunk`);
      const sample = sampleReader(view, format, source);
      const frameBytes = sample.bytes * format.channels;
      const frames = Math.floor(size / frameBytes);
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < format.channels; c++) sum += sample.read(at + 8 + i * frameBytes + c * sample.bytes);
        samples[i] = sum / format.channels;
      }
      return { sampleRate: format.sampleRate, samples };
    }
    at += 8 + size + (size % 2); // chunks are padded to even sizes
  }
  throw new Error(`parseWav: ${source} has no data chunk`);
}

export interface EncodeOptions {
  /** 8 or 16 (PCM) or 32 (float); default 16. */
  bits?: 8 | 16 | 32;
  /** Copies of the mono signal, interleaved (default 1). */
  channels?: number;
}

/** A WAV file of the samples (clipped to [−1, 1] for PCM): 16-bit PCM mono unless told otherwise. */
export function encodeWav(audio: Audio, options: EncodeOptions = {}): Uint8Array {
  const bits = options.bits ?? 16;
  const channels = options.channels ?? 1;
  const bytesPerSample = bits / 8;
  const n = audio.samples.length;
  const dataBytes = n * channels * bytesPerSample;
  const bytes = new Uint8Array(44 + dataBytes + (dataBytes % 2));
  const view = new DataView(bytes.buffer);
  const text = (at: number, s: string): void => { for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i); };
  text(0, 'RIFF'); view.setUint32(4, bytes.length - 8, true); text(8, 'WAVE');
  text(12, 'fmt '); view.setUint32(16, 16, true);
  view.setUint16(20, bits === 32 ? IEEE_FLOAT : PCM, true); view.setUint16(22, channels, true);
  view.setUint32(24, audio.sampleRate, true); view.setUint32(28, audio.sampleRate * channels * bytesPerSample, true);
  view.setUint16(32, channels * bytesPerSample, true); view.setUint16(34, bits, true);
  text(36, 'data'); view.setUint32(40, dataBytes, true);
  const clip = (s: number): number => Math.max(-1, Math.min(1, s));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const at = 44 + (i * channels + c) * bytesPerSample;
      const s = audio.samples[i];
      if (bits === 32) view.setFloat32(at, s, true);
      else if (bits === 16) view.setInt16(at, Math.max(-32768, Math.min(32767, Math.round(clip(s) * 32768))), true);
      else view.setUint8(at, Math.max(0, Math.min(255, Math.round(clip(s) * 128 + 128))));
    }
  }
  return bytes;
}
