/**
 * The page side of browser.test.ts: bundled by esbuild with gradlab and @gradlab/gpu, run in
 * headless Chromium. It finds the GPU.js modes the browser offers, registers a gpu backend for each
 * (webgl2 is the one that matters: real fragment shaders, here on SwiftShader's software Vulkan),
 * runs the kernel checks of checks.ts against the CPU backend in the page, trains a little network
 * to check the training loop and its memory, and leaves everything in window.__gradlab.
 */
import * as gradlab from 'gradlab';
import { registerGpuBackend, modeSupport, tidy, Device, createGpuBackend } from '@gradlab/gpu';
import type { GpuMode } from '@gradlab/gpu';
import { GPU } from 'gpu.js';
import { allChecks, runCheck } from '../../../tensor/test/conformance/checks';
import type { CheckResult } from '../../../tensor/test/conformance/checks';

interface ModeReport { mode: string; available: boolean; reason: string; results: CheckResult[]; training?: { firstLoss: number; lastLoss: number; liveTexturesBefore: number; liveTexturesAfter: number; texturesCreated: number } }

async function webgpuReport(): Promise<{ available: boolean; reason: string }> {
  if (!GPU.isWebGPUSupported) return { available: false, reason: 'navigator.gpu is missing' };
  const available = await GPU.isWebGPUAvailable();
  return { available, reason: available ? 'an adapter answered (browser-webgpu.test.ts runs the backend on it)' : 'navigator.gpu exists but requestAdapter() gave no adapter' };
}

function train(mode: GpuMode): ModeReport['training'] {
  const device = new Device({ mode, log: false });
  const name = `gpu-page-train-${mode}`;
  gradlab.registerBackend(name, () => createGpuBackend(device, name));
  gradlab.setBackend(name);
  try {
    const x = gradlab.randn([16, 8], { seed: 1 });
    const y = x.slice([null, [0, 4]]).tanh().contiguous();
    let w = gradlab.randn([8, 4], { seed: 2, std: 0.3 });
    const before = device.liveTextures;
    let firstLoss = NaN, lastLoss = NaN;
    for (let s = 0; s < 200; s++) {
      const next = tidy(() => {
        const diff = x.matmul(w).tanh().sub(y);
        const loss = diff.square().mean();
        const dPre = diff.mul(2 / diff.size).mul(x.matmul(w).tanh().square().neg().add(1));
        return { w: w.sub(x.T.matmul(dPre).mul(0.5)), loss };
      });
      if (s === 0) firstLoss = next.loss.item();
      if (s === 199) lastLoss = next.loss.item();
      w.storage.dispose(); next.loss.storage.dispose();
      w = next.w;
    }
    return { firstLoss, lastLoss, liveTexturesBefore: before, liveTexturesAfter: device.liveTextures, texturesCreated: device.texturesCreated };
  } finally {
    gradlab.setBackend('cpu');
  }
}

async function main(): Promise<{ userAgent: string; modes: ModeReport[]; webgpu: { available: boolean; reason: string } }> {
  const modes: ModeReport[] = [];
  const checks = allChecks();
  for (const mode of ['webgl2', 'webgl', 'webasm'] as GpuMode[]) {
    const support = modeSupport(mode);
    if (!support.ok) { modes.push({ mode, available: false, reason: support.reason, results: [] }); continue; }
    const name = `gpu-page-${mode}`;
    registerGpuBackend({ mode, log: false }, name);
    // every check on webgl2; the short list on the others, to keep the page quick
    const list = mode === 'webgl2' ? checks : checks.filter((c) => c.tiled);
    const results = list.map((c) => {
      try { return runCheck(c, name); } catch (e) { return { name: c.name, ok: false, maxError: Infinity, tol: c.tol, detail: String(e) }; }
    });
    modes.push({ mode, available: true, reason: '', results, training: mode === 'webgl2' ? train(mode) : undefined });
  }
  return { userAgent: (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent, modes, webgpu: await webgpuReport() };
}

(globalThis as unknown as { __gradlab: Promise<unknown> }).__gradlab = main().catch((e: unknown) => ({ error: String((e as Error)?.stack ?? e) }));
