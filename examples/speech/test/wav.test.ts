import { encodeWav, parseWav } from '../src/wav';

/** A WAV header + data built byte by byte here, independently of encodeWav. */
function handMade(format: number, channels: number, rate: number, bits: number, data: number[], extensibleCode?: number): Uint8Array {
  const fmtSize = extensibleCode === undefined ? 16 : 40;
  const bytes = new Uint8Array(12 + 8 + fmtSize + 8 + data.length);
  const v = new DataView(bytes.buffer);
  const text = (at: number, s: string): void => { for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i); };
  text(0, 'RIFF'); v.setUint32(4, bytes.length - 8, true); text(8, 'WAVE');
  text(12, 'fmt '); v.setUint32(16, fmtSize, true);
  v.setUint16(20, format, true); v.setUint16(22, channels, true); v.setUint32(24, rate, true);
  v.setUint32(28, rate * channels * (bits / 8), true); v.setUint16(32, channels * (bits / 8), true); v.setUint16(34, bits, true);
  if (extensibleCode !== undefined) { v.setUint16(36, 22, true); v.setUint16(44, extensibleCode, true); }
  const dataAt = 20 + fmtSize;
  text(dataAt, 'data'); v.setUint32(dataAt + 4, data.length, true);
  bytes.set(data, dataAt + 8);
  return bytes;
}

describe('WAV reader', () => {
  test('16-bit PCM round trip, and streamed files with a zero data size', () => {
    const samples = Float32Array.from([0, 0.5, -0.5, 0.25, -1]);
    const bytes = encodeWav({ sampleRate: 16000, samples });
    const back = parseWav(bytes);
    expect(back.sampleRate).toBe(16000);
    expect(Array.from(back.samples)).toEqual([0, 16384, -16384, 8192, -32768].map((v) => Math.fround(v / 32768)));
    const streamed = bytes.slice();
    new DataView(streamed.buffer).setUint32(40, 0, true);
    expect(parseWav(streamed).samples.length).toBe(5);
  });

  test('8-bit unsigned PCM: 128 is silence, 0 is −1, 255 is 127/128', () => {
    const audio = parseWav(handMade(1, 1, 8000, 8, [128, 0, 255, 192]), 'eight.wav');
    expect(audio.sampleRate).toBe(8000);
    expect(Array.from(audio.samples)).toEqual([0, -1, 127 / 128, 0.5]);
  });

  test('stereo is mixed to mono by averaging the two channels', () => {
    // 16-bit little-endian frames (L, R): (16384, 0) → 0.25; (−32768, −32768) → −1.
    const audio = parseWav(handMade(1, 2, 44100, 16, [0x00, 0x40, 0, 0, 0x00, 0x80, 0x00, 0x80]), 'stereo.wav');
    expect(audio.sampleRate).toBe(44100);
    expect(Array.from(audio.samples)).toEqual([0.25, -1]);
  });

  test('32-bit float, plain (format 3) and in WAVE_FORMAT_EXTENSIBLE', () => {
    const floats = new Uint8Array(new Float32Array([0.75, -0.125]).buffer);
    expect(Array.from(parseWav(handMade(3, 1, 48000, 32, [...floats]), 'f.wav').samples)).toEqual([0.75, -0.125]);
    expect(Array.from(parseWav(handMade(0xfffe, 1, 48000, 32, [...floats], 3), 'fx.wav').samples)).toEqual([0.75, -0.125]);
    const back = parseWav(encodeWav({ sampleRate: 22050, samples: Float32Array.from([0.3, -0.6]) }, { bits: 32, channels: 2 }));
    expect(back.sampleRate).toBe(22050);
    expect(Array.from(back.samples)).toEqual([Math.fround(0.3), Math.fround(-0.6)]);
    const eight = parseWav(encodeWav({ sampleRate: 8000, samples: Float32Array.from([0.5, -0.5]) }, { bits: 8 }));
    expect(Array.from(eight.samples)).toEqual([0.5, -0.5]);
  });

  test('refuses what it cannot read, naming the file and what it holds', () => {
    expect(() => parseWav(new Uint8Array(20), 'x.wav')).toThrow('parseWav: x.wav is not a RIFF/WAVE file');
    expect(() => parseWav(handMade(1, 1, 16000, 24, [0, 0, 0]), 'deep.wav')).toThrow(/deep\.wav holds 24-bit PCM samples; only 8- or 16-bit PCM and 32-bit float/);
    expect(() => parseWav(handMade(3, 1, 16000, 64, new Array(8).fill(0)), 'double.wav')).toThrow(/double\.wav holds 64-bit float samples/);
    expect(() => parseWav(handMade(0x55, 1, 16000, 16, [0, 0]), 'song.mp3.wav')).toThrow(/song\.mp3\.wav holds format code 85 samples/);
    expect(() => parseWav(handMade(0xfffe, 1, 16000, 16, [0, 0], 6), 'alaw.wav')).toThrow(/alaw\.wav holds format code 6/);
    expect(() => parseWav(handMade(1, 0, 16000, 16, [0, 0]), 'none.wav')).toThrow(/none\.wav says it has 0 channels/);
    const noData = handMade(1, 1, 16000, 16, []).slice(0, 36);
    expect(() => parseWav(noData, 'empty.wav')).toThrow('parseWav: empty.wav has no data chunk');
  });
});
