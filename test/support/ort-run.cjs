// Runs an ONNX file in ONNX Runtime (onnxruntime-node) outside jest: jest's module sandbox has typed-array
// classes of its own, which onnxruntime-common's checks refuse for the outputs its native binding makes.
// Usage: node ort-run.cjs model.onnx input.json  → prints { dims, data } of the output 'output'.
const fs = require('node:fs');
const ort = require('onnxruntime-node');
(async () => {
  const [modelFile, inputFile] = process.argv.slice(2);
  const { dtype, shape, values } = JSON.parse(fs.readFileSync(inputFile, 'utf8'));
  const session = await ort.InferenceSession.create(modelFile);
  const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
  const { output } = await session.run({ input: new ort.Tensor(dtype, data, shape) });
  process.stdout.write(JSON.stringify({ dims: output.dims, data: Array.from(output.data) }));
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
