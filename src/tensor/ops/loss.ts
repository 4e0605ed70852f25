/** Fused losses: one pass forward, one pass backward (the unfused versions allocate 3–4 temporaries). */
import { CircuitscopeError } from '../../util/errors.js';
import { fmtShape, sameShape } from '../shape.js';
import { type IntTensor, Tensor, record, scalar } from '../tensor.js';

/** mean((pred − target)²) over every element (PyTorch's mse_loss with reduction 'mean'). */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  if (!sameShape(pred.shape, target.shape)) {
    throw new CircuitscopeError(`mseLoss: prediction ${fmtShape(pred.shape)} and target ${fmtShape(target.shape)} differ in shape`);
  }
  const n = pred.size;
  if (n === 0) throw new CircuitscopeError('mseLoss: empty tensors');
  const p = pred.data;
  const t = target.data;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const d = p[i]! - t[i]!;
    acc += d * d;
  }
  return record(scalar(acc / n), 'mseLoss', [pred, target], (g) => {
    const k = (2 * g.item()) / n;
    const gp = new Float32Array(n);
    for (let i = 0; i < n; i++) gp[i] = k * (p[i]! - t[i]!);
    const gt = target.requiresGrad ? new Tensor(gp.map((v) => -v), target.shape) : null;
    return [pred.requiresGrad ? new Tensor(gp, pred.shape) : null, gt];
  });
}

/**
 * Mean cross-entropy of logits [..., vocab] against integer targets [...] (−log softmax at the target),
 * as PyTorch's cross_entropy with reduction 'mean'.
 */
export function crossEntropy(logits: Tensor, targets: IntTensor): Tensor {
  const v = logits.shape[logits.rank - 1] ?? 0;
  const rows = v === 0 ? 0 : logits.size / v;
  if (logits.rank < 1 || targets.size !== rows || !sameShape(targets.shape, logits.shape.slice(0, -1))) {
    throw new CircuitscopeError(`crossEntropy: targets ${fmtShape(targets.shape)} do not match logits ${fmtShape(logits.shape)} (expected ${fmtShape(logits.shape.slice(0, -1))})`);
  }
  if (rows === 0) throw new CircuitscopeError('crossEntropy: no rows');
  const x = logits.data;
  const lse = new Float64Array(rows); // log Σ exp per row
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const tgt = targets.data[r]!;
    if (!(tgt >= 0 && tgt < v)) throw new CircuitscopeError(`crossEntropy: target ${tgt} at row ${r} is outside the vocabulary [0, ${v})`);
    const o = r * v;
    let mx = -Infinity;
    for (let j = 0; j < v; j++) mx = Math.max(mx, x[o + j]!);
    let z = 0;
    for (let j = 0; j < v; j++) z += Math.exp(x[o + j]! - mx);
    lse[r] = mx + Math.log(z);
    loss += lse[r]! - x[o + tgt]!;
  }
  return record(scalar(loss / rows), 'crossEntropy', [logits], (g) => {
    const k = g.item() / rows;
    const gx = new Float32Array(logits.size);
    for (let r = 0; r < rows; r++) {
      const o = r * v;
      for (let j = 0; j < v; j++) gx[o + j] = k * Math.exp(x[o + j]! - lse[r]!);
      gx[o + targets.data[r]!]! -= k;
    }
    return [new Tensor(gx, logits.shape)];
  });
}
