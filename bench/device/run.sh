#!/usr/bin/env bash
# The device run: everything the GPU machine has to show, in one command from the repository root,
#   bash bench/device/run.sh
# with .device/ (node bench/device/build-bundle.mjs) and .gl/ (the loader debs: docs/gpu.md, "The device
# run") carried. It writes to $OUT (the device tool's folder that comes back; .device/out where unset):
#   env.txt      the machine: nvidia-smi, the Vulkan loader and ICD files, the adapter Dawn found;
#   torch.json   PyTorch's CUDA step of the same models and its float32 matmul (bench/device/torch_steps.py);
#   check.json   bench/device/check.mjs on gradlab's gpu backend in mode $GRADLAB_DEVICE_MODE (webgpu):
#                the conformance suite and one training step of each article model against the cpu
#                backend, step times (image batch 32, LSTMs batch 128), dispatches per step, matmul TFLOPS;
#   log.txt      everything printed.
# Where there is no NVIDIA driver (this script tried on a CPU machine) the loaders are left alone, and
# GRADLAB_DEVICE_MODE=webasm-async GRADLAB_DEVICE_QUICK=1 runs the same checks small, on the CPU.
# Within the device call's timeout_s (420): unpacking ~10 s, torch ≤ 120 s, check.mjs ≤ 270 s.
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/.device/out}
mkdir -p "$OUT"
MODE=${GRADLAB_DEVICE_MODE:-webgpu}
QUICK=${GRADLAB_DEVICE_QUICK:+--quick}
WORK=${GRADLAB_DEVICE_WORK:-/tmp/gradlab-device}
exec > >(tee -a "$OUT/log.txt") 2>&1
say() { echo "[run.sh $(date -u +%H:%M:%S)] $*"; }

# --- 1. Vulkan and EGL loaders (only on the GPU machine: dpkg -x writes into /) ---------------------------
if command -v nvidia-smi >/dev/null 2>&1; then
  if ls .gl/*.deb >/dev/null 2>&1; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    say "unpacked $(ls .gl/*.deb | wc -l) loader debs from .gl"
  else
    say "no .gl/*.deb carried: the Vulkan loader may be missing (docs/gpu.md, The device run)"
  fi
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
fi
{
  echo "== date"; date -u
  echo "== nvidia-smi"; nvidia-smi 2>&1 || echo "no nvidia-smi"
  echo "== os"; head -3 /etc/os-release
  echo "== libvulkan"; ldconfig -p | grep -E 'libvulkan|libGLX_nvidia|libEGL_nvidia|libglvnd|libGLdispatch' || echo "none"
  echo "== icd files"; ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>&1
  echo "== VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset} __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-unset}"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# --- 2. Node and the app, from the bundle ---------------------------------------------------------------
if [ ! -f .device/node.xz ] || [ ! -f .device/app.tar.xz ]; then
  say "no .device bundle: run node bench/device/build-bundle.mjs here first, and carry .device"
  exit 2
fi
rm -rf "$WORK" && mkdir -p "$WORK"
# python3's lzma and tarfile: the GPU machine has python3, and may not have xz.
python3 - "$WORK" <<'EOF' || { say "could not unpack the bundle"; exit 2; }
import lzma, shutil, sys, tarfile, os
work = sys.argv[1]
with lzma.open('.device/node.xz') as src, open(os.path.join(work, 'node'), 'wb') as dst:
    shutil.copyfileobj(src, dst)
os.chmod(os.path.join(work, 'node'), 0o755)
with tarfile.open('.device/app.tar.xz') as tar:
    tar.extractall(work)
EOF
NODE=$WORK/node
say "node $($NODE --version), app in $WORK/app"

# --- 3. Does Dawn find an adapter? With the loader's own messages; without VK_DRIVER_FILES if it finds none with it.
probe() {
  VK_LOADER_DEBUG=error,warn,driver "$NODE" --input-type=module -e "
    const m = await import('$WORK/app/packages/gpu/dist/index.js');
    const r = await m.installNodeWebGPU(); console.log('adapter probe:', JSON.stringify(r)); process.exit(r.ok ? 0 : 1);" 2>&1 | tail -40
  return "${PIPESTATUS[0]}"
}
if [ "$MODE" = webgpu ]; then
  if ! probe >> "$OUT/env.txt" && [ -n "${VK_DRIVER_FILES:-}" ]; then
    say "no adapter with VK_DRIVER_FILES=$VK_DRIVER_FILES; trying the loader's own search"
    unset VK_DRIVER_FILES
    probe >> "$OUT/env.txt" || say "no adapter either way (env.txt has the loader's messages)"
  fi
  tail -3 "$OUT/env.txt"
fi

# --- 4. PyTorch's CUDA step of the same models (first: it is quick, and its figures are needed whatever happens next)
say "torch_steps.py"
PYTHONUNBUFFERED=1 timeout "${GRADLAB_TORCH_TIMEOUT:-120}" python3 bench/device/torch_steps.py --out "$OUT/torch.json" > /dev/null
say "torch_steps.py exit $?"

# --- 5. gradlab's gpu backend against its cpu backend (check.mjs saves each part as it finishes: a run
# stopped by this timeout still leaves what it did in check.json)
say "check.mjs --mode=$MODE $QUICK"
timeout "${GRADLAB_CHECK_TIMEOUT:-270}" "$NODE" "$WORK/app/bench/device/check.mjs" --mode="$MODE" $QUICK --out="$OUT/check.json" > /dev/null
say "check.mjs exit $? (124: stopped by its timeout)"
say "done"
