/**
 * A Keras layer config (snake_case, as TF.js's model.json and Keras 3's config.json hold it) as gradlab's
 * layer config, refusing what gradlab's layers cannot run, naming the layer and the setting.
 *
 * The two dialects differ where the libraries do:
 *   - an LSTM's recurrent_activation: TF.js's default (when absent) is hard_sigmoid, clip(0.2·z + 0.5, 0, 1),
 *     which gradlab has; Keras 3's default is sigmoid, and Keras 3's hard_sigmoid is relu6(z + 3)/6, which
 *     gradlab has not;
 *   - Keras 3 writes the input shape as `batch_shape` (of an InputLayer), TF.js as `batch_input_shape`.
 */

export type KerasDialect = 'tfjs' | 'keras3';

export interface KerasLayerEntry { class_name: string; config: Record<string, unknown> }

const camel = (key: string): string => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Options gradlab's layers take, by the camelCase name; everything else in a Keras config is dropped once checked. */
const KEPT = ['name', 'inputShape', 'units', 'activation', 'useBias', 'rate', 'filters', 'kernelSize', 'strides', 'padding', 'poolSize',
  'momentum', 'epsilon', 'center', 'scale', 'returnSequences', 'returnState', 'goBackwards', 'unitForgetBias', 'recurrentActivation',
  'inputDim', 'outputDim', 'maskZero', 'axis', 'mergeMode', 'layer'];

/** Throws, naming the layer and the setting, when `value` is given and equals none of `allowed` (compared as JSON). */
function refuseUnless(op: string, where: string, key: string, value: unknown, allowed: unknown[], why: string): void {
  if (value === undefined || value === null) return;
  if (!allowed.some((a) => JSON.stringify(a) === JSON.stringify(value))) {
    throw new Error(`${op}: ${where} has ${key} ${JSON.stringify(value)}; ${why}`);
  }
}

function lstmGates(op: string, where: string, value: unknown, dialect: KerasDialect): string {
  const name = value === undefined || value === null ? (dialect === 'tfjs' ? 'hard_sigmoid' : 'sigmoid') : String(value);
  if (name === 'sigmoid') return 'sigmoid';
  if (dialect === 'tfjs' && (name === 'hard_sigmoid' || name === 'hardSigmoid')) return 'hardSigmoid';
  const hint = dialect === 'keras3' && name === 'hard_sigmoid'
    ? "Keras 3's hard_sigmoid is relu6(z + 3)/6, and gradlab has TF.js's clip(0.2·z + 0.5, 0, 1) only"
    : "gradlab's LSTM has 'sigmoid' and TF.js's 'hardSigmoid'";
  throw new Error(`${op}: ${where} has recurrentActivation '${name}'; ${hint}`);
}

/** gradlab's { className, config } for one Keras layer entry; `where` names it in errors ("layer #2 'dense' (Dense)"). */
export function gradlabLayerConfig(entry: KerasLayerEntry, where: string, op: string, dialect: KerasDialect): { className: string; config: Record<string, unknown> } {
  const className = entry.class_name;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry.config ?? {})) out[camel(key)] = value;
  const batchShape = (out.batchInputShape ?? out.batchShape ?? null) as unknown[] | null;
  if (batchShape) out.inputShape = batchShape.slice(1);
  if (Array.isArray(out.axis) && out.axis.length === 1) out.axis = out.axis[0]; // Keras writes LayerNormalization's axis as [-1]
  const refuse = (key: string, allowed: unknown[], why: string) => refuseUnless(op, where, key, out[key], allowed, why);
  if (className === 'LSTM') {
    out.recurrentActivation = lstmGates(op, where, out.recurrentActivation, dialect);
    refuse('activation', ['tanh'], "gradlab's LSTM uses 'tanh'");
    refuse('useBias', [true], "gradlab's LSTM always has a bias");
    refuse('dropout', [0], "gradlab's LSTM has no input dropout (put a Dropout layer before it)");
    refuse('recurrentDropout', [0], "gradlab's LSTM has no recurrent dropout");
    refuse('stateful', [false], "gradlab's LSTM is not stateful");
    delete out.activation;
    delete out.useBias;
  }
  if (className === 'Bidirectional') {
    refuse('mergeMode', ['concat', 'sum', 'mul', 'ave'], "gradlab's Bidirectional merges by 'concat', 'sum', 'mul' or 'ave'");
    const inner = out.layer as KerasLayerEntry | undefined;
    if (inner?.class_name !== 'LSTM') throw new Error(`${op}: ${where} wraps a ${String(inner?.class_name)}; gradlab's Bidirectional wraps an LSTM`);
    out.layer = gradlabLayerConfig(inner, `${where}'s inner layer`, op, dialect);
    delete (out.layer as { config: Record<string, unknown> }).config.zeroOutputForMask; // Bidirectional sets it, as Keras
  }
  if (className === 'Conv2D') {
    refuse('dilationRate', [[1, 1], 1], 'gradlab convolves without dilation');
    refuse('groups', [1], 'gradlab convolves without groups');
  }
  if (className === 'Conv2D' || className.endsWith('Pooling2D') || className === 'Flatten') refuse('dataFormat', ['channels_last'], 'gradlab is channels_last');
  if (className === 'LayerNormalization') refuse('rmsScaling', [false], "gradlab's LayerNormalization subtracts the mean");
  if (className === 'Embedding') refuse('sparse', [false], "gradlab's Embedding is dense");
  const config = Object.fromEntries(Object.entries(out).filter(([k, v]) => KEPT.includes(k) && v !== null && v !== undefined));
  return { className, config };
}
