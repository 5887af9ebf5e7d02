/**
 * Several inputs and outputs as Keras takes them beyond lists: x and y keyed by name, datasets whose
 * elements hold lists or objects of tensors, and sampleWeight per output (Keras 3's rules). Each path is
 * checked against an independent computation: the same model trained with lists (bit for bit), the
 * weighted loss written by hand with autograd in float64, or each example predicted alone.
 */
import { F, Variable, asVariable } from '@gradlab/autograd';
import { fromTypedArray, setSeed, tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Dataset, layers, models } from '@gradlab/layers';
import type { StructuredBatch, StructuredExample } from '../src/data/batching.js';
import type { Model } from '../src/models/model.js';
import { Sequential } from '../src/models/sequential.js';
import { SGD } from '../src/optimizers/index.js';
import { data, values } from './save-helpers.js';
import { take, twoOutputData, twoOutputs } from './functional-helpers.js';

const rows = (t: { dataSync(): ArrayLike<number> }): number[] => Array.from(t.dataSync());
const closeTo = (got: number[], want: number[], tolerance: number): void => {
  expect(got).toHaveLength(want.length);
  want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(tolerance));
};

/** mse on 'reg' + 0.5 × sparse crossentropy on 'cls', with accuracy, trained by plain SGD (so a hand step can follow it). */
function compiledTwo(seed?: number): Model {
  const model = twoOutputs(seed);
  model.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: { reg: 'mse', cls: 'sparse_categorical_crossentropy' }, lossWeights: [1, 0.5], metrics: { cls: ['accuracy'] } });
  return model;
}

const inOrder = { batchSize: 4, shuffle: false, verbose: 0 } as const;

// ---- x and y keyed by name -----------------------------------------------------------------------

test('x keyed by Input name and y by output name train, validate, evaluate and predict bit for bit as the same lists, keys in any order', async () => {
  const { xa, xb, y, labels } = twoOutputData(8);
  const [byList, byName] = [compiledTwo(3), compiledTwo(3)];
  const a = await byList.fit([xa, xb], [y, labels], { ...inOrder, epochs: 2, validationData: [[xa, xb], [y, labels]] });
  const b = await byName.fit({ xb, xa }, { cls: labels, reg: y }, { ...inOrder, epochs: 2, validationData: [{ xa, xb }, { reg: y, cls: labels }] });
  expect(Object.keys(b.history)).toEqual(['loss', 'reg_loss', 'cls_loss', 'cls_accuracy', 'val_loss', 'val_reg_loss', 'val_cls_loss', 'val_cls_accuracy']);
  expect(b.history).toEqual(a.history);
  expect(values(byName)).toEqual(values(byList));
  expect(await byName.evaluate({ xa, xb }, { reg: y, cls: labels })).toEqual(await byList.evaluate([xa, xb], [y, labels]));
  expect((await byName.predict<Tensor[]>({ xb, xa })).map(rows)).toEqual((await byList.predict<Tensor[]>([xa, xb])).map(rows));
  expect(await byName.trainOnBatch({ xa, xb }, { reg: y, cls: labels })).toBe(await byList.trainOnBatch([xa, xb], [y, labels]));
  expect(values(byName)).toEqual(values(byList));
});

test('a one-input model takes x as an object with its one Input\'s name (as Keras), and y by its output\'s name', async () => {
  const make = (): Model => {
    setSeed(4);
    const input = layers.Input({ shape: [3], name: 'features' });
    const hidden = layers.Dense(4, { activation: 'relu' }).apply(input);
    return models.model({ inputs: input, outputs: layers.Dense(2, { activation: 'softmax', name: 'probs' }).apply(hidden) });
  };
  const { x, y } = data(16);
  const plain = make();
  const named = make();
  for (const m of [plain, named]) m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy' });
  const h1 = await plain.fit(x, y, { ...inOrder, epochs: 2 });
  const h2 = await named.fit({ features: x }, { probs: y }, { ...inOrder, epochs: 2 });
  expect(h2.history).toEqual(h1.history);
  expect(values(named)).toEqual(values(plain));
  expect(rows(await named.predict({ features: x }))).toEqual(rows(await plain.predict(x)));
  await expect(named.fit({ feature: x }, y, { verbose: 0 })).rejects.toThrow("fit: x names 'feature', not an input of the model (the model's inputs: features)");
  await expect(named.evaluate(x, { prob: y })).rejects.toThrow("evaluate: y names 'prob', not an output of the model (the model's outputs: probs)");
  // Only a functional model's inputs have names.
  const seq = new Sequential([layers.Dense(2, { inputShape: [3] })]);
  await expect(seq.predict({ features: x })).rejects.toThrow("predict: x is keyed by name ('features'), but only a functional model's inputs have names (its Input layers'); give this model x as a tensor");
});

test('unknown and missing names, and sampleWeight or classWeight that do not fit the outputs, are refused naming the key and the names expected', async () => {
  const model = compiledTwo();
  const { xa, xb, y, labels } = twoOutputData(4);
  const w = tensor([1, 1, 1, 1]);
  await expect(model.fit({ xa, xc: xb }, [y, labels], { verbose: 0 })).rejects.toThrow("fit: x names 'xc', not an input of the model (the model's inputs: xa, xb)");
  await expect(model.fit({ xa }, [y, labels], { verbose: 0 })).rejects.toThrow("fit: x has no 'xb' (the model's inputs: xa, xb)");
  await expect(model.fit([xa, xb], { reg: y }, { verbose: 0 })).rejects.toThrow("fit: y has no 'cls' (the model's outputs: reg, cls)");
  await expect(model.evaluate([xa, xb], { reg: y, cls: labels, clss: labels })).rejects.toThrow("evaluate: y names 'clss', not an output of the model (the model's outputs: reg, cls)");
  await expect(model.predict({ xa })).rejects.toThrow("predict: x has no 'xb' (the model's inputs: xa, xb)");
  await expect(model.fit([xa, xb], [y, labels], { verbose: 0, validationData: [{ xa, xb }, { reg: y, cl: labels }] }))
    .rejects.toThrow("fit (validationData): y names 'cl', not an output of the model (the model's outputs: reg, cls)");
  await expect(model.fit({ xa, xb: take(xb, 0, 3) }, [y, labels], { verbose: 0 })).rejects.toThrow('fit: x.xb [3,2] and x.xa [4,3] must have the same number of examples (first axis)');
  await expect(model.evaluate([xa, xb], { cls: take(labels, 0, 3), reg: y })).rejects.toThrow('evaluate: y.cls [3] and y.reg [4,1] must have the same number of examples (first axis)');
  await expect(model.fit([xa, xb], [y, labels], { verbose: 0, sampleWeight: [w, w, w] }))
    .rejects.toThrow("fit: sampleWeight is a list of 3 for the model's 2 outputs (reg, cls); give one tensor for every output, or one per output");
  await expect(model.fit([xa, xb], [y, labels], { verbose: 0, sampleWeight: { reg: w } })).rejects.toThrow("fit: sampleWeight has no 'cls' (the model's outputs: reg, cls)");
  await expect(model.fit([xa, xb], [y, labels], { verbose: 0, sampleWeight: { reg: w, cls: tensor([1, 1, 1]) } }))
    .rejects.toThrow('fit: sampleWeight of output cls [3] must hold one weight per example, [4]');
  // classWeight reads the class from one y: refused with several outputs, on tensors and datasets alike, with Keras's rule.
  const keras = 'classWeight is only supported for models with a single output (Keras\'s rule: "class_weight is only supported for Models with a single output"); this model has 2 (reg, cls)';
  await expect(model.fit([xa, xb], [y, labels], { verbose: 0, classWeight: { 0: 1, 1: 2, 2: 1 } })).rejects.toThrow(`fit: ${keras}`);
  await expect(model.fit(Dataset.fromTensorSlices([xa, xb], [y, labels]).batch(4), { verbose: 0, classWeight: { 0: 1 } })).rejects.toThrow(`fit: ${keras}`);
  // A dataset's batches are put in order, and refused alike, as they come.
  await expect(model.fit(Dataset.fromArray<StructuredBatch>([{ x: { xa, xb }, y: { reg: y, cls: labels } }, { x: { xa, xc: xb }, y: [y, labels] }]), { verbose: 0 }))
    .rejects.toThrow("fit (batch 1): x names 'xc', not an input of the model (the model's inputs: xa, xb)");
  await expect(model.fit(Dataset.fromArray([{ x: [xa, xb], y: [y, labels], sampleWeight: { cls: w } }]), { verbose: 0 }))
    .rejects.toThrow("fit (batch 0): sampleWeight has no 'reg' (the model's outputs: reg, cls)");
});

// ---- sampleWeight per output ---------------------------------------------------------------------

test('sampleWeight per output (an object, a list, a dataset\'s) and one for all outputs train as the weighted loss computed by hand (float64, to 1e-12)', async () => {
  const { xa, xb, y, labels, oneHot } = twoOutputData(8);
  // Weights that float32 holds exactly (exampleWeights makes float32), some 0 to drop an example from one output only.
  const wReg = tensor([1, 0.5, 2, 0, 1.5, 1, 0.25, 3]);
  const wCls = tensor([0.5, 1, 1, 2, 0, 1, 3, 0.75]);
  const [byObject, byList, byDataset, forAll] = [compiledTwo(), compiledTwo(), compiledTwo(), compiledTwo()];
  const h = [
    await byObject.fit({ xa, xb }, { reg: y, cls: labels }, { ...inOrder, epochs: 3, sampleWeight: { cls: wCls, reg: wReg } }),
    await byList.fit([xa, xb], [y, labels], { ...inOrder, epochs: 3, sampleWeight: [wReg, wCls] }),
    await byDataset.fit(Dataset.fromTensorSlices({ xa, xb }, { reg: y, cls: labels }, { sampleWeight: { reg: wReg, cls: wCls } }).batch(4), { epochs: 3, verbose: 0 }),
    await forAll.fit([xa, xb], [y, labels], { ...inOrder, epochs: 3, sampleWeight: wReg }),
  ];
  expect(h[1].history).toEqual(h[0].history);
  expect(h[2].history).toEqual(h[0].history);
  expect(values(byList)).toEqual(values(byObject));
  expect(values(byDataset)).toEqual(values(byObject));

  /** The same training by hand: each output's per-example loss times its weights, summed over the batch of 4 and divided by 4. */
  const byHand = (regWeights: Tensor, clsWeights: Tensor): { logs: number[][]; weights: Variable[] } => {
    const w = twoOutputs().parameters().map((p) => new Variable(p.data.clone(), { requiresGrad: true }));
    const [Ka, ba, Kb, bb, Kr, br, Kc, bc] = w;
    const at = (t: Tensor, from: number): Variable => asVariable(take(t.astype('float64'), from, 4));
    const step = (from: number): number[] => {
      const h = F.concat([at(xa, from).matmul(Ka).add(ba).tanh(), at(xb, from).matmul(Kb).add(bb).tanh()], -1);
      const regPerExample = h.matmul(Kr).add(br).sub(at(y, from)).square().reshape([4]);
      const logits = h.matmul(Kc).add(bc);
      const clsPerExample = F.logSumExp(logits, -1).sub(logits.mul(at(oneHot, from)).sum(-1));
      const regLoss = regPerExample.mul(at(regWeights, from)).sum().div(4);
      const clsLoss = clsPerExample.mul(at(clsWeights, from)).sum().div(4);
      const total = regLoss.add(clsLoss.mul(0.5));
      for (const v of w) v.grad = null;
      total.backward();
      for (const v of w) v.data = v.data.sub(v.grad!.mul(0.1));
      return [total, regLoss, clsLoss].map((v) => v.data.dataSync()[0]);
    };
    const logs = [0, 1, 2].map(() => {
      const [first, second] = [step(0), step(4)];
      return first.map((v, k) => (v + second[k]) / 2); // the epoch's logs: the two batches' mean
    });
    return { logs, weights: w };
  };
  for (const [model, history, [regWeights, clsWeights]] of [[byObject, h[0], [wReg, wCls]], [forAll, h[3], [wReg, wReg]]] as const) {
    const hand = byHand(regWeights, clsWeights);
    for (let epoch = 0; epoch < 3; epoch++) {
      closeTo(['loss', 'reg_loss', 'cls_loss'].map((name) => history.history[name][epoch]), hand.logs[epoch], 1e-12);
    }
    model.parameters().forEach((p, i) => closeTo(rows(p.data), rows(hand.weights[i].data), 1e-12));
  }
});

// ---- datasets of lists and objects ---------------------------------------------------------------

test('fromTensorSlices slices lists and objects of tensors row by row, and batch stacks them back in the same lists and objects', async () => {
  const { xa, xb, y, labels } = twoOutputData(5);
  const ds = Dataset.fromTensorSlices([xa, xb], { reg: y, cls: labels }, { sampleWeight: tensor([1, 2, 3, 4, 5]) });
  expect(ds.size).toBe(5);
  const elements = await ds.toArray();
  const third = elements[3] as { x: Tensor[]; y: Record<string, Tensor>; sampleWeight: Tensor };
  expect(third.x.map(rows)).toEqual([rows(take(xa, 3, 1)), rows(take(xb, 3, 1))]);
  expect(Object.keys(third.y)).toEqual(['reg', 'cls']);
  expect([rows(third.y.reg), rows(third.y.cls), rows(third.sampleWeight)]).toEqual([rows(take(y, 3, 1)), rows(take(labels, 3, 1)), [4]]);
  const batches = await ds.batch(3).toArray();
  expect(batches.map((b) => (b.x as Tensor[])[0].shape)).toEqual([[3, 3], [2, 3]]);
  const last = batches[1] as { x: Tensor[]; y: Record<string, Tensor>; sampleWeight: Tensor };
  expect(last.x.map(rows)).toEqual([rows(take(xa, 3, 2)), rows(take(xb, 3, 2))]);
  expect(last.y.cls.dtype).toBe('int32');
  expect([rows(last.y.reg), rows(last.y.cls), rows(last.sampleWeight)]).toEqual([rows(take(y, 3, 2)), rows(take(labels, 3, 2)), [4, 5]]);
  // Every tensor must have the same first dimension; the one that disagrees is named.
  expect(() => Dataset.fromTensorSlices([xa, take(xb, 0, 3)], y)).toThrow('Dataset.fromTensorSlices: x[1] has 3 rows along its first axis and x[0] has 5; they must match');
  expect(() => Dataset.fromTensorSlices({ xa, xb }, { reg: y, cls: take(labels, 0, 4) })).toThrow('Dataset.fromTensorSlices: y.cls has 4 rows along its first axis and x.xa has 5; they must match');
  expect(() => Dataset.fromTensorSlices(xa, y, { sampleWeight: { reg: tensor([1]) } })).toThrow('Dataset.fromTensorSlices: sampleWeight.reg has 1 rows along its first axis and x has 5');
  expect(() => Dataset.fromTensorSlices([], y)).toThrow('Dataset.fromTensorSlices: x is a list of 0; it needs at least one Tensor');
  expect(() => Dataset.fromTensorSlices({ xa, xb: [1, 2] as never })).toThrow('Dataset.fromTensorSlices: x.xb must be a Tensor, got 1,2');
});

test('a dataset of name-keyed elements trains, evaluates and predicts as the same tensors given as lists', async () => {
  const { xa, xb, y, labels } = twoOutputData(8);
  const [fromTensors, fromDataset] = [compiledTwo(5), compiledTwo(5)];
  const ds = Dataset.fromTensorSlices({ xa, xb }, { reg: y, cls: labels }).batch(4);
  const a = await fromTensors.fit([xa, xb], [y, labels], { ...inOrder, epochs: 2 });
  const b = await fromDataset.fit(ds, { epochs: 2, verbose: 0, validationData: ds });
  expect(b.history.loss).toEqual(a.history.loss);
  expect(values(fromDataset)).toEqual(values(fromTensors));
  expect(await fromDataset.evaluate(ds)).toEqual(await fromTensors.evaluate([xa, xb], [y, labels], { batchSize: 4 }));
  expect(b.history.val_loss[1]).toBe((await fromDataset.evaluate(ds))[0]);
  expect((await fromDataset.predict<Tensor[]>(ds)).map(rows)).toEqual((await fromTensors.predict<Tensor[]>([xa, xb])).map(rows));
});

test('batch pads a list\'s first input to its longest sequence with the mask, refuses padding a mask would not describe, and pads all with mask: false', async () => {
  const examples = [
    { x: [Int32Array.of(3, 4), Float32Array.of(1, 2)], y: 1 },
    { x: [Int32Array.of(5, 6, 7), Float32Array.of(3, 4)], y: 0 },
  ];
  const [batch] = await Dataset.fromArray(examples).batch(2).toArray();
  const x = batch.x as Tensor[];
  expect([x[0].shape, x[0].dtype, rows(x[0])]).toEqual([[2, 3], 'int32', [3, 4, 0, 5, 6, 7]]);
  expect(rows(x[1])).toEqual([1, 2, 3, 4]);
  expect(rows(batch.mask!)).toEqual([1, 1, 0, 1, 1, 1]);
  // A second input of different lengths: the model masks only its first input, so its padding would be data.
  const second = [{ x: [Float32Array.of(1), Int32Array.of(1, 2)] }, { x: [Float32Array.of(2), Int32Array.of(3)] }];
  await expect(Dataset.fromArray(second).batch(2).toArray()).rejects.toThrow('Dataset.batch: x[1] holds sequences of different lengths, but the model gives a mask to its first input only (x[0]), ' +
    'so its padding would be read as data; pass { mask: false } when the model masks its padding itself (Embedding maskZero)');
  const [padded] = await Dataset.fromArray(second).batch(2, { mask: false, padValue: -1 }).toArray();
  expect(rows((padded.x as Tensor[])[1])).toEqual([1, 2, 3, -1]);
  expect(padded.mask).toBeUndefined();
  // x keyed by name: which input is first is the model's to say, so padding needs mask: false.
  const named = [{ x: { ids: Int32Array.of(1, 2), f: 1 } }, { x: { f: 2, ids: Int32Array.of(3) } }];
  await expect(Dataset.fromArray(named).batch(2).toArray()).rejects.toThrow(/x\.ids holds sequences of different lengths, .* \(and x keyed by name does not say which input is first\).*or give x as a list with the masked input first/);
  await expect(Dataset.fromArray([named[0]]).batch(1, { mask: true }).toArray()).rejects.toThrow('Dataset.batch: mask: true needs x as one tensor or a list (the mask goes to the first input); x is keyed by name');
  const [byName] = await Dataset.fromArray(named).batch(2, { mask: false }).toArray();
  const fields = byName.x as Record<string, Tensor>;
  expect([rows(fields.ids), rows(fields.f)]).toEqual([[1, 2, 3, 0], [1, 2]]); // keys in another order in example 1: read by name
  // Examples must agree on their layout.
  await expect(Dataset.fromArray([{ x: [1, 2] }, { x: [1] }]).batch(2).toArray()).rejects.toThrow("Dataset.batch: example 1's x is a list of 1, example 0's is a list of 2");
  await expect(Dataset.fromArray<StructuredExample>([{ x: { a: 1, b: 2 } }, { x: { a: 1, c: 2 } }]).batch(2).toArray())
    .rejects.toThrow("Dataset.batch: example 1's x is an object with keys a, c, example 0's is an object with keys a, b");
});

test('a two-input model with a sequence input predicts a padded batch of lists as each example alone, and evaluates its loss as computed from those', async () => {
  setSeed(6);
  const seq = layers.Input({ shape: [null, 2], name: 'seq' });
  const feats = layers.Input({ shape: [2], name: 'feats' });
  const joined = layers.concatenate([layers.LSTM(3).apply(seq), layers.Dense(3, { activation: 'tanh' }).apply(feats)]);
  const model = models.model({ inputs: [seq, feats], outputs: layers.Dense(2, { activation: 'softmax' }).apply(joined) });
  model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  const lengths = [2, 4, 3];
  const examples = lengths.map((n, i) => ({
    x: [fromTypedArray(Float32Array.from({ length: 2 * n }, (_, k) => Math.sin(k + 3 * i)), [n, 2]), Float32Array.of(i, 1 - i)],
    y: i % 2,
  }));
  const ds = Dataset.fromArray(examples).batch(3);
  const [batch] = await ds.toArray();
  expect(rows(batch.mask!)).toEqual([1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0]);
  const together = rows(await model.predict(ds));
  const alone = await Promise.all(examples.map(async (e) => {
    const [s, f] = e.x as [Tensor, Float32Array];
    return rows(await model.predict([s.reshape([1, ...s.shape]), fromTypedArray(f, [1, 2])]));
  }));
  closeTo(together, alone.flat(), 1e-6);
  const [loss] = await model.evaluate(ds);
  const byHand = -examples.reduce((s, e, i) => s + Math.log(alone[i][e.y]), 0) / examples.length;
  expect(Math.abs(loss - byHand)).toBeLessThan(1e-6);
});
