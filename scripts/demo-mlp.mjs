// gradlab demo: a small multi-layer perceptron learns three interleaved spirals with the autograd engine.
//
//   pnpm demo        (builds the packages, then runs this file)
//
// Everything a framework would hide is written out here: the data, the parameters, the forward pass,
// the loss, and plain stochastic gradient descent. Only the gradients come from gradlab's autograd.
import { Random, tensor, oneHot, zeros, randn, noGrad, Variable } from '../packages/gradlab/dist/index.js';

const SEED = 7;
const CLASSES = 3;
const POINTS_PER_CLASS = 100;
const HIDDEN = 64;
const STEPS = 500;
const LEARNING_RATE = 1.0;
const PRINT_EVERY = 50;

// ---- data: three spiral arms in the plane, one per class (the cs231n toy problem) -----------------
// Point i of arm k sits at radius r = i/(n−1) and angle θ = 4k + 4r (+ noise): the arms wind around
// each other, so no straight line separates them: a linear model (no hidden layer) gets about half right,
// which the demo measures at the end for comparison.
function spirals(rng) {
  const xs = [];
  const labels = [];
  for (let k = 0; k < CLASSES; k++) {
    for (let i = 0; i < POINTS_PER_CLASS; i++) {
      const r = i / (POINTS_PER_CLASS - 1);
      const theta = 4 * k + 4 * r + rng.normal(0, 0.2);
      xs.push([r * Math.sin(theta), r * Math.cos(theta)]);
      labels.push(k);
    }
  }
  return { x: tensor(xs), y: tensor(labels, { dtype: 'int32' }), labels };
}

// ---- model: 2 → HIDDEN → HIDDEN → 3, ReLU in between -----------------------------------------------
// He initialisation: weights ~ N(0, 2/fan_in) keep the activations' scale steady through ReLUs.
function dense(rng, fanIn, fanOut) {
  const W = new Variable(randn([fanIn, fanOut], { rng, std: Math.sqrt(2 / fanIn) }), { requiresGrad: true });
  const b = new Variable(zeros([fanOut]), { requiresGrad: true });
  return { W, b };
}

function forward(layers, x) {
  let h = x;
  layers.forEach(({ W, b }, k) => {
    h = h.matmul(W).add(b);                     // [N, fanIn] @ [fanIn, fanOut] + [fanOut] (broadcast)
    if (k < layers.length - 1) h = h.relu();
  });
  return h;                                     // logits [N, CLASSES]
}

// Cross-entropy with the true class:  L = −(1/N) Σ_n log softmax(z_n)[y_n]
// written as a mask: multiplying log-probabilities by the one-hot labels keeps the true class's term.
function crossEntropy(logits, targetsOneHot) {
  return logits.logSoftmax(-1).mul(targetsOneHot).sum(1).mean().neg();
}

function accuracy(logits, labels) {
  const predicted = logits.data.argmax(1).toArray();
  let right = 0;
  for (let n = 0; n < labels.length; n++) if (predicted[n] === labels[n]) right++;
  return right / labels.length;
}

// A coarse picture of what the network learned: the predicted class on a grid over [-1, 1]².
function decisionMap(layers, width = 48, height = 20) {
  const grid = [];
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) grid.push([-1 + (2 * col) / (width - 1), 1 - (2 * row) / (height - 1)]);
  }
  const predicted = noGrad(() => forward(layers, new Variable(tensor(grid)))).data.argmax(1).toArray();
  const glyph = ['.', 'o', '#'];
  const lines = [];
  for (let row = 0; row < height; row++) lines.push(predicted.slice(row * width, (row + 1) * width).map((c) => glyph[c]).join(''));
  return lines.join('\n');
}

const rng = new Random(SEED);
const { x: xData, y, labels } = spirals(rng);
const x = new Variable(xData);
const targets = oneHot(y, CLASSES);
const layers = [dense(rng, 2, HIDDEN), dense(rng, HIDDEN, HIDDEN), dense(rng, HIDDEN, CLASSES)];
const parameters = layers.flatMap(({ W, b }) => [W, b]);
const count = parameters.reduce((n, p) => n + p.size, 0);

console.log(`gradlab demo: an MLP (2 → ${HIDDEN} → ${HIDDEN} → ${CLASSES}, ${count} parameters) learns ${CLASSES} interleaved spirals`);
console.log(`${CLASSES * POINTS_PER_CLASS} points, full-batch gradient descent, learning rate ${LEARNING_RATE}, ${STEPS} steps, seed ${SEED}\n`);

// One step of plain gradient descent on the whole data set: forward, loss, backward, update.
function trainStep(parameters, layers) {
  const logits = forward(layers, x);
  const loss = crossEntropy(logits, targets);
  loss.backward();
  // p ← p − lr · ∂L/∂p, outside the graph (noGrad), then forget the gradient for the next step.
  noGrad(() => {
    for (const p of parameters) {
      p.data = p.data.sub(p.grad.mul(LEARNING_RATE));
      p.zeroGrad();
    }
  });
  return { loss: loss.item(), logits };
}

const started = performance.now();
let firstLoss = NaN;
let lastLoss = NaN;
for (let step = 0; step < STEPS; step++) {
  const { loss, logits } = trainStep(parameters, layers); // loss and logits from before this step's update
  if (step === 0) firstLoss = loss;
  lastLoss = loss;
  if (step % PRINT_EVERY === 0 || step === STEPS - 1) {
    console.log(`step ${String(step).padStart(4)}   loss ${loss.toFixed(4)}   accuracy ${(100 * accuracy(logits, labels)).toFixed(1)}%`);
  }
}
const seconds = (performance.now() - started) / 1000;

// The same training for a linear model (one Dense layer, no hidden units), to see what depth buys.
const linear = [dense(rng, 2, CLASSES)];
const linearParameters = linear.flatMap(({ W, b }) => [W, b]);
for (let step = 0; step < STEPS; step++) trainStep(linearParameters, linear);
const linearAccuracy = noGrad(() => accuracy(forward(linear, x), labels));

const finalAccuracy = noGrad(() => accuracy(forward(layers, x), labels));
console.log(`\nloss ${firstLoss.toFixed(4)} → ${lastLoss.toFixed(4)} in ${STEPS} steps (${seconds.toFixed(1)} s)`);
console.log(`final training accuracy: ${(100 * finalAccuracy).toFixed(1)}%  (a linear model trained the same way: ${(100 * linearAccuracy).toFixed(1)}%)\n`);
console.log('what the network predicts over [-1, 1]² (classes . o #):\n');
console.log(decisionMap(layers));

if (!(lastLoss < firstLoss)) {
  console.error('demo: the loss did not fall');
  process.exit(1);
}
